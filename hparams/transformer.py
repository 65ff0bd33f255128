"""Hparams sets of the `transformer` model, each a small diff from its base."""

from t2t_multimodel import registry
from t2t_multimodel.hparams.common import basic_params1


@registry.register_hparams
def transformer_base():
    """T2T's `transformer_base` (v2): 6 layers of 512, 8 heads, pre-norm.

    `basic_params1` already holds the T2T v2 values (lr 0.2 with rsqrt decay,
    Adam beta2 0.997 and epsilon 1e-9, label smoothing 0.1, every dropout 0.1,
    shared embeddings); the base only sets the sizes and the 8000-step warmup.
    """
    hparams = basic_params1()
    hparams.hidden_size = 512
    hparams.filter_size = 2048
    hparams.num_heads = 8
    hparams.num_hidden_layers = 6
    hparams.learning_rate_warmup_steps = 8000
    return hparams


@registry.register_hparams
def transformer_tiny():
    """T2T's `transformer_tiny`: 2 layers of 128, 4 heads."""
    hparams = transformer_base()
    hparams.hidden_size = 128
    hparams.filter_size = 512
    hparams.num_heads = 4
    hparams.num_hidden_layers = 2
    return hparams
