"""`TransformerDecoderLayer`: one pre-norm Transformer decoder block."""

import keras
from keras import ops

from t2t_multimodel.layers.cached_multi_head_attention import CachedMultiHeadAttention
from t2t_multimodel.layers.feed_forward import FeedForward


@keras.saving.register_keras_serializable(package="t2t_multimodel")
class TransformerDecoderLayer(keras.layers.Layer):
    """Causal self-attention, encoder-decoder attention and a feed-forward net.

    Each of the three sublayers is `x + dropout(sublayer(layer_norm(x)))`
    (pre-norm); the stack must apply a final layer norm. Shapes use `B`, `T`
    (decoder length), `S` (encoder length), `H` (depth) and `L` (cache
    length). The key depth per head is `H // num_heads`.

    The self-attention is causal: position `t` sees positions `<= t`. For
    incremental decoding pass `self_attention_cache` (`[B, 2, N, L, H // N]`,
    zeros at first) and `self_attention_cache_update_index` (the position of
    `decoder_sequence[:, 0]`); the layer then returns `(output, new_cache)`.

    Args:
        num_heads: int. The number of attention heads.
        filter_size: int. The hidden width of the feed-forward network.
        dropout: float. Residual dropout. Defaults to `0.0`.
        attention_dropout: float. Dropout on attention weights. Defaults to `0.0`.
        relu_dropout: float. Dropout inside the feed-forward net. Defaults to `0.0`.
        layer_norm_epsilon: float. Defaults to `1e-6`.
        kernel_initializer: str or initializer. Defaults to `"glorot_uniform"`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            including `name`, `dtype`, etc.

    Call arguments:
        decoder_sequence: float tensor `[B, T, H]`.
        encoder_sequence: float tensor `[B, S, H]`.
        encoder_padding_mask: bool or 0/1 tensor `[B, S]`, true at real
            encoder positions, or `None`.
        self_attention_cache: float tensor `[B, 2, N, L, H // N]` or `None`.
        self_attention_cache_update_index: int scalar (tensor) or `None`.
        cross_attention_cache: float tensor `[B, 2, N, S, H // N]` or `None`:
            the encoder keys and values from `cross_attention_cache(encoder_sequence)`,
            so incremental decoding projects them once, not at every step
            (`encoder_sequence` is then not read).
        training: bool. Whether dropout is active.

    Example:

    ```python
    layer = t2t_multimodel.layers.transformer_decoder_layer.TransformerDecoderLayer(
        num_heads=2, filter_size=16)
    y = layer(keras.random.uniform((2, 4, 8)), keras.random.uniform((2, 5, 8)))
    cache = keras.ops.zeros((2, 2, 2, 4, 4))
    y0, cache = layer(keras.random.uniform((2, 1, 8)), keras.random.uniform((2, 5, 8)),
                      self_attention_cache=cache, self_attention_cache_update_index=0)
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
            if not 0.0 <= value < 1.0:
                raise ValueError(f"`{name}` must be in [0, 1). Received: {name}={value}")
        self.num_heads = num_heads
        self.filter_size = filter_size
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.relu_dropout = relu_dropout
        self.layer_norm_epsilon = layer_norm_epsilon
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def _norm(self, name, shape):
        norm = keras.layers.LayerNormalization(
            epsilon=self.layer_norm_epsilon, dtype=self.dtype_policy, name=name)
        norm.build(shape)
        return norm

    def _attention(self, name, key_dim):
        return CachedMultiHeadAttention(
            num_heads=self.num_heads, key_dim=key_dim, dropout=self.attention_dropout,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            dtype=self.dtype_policy, name=name)

    def build(self, decoder_sequence_shape, encoder_sequence_shape=None):
        hidden = decoder_sequence_shape[-1]
        if hidden % self.num_heads:
            raise ValueError(
                "The decoder depth must be divisible by `num_heads`. "
                f"Received: decoder depth={hidden}, num_heads={self.num_heads}")
        if encoder_sequence_shape is None:
            encoder_sequence_shape = decoder_sequence_shape
        key_dim = hidden // self.num_heads
        self._self_attention_norm = self._norm("self_attention_layer_norm",
                                               decoder_sequence_shape)
        self._self_attention = self._attention("self_attention", key_dim)
        self._self_attention.build(decoder_sequence_shape, decoder_sequence_shape)
        self._cross_attention_norm = self._norm("cross_attention_layer_norm",
                                                decoder_sequence_shape)
        self._cross_attention = self._attention("cross_attention", key_dim)
        self._cross_attention.build(decoder_sequence_shape, encoder_sequence_shape)
        self._feed_forward_norm = self._norm("feed_forward_layer_norm", decoder_sequence_shape)
        self._feed_forward = FeedForward(
            self.filter_size, dropout=self.relu_dropout,
            kernel_initializer=keras.initializers.serialize(self.kernel_initializer),
            dtype=self.dtype_policy, name="feed_forward")
        self._feed_forward.build(decoder_sequence_shape)
        self._residual_dropout = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="residual_dropout")
        self.built = True

    def call(self, decoder_sequence, encoder_sequence, encoder_padding_mask=None,
             self_attention_cache=None, self_attention_cache_update_index=None,
             cross_attention_cache=None, training=None):
        length = ops.shape(decoder_sequence)[1]
        if self_attention_cache is None:
            positions = ops.arange(length)
            causal_mask = positions[:, None] >= positions[None, :]  # [T, T]
        else:
            if self_attention_cache_update_index is None:
                raise ValueError(
                    "`self_attention_cache` needs `self_attention_cache_update_index`. "
                    "Received: self_attention_cache_update_index=None")
            cache_length = self_attention_cache.shape[3]
            if cache_length is None:
                cache_length = ops.shape(self_attention_cache)[3]
            query_positions = ops.arange(length) + ops.cast(
                self_attention_cache_update_index, "int32")
            causal_mask = ops.arange(cache_length)[None, :] <= query_positions[:, None]

        x = self._self_attention_norm(decoder_sequence)
        attended = self._self_attention(
            x, x, attention_mask=causal_mask, cache=self_attention_cache,
            cache_update_index=self_attention_cache_update_index, training=training)
        if self_attention_cache is not None:
            attended, self_attention_cache = attended
        x = decoder_sequence + self._residual_dropout(attended, training=training)

        cross_mask = None
        if encoder_padding_mask is not None:
            cross_mask = ops.expand_dims(ops.cast(encoder_padding_mask, "bool"), 1)
        y = self._cross_attention(
            self._cross_attention_norm(x), encoder_sequence, attention_mask=cross_mask,
            cache=cross_attention_cache, training=training)
        if cross_attention_cache is not None:
            y = y[0]
        x = x + self._residual_dropout(y, training=training)

        y = self._feed_forward(self._feed_forward_norm(x), training=training)
        x = x + self._residual_dropout(y, training=training)
        if self_attention_cache is not None:
            return x, self_attention_cache
        return x

    def cross_attention_cache(self, encoder_sequence):
        """The projected encoder keys and values `[B, 2, N, S, H // N]` (see `call`)."""
        return self._cross_attention.project_memory(encoder_sequence)

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
