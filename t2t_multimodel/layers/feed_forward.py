"""`FeedForward`: the position-wise ReLU network of the Transformer."""

import keras


@keras.saving.register_keras_serializable(package="t2t_multimodel")
class FeedForward(keras.layers.Layer):
    """Dense(`filter_size`, ReLU) → dropout → Dense(input depth).

    T2T's `dense_relu_dense`: applied to every position independently; the
    output depth equals the input depth so it can sit inside a residual.

    Args:
        filter_size: int. The width of the hidden ReLU layer.
        dropout: float. Dropout rate on the ReLU activations (T2T's
            `relu_dropout`). Defaults to `0.0`.
        kernel_initializer: str or initializer. Defaults to `"glorot_uniform"`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            including `name`, `dtype`, etc.

    Call arguments:
        inputs: float tensor of shape `[B, T, D]`.
        training: bool. Whether dropout is active. Defaults to `None`.

    Example:

    ```python
    ffn = t2t_multimodel.layers.feed_forward.FeedForward(filter_size=32, dropout=0.1)
    y = ffn(keras.random.uniform((2, 5, 8)))   # [2, 5, 8]
    ```

    References:
        - [Vaswani et al., 2017](https://arxiv.org/abs/1706.03762), section 3.3.
    """

    def __init__(self, filter_size, dropout=0.0, kernel_initializer="glorot_uniform",
                 **kwargs):
        super().__init__(**kwargs)
        if not isinstance(filter_size, int) or isinstance(filter_size, bool) or filter_size <= 0:
            raise ValueError(
                f"`filter_size` must be a positive integer. Received: filter_size={filter_size}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"`dropout` must be in [0, 1). Received: dropout={dropout}")
        self.filter_size = filter_size
        self.dropout = dropout
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.supports_masking = True

    def build(self, inputs_shape):
        depth = inputs_shape[-1]
        self._filter_dense = keras.layers.Dense(
            self.filter_size, activation="relu",
            kernel_initializer=keras.initializers.get(self.kernel_initializer),
            dtype=self.dtype_policy, name="filter_dense")
        self._filter_dense.build(inputs_shape)
        self._dropout_layer = keras.layers.Dropout(
            self.dropout, dtype=self.dtype_policy, name="relu_dropout")
        self._output_dense = keras.layers.Dense(
            depth, kernel_initializer=keras.initializers.get(self.kernel_initializer),
            dtype=self.dtype_policy, name="output_dense")
        self._output_dense.build(tuple(inputs_shape[:-1]) + (self.filter_size,))
        self.built = True

    def call(self, inputs, training=None):
        x = self._filter_dense(inputs)
        x = self._dropout_layer(x, training=training)
        return self._output_dense(x)

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "filter_size": self.filter_size,
            "dropout": self.dropout,
            "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
        })
        return config
