import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from layer_harness import run_layer_test

from t2t_multimodel.layers.mixture_of_experts import MixtureOfExperts

H, E, F = 6, 4, 8


def _random(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _layer(**kwargs):
    kwargs = {"num_experts": E, "k": 2, "expert_hidden_size": F, **kwargs}
    layer = MixtureOfExperts(**kwargs)
    layer.build((None, None, H))
    return layer


def _collapse(layer, first=0, second=1):
    """Every token with positive features prefers expert `first`, then `second`."""
    kernel = np.full((H, E), -1.0, "float32")
    kernel[:, first] = 2.0
    kernel[:, second] = 1.0
    layer.gate_kernel.assign(kernel)


def _cv_squared(x):
    x = np.asarray(x, "float64")
    return x.var() / (x.mean() ** 2 + 1e-10)


def _reference(layer, x, mask, capacity_factor):
    """Numpy MoE with token-order capacity: (output [B, T, H], dropped fraction, C)."""
    w_gate = np.array(layer.gate_kernel, "float64")
    w1, b1 = np.array(layer.expert_inner_kernel), np.array(layer.expert_inner_bias)
    w2, b2 = np.array(layer.expert_outer_kernel), np.array(layer.expert_outer_bias)
    flat = x.reshape(-1, H).astype("float64")
    real = np.flatnonzero(mask.reshape(-1)) if mask is not None else np.arange(len(flat))
    n, k = len(real), layer.k
    capacity = n if capacity_factor <= 0 else min(math.ceil(capacity_factor * k * n / E), n)
    out = np.zeros_like(flat)
    counts = np.zeros(E, int)
    dropped = 0
    for token in real:
        logits = flat[token] @ w_gate
        chosen = np.argsort(-logits, kind="stable")[:k]
        gates = np.exp(logits[chosen] - logits[chosen].max())
        gates /= gates.sum()
        for expert, gate in zip(chosen, gates, strict=True):
            if counts[expert] >= capacity:
                dropped += 1
                continue
            counts[expert] += 1
            hidden = np.maximum(flat[token] @ w1[expert] + b1[expert], 0.0)
            out[token] += gate * (hidden @ w2[expert] + b2[expert])
    assert counts.max() <= capacity
    return out.reshape(x.shape), dropped / (n * k), capacity


def test_layer_harness():
    run_layer_test(MixtureOfExperts, {"num_experts": E, "k": 2, "expert_hidden_size": F,
                                      "train_capacity_factor": 1.0, "eval_capacity_factor": 0.0},
                   _random(2, 3, H), expected_output_shape=(2, 3, H),
                   expected_num_trainable_weights=6)


def test_layer_harness_with_mask():
    run_layer_test(MixtureOfExperts, {"num_experts": E, "k": 1, "noisy_gating": False},
                   {"inputs": _random(2, 4, H),
                    "mask": np.array([[1, 1, 1, 0], [1, 1, 1, 1]], "float32")},
                   expected_output_shape=(2, 4, H), expected_num_trainable_weights=5)


@pytest.mark.parametrize("capacity_factor", [0.0, -1.0, 1.0, 0.5])
def test_matches_numpy_reference(capacity_factor):
    layer = _layer(noisy_gating=False, eval_capacity_factor=capacity_factor)
    layer.gate_kernel.assign(_random(H, E, seed=1))
    layer.expert_inner_bias.assign(_random(E, F, seed=2) * 0.1)
    layer.expert_outer_bias.assign(_random(E, H, seed=3) * 0.1)
    x = _random(3, 7, H, seed=4)
    mask = np.ones((3, 7), "float32")
    mask[1, 4:] = 0
    mask[2, 2:] = 0
    expected, dropped, capacity = _reference(layer, x, mask, capacity_factor)
    np.testing.assert_allclose(np.array(layer(x, mask=mask)), expected, rtol=1e-5, atol=1e-5)
    stats = layer.statistics()
    np.testing.assert_allclose(float(stats["dropped_fraction"]), dropped, atol=1e-6)
    if capacity_factor <= 0:
        assert dropped == 0.0
    elif capacity_factor == 0.5:
        assert capacity == 4 and dropped > 0


def test_capacity_drops_tokens_over_capacity():
    layer = _layer(train_capacity_factor=1.0, noisy_gating=False)
    _collapse(layer)
    x = np.abs(_random(2, 8, H)) + 0.1                    # N = 16, C = 1.0 * 2 * 16 / 4 = 8
    out = np.array(layer(x, training=True)).reshape(16, H)
    # Experts 0 and 1 each take the first 8 tokens; tokens 8..15 get nothing.
    assert np.all(np.abs(out[:8]).sum(-1) > 0)
    np.testing.assert_array_equal(out[8:], 0.0)
    stats = layer.statistics()
    np.testing.assert_allclose(np.array(stats["load"]), [0.5, 0.5, 0.0, 0.0])
    assert float(stats["dropped_fraction"]) == 0.5
    # The same tokens in eval (capacity factor 2.0) all get both experts.
    out = np.array(layer(x)).reshape(16, H)
    assert np.all(np.abs(out).sum(-1) > 0)
    assert float(layer.statistics()["dropped_fraction"]) == 0.0


def test_load_balancing_loss_collapsed_larger_than_uniform():
    keras.utils.set_random_seed(0)
    x = np.abs(_random(4, 8, H)) + 0.1
    uniform = _layer()
    uniform(x, training=True)
    collapsed = _layer()
    _collapse(collapsed)
    collapsed(x, training=True)
    (uniform_loss,), (collapsed_loss,) = uniform.losses, collapsed.losses
    assert float(collapsed_loss) > 10 * float(uniform_loss)
    assert float(collapsed.statistics()["importance_cv_squared"]) > 0.9


def test_loss_is_cv_squared_of_importance_and_load():
    layer = _layer(noisy_gating=False, loss_coefficient=0.5, train_capacity_factor=0.0)
    w_gate = _random(H, E, seed=5)
    layer.gate_kernel.assign(w_gate)
    x = _random(2, 5, H, seed=6)
    layer(x, training=True)
    logits = x.reshape(-1, H).astype("float64") @ w_gate
    importance, load = np.zeros(E), np.zeros(E)
    for row in logits:
        chosen = np.argsort(-row)[:2]
        gates = np.exp(row[chosen]) / np.exp(row[chosen]).sum()
        importance[chosen] += gates
        load[chosen] += 1
    (loss,) = layer.losses
    np.testing.assert_allclose(float(loss), 0.5 * (_cv_squared(importance) + _cv_squared(load)),
                               rtol=1e-5)
    stats = layer.statistics()
    np.testing.assert_allclose(float(stats["load_cv_squared"]), _cv_squared(load), rtol=1e-5)
    np.testing.assert_allclose(np.array(stats["load"]), load / 20, rtol=1e-6)
    layer(x)
    assert layer.losses == []                              # no loss outside training


def test_smooth_load_trains_the_gating():
    keras.utils.set_random_seed(1)
    # With k = 1 every gate is 1, so importance is a count with no gradient:
    # only the normal-CDF load estimator connects the loss to the kernels.
    layer = _layer(k=1, loss_coefficient=1.0)
    layer.gate_kernel.assign(_random(H, E, seed=7))
    x = tf.constant(_random(2, 6, H, seed=8))
    with tf.GradientTape() as tape:
        layer(x, training=True)
        loss = layer.losses[0]
    for grad in tape.gradient(loss, [layer.noise_kernel, layer.gate_kernel]):
        assert grad is not None and np.abs(np.array(grad)).max() > 1e-3


def test_gradients_reach_chosen_experts_only():
    layer = _layer(noisy_gating=False)
    _collapse(layer, first=3, second=1)
    x = tf.constant(np.abs(_random(2, 5, H)) + 0.1)
    weights = [layer.expert_inner_kernel, layer.expert_inner_bias,
               layer.expert_outer_kernel, layer.expert_outer_bias]
    with tf.GradientTape() as tape:
        out = layer(x, training=True)
        objective = tf.reduce_sum(out * _random(2, 5, H, seed=9))
    for grad in tape.gradient(objective, weights):
        per_expert = np.abs(np.array(grad)).reshape(E, -1).max(-1)
        np.testing.assert_array_equal(per_expert[[0, 2]], 0.0)
        assert np.all(per_expert[[1, 3]] > 0)


def test_padding_is_not_routed():
    layer = _layer(noisy_gating=False, eval_capacity_factor=1.0)
    layer.gate_kernel.assign(_random(H, E, seed=10))
    x = _random(2, 6, H, seed=11)
    mask = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1]], "float32")
    out = np.array(layer(x, mask=mask))
    np.testing.assert_array_equal(out[0, 4:], 0.0)
    changed = x.copy()
    changed[0, 4:] = 100.0
    np.testing.assert_array_equal(np.array(layer(changed, mask=mask)), out)
    # The real tokens alone (no mask) give the same output: padding takes no capacity.
    alone = np.array(layer(np.concatenate([x[0, :4], x[1]])[None]))
    np.testing.assert_allclose(alone[0], np.concatenate([out[0, :4], out[1]]), atol=1e-6)


