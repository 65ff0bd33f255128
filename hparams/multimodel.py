"""Hparams sets of the `multimodel`, each a small diff from its base.

Sources: the paper (Kaiser et al. 2017, arXiv 1706.05137) for the block
counts; T2T's final `multimodel_base` / `multimodel_tiny` and the paper-era
v1.0.4 `multimodel_1p8` (over `slicenet_params1`) for the values, as listed
in each docstring.
"""

from t2t_multimodel import registry
from t2t_multimodel.hparams.common import basic_params1


@registry.register_hparams
def multimodel_base():
    """The paper's body with T2T `multimodel_base`'s sizes.

    - Blocks, from the paper: encoder 6 conv blocks with the MoE layer in the
      middle; I/O mixer an attention block and 4 conv blocks; decoder 4 blocks
      of convolution and attention with the MoE layer in the middle.
    - T2T `multimodel_base`: hidden 512, filter 2048, 8 heads, 30 experts,
      top-2, loss coefficient 1e-2, dropout 0.1, attention dropout 0.1, large
      kernel 15, batch 2048 tokens, no shared softmax.
    - Schedule: T2T's legacy noam with `learning_rate=0.1`, warmup 4000
      (T2T `multimodel_base`), Adam epsilon 1e-6, beta1 0.85, beta2 0.997
      (T2T `basic_params1` of 2017), gradient clipping 2.0 and label smoothing
      0.1 (ditto).
    - Capacity: 1.25 in training (Switch/GShard's usual value; T2T's GPU MoE
      had none), unlimited in eval so that incremental decoding equals the
      full pass.
    """
    hparams = basic_params1()
    hparams.hidden_size = 512
    hparams.filter_size = 2048
    hparams.num_heads = 8
    hparams.batch_size = 2048
    hparams.dropout = 0.1
    hparams.attention_dropout = 0.1
    hparams.shared_embedding_and_softmax_weights = False
    hparams.learning_rate_schedule = "noam"
    hparams.learning_rate = 0.1
    hparams.learning_rate_warmup_steps = 4000
    hparams.optimizer_adam_epsilon = 1e-6
    hparams.optimizer_adam_beta1 = 0.85
    hparams.optimizer_adam_beta2 = 0.997
    hparams.clip_grad_norm = 2.0
    hparams.add_hparam("encoder_blocks", 6)
    hparams.add_hparam("mixer_blocks", 4)
    hparams.add_hparam("decoder_blocks", 4)
    hparams.add_hparam("large_kernel_size", 15)
    hparams.add_hparam("use_moe", True)
    hparams.add_hparam("use_attention", True)
    hparams.add_hparam("moe_num_experts", 30)
    hparams.add_hparam("moe_k", 2)
    hparams.add_hparam("moe_hidden_size", 2048)
    hparams.add_hparam("moe_loss_coef", 1e-2)
    hparams.add_hparam("moe_train_capacity_factor", 1.25)
    hparams.add_hparam("moe_eval_capacity_factor", 0.0)
    hparams.add_hparam("image_downsample_steps", 2)
    hparams.add_hparam("audio_sample_rate", 16000)
    hparams.add_hparam("audio_num_mel_bins", 80)
    hparams.add_hparam("audio_compression_steps", 2)
    # Speech problems drop longer training utterances (their own default: 10 s).
    hparams.add_hparam("audio_max_seconds", 10.0)
    return hparams


@registry.register_hparams
def multimodel_tiny():
    """Small enough for the test suite and a 2-core CPU.

    Diff from `multimodel_base`: hidden 128, 4 heads, 2 encoder blocks, 1
    mixer block, 2 decoder blocks, 8 experts of 256, batch 1024 tokens, no
    dropout, and the `transformer_tiny` schedule (rsqrt decay from a 2e-3
    peak after 500 warmup steps): a few thousand steps is all a tiny run has.
    """
    hparams = multimodel_base()
    hparams.hidden_size = 128
    hparams.filter_size = 512
    hparams.num_heads = 4
    hparams.batch_size = 1024
    hparams.encoder_blocks = 2
    hparams.mixer_blocks = 1
    hparams.decoder_blocks = 2
    hparams.moe_num_experts = 8
    hparams.moe_hidden_size = 256
    hparams.dropout = 0.0
    hparams.attention_dropout = 0.0
    hparams.learning_rate_schedule = "rsqrt_decay"
    hparams.learning_rate = 2e-3
    hparams.learning_rate_warmup_steps = 500
    hparams.optimizer_adam_beta1 = 0.9
    return hparams


@registry.register_hparams
def multimodel_1p8():
    """The paper-era set for the eight-problem run (T2T v1.0.4 `multimodel_1p8`).

    Diff from `multimodel_base`: hidden 1536 (and experts of 1536 → 4 x 1536,
    filter 4096 as slicenet's ratio), 120 experts top-2, Adam beta1 0.85 /
    beta2 0.997, noam learning rate 0.05 with 3000 warmup steps, batch 1024,
    dropout 0.1 (v1.0.4 `slicenet_params1` + `multimodel_1p8`).
    """
    hparams = multimodel_base()
    hparams.hidden_size = 1536
    hparams.filter_size = 4096
    hparams.moe_num_experts = 120
    hparams.moe_hidden_size = 4096
    hparams.batch_size = 1024
    hparams.learning_rate = 0.05
    hparams.learning_rate_warmup_steps = 3000
    return hparams
