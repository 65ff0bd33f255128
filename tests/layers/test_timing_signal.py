import math

import numpy as np
import pytest
from layer_harness import run_layer_test

from t2t_multimodel.layers.timing_signal import TimingSignal


def _reference_signal(length, depth, start=0, min_timescale=1.0, max_timescale=1.0e4):
    """T2T's `get_timing_signal_1d`, written with numpy."""
    num_timescales = depth // 2
    increment = math.log(max_timescale / min_timescale) / max(num_timescales - 1, 1)
    inv = min_timescale * np.exp(np.arange(num_timescales) * -increment)
    scaled = (np.arange(length) + start)[:, None] * inv[None, :]
    signal = np.concatenate([np.sin(scaled), np.cos(scaled)], axis=1)
    return np.pad(signal, [[0, 0], [0, depth % 2]])


def test_layer_harness():
    run_layer_test(TimingSignal, {"min_timescale": 1.0, "max_timescale": 100.0},
                   np.zeros((2, 5, 6), "float32"), expected_output_shape=(2, 5, 6))


@pytest.mark.parametrize("depth", [8, 7])
def test_matches_t2t_formula(depth):
    out = np.array(TimingSignal()(np.zeros((1, 6, depth), "float32")))
    np.testing.assert_allclose(out[0], _reference_signal(6, depth), atol=1e-5)
    if depth % 2:
        np.testing.assert_array_equal(out[0, :, -1], 0.0)


def test_position_zero_is_sin_zero_cos_one():
    out = np.array(TimingSignal()(np.zeros((1, 1, 4), "float32")))
    np.testing.assert_allclose(out[0, 0], [0.0, 0.0, 1.0, 1.0], atol=1e-6)


def test_adds_to_inputs():
    x = np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32")
    out = np.array(TimingSignal()(x))
    np.testing.assert_allclose(out - x, np.broadcast_to(_reference_signal(3, 4), x.shape),
                               atol=1e-5)


def test_start_index_gives_the_later_positions():
    layer = TimingSignal()
    full = np.array(layer(np.zeros((1, 6, 8), "float32")))
    for start in range(6):
        one = np.array(layer(np.zeros((1, 1, 8), "float32"), start_index=start))
        np.testing.assert_allclose(one[0, 0], full[0, start], atol=1e-5)
    two = np.array(layer(np.zeros((1, 2, 8), "float32"), start_index=np.int32(3)))
    np.testing.assert_allclose(two[0], full[0, 3:5], atol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    ({"min_timescale": 0.0}, "Received: min_timescale=0.0"),
    ({"min_timescale": 10.0, "max_timescale": 1.0}, "Received: max_timescale=1.0"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TimingSignal(**kwargs)
