"""`ImageModality`: images in, a sequence of `hidden_size` vectors out (Xception entry flow)."""

import keras
from keras import ops

from t2t_multimodel import registry


@registry.register_modality("image")
@keras.saving.register_keras_serializable(package="t2t_multimodel")
class ImageModality(keras.layers.Layer):
    """The modality of images as model inputs (paper-era T2T `ImageModality.bottom`).

    Shapes use `B` (batch), `H`, `W`, `C` (image height, width, channels),
    `D` (`hidden_size`) and `L = H' * W'` (the positions after downsampling).

    - `bottom(images [B, H, W, C])` → `[B, L, D]`: grey images (`C = 1`) are
      repeated to 3 channels in the graph, so grey and RGB problems share one
      net (the weights always see RGB; a grey pixel is `R = G = B`). Then
      per-image standardization (`(x - mean) / max(std, 1 / sqrt(H * W * 3))`,
      as `tf.image.per_image_standardization`), then an Xception-like entry flow:
      conv 3x3 → LN → ReLU → conv 3x3 → LN, then `downsample_steps` residual
      blocks, each two `ReLU → SeparableConv2D 3x3 → LN` steps and a 3x3
      stride-2 "same" max pool, plus a 1x1 stride-2 conv → LN on the residual
      path. Widths: `min(32, D)`, `min(64, D)`, then `min(128 * 2**i, D)` for
      block `i`, the last block `D`. "LN" is a `LayerNormalization` over
      channels (T2T's `conv_block` norm; BatchNorm would couple the examples of
      a multi-task batch). Each block halves `H` and `W` rounding up, so
      `H' = ceil(H / 2**downsample_steps)`; the `[B, H', W', D]` grid is
      flattened row-major to `[B, L, D]`. Every layer is convolutional, so
      one net takes any image size (28x28 grey and 32x32 RGB problems of a
      mixture share it; `L` differs per problem).
    - `bottom_mask(images)` → float32 ones `[B, L]`: every position is real.
    - `targets_bottom`, `top` and `loss` raise `NotImplementedError`: images
      are an inputs-only modality here.

    `targets_are_sequences = None` (a class attribute) says that this
    modality cannot be a target at all; `ClassLabelModality` has `False`
    (one label per example) and `SymbolModality` `True` (decoded sequences).

    Args:
        hidden_size: int. `D`, the output depth.
        downsample_steps: int. The number of stride-2 residual blocks; `0`
            keeps the full resolution. Defaults to `2` (28x28 → 7x7).
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            including `name`, `dtype`, etc.

    Call arguments:
        inputs: tensor `[B, H, W, C]` with `C` in {1, 3}: uint8/int or float
            pixel values in `[0, 255]`; calling the layer is `bottom`.

    Example:

    ```python
    modality = t2t_multimodel.modalities.image.ImageModality(hidden_size=8)
    images = keras.random.uniform((2, 28, 28, 1), maxval=255.0)
    x = modality.bottom(images)                                  # [2, 49, 8]
    mask = modality.bottom_mask(images)                          # [2, 49] ones
    ```

    References:
        - T2T v1.0.4 `layers/modalities.py` (`ImageModality`) and
          `models/xception.py` (`xnet_resblock`).
        - [Chollet, 2017](https://arxiv.org/abs/1610.02357) (Xception).
        - [Kaiser et al., 2017](https://arxiv.org/abs/1706.05137) (MultiModel).
    """

    targets_are_sequences = None

    def __init__(self, hidden_size, downsample_steps=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(hidden_size, int) or isinstance(hidden_size, bool) or hidden_size <= 0:
            raise ValueError(
                f"`hidden_size` must be a positive integer. Received: hidden_size={hidden_size}")
        if (not isinstance(downsample_steps, int) or isinstance(downsample_steps, bool)
                or downsample_steps < 0):
            raise ValueError("`downsample_steps` must be a non-negative integer. "
                             f"Received: downsample_steps={downsample_steps}")
        self.hidden_size = hidden_size
        self.downsample_steps = downsample_steps

    @classmethod
    def from_hparams(cls, hparams, vocabulary_size=None, feature="inputs", **kwargs):
        """The image modality for model `hparams`; `vocabulary_size` is ignored.

        Reads `hidden_size` and `image_downsample_steps` (default 2).
        """
        kwargs.setdefault("downsample_steps", hparams.get("image_downsample_steps", 2))
        return cls(hidden_size=hparams.hidden_size, **kwargs)

    def _widths(self):
        """Output channels of (conv_1, conv_2, block_0, ..., block_{n-1})."""
        d, n = self.hidden_size, self.downsample_steps
        blocks = [d if i == n - 1 else min(128 * 2 ** i, d) for i in range(n)]
        return [min(32, d), min(64, d) if n else d] + blocks

    def _norm(self, name, channels):
        norm = keras.layers.LayerNormalization(
            epsilon=1e-6, dtype=self.dtype_policy, name=name)
        norm.build((None, None, None, channels))
        return norm

    def build(self, inputs_shape):
        if len(inputs_shape) != 4 or inputs_shape[-1] not in (1, 3):
            raise ValueError("`ImageModality` takes images `[B, H, W, C]` with C in {1, 3}. "
                             f"Received: inputs.shape={tuple(inputs_shape)}")
        widths = self._widths()
        channels = 3  # grey inputs are repeated to RGB in `bottom`
        self._stem = []
        for i, width in enumerate(widths[:2]):
            conv = keras.layers.Conv2D(width, 3, padding="same", dtype=self.dtype_policy,
                                       name=f"conv_{i + 1}")
            conv.build((None, None, None, channels))
            self._stem.append((conv, self._norm(f"conv_{i + 1}_norm", width)))
            channels = width
        self._blocks = []
        for i, width in enumerate(widths[2:]):
            steps = []
            step_channels = channels
            for j in range(2):
                conv = keras.layers.SeparableConv2D(
                    width, 3, padding="same", dtype=self.dtype_policy,
                    name=f"block_{i}_separable_conv_{j}")
                conv.build((None, None, None, step_channels))
                steps.append((conv, self._norm(f"block_{i}_norm_{j}", width)))
                step_channels = width
            residual = keras.layers.Conv2D(width, 1, strides=2, padding="same",
                                           dtype=self.dtype_policy,
                                           name=f"block_{i}_residual_conv")
            residual.build((None, None, None, channels))
            self._blocks.append((steps, residual, self._norm(f"block_{i}_residual_norm", width)))
            channels = width
        self.built = True

    def _ensure_built(self, inputs_shape):
        if not self.built:
            self.build(tuple(inputs_shape))

    def _output_size(self, size):
        for _ in range(self.downsample_steps):
            size = (size + 1) // 2
        return size

    def bottom(self, images):
        """Encodes `images [B, H, W, C]` → `[B, H' * W', hidden_size]`."""
        self._ensure_built(images.shape)
        if images.shape[-1] not in (1, 3):
            raise ValueError("`ImageModality` takes images `[B, H, W, C]` with C in {1, 3}. "
                             f"Received: inputs.shape={tuple(images.shape)}")
        x = ops.cast(images, self.compute_dtype)
        if images.shape[-1] == 1:
            x = ops.repeat(x, 3, axis=-1)
        shape = ops.shape(x)
        num_values = ops.cast(shape[1] * shape[2] * shape[3], self.compute_dtype)
        mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
        std = ops.std(x, axis=(1, 2, 3), keepdims=True)
        x = (x - mean) / ops.maximum(std, ops.rsqrt(num_values))
        for i, (conv, norm) in enumerate(self._stem):
            if i:
                x = ops.relu(x)
            x = norm(conv(x))
        for steps, residual_conv, residual_norm in self._blocks:
            y = x
            for conv, norm in steps:
                y = norm(conv(ops.relu(y)))
            y = ops.max_pool(y, 3, strides=2, padding="same")
            x = y + residual_norm(residual_conv(x))
        shape = ops.shape(x)
        return ops.reshape(x, (shape[0], shape[1] * shape[2], self.hidden_size))

    def bottom_mask(self, images):
        """Float32 ones `[B, H' * W']`: images have no padding."""
        shape = ops.shape(images)
        length = self._output_size(shape[1]) * self._output_size(shape[2])
        return ops.ones((shape[0], length), "float32")

    def targets_bottom(self, images):
        raise NotImplementedError(
            "ImageModality is inputs-only: image targets (targets_bottom) are not supported.")

    def top(self, body_output, mask=None):
        raise NotImplementedError(
            "ImageModality is inputs-only: it has no top (image outputs are not supported).")

    def loss(self, logits, targets, label_smoothing=0.0):
        raise NotImplementedError(
            "ImageModality is inputs-only: it has no loss (image targets are not supported).")

    def call(self, inputs):
        return self.bottom(inputs)

    def compute_output_shape(self, inputs_shape):
        height, width = inputs_shape[1], inputs_shape[2]
        length = None
        if height is not None and width is not None:
            length = self._output_size(height) * self._output_size(width)
        return (inputs_shape[0], length, self.hidden_size)

    def get_config(self):
        config = super().get_config()
        config.update({
            "hidden_size": self.hidden_size,
            "downsample_steps": self.downsample_steps,
        })
        return config
