"""`ClassLabelModality`: one class per example; pooled logits and a smoothed loss."""

import math

import keras
from keras import ops

from t2t_multimodel import registry
from t2t_multimodel.modalities.losses import smoothed_cross_entropy


@registry.register_modality("class_label")
@keras.saving.register_keras_serializable(package="t2t_multimodel")
class ClassLabelModality(keras.layers.Layer):
    """The modality of class labels (T2T's `ClassLabelModality`, paper-era top).

    Shapes use `B` (batch), `L` (body length), `H` (`hidden_size`) and `C`
    (`vocabulary_size`, the number of classes). Every id in `[0, C)` is a
    real class: there is no padding id.

    - `top(body_output [B, L, H], mask [B, L])` → float32 logits `[B, 1, C]`:
      one residual conv step `x + LN(SeparableConv1D(ReLU(x) * mask))`
      (kernel 3, "same"; padded positions are zeroed before the conv), then
      the mean over the real positions (`mask` 1; all positions when `mask`
      is `None`), then `Dense(C)`. Values at padded positions never reach
      the logits.
    - `loss(logits [B, 1, C], targets [B, 1] or [B])`: label-smoothed cross
      entropy, shifted like `SymbolModality.loss` so that a perfect
      prediction costs 0 (no shift without smoothing), averaged over ALL
      examples (class 0 counts).
    - `targets_bottom(targets)` → zeros `[B, 1, H]`: no teacher forcing.
    - `bottom(ids [B] or [B, 1])` → `[B, 1, H]` (a label as model input): an
      embedding table drawn from `N(0, H ** -0.5)` times `sqrt(H)`;
      `bottom_mask(ids)` → float32 ones `[B, 1]`.

    Each path creates its weights when first used, so a targets-only
    instance has no embedding table and an inputs-only one no top weights.

    `targets_are_sequences = False` (a class attribute): the target is one
    label per example, so a model predicts it from the encoder in one step
    instead of decoding it (`SymbolModality` has `True`; inputs-only
    modalities such as images and audio have `None`).

    Args:
        vocabulary_size: int. `C`, the number of classes.
        hidden_size: int. `H`, the body depth.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            including `name`, `dtype`, etc.

    Call arguments:
        inputs: int tensor `[B]` or `[B, 1]` of class ids; calling the layer
            is `bottom`.

    Example:

    ```python
    modality = t2t_multimodel.modalities.class_label.ClassLabelModality(
        vocabulary_size=10, hidden_size=8)
    body_output = keras.random.normal((2, 5, 8))
    mask = keras.ops.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], "float32")
    logits = modality.top(body_output, mask)                     # [2, 1, 10]
    loss = modality.loss(logits, keras.ops.array([0, 7]), 0.1)
    ```

    References:
        - T2T v1.0.4 `layers/modalities.py` (`ClassLabelModality`) and
          `common_layers.padded_cross_entropy` with `weights_all`.
        - [Kaiser et al., 2017](https://arxiv.org/abs/1706.05137) (MultiModel).
    """

    targets_are_sequences = False

    def __init__(self, vocabulary_size, hidden_size, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("vocabulary_size", vocabulary_size), ("hidden_size", hidden_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{arg}` must be a positive integer. Received: {arg}={value}")
        self.vocabulary_size = vocabulary_size
        self.hidden_size = hidden_size

    @classmethod
    def from_hparams(cls, hparams, vocabulary_size, feature="targets", **kwargs):
        """The class-label modality with `vocabulary_size` classes for model `hparams`."""
        return cls(vocabulary_size=vocabulary_size, hidden_size=hparams.hidden_size, **kwargs)

    def build(self, inputs_shape=None):
        # The sublayers build themselves on first use (see the class docstring),
        # except the embedding when Keras builds the layer for a call (`bottom`),
        # so that a saved functional model can restore it.
        self._embedding = keras.layers.Embedding(
            self.vocabulary_size, self.hidden_size,
            embeddings_initializer=keras.initializers.RandomNormal(
                stddev=self.hidden_size ** -0.5),
            dtype=self.dtype_policy, name="embedding")
        if inputs_shape is not None:
            self._embedding.build(inputs_shape)
        self._top_conv = keras.layers.SeparableConv1D(
            self.hidden_size, 3, padding="same", dtype=self.dtype_policy, name="top_conv")
        self._top_norm = keras.layers.LayerNormalization(
            epsilon=1e-6, dtype=self.dtype_policy, name="top_norm")
        self._top_dense = keras.layers.Dense(
            self.vocabulary_size, dtype=self.dtype_policy, name="top_dense")
        self.built = True

    def _ensure_built(self):
        if not self.built:
            self.build()

    @staticmethod
    def _flat_ids(ids):
        # `[B]` or `[B, 1]` -> `[B]`. A reshape, not a squeeze: the train and
        # eval steps trace with every dimension unknown (`[None, None]`), and
        # `ops.squeeze(axis=1)` refuses a dimension it cannot see is 1.
        return ops.reshape(ops.cast(ids, "int32"), (-1,))

    def bottom(self, ids):
        """Embeds `ids [B]` or `[B, 1]` → `[B, 1, H]`."""
        self._ensure_built()
        with self._scope():
            x = self._embedding(ops.expand_dims(self._flat_ids(ids), 1))
        return x * ops.cast(math.sqrt(self.hidden_size), x.dtype)

    def _scope(self):
        # `bottom` and `top` are not `__call__`, so Keras has not entered this
        # layer's name scope when a sublayer creates its weights on first use:
        # enter it, so that their paths carry this modality's name and two
        # class-label nets of one model (problems with different label sets)
        # never share a checkpoint key.
        return keras.name_scope(self.name, caller=self)

    def bottom_mask(self, ids):
        """Float32 ones `[B, 1]`."""
        return ops.ones((ops.shape(ids)[0], 1), "float32")

    def targets_bottom(self, targets):
        """Zeros `[B, 1, H]`: a label is predicted in one step, without teacher forcing."""
        return ops.zeros((ops.shape(targets)[0], 1, self.hidden_size), self.compute_dtype)

    def top(self, body_output, mask=None):
        """Maps `body_output [B, L, H]` (with `mask [B, L]`) → float32 logits `[B, 1, C]`."""
        self._ensure_built()
        x = body_output
        if mask is None:
            mask = ops.ones(ops.shape(x)[:2], "bool")
        mask = ops.expand_dims(ops.cast(mask, "bool"), -1)  # [B, L, 1]
        with self._scope():
            x = x + self._top_norm(self._top_conv(ops.where(mask, ops.relu(x), 0.0)))
            count = ops.maximum(ops.sum(ops.cast(mask, x.dtype), axis=1), 1.0)
            pooled = ops.sum(ops.where(mask, x, 0.0), axis=1) / count
            logits = self._top_dense(pooled)
        return ops.cast(ops.expand_dims(logits, 1), "float32")

    def loss(self, logits, targets, label_smoothing=0.0):
        """Label-smoothed cross entropy averaged over all examples (float32 scalar)."""
        logits = ops.reshape(ops.cast(logits, "float32"), (-1, self.vocabulary_size))
        xent = smoothed_cross_entropy(logits, self._flat_ids(targets), self.vocabulary_size,
                                      label_smoothing)
        return ops.mean(xent)

    def call(self, inputs):
        return self.bottom(inputs)

    def compute_output_shape(self, inputs_shape):
        return (inputs_shape[0], 1, self.hidden_size)

    def get_config(self):
        config = super().get_config()
        config.update({
            "vocabulary_size": self.vocabulary_size,
            "hidden_size": self.hidden_size,
        })
        return config
