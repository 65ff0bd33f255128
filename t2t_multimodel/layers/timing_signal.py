"""`TimingSignal`: adds Tensor2Tensor's sinusoidal position signal."""

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="t2t_multimodel")
class TimingSignal(keras.layers.Layer):
    """Adds the sinusoidal timing signal of T2T's `add_timing_signal_1d`.

    For `num_timescales = depth // 2` geometrically spaced timescales between
    `min_timescale` and `max_timescale`, the signal at position `p` is
    `concat([sin(p / timescale), cos(p / timescale)])`, zero-padded to the
    depth when it is odd. The sin half comes first (not interleaved), as in T2T,
    so weights trained there line up. The layer has no weights.

    `start_index` shifts the positions, which is what incremental decoding
    needs: the token predicted at step `i` gets the signal of position `i`.

    Args:
        min_timescale: float. The shortest timescale. Defaults to `1.0`.
        max_timescale: float. The longest timescale. Defaults to `1.0e4`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            including `name`, `dtype`, etc.

    Call arguments:
        inputs: float tensor of shape `[B, T, D]`.
        start_index: int or int scalar tensor. The position of `inputs[:, 0]`.
            Defaults to `0`.

    Example:

    ```python
    layer = t2t_multimodel.layers.timing_signal.TimingSignal()
    x = layer(keras.ops.zeros((2, 5, 8)))            # positions 0..4
    y = layer(keras.ops.zeros((2, 1, 8)), start_index=3)  # position 3 only
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - T2T `common_attention.get_timing_signal_1d`.
    """

    def __init__(self, min_timescale=1.0, max_timescale=1.0e4, **kwargs):
        super().__init__(**kwargs)
        if not min_timescale > 0:
            raise ValueError(
                f"`min_timescale` must be positive. Received: min_timescale={min_timescale}")
        if not max_timescale >= min_timescale:
            raise ValueError(
                "`max_timescale` must be at least `min_timescale`. "
                f"Received: max_timescale={max_timescale}")
        self.min_timescale = float(min_timescale)
        self.max_timescale = float(max_timescale)
        self.supports_masking = True

    def timing_signal(self, length, depth, start_index=0):
        """Returns the `[length, depth]` float32 signal from `start_index` on."""
        num_timescales = depth // 2
        log_increment = math.log(self.max_timescale / self.min_timescale) / max(
            num_timescales - 1, 1)
        inv_timescales = self.min_timescale * ops.exp(
            ops.cast(ops.arange(num_timescales), "float32") * -log_increment)
        position = ops.cast(ops.arange(length) + ops.cast(start_index, "int32"), "float32")
        scaled_time = ops.expand_dims(position, 1) * ops.expand_dims(inv_timescales, 0)
        signal = ops.concatenate([ops.sin(scaled_time), ops.cos(scaled_time)], axis=1)
        if depth % 2:
            signal = ops.pad(signal, [[0, 0], [0, 1]])
        return signal

    def call(self, inputs, start_index=0):
        depth = inputs.shape[-1]
        signal = self.timing_signal(ops.shape(inputs)[1], depth, start_index)
        return inputs + ops.cast(ops.expand_dims(signal, 0), inputs.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "min_timescale": self.min_timescale,
            "max_timescale": self.max_timescale,
        })
        return config
