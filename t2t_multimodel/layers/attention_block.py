"""`AttentionBlock`: MultiModel's conv-then-attend block from a target to a source."""

import keras
from keras import ops

from t2t_multimodel.layers.cached_multi_head_attention import CachedMultiHeadAttention
from t2t_multimodel.layers.conv_block import ConvBlock
from t2t_multimodel.layers.timing_signal import TimingSignal


@keras.saving.register_keras_serializable(package="t2t_multimodel")
class AttentionBlock(keras.layers.Layer):
    """Timing signal and two conv blocks on the target, then attention to the source.

    Shapes use `B` (batch), `T` (target length), `S` (source length) and `H`
    (`hidden_size`). The block computes

    ```
    y = target + timing_signal                      # positions 0 .. T - 1
    y = conv_block_1(y)    # kernel_sizes (k, k, k, k), dilation_rates (1, 1, 2, 2)
    y = conv_block_2(y)    # kernel_sizes (k, k, k, k), dilation_rates (4, 4, 8, 8)
    return multi_head_attention(query=y, key=value=source)
    ```

    and returns the attention result only (no residual: the caller adds its
    own). Padded source positions (`source_mask` 0) are never attended to.
    With `causal=True` (the default) output `t` depends on target positions
    `<= t` only, and the block supports incremental decoding: `initial_state`
    gives the two conv blocks' states and `step` consumes one target position
    at a time, returning states of the same static shapes.

    Args:
        hidden_size: int. The depth `H` of target, source and output.
        num_heads: int. The number of attention heads; must divide `hidden_size`.
        kernel_size: int. The kernel width of all eight conv steps. Defaults to `5`.
        causal: bool. Whether the conv steps are causal. Defaults to `True`.
        dropout: float. Dropout on each conv block's output. Defaults to `0.0`.
        attention_dropout: float. Dropout on the attention weights. Defaults to
            `0.0`.
        layer_norm_epsilon: float. Defaults to `1e-6`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            including `name`, `dtype`, etc.

    Call arguments:
        target: float tensor `[B, T, H]`, the queries' sequence.
        source: float tensor `[B, S, H]`, the memory attended to.
        target_mask: bool or 0/1 tensor `[B, T]`, true at real target positions,
            or `None`. Outputs at padded target positions are finite but
            meaningless.
        source_mask: bool or 0/1 tensor `[B, S]`, true at real source positions,
            or `None`.
        training: bool. Whether dropout is active.

    Example:

    ```python
    layer = t2t_multimodel.layers.attention_block.AttentionBlock(hidden_size=8, num_heads=2)
    target, source = keras.random.uniform((2, 5, 8)), keras.random.uniform((2, 3, 8))
    y = layer(target, source)                                  # [2, 5, 8]
    state = layer.initial_state(2)
    y0, state = layer.step(target[:, :1], 0, state, source)    # y0 == y[:, :1]
    ```

    References:
        - [Kaiser et al., 2017](https://arxiv.org/abs/1706.05137), section 2.2
          and Figure 3.
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762) (timing signal,
          multi-head attention).
    """

    def __init__(self, hidden_size, num_heads, kernel_size=5, causal=True, dropout=0.0,
                 attention_dropout=0.0, layer_norm_epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("hidden_size", hidden_size), ("num_heads", num_heads),
                            ("kernel_size", kernel_size)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value}")
        if hidden_size % num_heads:
            raise ValueError(
                "`hidden_size` must be divisible by `num_heads`. "
                f"Received: hidden_size={hidden_size}, num_heads={num_heads}")
        if not isinstance(causal, bool):
            raise ValueError(f"`causal` must be a bool. Received: causal={causal}")
        for name, value in (("dropout", dropout), ("attention_dropout", attention_dropout)):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={value}")
        if not layer_norm_epsilon > 0:
            raise ValueError(
                "`layer_norm_epsilon` must be positive. "
                f"Received: layer_norm_epsilon={layer_norm_epsilon}")
        self.hidden_size = hidden_size
        self.num_heads = num_heads
        self.kernel_size = kernel_size
        self.causal = causal
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.supports_masking = True

    def _conv_block(self, dilation_rates, name):
        return ConvBlock(
            self.hidden_size, kernel_sizes=(self.kernel_size,) * 4,
            dilation_rates=dilation_rates, causal=self.causal, dropout=self.dropout,
            layer_norm_epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name)

    def build(self, target_shape, source_shape=None):
        if target_shape[-1] != self.hidden_size:
            raise ValueError(
                "The target depth must equal `hidden_size`. "
                f"Received: target depth={target_shape[-1]}, hidden_size={self.hidden_size}")
        source_shape = target_shape if source_shape is None else source_shape
        self._timing_signal = TimingSignal(dtype=self.dtype_policy, name="timing_signal")
        self._conv_block_1 = self._conv_block((1, 1, 2, 2), "conv_block_1")
        self._conv_block_1.build(target_shape)
        self._conv_block_2 = self._conv_block((4, 4, 8, 8), "conv_block_2")
        self._conv_block_2.build(target_shape)
        self._attention = CachedMultiHeadAttention(
            num_heads=self.num_heads, key_dim=self.hidden_size // self.num_heads,
            dropout=self.attention_dropout, dtype=self.dtype_policy, name="attention")
        self._attention.build(target_shape, source_shape)
        self.built = True

    def _attend(self, queries, source, source_mask, training, source_cache=None):
        attention_mask = None
        if source_mask is not None:
            attention_mask = ops.expand_dims(ops.cast(source_mask, "bool"), 1)  # [B, 1, S]
        if source_cache is not None:
            return self._attention(queries, source, attention_mask=attention_mask,
                                   cache=source_cache, training=training)[0]
        return self._attention(queries, source, attention_mask=attention_mask,
                               training=training)

    def call(self, target, source, target_mask=None, source_mask=None, training=False):
        y = self._timing_signal(target)
        y = self._conv_block_1(y, mask=target_mask, training=training)
        y = self._conv_block_2(y, mask=target_mask, training=training)
        return self._attend(y, source, source_mask, training)

    def compute_output_shape(self, target_shape, source_shape=None):
        return target_shape

    def initial_state(self, batch_size, dtype="float32"):
        """Returns `[conv_block_1 state, conv_block_2 state]` (needs `causal=True`)."""
        if not self.causal:
            raise ValueError(
                "`initial_state` and `step` need a causal AttentionBlock. Received: causal=False")
        if not self.built:
            raise ValueError(
                "`initial_state` needs the sublayers: call or build the layer first. "
                f"Received: built={self.built}")
        return [self._conv_block_1.initial_state(batch_size, dtype),
                self._conv_block_2.initial_state(batch_size, dtype)]

    def source_cache(self, source):
        """The attention's projected source keys and values `[B, 2, N, S, H // N]`.

        Passed to `step`, they spare it projecting the same source at every
        position of a decode.
        """
        return self._attention.project_memory(source)

    def step(self, target, index, state, source, source_mask=None, source_cache=None):
        """Runs target position `index` (`[B, 1, H]`); returns `(outputs, new_state)`.

        `source_cache` (from `source_cache(source)`) or `None`: the projected
        source; `source` is then not read.
        """
        if not self.causal:
            raise ValueError(
                "`initial_state` and `step` need a causal AttentionBlock. Received: causal=False")
        y = self._timing_signal(target, start_index=index)
        y, state1 = self._conv_block_1.step(y, state[0])
        y, state2 = self._conv_block_2.step(y, state[1])
        return self._attend(y, source, source_mask, False, source_cache), [state1, state2]

    def get_config(self):
        config = super().get_config()
        config.update({
            "hidden_size": self.hidden_size,
            "num_heads": self.num_heads,
            "kernel_size": self.kernel_size,
            "causal": self.causal,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
        })
        return config
