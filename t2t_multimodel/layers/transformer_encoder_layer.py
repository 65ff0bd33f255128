"""`TransformerEncoderLayer`: one pre-norm Transformer encoder block."""

import keras
from keras import ops

from t2t_multimodel.layers.cached_multi_head_attention import CachedMultiHeadAttention
from t2t_multimodel.layers.feed_forward import FeedForward


def _check_rate(name, value):
    if not 0.0 <= value < 1.0:
        raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={value}")


@keras.saving.register_keras_serializable(package="t2t_multimodel")
class TransformerEncoderLayer(keras.layers.Layer):
    """Self-attention and a feed-forward network, each pre-normed and residual.

    Each sublayer is `x + dropout(sublayer(layer_norm(x)))` (T2T's
    `layer_preprocess="n"`, `layer_postprocess="da"`). The stack that uses
    these layers must apply a final layer norm. The key depth per head is
    `hidden // num_heads`, where `hidden` is the input depth.

    Args:
        num_heads: int. The number of attention heads.
        filter_size: int. The hidden width of the feed-forward network.
        dropout: float. Residual dropout (T2T `layer_prepostprocess_dropout`).
            Defaults to `0.0`.
        attention_dropout: float. Dropout on the attention weights. Defaults
            to `0.0`.
        relu_dropout: float. Dropout inside the feed-forward network.
            Defaults to `0.0`.
        layer_norm_epsilon: float. Defaults to `1e-6`.
        kernel_initializer: str or initializer. Defaults to `"glorot_uniform"`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            including `name`, `dtype`, etc.

    Call arguments:
        inputs: float tensor `[B, S, H]`.
        padding_mask: bool or 0/1 tensor `[B, S]`, true at real (non-pad)
            positions, or `None`. Pad positions are never attended to.
        training: bool. Whether dropout is active.

    Example:

    ```python
    layer = t2t_multimodel.layers.transformer_encoder_layer.TransformerEncoderLayer(
        num_heads=2, filter_size=16)
    y = layer(keras.random.uniform((2, 5, 8)), padding_mask=keras.ops.ones((2, 5)))
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762)
        - [Xiong et al., 2020](https://arxiv.org/abs/2002.04745) (pre-norm).
    """

    def __init__(self, num_heads, filter_size, dropout=0.0, attention_dropout=0.0,
                 relu_dropout=0.0, layer_norm_epsilon=1e-6,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        if not isinstance(num_heads, int) or isinstance(num_heads, bool) or num_heads <= 0:
            raise ValueError(
                f"`num_heads` must be a positive integer. Received: num_heads={num_heads}")
        if not isinstance(filter_size, int) or isinstance(filter_size, bool) or filter_size <= 0:
            raise ValueError(
                f"`filter_size` must be a positive integer. Received: filter_size={filter_size}")
        for name, value in (("dropout", dropout), ("attention_dropout", attention_dropout),
                            ("relu_dropout", relu_dropout)):
            _check_rate(name, value)
        self.num_heads = num_heads
        self.filter_size = filter_size
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.relu_dropout = relu_dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        hidden = inputs_shape[-1]
        if hidden % self.num_heads:
            raise ValueError(
                "The input depth must be divisible by `num_heads`. "
                f"Received: input depth={hidden}, num_heads={self.num_heads}")
        initializer = keras.initializers.serialize(self.kernel_initializer)
        self._self_attention_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy,
            name="self_attention_layer_norm")
        self._self_attention_norm.build(inputs_shape)
        self._self_attention = CachedMultiHeadAttention(
            num_heads=self.num_heads, key_dim=hidden // self.num_heads,
            dropout=self.attention_dropout, kernel_initializer=initializer,
            dtype=self.dtype_policy, name="self_attention")
        self._self_attention.build(inputs_shape, inputs_shape)
        self._feed_forward_norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy,
            name="feed_forward_layer_norm")
        self._feed_forward_norm.build(inputs_shape)
        self._feed_forward = FeedForward(
            self.filter_size, dropout=self.relu_dropout, kernel_initializer=initializer,
            dtype=self.dtype_policy, name="feed_forward")
        self._feed_forward.build(inputs_shape)
        self._residual_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="residual_dropout")
        self.built = True

    def call(self, inputs, padding_mask=None, training=None):
        attention_mask = None
        if padding_mask is not None:
            attention_mask = ops.expand_dims(ops.cast(padding_mask, "bool"), 1)  # [B, 1, S]
        x = self._self_attention_norm(inputs)
        x = self._self_attention(x, x, attention_mask=attention_mask, training=training)
        x = inputs + self._residual_dropout(x, training=training)
        y = self._feed_forward(self._feed_forward_norm(x), training=training)
        return x + self._residual_dropout(y, training=training)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads,
            "filter_size": self.filter_size,
            "dropout": self.dropout,
            "attention_dropout": self.attention_dropout,
            "relu_dropout": self.relu_dropout,
            "layer_norm_epsilon": self.layer_norm_epsilon,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config
