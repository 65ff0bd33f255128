"""`CachedMultiHeadAttention`: dot-product attention with a static key/value cache."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="t2t_multimodel")
class CachedMultiHeadAttention(keras.layers.Layer):
    """Multi-head scaled dot-product attention with an optional key/value cache.

    Shapes use `B` (batch), `T` (query length), `S` (key/value length), `L`
    (cache length: the maximum decode length), `N` (`num_heads`) and `K`
    (`key_dim`).

    Queries, keys and values are projected to `N` heads of depth `K`, the
    queries are scaled by `K ** -0.5` (as in T2T), a boolean mask removes
    forbidden key positions, and the heads are concatenated and projected back
    to the query depth. Softmax is computed in float32.

    The cache is one tensor `[B, 2, L, N, K]` holding the projected keys
    (`cache[:, 0]`) and values (`cache[:, 1]`). With `cache_update_index=i`
    the keys/values of the `T` new positions are written at `i .. i + T - 1`
    (a one-hot update, so the cache keeps its static shape and can be a
    `tf.while_loop` variable) and attention runs over the whole cache; the
    caller masks the positions not written yet. With a cache but no index the
    cache is used as is (precomputed encoder keys/values).

    Args:
        num_heads: int. The number of attention heads `N`.
        key_dim: int. The depth `K` of each head for queries, keys and values.
        dropout: float. Dropout rate on the attention weights. Defaults to `0.0`.
        use_bias: bool. Whether the projections have biases. Defaults to
            `False`, as in T2T.
        kernel_initializer: str or initializer. Defaults to `"glorot_uniform"`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            including `name`, `dtype`, etc.

    Call arguments:
        query: float tensor `[B, T, D]`.
        value: float tensor `[B, S, Dv]`, the memory attended to.
        key: float tensor `[B, S, Dk]` or `None` (then `value` is used).
        attention_mask: bool tensor broadcastable to `[B, T, S]` (or
            `[B, T, L]` with a cache); `True` means "may attend". `None`
            attends everywhere.
        cache: float tensor `[B, 2, L, N, K]` or `None`.
        cache_update_index: int scalar (tensor) or `None`. Where to write the
            new keys/values into `cache`.
        training: bool. Whether dropout is active.

    Returns `output [B, T, D]`, or `(output, cache)` when `cache` is given.

    Example:

    ```python
    layer = t2t_multimodel.layers.cached_multi_head_attention.CachedMultiHeadAttention(
        num_heads=2, key_dim=4)
    x = keras.random.uniform((2, 5, 8))
    y = layer(x, x)                                        # [2, 5, 8]
    cache = keras.ops.zeros((2, 2, 5, 2, 4))
    y0, cache = layer(x[:, :1], x[:, :1], cache=cache, cache_update_index=0,
                      attention_mask=keras.ops.arange(5)[None, None, :] < 1)
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762), section 3.2.
        - keras-hub `CachedMultiHeadAttention`.
    """

    def __init__(self, num_heads, key_dim, dropout=0.0, use_bias=False,
                 kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
                raise ValueError(f"`{arg}` must be a positive integer. Received: {arg}={value}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout}")
        self.num_heads = num_heads
        self.key_dim = key_dim
        self.dropout = dropout
        self.use_bias = use_bias
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def _dense(self, units, name):
        return keras.layers.Dense(
            units, use_bias=self.use_bias,
            kernel_initializer=keras.initializers.get(self.kernel_initializer),
            dtype=self.dtype_policy, name=name)

    def build(self, query_shape, value_shape, key_shape=None):
        key_shape = value_shape if key_shape is None else key_shape
        width = self.num_heads * self.key_dim
        self._query_dense = self._dense(width, "query")
        self._query_dense.build(query_shape)
        self._key_dense = self._dense(width, "key")
        self._key_dense.build(key_shape)
        self._value_dense = self._dense(width, "value")
        self._value_dense.build(value_shape)
        self._output_dense = self._dense(query_shape[-1], "attention_output")
        self._output_dense.build(tuple(query_shape[:-1]) + (width,))
        self._dropout_layer = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="attention_dropout")
        self.built = True

    def _split_heads(self, x):
        shape = ops.shape(x)
        return ops.reshape(x, (shape[0], shape[1], self.num_heads, self.key_dim))

    @staticmethod
    def _update_cache(cache, update, index):
        """Writes `update [B, T, N, K]` into `cache [B, L, N, K]` at `index`."""
        length = cache.shape[1] if cache.shape[1] is not None else ops.shape(cache)[1]
        positions = ops.arange(ops.shape(update)[1]) + ops.cast(index, "int32")
        one_hot = ops.one_hot(positions, length, dtype=cache.dtype)  # [T, L]
        keep = 1 - ops.sum(one_hot, axis=0)
        written = ops.einsum("tl,btnk->blnk", one_hot, ops.cast(update, cache.dtype))
        return cache * keep[None, :, None, None] + written

    def project_memory(self, value, key=None):
        """The projected keys and values of a memory, `[B, 2, S, N, K]`.

        Passed as `cache` (without `cache_update_index`), they make a call
        attend to `value` without projecting it again: incremental decoding
        projects the encoder output once per decode, not once per step.
        """
        key = value if key is None else key
        return ops.stack([self._split_heads(self._key_dense(key)),
                          self._split_heads(self._value_dense(value))], axis=1)

    def call(self, query, value, key=None, attention_mask=None, cache=None,
             cache_update_index=None, training=None):
        key = value if key is None else key
        q = self._split_heads(self._query_dense(query)) * ops.cast(
            self.key_dim ** -0.5, self.compute_dtype)
        if cache is not None:
            key_cache, value_cache = cache[:, 0], cache[:, 1]
            if cache_update_index is not None:
                key_cache = self._update_cache(
                    key_cache, self._split_heads(self._key_dense(key)), cache_update_index)
                value_cache = self._update_cache(
                    value_cache, self._split_heads(self._value_dense(value)),
                    cache_update_index)
                cache = ops.stack([key_cache, value_cache], axis=1)
            k, v = key_cache, value_cache
        else:
            k = self._split_heads(self._key_dense(key))
            v = self._split_heads(self._value_dense(value))
        logits = ops.cast(ops.einsum("btnk,bsnk->bnts", q, ops.cast(k, q.dtype)), "float32")
        if attention_mask is not None:
            mask = ops.cast(attention_mask, "bool")
            while len(mask.shape) < 3:
                mask = ops.expand_dims(mask, 0)
            logits = ops.where(ops.expand_dims(mask, 1), logits, -1e9)
        weights = ops.cast(ops.softmax(logits, axis=-1), self.compute_dtype)
        weights = self._dropout_layer(weights, training=training)
        out = ops.einsum("bnts,bsnk->btnk", weights, ops.cast(v, weights.dtype))
        shape = ops.shape(out)
        out = self._output_dense(
            ops.reshape(out, (shape[0], shape[1], self.num_heads * self.key_dim)))
        if cache is not None:
            return out, cache
        return out

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config