def test_all_padding_gives_zeros():
    layer = _layer()
    out = layer(_random(2, 3, H), mask=np.zeros((2, 3)), training=True)
    np.testing.assert_array_equal(np.array(out), 0.0)
    assert np.isfinite(float(layer.losses[0]))
    stats = layer.statistics()
    np.testing.assert_array_equal(np.array(stats["load"]), 0.0)
    assert float(stats["dropped_fraction"]) == 0.0


def test_tf_function_with_unknown_shapes():
    layer = _layer(noisy_gating=False)
    layer.gate_kernel.assign(_random(H, E, seed=12))
    call = tf.function(lambda x, mask: layer(x, mask=mask, training=True), input_signature=[
        tf.TensorSpec([None, None, H], tf.float32), tf.TensorSpec([None, None], tf.float32)])
    for shape in [(2, 5), (3, 2)]:
        x = _random(*shape, H, seed=shape[0])
        mask = np.ones(shape, "float32")
        mask[0, -1] = 0
        np.testing.assert_allclose(np.array(call(x, mask)),
                                   np.array(layer(x, mask=mask, training=True)), atol=1e-6)
    assert call.experimental_get_tracing_count() == 1


def test_statistics_readable_after_compiled_train_step():
    keras.utils.set_random_seed(2)
    layer = _layer(train_capacity_factor=1.0)
    layer.gate_kernel.assign(_random(H, E, seed=13) * 0.1)
    optimizer = keras.optimizers.SGD(0.1)

    @tf.function(input_signature=[tf.TensorSpec([None, None, H], tf.float32)])
    def train_step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(layer(x, training=True))) + tf.add_n(layer.losses)
        optimizer.apply(tape.gradient(loss, layer.trainable_variables),
                        layer.trainable_variables)
        return loss

    for seed in range(3):
        train_step(_random(4, 6, H, seed=seed))
        stats = {name: np.array(value) for name, value in layer.statistics().items()}
        assert stats["load"].shape == (E,)
        assert abs(stats["load"].sum() - 1.0) < 1e-5
        assert 0.0 <= stats["dropped_fraction"] <= 1.0
        assert stats["importance_cv_squared"] >= 0 and stats["load_cv_squared"] >= 0
    names = {w.name for w in layer.non_trainable_weights}
    assert {"moe_load", "moe_dropped_fraction", "moe_importance_cv_squared",
            "moe_load_cv_squared"} <= names


