import numpy as np
import pytest
import tensorflow as tf
from layer_harness import run_layer_test

from t2t_multimodel.layers.conv_step import ConvStep, band_length, banded_depthwise_conv

RNG = np.random.default_rng(0)


def _random(*shape):
    return RNG.normal(size=shape).astype("float32")


@pytest.mark.parametrize("kwargs", [
    {"filters": 6, "kernel_size": 3},
    {"filters": 6, "kernel_size": 3, "dilation_rate": 2, "causal": True,
     "layer_norm_epsilon": 1e-5},
])
def test_layer_harness(kwargs):
    run_layer_test(ConvStep, kwargs, _random(2, 5, 4), expected_output_shape=(2, 5, 6),
                   expected_num_trainable_weights=4)


def test_layer_harness_with_mask_and_strides():
    run_layer_test(ConvStep, {"filters": 6, "kernel_size": 3, "strides": 2},
                   {"inputs": _random(2, 5, 4), "mask": np.array([[1] * 5, [1] * 3 + [0] * 2],
                                                                 "float32")},
                   expected_output_shape=(2, 3, 6))


@pytest.mark.parametrize("length, strides, expected", [(7, 1, 7), (7, 2, 4), (8, 2, 4), (2, 1, 2)])
def test_same_padding_length(length, strides, expected):
    layer = ConvStep(filters=3, kernel_size=5, strides=strides)
    assert tuple(layer(_random(2, length, 4)).shape) == (2, expected, 3)


def test_non_causal_sees_the_future():
    layer = ConvStep(filters=4, kernel_size=3)
    x = np.abs(_random(1, 5, 4))
    out = np.array(layer(x))
    changed = x.copy()
    changed[:, 3] += 1.0
    assert not np.allclose(np.array(layer(changed))[:, 2], out[:, 2])


@pytest.mark.parametrize("dilation_rate", [1, 3])
def test_causal(dilation_rate):
    layer = ConvStep(filters=4, kernel_size=3, dilation_rate=dilation_rate, causal=True)
    x = np.abs(_random(1, 8, 4))  # positive, so the ReLU passes the change through
    out = np.array(layer(x))
    for t in (0, 4, 7):
        changed = x.copy()
        changed[:, t] += 1.0
        new = np.array(layer(changed))
        np.testing.assert_allclose(new[:, :t], out[:, :t], atol=1e-5)
        assert not np.allclose(new[:, t], out[:, t])


def test_output_is_layer_normalised():
    # A tiny epsilon: with the default 1e-6 a position whose conv output has a
    # variance near 1e-4 (random weights) is normalised to 0.99, not 1.
    out = np.array(ConvStep(filters=8, kernel_size=3, layer_norm_epsilon=1e-10)(_random(2, 5, 4)))
    np.testing.assert_allclose(out.mean(-1), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.var(-1), 1.0, atol=1e-3)


def test_padded_positions_do_not_leak():
    layer = ConvStep(filters=4, kernel_size=5)
    x = _random(1, 6, 4)
    mask = np.array([[1, 1, 1, 1, 0, 0]], "float32")
    masked = np.array(layer(x, mask=mask))
    zeroed = x.copy()
    zeroed[:, 4:] = 0.0
    np.testing.assert_allclose(masked, np.array(layer(zeroed)), atol=1e-6)
    # Real positions equal the unpadded sequence ("same" pads with zeros, too).
    np.testing.assert_allclose(masked[:, :4], np.array(layer(x[:, :4])), atol=1e-5)


