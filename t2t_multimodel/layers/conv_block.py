"""`ConvBlock`: MultiModel's four convolution steps with two residual skips."""

import keras
from keras import ops

from t2t_multimodel.layers.conv_step import ConvStep

NUM_STEPS = 4


@keras.saving.register_keras_serializable(package="t2t_multimodel")
class ConvBlock(keras.layers.Layer):
    """Four `ConvStep`s with the block input added after steps 2 and 4.

    Shapes use `B` (batch), `T` (length) and `F` (`filters`, also the input
    depth, since the input is added to the outputs). With `s1 .. s4` the steps:

    ```
    y = x + s2(s1(x))
    y = x + s4(s3(y))
    return dropout(y)          # zero at padded positions
    ```

    The default dilations `(1, 1, 1, 8)` on kernels `(3, 3, 15, 15)` follow
    Figure 3 of the paper; T2T's later `multimodel.py` used dilations
    `(1, 1, 1, 4)`. Both are settable.

    Causal blocks support incremental decoding: `initial_state` is the list of
    the four step states and `step` consumes one position at a time, returning
    states of the same static shapes.

    Args:
        filters: int. The depth `F` of the input and of every step.
        kernel_sizes: 4 ints. The kernel width of each step. Defaults to
            `(3, 3, 15, 15)`.
        dilation_rates: 4 ints. The dilation of each step. Defaults to
            `(1, 1, 1, 8)`.
        causal: bool. Whether every step is causal. Defaults to `False`.
        dropout: float. Dropout on the block output. Defaults to `0.0`.
        layer_norm_epsilon: float. Defaults to `1e-6`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            including `name`, `dtype`, etc.

    Call arguments:
        inputs: float tensor `[B, T, F]`.
        mask: bool or 0/1 tensor `[B, T]`, true at real positions, or `None`.
            Each step zeroes padded positions of its input, and the output is
            zero there, so padding never changes the real positions.
        training: bool. Whether dropout is active.

    Example:

    ```python
    layer = t2t_multimodel.layers.conv_block.ConvBlock(filters=8, causal=True)
    x = keras.random.uniform((2, 5, 8))
    y = layer(x)                                           # [2, 5, 8]
    state = layer.initial_state(2)
    y0, state = layer.step(x[:, :1], state)                # y0 == y[:, :1]
    ```

    References:
        - [Kaiser et al., 2017](https://arxiv.org/abs/1706.05137), section 2.1
          and Figure 3.
    """

    def __init__(self, filters, kernel_sizes=(3, 3, 15, 15), dilation_rates=(1, 1, 1, 8),
                 causal=False, dropout=0.0, layer_norm_epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(filters, int) or isinstance(filters, bool) or filters <= 0:
            raise ValueError(f"`filters` must be a positive integer. Received: filters={filters}")
        if (not isinstance(kernel_sizes, (list, tuple))
                or not isinstance(dilation_rates, (list, tuple))
                or len(kernel_sizes) != NUM_STEPS or len(dilation_rates) != NUM_STEPS):
            raise ValueError(
                f"`kernel_sizes` and `dilation_rates` must each have {NUM_STEPS} entries, one "
                f"per conv step. Received: kernel_sizes={kernel_sizes}, "
                f"dilation_rates={dilation_rates}")
        for name, values in (("kernel_sizes", kernel_sizes), ("dilation_rates", dilation_rates)):
            if any(not isinstance(v, int) or isinstance(v, bool) or v <= 0 for v in values):
                raise ValueError(
                    f"`{name}` must hold positive integers. Received: {name}={values}")
        if not isinstance(causal, bool):
            raise ValueError(f"`causal` must be a bool. Received: causal={causal}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout}")
        if not layer_norm_epsilon > 0:
            raise ValueError(
                "`layer_norm_epsilon` must be positive. "
                f"Received: layer_norm_epsilon={layer_norm_epsilon}")
        self.filters = filters
        self.kernel_sizes = tuple(kernel_sizes)
        self.dilation_rates = tuple(dilation_rates)
        self.causal = causal
        self.dropout = dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.supports_masking = True

    def build(self, inputs_shape):
        if inputs_shape[-1] != self.filters:
            raise ValueError(
                "The input depth must equal `filters` (the input is added to the output). "
                f"Received: input depth={inputs_shape[-1]}, filters={self.filters}")
        self._steps = []
        for i, (kernel_size, dilation_rate) in enumerate(
                zip(self.kernel_sizes, self.dilation_rates, strict=True)):
            step = ConvStep(
                self.filters, kernel_size, dilation_rate=dilation_rate, causal=self.causal,
                layer_norm_epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy,
                name=f"conv_step_{i + 1}")
            step.build(inputs_shape)
            self._steps.append(step)
        self._dropout_layer = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="dropout")
        self.built = True

    def call(self, inputs, mask=None, training=False):
        s1, s2, s3, s4 = self._steps
        h = s2(s1(inputs, mask=mask), mask=mask)
        y = inputs + h
        h = s4(s3(y, mask=mask), mask=mask)
        y = self._dropout_layer(inputs + h, training=training)
        if mask is not None:
            y = y * ops.cast(ops.expand_dims(mask, -1), y.dtype)
        return y

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def initial_state(self, batch_size, dtype="float32"):
        """Returns the list of the four `ConvStep` states (needs `causal=True`)."""
        if not self.causal:
            raise ValueError(
                "`initial_state` and `step` need a causal ConvBlock. Received: causal=False")
        if not self.built:
            raise ValueError(
                "`initial_state` needs the input depth: call or build the layer first. "
                f"Received: built={self.built}")
        return [step.initial_state(batch_size, dtype) for step in self._steps]

    def step(self, inputs, state):
        """Runs one position `[B, 1, F]`; returns `(outputs [B, 1, F], new_state)`."""
        if not self.causal:
            raise ValueError(
                "`initial_state` and `step` need a causal ConvBlock. Received: causal=False")
        s1, s2, s3, s4 = self._steps
        h, state1 = s1.step(inputs, state[0])
        h, state2 = s2.step(h, state[1])
        y = inputs + h
        h, state3 = s3.step(y, state[2])
        h, state4 = s4.step(h, state[3])
        return inputs + h, [state1, state2, state3, state4]

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_sizes": list(self.kernel_sizes),
            "dilation_rates": list(self.dilation_rates),
            "causal": self.causal,
            "dropout": self.dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        })
        return config