def test_mixed_precision():
    layer = MixtureOfExperts(E, expert_hidden_size=F, dtype="mixed_bfloat16")
    out = layer(_random(2, 3, H), training=True)
    assert out.dtype == tf.bfloat16
    assert layer.gate_kernel.dtype == "float32" and layer.losses[0].dtype == tf.float32


def test_statistics_before_call():
    with pytest.raises(ValueError, match="Received: built=False"):
        MixtureOfExperts(E).statistics()


@pytest.mark.parametrize("kwargs, message", [
    ({"num_experts": 0}, "Received: num_experts=0"),
    ({"num_experts": 2.0}, "Received: num_experts=2.0"),
    ({"num_experts": 4, "k": 0}, "Received: k=0"),
    ({"num_experts": 4, "k": 5}, "Received: k=5"),
    ({"num_experts": 4, "expert_hidden_size": -1}, "Received: expert_hidden_size=-1"),
    ({"num_experts": 4, "loss_coefficient": -0.1}, "Received: loss_coefficient=-0.1"),
    ({"num_experts": 4, "train_capacity_factor": None}, "Received: train_capacity_factor=None"),
    ({"num_experts": 4, "eval_capacity_factor": float("inf")},
     "Received: eval_capacity_factor=inf"),
    ({"num_experts": 4, "noisy_gating": 1}, "Received: noisy_gating=1"),
    ({"num_experts": 4, "noise_epsilon": -1.0}, "Received: noise_epsilon=-1.0"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message + "$"):
        MixtureOfExperts(**kwargs)