def test_matches_a_numpy_reference():
    layer = ConvStep(filters=3, kernel_size=3, dilation_rate=2, causal=True)
    x = _random(2, 6, 4)
    out = np.array(layer(x))
    depthwise, pointwise = (np.array(w) for w in layer._conv.weights)  # [k, C, 1], [1, C, F]
    padded = np.pad(np.maximum(x, 0.0), [[0, 0], [4, 0], [0, 0]])
    depth = sum(padded[:, 2 * i:2 * i + 6] * depthwise[i, :, 0] for i in range(3))
    conv = depth @ pointwise[0]
    expected = (conv - conv.mean(-1, keepdims=True)) / np.sqrt(conv.var(-1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(out, expected, atol=1e-4)


@pytest.mark.parametrize("kernel_size, dilation_rate", [(3, 1), (3, 2), (1, 1), (4, 3)])
def test_steps_equal_full_pass(kernel_size, dilation_rate):
    layer = ConvStep(filters=5, kernel_size=kernel_size, dilation_rate=dilation_rate, causal=True)
    x = _random(2, 9, 4)
    full = np.array(layer(x))
    state = layer.initial_state(2)
    assert tuple(state.shape) == (2, (kernel_size - 1) * dilation_rate, 4)
    for t in range(9):
        out, new_state = layer.step(x[:, t:t + 1], state)
        assert tuple(new_state.shape) == tuple(state.shape)
        np.testing.assert_allclose(np.array(out), full[:, t:t + 1], atol=1e-5)
        state = new_state


def test_state_errors():
    layer = ConvStep(filters=2, kernel_size=3)
    layer(_random(1, 3, 2))
    with pytest.raises(ValueError, match="Received: causal=False"):
        layer.initial_state(1)
    with pytest.raises(ValueError, match="Received: causal=False"):
        layer.step(_random(1, 1, 2), np.zeros((1, 2, 2), "float32"))
    with pytest.raises(ValueError, match="Received: built=False"):
        ConvStep(filters=2, kernel_size=3, causal=True).initial_state(1)


@pytest.mark.parametrize("kwargs, message", [
    ({"filters": 0, "kernel_size": 3}, "Received: filters=0"),
    ({"filters": 2, "kernel_size": 2.5}, "Received: kernel_size=2.5"),
    ({"filters": 2, "kernel_size": 3, "dilation_rate": 0}, "Received: dilation_rate=0"),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "causal": True},
     "Received: strides=2, causal=True"),
    ({"filters": 2, "kernel_size": 3, "strides": 2, "dilation_rate": 2},
     "Received: strides=2, dilation_rate=2"),
    ({"filters": 2, "kernel_size": 3, "causal": "yes"}, "Received: causal=yes"),
    ({"filters": 2, "kernel_size": 3, "layer_norm_epsilon": 0.0},
     "Received: layer_norm_epsilon=0.0"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ConvStep(**kwargs)


def _numpy_separable(layer, x, before):
    """`pointwise(depthwise(relu(x)))` by the definition, zero outside `x`."""
    depthwise, pointwise = (np.array(w) for w in layer._conv.weights)  # [k, C, 1], [1, C, F]
    k, d, length = layer.kernel_size, layer.dilation_rate, x.shape[1]
    padded = np.pad(np.maximum(x, 0.0), [[0, 0], [before, k * d], [0, 0]])
    depth = sum(padded[:, j * d:j * d + length] * depthwise[j, :, 0] for j in range(k))
    return depth @ pointwise[0]


@pytest.mark.parametrize("causal", [True, False])
@pytest.mark.parametrize("kernel_size, dilation_rate", [(15, 8), (15, 1), (6, 30)])
def test_banded_and_native_paths_match_the_definition(kernel_size, dilation_rate, causal):
    # Short sequences take the banded-matrix path, long ones TF's kernels.
    layer = ConvStep(filters=5, kernel_size=kernel_size, dilation_rate=dilation_rate,
                     causal=causal)
    limit = band_length(kernel_size, dilation_rate)
    assert limit > 0
    span = (kernel_size - 1) * dilation_rate
    before = span if causal else span // 2
    for length in (3, limit, limit + 1, limit + 37):
        x = _random(2, length, 4)
        out = np.array(layer(x))
        conv = _numpy_separable(layer, x, before)
        expected = (conv - conv.mean(-1, keepdims=True)) / np.sqrt(
            conv.var(-1, keepdims=True) + 1e-6)
        np.testing.assert_allclose(out, expected, atol=2e-4,
                                   err_msg=f"length={length}")


@pytest.mark.parametrize("causal", [True, False])
def test_banded_gradients_equal_tf_depthwise_conv(causal):
    k, d, length = 15, 8, 21
    span = (k - 1) * d
    before = span if causal else span // 2
    x = tf.constant(_random(3, length, 4))
    kernel = tf.constant(_random(k, 4))
    weights = tf.constant(_random(3, length, 4))

    def native(x, kernel):
        padded = tf.pad(x, [[0, 0], [before, span - before], [0, 0]])
        y = tf.nn.depthwise_conv2d(padded[:, None], kernel[None, :, :, None], [1, 1, 1, 1],
                                   "VALID", dilations=[1, d])
        return y[:, 0]

    def banded(x, kernel):
        return banded_depthwise_conv(x, kernel, d, before)

    results = []
    for fn in (native, banded):
        with tf.GradientTape() as tape:
            tape.watch([x, kernel])
            loss = tf.reduce_sum(fn(x, kernel) * weights)
        results.append(tape.gradient(loss, [x, kernel]))
    for ours, reference in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(np.array(ours), np.array(reference), atol=1e-4)


def test_band_length_only_for_long_kernels():
    assert band_length(3, 1) == 0
    assert band_length(15, 8) > band_length(15, 1) > 0


def test_steps_equal_full_pass_on_the_banded_path():
    layer = ConvStep(filters=5, kernel_size=15, dilation_rate=8, causal=True)
    x = _random(2, 12, 4)
    full = np.array(layer(x))
    state = layer.initial_state(2)
    for t in range(12):
        out, state = layer.step(x[:, t:t + 1], state)
        np.testing.assert_allclose(np.array(out), full[:, t:t + 1], atol=1e-4)
