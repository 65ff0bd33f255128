"""`Transformer`: the pre-norm encoder-decoder Transformer of T2T."""

import keras
from keras import ops

# `modalities` is imported to register the built-in modalities.
from t2t_multimodel import modalities, registry  # noqa: F401
from t2t_multimodel.layers.timing_signal import TimingSignal
from t2t_multimodel.layers.transformer_decoder_layer import TransformerDecoderLayer
from t2t_multimodel.layers.transformer_encoder_layer import TransformerEncoderLayer
from t2t_multimodel.models.t2t_model import T2TModel

# Looked up in the registry directly: `registry.modality()` would import every
# problem, and a model must not depend on them.
_MODALITIES = registry.Registries.modalities

# T2T's `target_space_embedding` has 32 rows, one per `SpaceID`.
NUM_TARGET_SPACES = 32


@keras.saving.register_keras_serializable(package="t2t_multimodel")
@registry.register_model
class Transformer(T2TModel):
    """The Transformer encoder-decoder (T2T `transformer` with pre-norm).

    Shapes use `B` (batch), `S` (input length), `T` (target length), `H`
    (`hidden_size`), `V` (target vocabulary size) and `L` (decode length).

    Encoder: input modality `bottom` + the embedding of `target_space_id`
    (T2T's 32-row "command token" table) + sinusoidal timing → dropout →
    `num_hidden_layers` pre-norm `TransformerEncoderLayer`s → layer norm.
    Decoder: targets shifted right by one (start symbol 0) → target modality
    `targets_bottom` + timing → dropout → `TransformerDecoderLayer`s (causal
    self-attention, attention over the encoder output with the input padding
    masked) → layer norm → target modality `top`.

    When `shared_embedding_and_softmax_weights` is set and the inputs and
    targets have the same modality and vocabulary size, one modality instance
    serves both (one embedding table for inputs, targets and softmax).

    Hparams read: `hidden_size`, `filter_size`, `num_heads`,
    `num_hidden_layers`, `dropout` (residual and embedding dropout),
    `attention_dropout`, `relu_dropout`, `layer_norm_epsilon`,
    `shared_embedding_and_softmax_weights`, `label_smoothing`.

    Args:
        hparams: `HParams` or dict. E.g. `registry.hparams("transformer_tiny")()`.
        problem_hparams: `ProblemHParams` or dict. Needs `"inputs"` and
            `"targets"` in `modality` and `vocab_size`.
        **kwargs: passed to `keras.Model` (`name`, `dtype`, ...).

    Call arguments:
        features: dict with `inputs` `[B, S]` int ids, `targets` `[B, T]` int
            ids and optionally `target_space_id` `[B]` (default: the problem's).
        training: bool. Whether dropout is active.

    Returns logits `[B, T, V]` float32 (teacher forcing).

    Decoding (see `T2TModel`): `encode(features)` →
    `{"encoder_output": [B, S, H], "encoder_padding_mask": [B, S]}` (float32,
    1.0 at real input tokens) plus each decoder layer's projected encoder
    keys/values `cross_attention_i`; `initial_cache(encoded, L)` →
    `{"layer_i": zeros [B, 2, heads, L, H // heads]}`; `step(ids, index,
    cache, encoded)` → `(logits [B, V], cache)`, always without dropout.

    Example:

    ```python
    hparams = t2t_multimodel.registry.hparams("transformer_tiny")()
    problem = {"modality": {"inputs": "symbol", "targets": "symbol"},
               "vocab_size": {"inputs": 10, "targets": 10}}
    model = t2t_multimodel.models.transformer.Transformer(hparams, problem)
    features = {"inputs": keras.ops.array([[4, 5, 1, 0]]),
                "targets": keras.ops.array([[5, 4, 1]])}
    logits = model(features)                  # [1, 3, 10]
    loss = model.loss(features, logits)
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - T2T `models/transformer.py` (`transformer_prepare_encoder`,
          `fast_decode`).
    """

    def __init__(self, hparams, problem_hparams, **kwargs):
        super().__init__(hparams, problem_hparams, **kwargs)
        hp, php = self.hparams, self.problem_hparams
        for name, other in self.problem_hparams_by_name.items():
            if (other.modality, other.vocab_size) != (php.modality, php.vocab_size):
                raise ValueError(
                    "The transformer has one input and one target modality, so every problem "
                    "of a mixture must share them (the multimodel does not need to). "
                    f"Received: problem={name}, modality={other.modality}, "
                    f"vocab_size={other.vocab_size}")
        if "inputs" not in php.modality:
            raise ValueError(
                "The transformer is an encoder-decoder and needs an 'inputs' feature; "
                "decoder-only problems are not supported. "
                f"Received: problem_hparams.modality={php.modality}")
        for feature in ("inputs", "targets"):
            if feature not in php.modality or feature not in php.vocab_size:
                raise ValueError(
                    f"problem_hparams needs a modality and a vocab_size for {feature!r}. "
                    f"Received: modality={php.modality}, vocab_size={php.vocab_size}")
        if hp.hidden_size % hp.num_heads:
            raise ValueError(
                "`hidden_size` must be divisible by `num_heads`. "
                f"Received: hidden_size={hp.hidden_size}, num_heads={hp.num_heads}")

        self.target_modality = _MODALITIES[php.modality["targets"]].from_hparams(
            hp, php.vocab_size["targets"], feature="targets",
            dtype=self.dtype_policy, name="targets_modality")
        share = (hp.get("shared_embedding_and_softmax_weights", False)
                 and php.modality["inputs"] == php.modality["targets"]
                 and php.vocab_size["inputs"] == php.vocab_size["targets"])
        if share:
            self.input_modality = self.target_modality
        else:
            self.input_modality = _MODALITIES[php.modality["inputs"]].from_hparams(
                hp, php.vocab_size["inputs"], feature="inputs",
                dtype=self.dtype_policy, name="inputs_modality")

        layer_kwargs = dict(
            num_heads=hp.num_heads, filter_size=hp.filter_size, dropout=hp.dropout,
            attention_dropout=hp.attention_dropout, relu_dropout=hp.relu_dropout,
            layer_norm_epsilon=hp.layer_norm_epsilon, dtype=self.dtype_policy)
        self.timing_signal = TimingSignal(dtype=self.dtype_policy, name="timing_signal")
        self.target_space_embedding = keras.layers.Embedding(
            NUM_TARGET_SPACES, hp.hidden_size,
            embeddings_initializer=keras.initializers.RandomNormal(
                stddev=hp.hidden_size ** -0.5),
            dtype=self.dtype_policy, name="target_space_embedding")
        self.encoder_dropout = keras.layers.Dropout(
            hp.dropout, dtype=self.dtype_policy, name="encoder_embedding_dropout")
        self.decoder_dropout = keras.layers.Dropout(
            hp.dropout, dtype=self.dtype_policy, name="decoder_embedding_dropout")
        self.encoder_layers = [
            TransformerEncoderLayer(name=f"encoder_layer_{i}", **layer_kwargs)
            for i in range(hp.num_hidden_layers)]
        self.decoder_layers = [
            TransformerDecoderLayer(name=f"decoder_layer_{i}", **layer_kwargs)
            for i in range(hp.num_hidden_layers)]
        self.encoder_norm = keras.layers.LayerNormalization(
            epsilon=hp.layer_norm_epsilon, dtype=self.dtype_policy, name="encoder_layer_norm")
        self.decoder_norm = keras.layers.LayerNormalization(
            epsilon=hp.layer_norm_epsilon, dtype=self.dtype_policy, name="decoder_layer_norm")

    def build(self, features_shape=None):
        hidden = self.hparams.hidden_size
        sequence_shape = (None, None, hidden)
        shapes = features_shape if isinstance(features_shape, dict) else {}
        for feature, modality in (("inputs", self.input_modality),
                                  ("targets", self.target_modality)):
            if not modality.built:
                modality.build(shapes.get(feature))
        # Decoding before any call builds sublayers lazily: skip those.
        if not self.target_space_embedding.built:
            self.target_space_embedding.build((None,))
        for layer in self.encoder_layers:
            if not layer.built:
                layer.build(sequence_shape)
        for layer in self.decoder_layers:
            if not layer.built:
                layer.build(sequence_shape, sequence_shape)
        for norm in (self.encoder_norm, self.decoder_norm):
            if not norm.built:
                norm.build(sequence_shape)
        self.built = True

    def _target_space(self, features):
        space = features.get("target_space_id")
        if space is None:
            space = ops.convert_to_tensor([self.problem_hparams.target_space_id])
        space = ops.reshape(ops.cast(space, "int32"), (-1,))
        return ops.expand_dims(self.target_space_embedding(space), 1)  # [B or 1, 1, H]

    def encode(self, features, training=False, problem=None):
        """The decoding interface's `encode`: `_encode` plus, per decoder layer,
        `cross_attention_i` `[B, 2, heads, S, H // heads]`, the encoder keys
        and values of its cross-attention, projected once here so that `step`
        does not project them again at every position (as T2T's fast_decode).
        """
        encoded = self._encode(features, training=training, problem=problem)
        sequence_shape = (None, None, self.hparams.hidden_size)
        for i, layer in enumerate(self.decoder_layers):
            if not layer.built:  # decoding before any call
                layer.build(sequence_shape, sequence_shape)
            encoded[f"cross_attention_{i}"] = layer.cross_attention_cache(
                encoded["encoder_output"])
        return encoded

    def _encode(self, features, training=False, problem=None):
        inputs = features["inputs"]
        x = self.input_modality.bottom(inputs)
        if len(inputs.shape) == 2 and "int" in str(inputs.dtype):
            padding_mask = ops.cast(ops.not_equal(inputs, 0), "float32")
        else:
            padding_mask = ops.ones(ops.shape(x)[:2], dtype="float32")
        x = x + ops.cast(self._target_space(features), x.dtype)
        x = self.timing_signal(x)
        x = self.encoder_dropout(x, training=training)
        for layer in self.encoder_layers:
            x = layer(x, padding_mask=padding_mask, training=training)
        return {"encoder_output": self.encoder_norm(x), "encoder_padding_mask": padding_mask}

    def call(self, features, training=False, problem=None):
        encoded = self._encode(features, training=training, problem=problem)
        targets = ops.cast(features["targets"], "int32")
        decoder_input = ops.pad(targets, [[0, 0], [1, 0]])[:, :-1]  # shift right, start = 0
        x = self.target_modality.targets_bottom(decoder_input)
        x = self.timing_signal(x)
        x = self.decoder_dropout(x, training=training)
        for layer in self.decoder_layers:
            x = layer(x, encoded["encoder_output"],
                      encoder_padding_mask=encoded["encoder_padding_mask"], training=training)
        return self.target_modality.top(self.decoder_norm(x))

    def model_loss(self, features, logits, problem=None):
        loss = self.target_modality.loss(
            logits, features["targets"], label_smoothing=self.hparams.label_smoothing)
        return loss * self.problem_hparams_for(problem).loss_multiplier

    def initial_cache(self, encoded, max_length, problem=None):
        batch = ops.shape(encoded["encoder_output"])[0]
        num_heads = self.hparams.num_heads
        shape = (batch, 2, num_heads, max_length, self.hparams.hidden_size // num_heads)
        return {f"layer_{i}": ops.zeros(shape, dtype=self.compute_dtype)
                for i in range(len(self.decoder_layers))}

    def step(self, ids, index, cache, encoded, problem=None):
        ids = ops.reshape(ops.cast(ids, "int32"), (-1, 1))
        x = self.target_modality.targets_bottom(ids)
        x = self.timing_signal(x, start_index=index)
        new_cache = {}
        for i, layer in enumerate(self.decoder_layers):
            key = f"layer_{i}"
            x, new_cache[key] = layer(
                x, encoded["encoder_output"],
                encoder_padding_mask=encoded["encoder_padding_mask"],
                self_attention_cache=cache[key], self_attention_cache_update_index=index,
                cross_attention_cache=encoded.get(f"cross_attention_{i}"), training=False)
        logits = self.target_modality.top(self.decoder_norm(x))
        return logits[:, 0, :], new_cache
