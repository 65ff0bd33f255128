import numpy as np
import pytest
from layer_harness import run_layer_test

from t2t_multimodel.layers.feed_forward import FeedForward


def test_layer_harness():
    run_layer_test(FeedForward, {"filter_size": 8, "dropout": 0.1},
                   np.random.default_rng(0).normal(size=(2, 3, 4)).astype("float32"),
                   expected_output_shape=(2, 3, 4), expected_num_trainable_weights=4)


def test_is_position_wise():
    layer = FeedForward(filter_size=8)
    x = np.random.default_rng(1).normal(size=(1, 3, 4)).astype("float32")
    full = np.array(layer(x))
    for t in range(3):
        np.testing.assert_allclose(np.array(layer(x[:, t:t + 1]))[0, 0], full[0, t], atol=1e-6)


def test_dropout_only_in_training():
    layer = FeedForward(filter_size=64, dropout=0.5)
    x = np.ones((2, 3, 4), "float32")
    np.testing.assert_array_equal(np.array(layer(x)), np.array(layer(x, training=False)))
    assert not np.allclose(np.array(layer(x, training=True)), np.array(layer(x)))


@pytest.mark.parametrize("filter_size", [0, -3, 2.5, None, "64"])
def test_invalid_filter_size(filter_size):
    with pytest.raises(ValueError, match=f"Received: filter_size={filter_size}"):
        FeedForward(filter_size=filter_size)


def test_invalid_dropout():
    with pytest.raises(ValueError, match="Received: dropout=1.0"):
        FeedForward(filter_size=4, dropout=1.0)
