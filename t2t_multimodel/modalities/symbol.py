"""`SymbolModality`: token ids in, embeddings out; logits and a smoothed loss back."""

import math

import keras
from keras import ops

from t2t_multimodel import registry
from t2t_multimodel.modalities.losses import smoothed_cross_entropy


@registry.register_modality("symbol")
@keras.saving.register_keras_serializable(package="t2t_multimodel")
class SymbolModality(keras.layers.Layer):
    """The modality of discrete tokens (T2T's `symbol_bottom` / `symbol_top`).

    Shapes use `B` (batch), `T` (length), `V` (`vocabulary_size`) and `H`
    (`hidden_size`). Id 0 is padding.

    - `bottom(ids [B, T])` → `[B, T, H]`: rows of an embedding table drawn
      from `N(0, H ** -0.5)`, times `sqrt(H)`, with pad positions zeroed.
    - `targets_bottom(ids)`: the same table and computation (teacher forcing
      and incremental decoding embed target ids with it).
    - `top(body_output [B, T, H])` → float32 logits `[B, T, V]`: the embedding
      table transposed when `shared_embedding_and_softmax_weights`, else a
      separate `[V, H]` softmax table.
    - `loss(logits, targets, label_smoothing)`: label-smoothed cross entropy
      (shifted so a perfect prediction costs 0, as T2T's
      `smoothing_cross_entropy`), averaged over non-pad target tokens.

    A model shares one instance between inputs and targets to share the input
    and target embeddings (T2T's `shared_embedding_and_softmax_weights` with
    equal vocabulary sizes).

    Args:
        vocabulary_size: int. `V`, including the pad (0) and EOS (1) ids.
        hidden_size: int. `H`, the embedding depth.
        shared_embedding_and_softmax_weights: bool. Whether `top` reuses the
            embedding table. When `False` a separate softmax table is created.
            Defaults to `True`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            including `name`, `dtype`, etc.

    Call arguments:
        inputs: int tensor `[B, T]` of token ids; calling the layer is `bottom`.

    Example:

    ```python
    modality = t2t_multimodel.modalities.symbol.SymbolModality(
        vocabulary_size=10, hidden_size=8)
    emb = modality.bottom(keras.ops.array([[3, 4, 1, 0]]))       # [1, 4, 8]
    logits = modality.top(emb)                                   # [1, 4, 10]
    loss = modality.loss(logits, keras.ops.array([[3, 4, 1, 0]]), 0.1)
    ```

    References:
        - T2T `layers/modalities.py` (`symbol_bottom`, `symbol_top`) and
          `common_layers.padded_cross_entropy`.
        - [Szegedy et al., 2015](https://arxiv.org/abs/1512.00567) (label smoothing).
    """

    # The targets are token sequences, decoded autoregressively.
    targets_are_sequences = True

    def __init__(self, vocabulary_size, hidden_size,
                 shared_embedding_and_softmax_weights=True, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("vocabulary_size", vocabulary_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{arg}` must be a positive integer. Received: {arg}={value}")
        self.vocabulary_size = vocabulary_size
        self.hidden_size = hidden_size
        self.shared_embedding_and_softmax_weights = bool(shared_embedding_and_softmax_weights)

    @classmethod
    def from_hparams(cls, hparams, vocabulary_size, feature="targets", **kwargs):
        """The modality of `feature` ("inputs" or "targets") for model `hparams`.

        An inputs-only instance never calls `top`, so it gets no softmax table.
        """
        shared = hparams.get("shared_embedding_and_softmax_weights", True)
        kwargs.setdefault("shared_embedding_and_softmax_weights",
                          bool(shared) or feature != "targets")
        return cls(vocabulary_size=vocabulary_size, hidden_size=hparams.hidden_size, **kwargs)

    def build(self, inputs_shape=None):
        initializer = keras.initializers.RandomNormal(stddev=self.hidden_size ** -0.5)
        self.embeddings = self.add_weight(
            name="embeddings", shape=(self.vocabulary_size, self.hidden_size),
            initializer=initializer)
        self.softmax_weights = None
        if not self.shared_embedding_and_softmax_weights:
            self.softmax_weights = self.add_weight(
                name="softmax_weights", shape=(self.vocabulary_size, self.hidden_size),
                initializer=initializer)
        self.built = True

    def _ensure_built(self):
        if not self.built:
            self.build()

    def bottom(self, ids):
        """Embeds `ids [B, T]` → `[B, T, H]`, pad rows zero."""
        self._ensure_built()
        ids = ops.cast(ids, "int32")
        x = ops.take(ops.cast(self.embeddings, self.compute_dtype), ids, axis=0)
        x = x * ops.cast(math.sqrt(self.hidden_size), self.compute_dtype)
        return x * ops.cast(ops.expand_dims(ids != 0, -1), self.compute_dtype)

    def bottom_mask(self, ids):
        """float32 `[B, T]`: 1 at real tokens, 0 at padding (id 0)."""
        return ops.cast(ops.not_equal(ops.cast(ids, "int32"), 0), "float32")

    def targets_bottom(self, ids):
        """Embeds target ids for the decoder; the same table as `bottom`."""
        return self.bottom(ids)

    def top(self, body_output, mask=None):
        """Maps `[B, T, H]` → float32 logits `[B, T, V]` (`mask` is unused)."""
        del mask
        self._ensure_built()
        table = (self.embeddings if self.shared_embedding_and_softmax_weights
                 else self.softmax_weights)
        logits = ops.matmul(body_output, ops.transpose(ops.cast(table, body_output.dtype)))
        return ops.cast(logits, "float32")

    def loss(self, logits, targets, label_smoothing=0.0):
        """Label-smoothed cross entropy averaged over non-pad targets (float32)."""
        targets = ops.cast(targets, "int32")
        xent = smoothed_cross_entropy(logits, targets, self.vocabulary_size, label_smoothing)
        weights = ops.cast(targets != 0, "float32")
        total = ops.sum(xent * weights)
        return total / ops.maximum(ops.sum(weights), 1.0)

    def call(self, inputs):
        return self.bottom(inputs)

    def compute_output_shape(self, inputs_shape):
        return tuple(inputs_shape) + (self.hidden_size,)

    def get_config(self):
        config = super().get_config()
        config.update({
            "vocabulary_size": self.vocabulary_size,
            "hidden_size": self.hidden_size,
            "shared_embedding_and_softmax_weights": self.shared_embedding_and_softmax_weights,
        })
        return config
