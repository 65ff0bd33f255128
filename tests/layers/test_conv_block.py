import numpy as np
import pytest
import tensorflow as tf
from layer_harness import run_layer_test

from t2t_multimodel.layers.conv_block import ConvBlock

RNG = np.random.default_rng(0)
SMALL = {"kernel_sizes": (3, 3, 5, 5), "dilation_rates": (1, 1, 1, 2)}


def _random(*shape):
    return RNG.normal(size=shape).astype("float32")


def test_layer_harness_non_causal():
    run_layer_test(ConvBlock, {"filters": 4, "dropout": 0.1, "layer_norm_epsilon": 1e-5},
                   _random(2, 5, 4), expected_output_shape=(2, 5, 4),
                   expected_num_trainable_weights=16)


def test_layer_harness_causal_with_mask():
    run_layer_test(ConvBlock, {"filters": 4, "causal": True, **SMALL},
                   {"inputs": _random(2, 6, 4),
                    "mask": np.array([[1] * 6, [1] * 4 + [0] * 2], "float32")},
                   expected_output_shape=(2, 6, 4), expected_num_trainable_weights=16)


def test_config_keeps_the_paper_defaults():
    config = ConvBlock(filters=4).get_config()
    assert config["kernel_sizes"] == [3, 3, 15, 15]
    assert config["dilation_rates"] == [1, 1, 1, 8]
    assert ConvBlock.from_config(config).dilation_rates == (1, 1, 1, 8)


@pytest.mark.parametrize("causal", [False, True])
def test_residual_wiring(causal):
    """The block input is added after step 2 and again after step 4."""
    layer = ConvBlock(filters=4, causal=causal, **SMALL)
    x = _random(2, 7, 4)
    out = np.array(layer(x))
    s1, s2, s3, s4 = layer._steps
    y = x + np.array(s2(s1(x)))
    np.testing.assert_allclose(out, x + np.array(s4(s3(y))), atol=1e-5)


@pytest.mark.parametrize("length", [1, 6, 20])
def test_same_padding_keeps_the_length(length):
    assert tuple(ConvBlock(filters=4)(_random(2, length, 4)).shape) == (2, length, 4)


def test_causal():
    layer = ConvBlock(filters=4, causal=True, **SMALL)
    x = _random(1, 9, 4)
    out = np.array(layer(x))
    for t in (0, 5, 8):
        changed = x.copy()
        changed[:, t] += 1.0
        new = np.array(layer(changed))
        np.testing.assert_allclose(new[:, :t], out[:, :t], atol=1e-5)
        assert not np.allclose(new[:, t], out[:, t])


def test_appended_padding_changes_nothing():
    layer = ConvBlock(filters=4)  # non-causal: "same" convs see both sides
    x = _random(2, 5, 4)
    out = np.array(layer(x))
    padded = np.concatenate([x, 10.0 * _random(2, 4, 4)], axis=1)
    mask = np.array([[1] * 5 + [0] * 4] * 2, "float32")
    padded_out = np.array(layer(padded, mask=mask))
    np.testing.assert_allclose(padded_out[:, :5], out, atol=1e-5)
    np.testing.assert_array_equal(padded_out[:, 5:], 0.0)


def test_dropout_only_in_training():
    layer = ConvBlock(filters=4, dropout=0.5, **SMALL)
    x = _random(2, 6, 4)
    inference = np.array(layer(x, training=False))
    np.testing.assert_allclose(np.array(layer(x)), inference)
    trained = np.array(layer(x, training=True))
    dropped = trained == 0.0
    assert dropped.any() and (~dropped).any()
    np.testing.assert_allclose(trained[~dropped], 2.0 * inference[~dropped], rtol=1e-5)


def test_steps_equal_full_pass():
    layer = ConvBlock(filters=4, causal=True, dilation_rates=(1, 2, 1, 3))
    x = _random(2, 8, 4)
    full = np.array(layer(x))
    state = layer.initial_state(2)
    assert [tuple(s.shape) for s in state] == [(2, 2, 4), (2, 4, 4), (2, 14, 4), (2, 42, 4)]
    for t in range(8):
        out, state = layer.step(x[:, t:t + 1], state)
        np.testing.assert_allclose(np.array(out), full[:, t:t + 1], atol=1e-5)


def test_steps_in_a_while_loop():
    layer = ConvBlock(filters=4, causal=True, **SMALL)
    length = 6
    x = tf.constant(_random(2, length, 4))
    full = np.array(layer(x))

    @tf.function
    def decode(x):
        def body(t, state, outputs):
            out, state = layer.step(tf.expand_dims(x[:, t], 1), state)
            return t + 1, state, outputs.write(t, out[:, 0])

        outputs = tf.TensorArray(tf.float32, size=length)
        _, _, outputs = tf.while_loop(lambda t, *_: t < length, body,
                                      (tf.constant(0), layer.initial_state(2), outputs))
        return tf.transpose(outputs.stack(), [1, 0, 2])

    np.testing.assert_allclose(np.array(decode(x)), full, atol=1e-5)


def test_state_errors():
    layer = ConvBlock(filters=4)
    layer(_random(1, 3, 4))
    with pytest.raises(ValueError, match="Received: causal=False"):
        layer.initial_state(1)
    with pytest.raises(ValueError, match="Received: built=False"):
        ConvBlock(filters=4, causal=True).initial_state(1)


def test_input_depth_must_equal_filters():
    with pytest.raises(ValueError, match="Received: input depth=3, filters=4"):
        ConvBlock(filters=4)(_random(1, 5, 3))


@pytest.mark.parametrize("kwargs, message", [
    ({"filters": 0}, "Received: filters=0"),
    ({"filters": 4, "kernel_sizes": (3, 3, 3)},
     r"Received: kernel_sizes=\(3, 3, 3\), dilation_rates=\(1, 1, 1, 8\)"),
    ({"filters": 4, "dilation_rates": (1, 1, 1, 1, 1)},
     r"Received: kernel_sizes=\(3, 3, 15, 15\), dilation_rates=\(1, 1, 1, 1, 1\)"),
    ({"filters": 4, "kernel_sizes": 3}, "Received: kernel_sizes=3"),
    ({"filters": 4, "dilation_rates": (1, 0, 1, 1)}, r"Received: dilation_rates=\(1, 0, 1, 1\)"),
    ({"filters": 4, "causal": 1}, "Received: causal=1"),
    ({"filters": 4, "dropout": 1.0}, "Received: dropout=1.0"),
    ({"filters": 4, "layer_norm_epsilon": -1.0}, "Received: layer_norm_epsilon=-1.0"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ConvBlock(**kwargs)
