"""`MixtureOfExperts`: the sparsely-gated noisy top-k mixture of experts."""

import math

import keras
import tensorflow as tf
from keras import ops

_STATISTICS = ("load", "dropped_fraction", "importance_cv_squared", "load_cv_squared")


def _cv_squared(x):
    """T2T's `cv_squared`: the squared coefficient of variation `var / mean^2`."""
    epsilon = 1e-10
    size = tf.cast(tf.size(x), tf.float32) + epsilon
    mean = tf.reduce_sum(x) / size
    variance = tf.reduce_sum(tf.math.squared_difference(x, mean)) / size
    return variance / (tf.square(mean) + epsilon)


def _normal_cdf(x, stddev):
    return 0.5 * (1.0 + tf.math.erf(x / (math.sqrt(2.0) * stddev)))


def _prob_in_top_k(clean_logits, noisy_logits, noise_stddev, top_logits, k):
    """T2T's `_prob_in_top_k`: P(each expert is in the top k) under re-sampled noise.

    `top_logits [N, k + 1]` are the sorted top noisy logits. An expert that is
    in the top k stays there if its logit beats the (k+1)-th value; one that is
    out must beat the k-th. The probability is a normal CDF, so it is smooth in
    the gate and noise kernels.
    """
    threshold_if_in = top_logits[:, k:k + 1]
    threshold_if_out = top_logits[:, k - 1:k]
    is_in = noisy_logits > threshold_if_in
    prob_if_in = _normal_cdf(clean_logits - threshold_if_in, noise_stddev)
    prob_if_out = _normal_cdf(clean_logits - threshold_if_out, noise_stddev)
    return tf.where(is_in, prob_if_in, prob_if_out)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@keras.saving.register_keras_serializable(package="t2t_multimodel")
