"""`basic_params1`: the hyperparameters every model and the trainer read.

Values follow T2T's `common_hparams.basic_params1` where the name is shared.
`batch_size` counts tokens (the longer of inputs and targets per example), as
in T2T.
"""

from t2t_multimodel import registry
from t2t_multimodel.hparams_lib import HParams


@registry.register_hparams
def basic_params1():
    """The base of every set: data, optimizer, schedule and decoding knobs."""
    return HParams(
        # Data pipeline.
        batch_size=4096,  # tokens per batch
        max_length=256,  # drop longer training examples (0: batch_size)
        eval_max_length=0,  # 0: keep every eval example
        # Eval also decodes this many dev examples for real and reports the
        # problem's decode metrics (BLEU, WER, F1, ...) as decode_<name>.
        eval_decode_samples=0,
        eval_decode_beam_size=1,
        # Decode only at the last evaluation of a run (the curves keep loss
        # and accuracy; the decodes of the others cost time and are not read).
        eval_decode_final_only=False,
        min_length_bucket=8,
        length_bucket_step=1.1,
        shuffle_buffer_size=1024,
        # Model size, shared names.
        hidden_size=512,
        filter_size=2048,
        num_heads=8,
        num_hidden_layers=6,
        dropout=0.1,
        attention_dropout=0.1,
        relu_dropout=0.1,
        layer_norm_epsilon=1e-6,
        shared_embedding_and_softmax_weights=True,
        # Loss.
        label_smoothing=0.1,
        # Optimizer: Adam with a rsqrt ("noam") schedule and linear warmup.
        optimizer="adam",
        optimizer_adam_beta1=0.9,
        optimizer_adam_beta2=0.997,
        optimizer_adam_epsilon=1e-9,
        clip_grad_norm=0.0,  # 0: no clipping
        # rsqrt_decay peaks at `learning_rate` after the warmup. 1e-3 at
        # warmup 8000 and hidden 512 is T2T v2's transformer_base schedule
        # ("constant*linear_warmup*rsqrt_decay*rsqrt_hidden_size", constant
        # 2.0): 2.0 / sqrt(8000 * 512) = 9.9e-4. "noam" reproduces T2T's
        # legacy schedule, where learning_rate is T2T's own constant.
        learning_rate=1e-3,
        learning_rate_schedule="rsqrt_decay",  # or "cosine_decay", "noam", "constant"
        learning_rate_warmup_steps=8000,
        # cosine_decay only: the step where the rate reaches zero (set it to
        # the run's --train_steps).
        learning_rate_decay_steps=0,
        weight_decay=0.0,
        # Numerics and seed.
        dtype_policy="float32",  # or "mixed_bfloat16"
        # Compile the train step with XLA (as T2T's --xla_compile). It wins on
        # fixed-shape batches (README, Benchmarks), but every new batch shape
        # compiles anew, and layers with data-dependent shapes (the
        # MixtureOfExperts) cannot be compiled: the trainer says so.
        xla_compile=False,
        seed=1234,
    )
