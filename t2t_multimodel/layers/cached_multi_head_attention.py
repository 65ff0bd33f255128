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

    The cache is one tensor `[B, 2, N, L, K]` holding the projected keys
    (`cache[:, 0]`) and values (`cache[:, 1]`), heads before positions so
    that attending to it needs no transpose. With `cache_update_index=i`
    the keys/values of the `T` new positions are written at `i .. i + T - 1`
    (a select at one position, a one-hot update at several, so the cache
    keeps its static shape and can be a `tf.while_loop` variable) and
    attention runs over the whole cache; the caller masks the positions not
    written yet. With a cache but no index the cache is used as is
    (precomputed encoder keys/values, `project_memory`).

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
        cache: float tensor `[B, 2, N, L, K]` or `None`.
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
    cache = keras.ops.zeros((2, 2, 2, 5, 4))
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

    def _split_heads(self, x, heads_first=False):
        """`[B, T, N * K]` -> `[B, T, N, K]`, or `[B, N, T, K]` with `heads_first`."""
        shape = ops.shape(x)
        x = ops.reshape(x, (shape[0], shape[1], self.num_heads, self.key_dim))
        return ops.transpose(x, (0, 2, 1, 3)) if heads_first else x

    @staticmethod
    def _update_cache(cache, update, index):
        """Writes `update [B, 2, N, T, K]` into `cache [B, 2, N, L, K]` at `index`."""
        length = cache.shape[3] if cache.shape[3] is not None else ops.shape(cache)[3]
        update = ops.cast(update, cache.dtype)
        if update.shape[3] == 1:  # One position (a decode step): a select.
            at = ops.equal(ops.arange(length), ops.cast(index, "int32"))
            return ops.where(at[:, None], update, cache)
        positions = ops.arange(ops.shape(update)[3]) + ops.cast(index, "int32")
        one_hot = ops.one_hot(positions, length, dtype=cache.dtype)  # [T, L]
        keep = 1 - ops.sum(one_hot, axis=0)
        written = ops.einsum("tl,bcntk->bcnlk", one_hot, update)
        return cache * keep[:, None] + written

    def project_memory(self, value, key=None):
        """The projected keys and values of a memory, `[B, 2, N, S, K]`.

        Passed as `cache` (without `cache_update_index`), they make a call
        attend to `value` without projecting it again: incremental decoding
        projects the encoder output once per decode, not once per step.
        """
        key = value if key is None else key
        return ops.stack([self._split_heads(self._key_dense(key), heads_first=True),
                          self._split_heads(self._value_dense(value), heads_first=True)],
                         axis=1)

    def call(self, query, value, key=None, attention_mask=None, cache=None,
             cache_update_index=None, training=None):
        key = value if key is None else key
        q = self._query_dense(query) * ops.cast(self.key_dim ** -0.5, self.compute_dtype)
        # Without a cache the heads stay in place, [B, T, N, K] (the einsums'
        # transposes cost less in training than explicit ones); the cache is
        # heads-first, [B, N, L, K], so a decode step attends without any.
        if cache is not None:
            if cache_update_index is not None:
                cache = self._update_cache(cache, self.project_memory(value, key),
                                           cache_update_index)
            k, v = cache[:, 0], cache[:, 1]
            q = self._split_heads(q, heads_first=True)
            equations = ("bntk,bnsk->bnts", "bnts,bnsk->bntk")
        else:
            k = self._split_heads(self._key_dense(key))
            v = self._split_heads(self._value_dense(value))
            q = self._split_heads(q)
            equations = ("btnk,bsnk->bnts", "bnts,bsnk->btnk")
        logits = ops.cast(ops.einsum(equations[0], q, ops.cast(k, q.dtype)), "float32")
        if attention_mask is not None:
            mask = ops.cast(attention_mask, "bool")
            while len(mask.shape) < 3:
                mask = ops.expand_dims(mask, 0)
            logits = ops.where(ops.expand_dims(mask, 1), logits, -1e9)
        weights = ops.cast(ops.softmax(logits, axis=-1), self.compute_dtype)
        weights = self._dropout_layer(weights, training=training)
        out = ops.einsum(equations[1], weights, ops.cast(v, weights.dtype))
        if cache is not None:
            out = ops.transpose(out, (0, 2, 1, 3))  # [B, T, N, K]
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
