import numpy as np
import pytest
import tensorflow as tf
from layer_harness import run_layer_test

from t2t_multimodel.layers.attention_block import AttentionBlock

RNG = np.random.default_rng(0)


def _random(*shape):
    return RNG.normal(size=shape).astype("float32")


def test_layer_harness_causal_with_masks():
    run_layer_test(AttentionBlock,
                   {"hidden_size": 8, "num_heads": 2, "kernel_size": 3, "dropout": 0.1,
                    "attention_dropout": 0.1, "layer_norm_epsilon": 1e-5},
                   {"target": _random(2, 5, 8), "source": _random(2, 4, 8),
                    "target_mask": np.array([[1] * 5, [1] * 3 + [0] * 2], "float32"),
                    "source_mask": np.array([[1] * 4, [1] * 2 + [0] * 2], "float32")},
                   expected_output_shape=(2, 5, 8), expected_num_trainable_weights=36)


def test_layer_harness_non_causal():
    run_layer_test(AttentionBlock, {"hidden_size": 8, "num_heads": 4, "causal": False},
                   {"target": _random(2, 5, 8), "source": _random(2, 3, 8)},
                   expected_output_shape=(2, 5, 8))


def test_is_attention_over_the_conv_blocks():
    """Timing signal, conv block 1, conv block 2, then attention; no residual."""
    layer = AttentionBlock(hidden_size=8, num_heads=2, kernel_size=3)
    target, source = _random(2, 6, 8), _random(2, 4, 8)
    out = np.array(layer(target, source))
    y = layer._timing_signal(target)
    y = layer._conv_block_2(layer._conv_block_1(y))
    np.testing.assert_allclose(out, np.array(layer._attention(y, source)), atol=1e-5)
    assert layer._conv_block_1.dilation_rates == (1, 1, 2, 2)
    assert layer._conv_block_2.dilation_rates == (4, 4, 8, 8)
    assert layer._conv_block_1.kernel_sizes == layer._conv_block_2.kernel_sizes == (3,) * 4


def test_timing_signal_makes_positions_differ():
    layer = AttentionBlock(hidden_size=8, num_heads=2, kernel_size=3, causal=False)
    out = np.array(layer(np.zeros((1, 4, 8), "float32"), _random(1, 3, 8)))
    assert not np.allclose(out[:, 1], out[:, 2])


def test_causal():
    layer = AttentionBlock(hidden_size=8, num_heads=2, kernel_size=3)
    target, source = _random(1, 7, 8), _random(1, 3, 8)
    out = np.array(layer(target, source))
    for t in (0, 3, 6):
        changed = target.copy()
        changed[:, t] += 1.0
        new = np.array(layer(changed, source))
        np.testing.assert_allclose(new[:, :t], out[:, :t], atol=1e-5)
        assert not np.allclose(new[:, t], out[:, t])


@pytest.mark.parametrize("causal", [True, False])
def test_appended_source_padding_changes_nothing(causal):
    layer = AttentionBlock(hidden_size=8, num_heads=2, kernel_size=3, causal=causal)
    target, source = _random(2, 4, 8), _random(2, 3, 8)
    out = np.array(layer(target, source))
    padded = np.concatenate([source, 10.0 * _random(2, 2, 8)], axis=1)
    mask = np.array([[1, 1, 1, 0, 0]] * 2, "float32")
    np.testing.assert_allclose(np.array(layer(target, padded, source_mask=mask)), out,
                               atol=1e-5)
    # Without the mask the padding is attended to.
    assert not np.allclose(np.array(layer(target, padded)), out, atol=1e-3)


def test_padded_target_positions_are_finite():
    layer = AttentionBlock(hidden_size=8, num_heads=2, kernel_size=3, causal=False)
    target_mask = np.array([[1, 1, 0, 0], [0, 0, 0, 0]], "float32")
    source_mask = np.array([[1, 0, 0], [0, 0, 0]], "float32")
    out = np.array(layer(_random(2, 4, 8), _random(2, 3, 8), target_mask=target_mask,
                         source_mask=source_mask))
    assert np.isfinite(out).all()


@pytest.mark.parametrize("projected_once", [False, True])
def test_steps_equal_full_pass(projected_once):
    layer = AttentionBlock(hidden_size=8, num_heads=2, kernel_size=3)
    target, source = _random(2, 6, 8), _random(2, 4, 8)
    source_mask = np.array([[1, 1, 1, 1], [1, 1, 0, 0]], "float32")
    full = np.array(layer(target, source, source_mask=source_mask))
    state = layer.initial_state(2)
    source_cache = layer.source_cache(source) if projected_once else None
    # With the source projected once, `step` must not read `source` at all.
    step_source = None if projected_once else source
    for t in range(6):
        out, state = layer.step(target[:, t:t + 1], t, state, step_source,
                                source_mask=source_mask, source_cache=source_cache)
        np.testing.assert_allclose(np.array(out), full[:, t:t + 1], atol=1e-5)


def test_steps_in_a_while_loop():
    layer = AttentionBlock(hidden_size=8, num_heads=2, kernel_size=3)
    length = 5
    target, source = tf.constant(_random(2, length, 8)), tf.constant(_random(2, 3, 8))
    full = np.array(layer(target, source))

    @tf.function
    def decode(target, source):
        def body(t, state, outputs):
            out, state = layer.step(tf.expand_dims(target[:, t], 1), t, state, source)
            return t + 1, state, outputs.write(t, out[:, 0])

        outputs = tf.TensorArray(tf.float32, size=length)
        _, _, outputs = tf.while_loop(lambda t, *_: t < length, body,
                                      (tf.constant(0), layer.initial_state(2), outputs))
        return tf.transpose(outputs.stack(), [1, 0, 2])

    np.testing.assert_allclose(np.array(decode(target, source)), full, atol=1e-5)


def test_state_errors():
    layer = AttentionBlock(hidden_size=8, num_heads=2, causal=False)
    layer(_random(1, 3, 8), _random(1, 2, 8))
    with pytest.raises(ValueError, match="Received: causal=False"):
        layer.initial_state(1)
    with pytest.raises(ValueError, match="Received: built=False"):
        AttentionBlock(hidden_size=8, num_heads=2).initial_state(1)


def test_target_depth_must_equal_hidden_size():
    with pytest.raises(ValueError, match="Received: target depth=6, hidden_size=8"):
        AttentionBlock(hidden_size=8, num_heads=2)(_random(1, 3, 6), _random(1, 2, 6))


@pytest.mark.parametrize("kwargs, message", [
    ({"hidden_size": 8, "num_heads": 3}, "Received: hidden_size=8, num_heads=3"),
    ({"hidden_size": 0, "num_heads": 2}, "Received: hidden_size=0"),
    ({"hidden_size": 8, "num_heads": -2}, "Received: num_heads=-2"),
    ({"hidden_size": 8, "num_heads": 2, "kernel_size": 0}, "Received: kernel_size=0"),
    ({"hidden_size": 8, "num_heads": 2, "causal": "no"}, "Received: causal=no"),
    ({"hidden_size": 8, "num_heads": 2, "dropout": -0.1}, "Received: dropout=-0.1"),
    ({"hidden_size": 8, "num_heads": 2, "attention_dropout": 1.0},
     "Received: attention_dropout=1.0"),
    ({"hidden_size": 8, "num_heads": 2, "layer_norm_epsilon": 0},
     "Received: layer_norm_epsilon=0"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AttentionBlock(**kwargs)
