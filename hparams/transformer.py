"""Hparams sets of the `transformer` model, each a small diff from its base."""

from t2t_multimodel import registry
from t2t_multimodel.hparams.common import basic_params1


@registry.register_hparams
def transformer_base():
    """T2T's `transformer_base` (v2): 6 layers of 512, 8 heads, pre-norm.

    `basic_params1` already holds the T2T v2 values (peak learning rate 1e-3
    after an 8000-step warmup, then rsqrt decay; Adam beta2 0.997 and epsilon
    1e-9, label smoothing 0.1, every dropout 0.1, shared embeddings); the base
    only sets the sizes.
    """
    hparams = basic_params1()
    hparams.hidden_size = 512
    hparams.filter_size = 2048
    hparams.num_heads = 8
    hparams.num_hidden_layers = 6
    return hparams


@registry.register_hparams
def transformer_tiny():
    """T2T's `transformer_tiny`: 2 layers of 128, 4 heads.

    The peak learning rate follows T2T v2's `rsqrt_hidden_size` scaling
    (2.0 / sqrt(8000 * 128) = 2e-3). The warmup is 500 steps, not 8000: tiny
    runs are a few thousand steps, and T2T's warmup would keep them at a
    fraction of the peak throughout.
    """
    hparams = transformer_base()
    hparams.hidden_size = 128
    hparams.filter_size = 512
    hparams.num_heads = 4
    hparams.num_hidden_layers = 2
    hparams.learning_rate = 2e-3
    hparams.learning_rate_warmup_steps = 500
    return hparams