class MixtureOfExperts(keras.layers.Layer):
    """Sparsely-gated mixture of feed-forward experts with noisy top-k gating.

    Shapes use `B` (batch), `T` (length), `H` (input depth), `E`
    (`num_experts`), `F` (`expert_hidden_size`), `N` (the number of real,
    unpadded tokens of the call) and `C` (the expert capacity).

    Each real token is routed to `k` of `E` experts, as T2T's
    `noisy_top_k_gating`: `clean = x @ gate_kernel` (zeros at start, as in
    T2T); in training with `noisy_gating`, `noisy = clean + N(0, 1) *
    (softplus(x @ noise_kernel) + noise_epsilon)`; the gates are the softmax
    of the `k` largest logits. Each expert is a ReLU network `H -> F -> H`
    (kernels stacked as `[E, H, F]` and `[E, F, H]`, with biases). The layer
    returns `sum_e gate_e * expert_e(x)` over the token's chosen experts; the
    caller adds the residual (`y = x + dropout(moe(x))`).

    Experts are not run on every token. The `N * k` (token, expert, gate)
    assignments are numbered within their expert in token order (batch-major,
    then position), each expert takes the first `C = min(ceil(capacity_factor
    * k * N / E), N)` of them into an `[E, C, H]` buffer, the experts run as
    one batched matmul, and the results are scattered back weighted by their
    gates. An assignment over capacity is dropped: the token gets nothing from
    that expert (it passes through the caller's residual). A capacity factor
    `<= 0` means unlimited (`C = N`, nothing dropped), like T2T's GPU MoE,
    which had no capacity. Padded tokens are not routed: their output is 0 and
    they take no capacity. The buffer size depends on `N`, so the layer works
    in a `tf.function` with unknown `B` and `T` but not under XLA
    (`supports_jit = False`).

    In training calls the load-balancing loss `loss_coefficient *
    (cv_squared(importance) + cv_squared(load))` is added with `add_loss`,
    where `cv_squared(x) = var(x) / (mean(x)^2 + 1e-10)`, `importance [E]` is
    the sum of the gates over tokens and `load [E]` is the sum over tokens of
    P(expert in top k): T2T's smooth normal-CDF estimator when the gating is
    noisy and `k < E`, else the number of tokens routed to the expert. Gating
    and the loss are computed in float32, the experts in the compute dtype.

    Every call (training or not) also stores statistics in non-trainable
    float32 weights named `moe_load`, `moe_dropped_fraction`,
    `moe_importance_cv_squared` and `moe_load_cv_squared`, so they can be read
    after a `tf.function` step; `statistics()` returns them as a dict:

    - `"load"`: `[E]`, the fraction of the `N * k` assignments routed to each
      expert, counted before capacity dropping (sums to 1; all zeros when the
      call had no real token).
    - `"dropped_fraction"`: the fraction of the `N * k` assignments dropped for
      capacity (0 when `N = 0`).
    - `"importance_cv_squared"`, `"load_cv_squared"`: the two terms of the
      load-balancing loss, before `loss_coefficient`.

    Args:
        num_experts: int. The number of experts `E`.
        k: int. The number of experts per token, `1 <= k <= num_experts`.
            Defaults to `2`.
        expert_hidden_size: int. The hidden width `F` of each expert.
            Defaults to `64`.
        loss_coefficient: float. The weight of the load-balancing loss.
            Defaults to `1e-2`, as in T2T.
        train_capacity_factor: float. The capacity factor of training calls;
            `<= 0` means unlimited. Defaults to `1.25`.
        eval_capacity_factor: float. The capacity factor of other calls;
            `<= 0` means unlimited. Defaults to `2.0`.
        noisy_gating: bool. Whether training calls add learned Gaussian noise
            to the gate logits. Defaults to `True`.
        noise_epsilon: float. The minimum noise standard deviation. Defaults
            to `1e-2`.
        **kwargs: other keyword arguments passed to `keras.layers.Layer`,
            including `name`, `dtype`, etc.

    Call arguments:
        inputs: float tensor `[B, T, H]`.
        mask: bool or 0/1 tensor `[B, T]`, 1 at real tokens and 0 at padding,
            or `None` (every token is real).
        training: bool. Selects the capacity factor, the noise and whether the
            load-balancing loss is added. Defaults to `False`.

    Returns the combined expert output `[B, T, H]` (0 at padded tokens).

    Example:

    ```python
    moe = t2t_multimodel.layers.mixture_of_experts.MixtureOfExperts(
        num_experts=4, k=2, expert_hidden_size=16)
    x = keras.random.uniform((2, 5, 8))
    mask = keras.ops.array([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    y = x + moe(x, mask=mask, training=True)     # [2, 5, 8]
    aux_loss = moe.losses[0]
    moe.statistics()["dropped_fraction"]
    ```

    References:
        - [Shazeer et al., 2017](https://arxiv.org/abs/1701.06538), the
          sparsely-gated mixture-of-experts layer and its losses.
        - [Lepikhin et al., 2020](https://arxiv.org/abs/2006.16668) (GShard)
          and [Fedus et al., 2021](https://arxiv.org/abs/2101.03961) (Switch
          Transformer), expert capacity and the capacity factor.
        - T2T `expert_utils.noisy_top_k_gating`, `_prob_in_top_k`, `cv_squared`.
    """

    def __init__(self, num_experts, k=2, expert_hidden_size=64, loss_coefficient=1e-2,
                 train_capacity_factor=1.25, eval_capacity_factor=2.0, noisy_gating=True,
                 noise_epsilon=1e-2, **kwargs):
        super().__init__(**kwargs)
        for arg, value in (("num_experts", num_experts),
                           ("expert_hidden_size", expert_hidden_size)):
            if not _is_int(value) or value <= 0:
                raise ValueError(f"`{arg}` must be a positive integer. Received: {arg}={value}")
        if not _is_int(k) or not 1 <= k <= num_experts:
            raise ValueError(
                f"`k` must be an integer in [1, num_experts={num_experts}]. Received: k={k}")
        if not _is_number(loss_coefficient) or loss_coefficient < 0:
            raise ValueError("`loss_coefficient` must be a non-negative number. "
                             f"Received: loss_coefficient={loss_coefficient}")
        for arg, value in (("train_capacity_factor", train_capacity_factor),
                           ("eval_capacity_factor", eval_capacity_factor)):
            if not _is_number(value) or not math.isfinite(value):
                raise ValueError(f"`{arg}` must be a finite number (<= 0 means unlimited). "
                                 f"Received: {arg}={value}")
        if not isinstance(noisy_gating, bool):
            raise ValueError(
                f"`noisy_gating` must be a bool. Received: noisy_gating={noisy_gating}")
        if not _is_number(noise_epsilon) or noise_epsilon < 0:
            raise ValueError("`noise_epsilon` must be a non-negative number. "
                             f"Received: noise_epsilon={noise_epsilon}")
        self.num_experts = num_experts
        self.k = k
        self.expert_hidden_size = expert_hidden_size
        self.loss_coefficient = float(loss_coefficient)
        self.train_capacity_factor = float(train_capacity_factor)
        self.eval_capacity_factor = float(eval_capacity_factor)
        self.noisy_gating = noisy_gating
        self.noise_epsilon = float(noise_epsilon)
        self.supports_masking = True
        # The expert buffer's size depends on the number of real tokens.
        self.supports_jit = False
        self.seed_generator = keras.random.SeedGenerator()

    def build(self, inputs_shape):
        depth = inputs_shape[-1]
        experts, hidden = self.num_experts, self.expert_hidden_size
        # Gating stays float32 under mixed precision.
        self.gate_kernel = self.add_weight(
            shape=(depth, experts), initializer="zeros", dtype="float32", autocast=False,
            name="gate_kernel")
        self.noise_kernel = None
        if self.noisy_gating:
            self.noise_kernel = self.add_weight(
                shape=(depth, experts), initializer="zeros", dtype="float32", autocast=False,
                name="noise_kernel")
        # Glorot uniform for each expert's [H, F] / [F, H] matrix (a stacked
        # kernel would otherwise count E into the fans).
        limit = math.sqrt(6.0 / (depth + hidden))
        self.expert_inner_kernel = self.add_weight(
            shape=(experts, depth, hidden),
            initializer=keras.initializers.RandomUniform(-limit, limit),
            name="expert_inner_kernel")
        self.expert_inner_bias = self.add_weight(
            shape=(experts, hidden), initializer="zeros", name="expert_inner_bias")
        self.expert_outer_kernel = self.add_weight(
            shape=(experts, hidden, depth),
            initializer=keras.initializers.RandomUniform(-limit, limit),
            name="expert_outer_kernel")
        self.expert_outer_bias = self.add_weight(
            shape=(experts, depth), initializer="zeros", name="expert_outer_bias")
        self._statistics = {
            name: self.add_weight(
                shape=(experts,) if name == "load" else (), initializer="zeros",
                dtype="float32", trainable=False, autocast=False,
                aggregation="only_first_replica", name=f"moe_{name}")
            for name in _STATISTICS
        }
        self.built = True

    def _gating(self, tokens, training):
        """`(top_k_gates [N, k], top_k_experts [N, k], aux_loss, importance_cv2, load_cv2)`."""
        x = tf.cast(tokens, tf.float32)
        clean_logits = tf.matmul(x, self.gate_kernel)
        noisy = self.noisy_gating and training
        logits = clean_logits
        if noisy:
            noise_stddev = tf.nn.softplus(tf.matmul(x, self.noise_kernel)) + self.noise_epsilon
            noise = keras.random.normal(tf.shape(clean_logits), seed=self.seed_generator,
                                        dtype="float32")
            logits = clean_logits + noise * noise_stddev
        top_logits, top_experts = tf.math.top_k(logits, min(self.k + 1, self.num_experts))
        top_k_gates = tf.nn.softmax(top_logits[:, :self.k])
        top_k_experts = top_experts[:, :self.k]
        importance = tf.math.unsorted_segment_sum(
            tf.reshape(top_k_gates, [-1]), tf.reshape(top_k_experts, [-1]), self.num_experts)
        if noisy and self.k < self.num_experts:
            load = tf.reduce_sum(
                _prob_in_top_k(clean_logits, logits, noise_stddev, top_logits, self.k), axis=0)
        else:
            load = tf.math.unsorted_segment_sum(
                tf.ones_like(top_k_gates), top_k_experts, self.num_experts)
            load = tf.reshape(load, [self.num_experts])
        importance_cv2 = _cv_squared(importance)
        load_cv2 = _cv_squared(load)
        aux_loss = self.loss_coefficient * (importance_cv2 + load_cv2)
        return top_k_gates, top_k_experts, aux_loss, importance_cv2, load_cv2

    def _experts(self, buffer):
        """Runs every expert on its `[C, H]` slice of `buffer [E, C, H]`."""
        # Batched matmuls, not einsum: oneDNN's einsum kernel was 13% slower
        # for the same [E, C, H] x [E, H, F] products (forward + backward).
        hidden = tf.matmul(buffer, tf.cast(self.expert_inner_kernel, buffer.dtype))
        hidden = tf.nn.relu(hidden + self.expert_inner_bias[:, None, :])
        output = tf.matmul(hidden, tf.cast(self.expert_outer_kernel, hidden.dtype))
        return output + self.expert_outer_bias[:, None, :]

    def call(self, inputs, mask=None, training=False):
        training = bool(training)
        inputs = ops.convert_to_tensor(inputs, dtype=self.compute_dtype)
        depth = inputs.shape[-1]
        flat = tf.reshape(inputs, [-1, depth])                              # [B*T, H]
        if mask is None:
            token_positions = None
            tokens = flat
        else:
            real = tf.reshape(tf.cast(mask, tf.bool), [-1])
            token_positions = tf.cast(tf.where(real)[:, 0], tf.int32)       # [N]
            tokens = tf.gather(flat, token_positions)                       # [N, H]
        num_tokens = tf.shape(tokens)[0]

        gates, experts, aux_loss, importance_cv2, load_cv2 = self._gating(tokens, training)
        if training:
            self.add_loss(aux_loss)

        # The N * k assignments in token order, numbered within their expert.
        assignment_expert = tf.reshape(experts, [-1])                      # [N*k]
        assignment_gate = tf.reshape(gates, [-1])
        assignment_token = tf.repeat(tf.range(num_tokens), self.k)
        one_hot = tf.one_hot(assignment_expert, self.num_experts, dtype=tf.int32)
        position = tf.reduce_sum(tf.cumsum(one_hot, axis=0) * one_hot, axis=1) - 1

        capacity_factor = (self.train_capacity_factor if training
                           else self.eval_capacity_factor)
        if capacity_factor <= 0:
            capacity = num_tokens
        else:
            capacity = tf.cast(tf.math.ceil(
                capacity_factor * self.k * tf.cast(num_tokens, tf.float64) / self.num_experts),
                tf.int32)
            capacity = tf.minimum(capacity, num_tokens)
        kept = tf.cast(tf.where(position < capacity)[:, 0], tf.int32)       # [M]
        slots = tf.stack([tf.gather(assignment_expert, kept), tf.gather(position, kept)], 1)
        kept_token = tf.gather(assignment_token, kept)

        buffer = tf.scatter_nd(slots, tf.gather(tokens, kept_token),
                               tf.stack([self.num_experts, capacity, depth]))  # [E, C, H]
        expert_output = tf.gather_nd(self._experts(buffer), slots)          # [M, H]
        kept_gate = tf.cast(tf.gather(assignment_gate, kept), expert_output.dtype)
        combined = tf.math.unsorted_segment_sum(
            expert_output * kept_gate[:, None], kept_token, num_tokens)     # [N, H]
        if token_positions is not None:
            combined = tf.scatter_nd(token_positions[:, None], combined, tf.shape(flat))

        num_assignments = tf.cast(num_tokens * self.k, tf.float32)
        routed = tf.math.unsorted_segment_sum(
            tf.ones_like(assignment_gate), assignment_expert, self.num_experts)
        dropped = num_assignments - tf.cast(tf.shape(kept)[0], tf.float32)
        self._statistics["load"].assign(tf.math.divide_no_nan(routed, num_assignments))
        self._statistics["dropped_fraction"].assign(
            tf.math.divide_no_nan(dropped, num_assignments))
        self._statistics["importance_cv_squared"].assign(importance_cv2)
        self._statistics["load_cv_squared"].assign(load_cv2)
        return tf.reshape(combined, tf.shape(inputs))

    def statistics(self):
        """The routing statistics of the most recent call, as a dict of float32 tensors.

        Keys: `"load"` `[E]`, `"dropped_fraction"`, `"importance_cv_squared"`,
        `"load_cv_squared"` (see the class docstring).
        """
        if not self.built:
            raise ValueError(
                f"`statistics()` needs a built layer: call `{self.name}` first. "
                f"Received: built={self.built}")
        return {name: tf.convert_to_tensor(self._statistics[name]) for name in _STATISTICS}

    def compute_output_shape(self, inputs_shape):
        return inputs_shape

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_experts": self.num_experts,
            "k": self.k,
            "expert_hidden_size": self.expert_hidden_size,
            "loss_coefficient": self.loss_coefficient,
            "train_capacity_factor": self.train_capacity_factor,
            "eval_capacity_factor": self.eval_capacity_factor,
            "noisy_gating": self.noisy_gating,
            "noise_epsilon": self.noise_epsilon,
        })
        return config
