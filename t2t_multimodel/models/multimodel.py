"""`MultiModel`: the model of "One Model To Learn Them All" (Kaiser et al. 2017)."""

import keras
from keras import ops

# `modalities` is imported to register the built-in modalities.
from t2t_multimodel import modalities, registry  # noqa: F401
from t2t_multimodel.layers.attention_block import AttentionBlock
from t2t_multimodel.layers.conv_block import ConvBlock
from t2t_multimodel.layers.mixture_of_experts import MixtureOfExperts
from t2t_multimodel.layers.timing_signal import TimingSignal
from t2t_multimodel.models.modality_set import ModalitySet
from t2t_multimodel.models.t2t_model import T2TModel

# T2T's `target_space_embedding` has 32 rows, one per `SpaceID`.
NUM_TARGET_SPACES = 32


@keras.saving.register_keras_serializable(package="t2t_multimodel")
@registry.register_model("multimodel")
class MultiModel(T2TModel):
    """The MultiModel: modality nets around one shared encoder, mixer and decoder.

    Shapes use `B` (batch), `S` (input positions after the input modality),
    `T` (target length) and `H` (`hidden_size`).

    - **Modality nets** (`ModalitySet`): one instance per modality and
      vocabulary, shared by every problem that has it (the paper's point).
      Each maps its feature to `[B, S, H]` plus a padding mask, and back to
      logits.
    - **Encoder**: timing signal, then `encoder_blocks` `ConvBlock`s with a
      sparsely-gated `MixtureOfExperts` after the first half
      (`x + dropout(moe(x))`, then layer norm).
    - **Class-label targets** skip the rest: the class-label modality pools
      the encoder output (paper §2; T2T does the same).
    - **I/O mixer**: the targets shifted right by one, where position 0 is
      the **command token** (the embedding of the example's
      `target_space_id`, a per-example feature, so one batch may hold
      several problems that share modalities); an `AttentionBlock` from them
      to the encoder output; its output concatenated with the shifted
      targets and projected to `H`; then `mixer_blocks` causal `ConvBlock`s.
    - **Decoder**: `decoder_blocks` blocks, each a causal `ConvBlock` and an
      `AttentionBlock` to the encoder output (`y + dropout(attention)`, then
      layer norm), with a `MixtureOfExperts` after the first half; then the
      target modality's `top`.

    Choices where the paper is not specific (each an hparam where it matters):
    the ConvBlock dilations are the paper figure's (1, 1, 1, 8) on kernels
    (3, 3, `large_kernel_size`, `large_kernel_size`); the attention blocks'
    own conv blocks use kernel 5 with dilations (1, 1, 2, 2) and (4, 4, 8, 8);
    the MoE residual and the attention residual are followed by a layer norm
    (T2T's `residual_fn`); the encoder gets no command token (the decoder
    starts from it). Ablations (the paper's Table 4): `use_moe=False` leaves
    out both MoE layers; `use_attention=False` leaves out the decoder's
    attention blocks (the mixer's attention is kept, or the decoder would
    never see the inputs).

    MoE capacity: the training and eval capacity factors are hparams;
    `moe_eval_capacity_factor <= 0` means unlimited, which incremental
    decoding needs to equal the full pass exactly (with a limit, a step sees
    `B` tokens where the full pass saw `B * T`, and drops differ).

    Hparams read: `hidden_size`, `num_heads`, `dropout`, `attention_dropout`,
    `layer_norm_epsilon`, `label_smoothing`, `encoder_blocks`, `mixer_blocks`,
    `decoder_blocks`, `large_kernel_size`, `use_moe`, `use_attention`,
    `moe_num_experts`, `moe_k`, `moe_hidden_size`, `moe_loss_coef`,
    `moe_train_capacity_factor`, `moe_eval_capacity_factor`, and the
    modalities' own knobs.

    Args:
        hparams: `HParams` or dict. E.g. `registry.hparams("multimodel_tiny")()`.
        problem_hparams: `ProblemHParams`, its dict, or a dict of them by
            problem name (a mixture).
        **kwargs: passed to `keras.Model`.

    Call arguments:
        features: dict with `inputs` (the input modality's raw feature),
            `targets` `[B, T]` int (class labels: `[B, 1]`) and optionally
            `target_space_id` `[B]`.
        training: bool. Dropout, MoE noise and the training capacity.
        problem: str or None. Which problem's modalities to use (None: the
            first).

    Example:

    ```python
    hparams = registry.hparams("multimodel_tiny")()
    php = {"modality": {"inputs": "symbol", "targets": "symbol"},
           "vocab_size": {"inputs": 4, "targets": 4}, "target_space_id": 4}
    model = MultiModel(hparams, php)
    logits = model({"inputs": ids, "targets": ids})   # [B, T, 4]
    ```

    References:
        - [Kaiser et al., 2017](https://arxiv.org/abs/1706.05137)
        - [Shazeer et al., 2017](https://arxiv.org/abs/1701.06538)
        - T2T v1.0.4 `models/multimodel.py` and `models/slicenet.py`.
    """

    def __init__(self, hparams, problem_hparams, **kwargs):
        super().__init__(hparams, problem_hparams, **kwargs)
        hp = self.hparams
        if hp.hidden_size % hp.num_heads:
            raise ValueError(
                "`hidden_size` must be divisible by `num_heads`. "
                f"Received: hidden_size={hp.hidden_size}, num_heads={hp.num_heads}")
        for name in ("encoder_blocks", "mixer_blocks", "decoder_blocks"):
            if hp.get(name, 0) < 1:
                raise ValueError(f"`{name}` must be at least 1. Received: {name}={hp.get(name)}")
        dtype = self.dtype_policy
        self.modality_set = ModalitySet(hp, self.problem_hparams_by_name, dtype=dtype)
        # A list, so Keras tracks the layers (weights and checkpoints).
        self.modality_layers = list(self.modality_set.layers.values())
        hidden, eps, drop = hp.hidden_size, hp.layer_norm_epsilon, hp.dropout
        kernel = hp.get("large_kernel_size", 15)
        conv = dict(kernel_sizes=(3, 3, kernel, kernel), dilation_rates=(1, 1, 1, 8),
                    dropout=drop, layer_norm_epsilon=eps, dtype=dtype)
        attention = dict(hidden_size=hidden, num_heads=hp.num_heads, dropout=drop,
                         attention_dropout=hp.attention_dropout, layer_norm_epsilon=eps,
                         causal=True, dtype=dtype)
        use_moe = hp.get("use_moe", True)
        self.use_attention = hp.get("use_attention", True)

        def moe(name):
            if not use_moe:
                return None
            return MixtureOfExperts(
                num_experts=hp.moe_num_experts, k=hp.moe_k,
                expert_hidden_size=hp.moe_hidden_size, loss_coefficient=hp.moe_loss_coef,
                train_capacity_factor=hp.moe_train_capacity_factor,
                eval_capacity_factor=hp.moe_eval_capacity_factor, dtype=dtype, name=name)

        def norm(name):
            return keras.layers.LayerNormalization(epsilon=eps, dtype=dtype, name=name)

        self.timing_signal = TimingSignal(dtype=dtype, name="timing_signal")
        self.target_space_embedding = keras.layers.Embedding(
            NUM_TARGET_SPACES, hidden,
            embeddings_initializer=keras.initializers.RandomNormal(stddev=hidden ** -0.5),
            dtype=dtype, name="target_space_embedding")
        self.dropout = keras.layers.Dropout(drop, dtype=dtype, name="dropout")
        self.encoder_blocks = [ConvBlock(hidden, name=f"encoder_conv_{i}", **conv)
                               for i in range(hp.encoder_blocks)]
        self.encoder_moe = moe("encoder_moe")
        self.encoder_moe_norm = norm("encoder_moe_norm")
        self.mixer_attention = AttentionBlock(name="mixer_attention", **attention)
        self.mixer_projection = keras.layers.Dense(hidden, dtype=dtype, name="mixer_projection")
        self.mixer_blocks = [ConvBlock(hidden, causal=True, name=f"mixer_conv_{i}", **conv)
                             for i in range(hp.mixer_blocks)]
        self.decoder_convs = [ConvBlock(hidden, causal=True, name=f"decoder_conv_{i}", **conv)
                              for i in range(hp.decoder_blocks)]
        self.decoder_attentions = (
            [AttentionBlock(name=f"decoder_attention_{i}", **attention)
             for i in range(hp.decoder_blocks)] if self.use_attention else [])
        self.decoder_norms = [norm(f"decoder_norm_{i}") for i in range(hp.decoder_blocks)]
        self.decoder_moe = moe("decoder_moe")
        self.decoder_moe_norm = norm("decoder_moe_norm")

    def build(self, features_shape=None):
        # The sublayers build on their first call: which ones a call reaches
        # depends on the problem (a mixture's modality nets), so there is no
        # one input shape to build them all from here.
        del features_shape
        self.built = True

    # ---- Pieces shared by the full pass and incremental decoding ---------
    def _moe(self, layer, norm, x, mask, training):
        if layer is None:
            return x
        return norm(x + self.dropout(layer(x, mask=mask, training=training), training=training))

    def _command_token(self, features, batch, problem):
        space = features.get("target_space_id")
        if space is None:
            space = ops.full((batch,), self.problem_hparams_for(problem).target_space_id)
        space = ops.reshape(ops.cast(space, "int32"), (-1,))
        return ops.expand_dims(self.target_space_embedding(space), 1)  # [B, 1, H]

    def targets_are_sequences(self, problem=None):
        return self.modality_set.target(problem).targets_are_sequences is not False

    def encode(self, features, training=False, problem=None):
        """The decoding interface's `encode`: `_encode` plus, per attention block
        of the decoder side, `<block name>_source` `[B, 2, heads, S, H // heads]`,
        its projected source keys and values, so that `step` does not project
        the same encoder output again at every position."""
        encoded = self._encode(features, training=training, problem=problem)
        if not self.targets_are_sequences(problem):
            return encoded
        source = encoded["encoder_output"]
        for block in [self.mixer_attention] + self.decoder_attentions:
            if not block.built:  # decoding before any call
                block.build(source.shape, source.shape)
            encoded[f"{block.name}_source"] = block.source_cache(source)
        return encoded

    def _encode(self, features, training=False, problem=None):
        """`{"encoder_output" [B, S, H], "encoder_padding_mask" [B, S], "target_space_id" [B]}`."""
        modality = self.modality_set.input(problem)
        inputs = features["inputs"]
        x = modality.bottom(inputs)
        mask = ops.cast(modality.bottom_mask(inputs), x.dtype)
        x = self.dropout(self.timing_signal(x), training=training)
        half = (len(self.encoder_blocks) + 1) // 2
        for i, block in enumerate(self.encoder_blocks):
            if i == half:
                x = self._moe(self.encoder_moe, self.encoder_moe_norm, x, mask, training)
            x = block(x, mask=mask, training=training)
        if half == len(self.encoder_blocks):
            x = self._moe(self.encoder_moe, self.encoder_moe_norm, x, mask, training)
        x = x * ops.expand_dims(mask, -1)
        space = features.get("target_space_id")
        if space is None:
            space = ops.full((ops.shape(x)[0],), self.problem_hparams_for(problem).target_space_id)
        return {"encoder_output": x, "encoder_padding_mask": ops.cast(mask, "float32"),
                "target_space_id": ops.reshape(ops.cast(space, "int32"), (-1,))}

    def call(self, features, training=False, problem=None):
        encoded = self._encode(features, training=training, problem=problem)
        target_modality = self.modality_set.target(problem)
        if not self.targets_are_sequences(problem):
            return target_modality.top(encoded["encoder_output"],
                                       mask=encoded["encoder_padding_mask"])
        targets = ops.cast(features["targets"], "int32")
        batch = ops.shape(targets)[0]
        shifted = target_modality.targets_bottom(targets)[:, :-1]
        command = ops.cast(self._command_token(features, batch, problem), shifted.dtype)
        y = ops.concatenate([command, shifted], axis=1)  # [B, T, H]
        # Position t reads target t-1 (position 0: the command token); the MoE
        # routes the positions whose input is real, so a prefix decoded with
        # zeros beyond it computes exactly what incremental decoding does.
        mask = ops.cast(ops.pad(ops.not_equal(targets, 0)[:, :-1], [[0, 0], [1, 0]],
                                constant_values=True), y.dtype)
        source = encoded["encoder_output"]
        source_mask = encoded["encoder_padding_mask"]
        attended = self.mixer_attention(y, source, source_mask=source_mask, training=training)
        y = self.mixer_projection(ops.concatenate([attended, y], axis=-1))
        for block in self.mixer_blocks:
            y = block(y, training=training)
        y = self._decoder(y, source, source_mask, mask, training)
        return target_modality.top(y)

    def _decoder(self, y, source, source_mask, mask, training):
        half = (len(self.decoder_convs) + 1) // 2
        for i, conv in enumerate(self.decoder_convs):
            if i == half:
                y = self._moe(self.decoder_moe, self.decoder_moe_norm, y, mask, training)
            y = conv(y, training=training)
            if self.use_attention:
                attended = self.decoder_attentions[i](y, source, source_mask=source_mask,
                                                      training=training)
                y = self.decoder_norms[i](y + self.dropout(attended, training=training))
        if half == len(self.decoder_convs):
            y = self._moe(self.decoder_moe, self.decoder_moe_norm, y, mask, training)
        return y

    def model_loss(self, features, logits, problem=None):
        loss = self.modality_set.target(problem).loss(
            logits, features["targets"], label_smoothing=self.hparams.label_smoothing)
        return loss * self.problem_hparams_for(problem).loss_multiplier

    def target_weights(self, targets, problem=None):
        if self.targets_are_sequences(problem):
            return super().target_weights(targets)
        return ops.ones(ops.shape(targets), "float32")

    # ---- Incremental decoding -------------------------------------------
    def initial_cache(self, encoded, max_length, problem=None):
        """Per-layer conv states (a few positions each), not the whole prefix."""
        del max_length
        batch = ops.shape(encoded["encoder_output"])[0]
        dtype = self.compute_dtype
        cache = {"mixer_attention": self.mixer_attention.initial_state(batch, dtype)}
        for i, block in enumerate(self.mixer_blocks):
            cache[f"mixer_conv_{i}"] = block.initial_state(batch, dtype)
        for i, conv in enumerate(self.decoder_convs):
            cache[f"decoder_conv_{i}"] = conv.initial_state(batch, dtype)
        for i, attention in enumerate(self.decoder_attentions):
            cache[f"decoder_attention_{i}"] = attention.initial_state(batch, dtype)
        return cache

    def step(self, ids, index, cache, encoded, problem=None):
        target_modality = self.modality_set.target(problem)
        source = encoded["encoder_output"]
        source_mask = encoded["encoder_padding_mask"]
        ids = ops.reshape(ops.cast(ids, "int32"), (-1, 1))
        batch = ops.shape(ids)[0]
        embedded = target_modality.targets_bottom(ids)
        command = ops.cast(self._command_token(encoded, batch, problem), embedded.dtype)
        y = ops.where(ops.equal(index, 0), command, embedded)
        # As in `call`: the MoE skips a position whose input id is 0 (padding),
        # so a decoded 0 is treated exactly as the full pass treats it.
        mask = ops.cast(ops.logical_or(ops.equal(index, 0), ops.not_equal(ids, 0)), y.dtype)
        new = {}
        attended, new["mixer_attention"] = self.mixer_attention.step(
            y, index, cache["mixer_attention"], source, source_mask=source_mask,
            source_cache=encoded.get(f"{self.mixer_attention.name}_source"))
        y = self.mixer_projection(ops.concatenate([attended, y], axis=-1))
        for i, block in enumerate(self.mixer_blocks):
            y, new[f"mixer_conv_{i}"] = block.step(y, cache[f"mixer_conv_{i}"])
        half = (len(self.decoder_convs) + 1) // 2
        for i, conv in enumerate(self.decoder_convs):
            if i == half:
                y = self._moe(self.decoder_moe, self.decoder_moe_norm, y, mask, False)
            y, new[f"decoder_conv_{i}"] = conv.step(y, cache[f"decoder_conv_{i}"])
            if self.use_attention:
                key = f"decoder_attention_{i}"
                block = self.decoder_attentions[i]
                attended, new[key] = block.step(
                    y, index, cache[key], source, source_mask=source_mask,
                    source_cache=encoded.get(f"{block.name}_source"))
                y = self.decoder_norms[i](y + attended)
        if half == len(self.decoder_convs):
            y = self._moe(self.decoder_moe, self.decoder_moe_norm, y, mask, False)
        return target_modality.top(y)[:, 0, :], new
