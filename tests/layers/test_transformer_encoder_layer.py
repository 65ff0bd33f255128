import numpy as np
import pytest
from layer_harness import run_layer_test

from t2t_multimodel.layers.transformer_encoder_layer import TransformerEncoderLayer

RNG = np.random.default_rng(0)
KWARGS = {"num_heads": 2, "filter_size": 16, "dropout": 0.1, "attention_dropout": 0.1,
          "relu_dropout": 0.1, "layer_norm_epsilon": 1e-5}


def test_layer_harness():
    run_layer_test(TransformerEncoderLayer, KWARGS,
                   RNG.normal(size=(2, 5, 8)).astype("float32"),
                   expected_output_shape=(2, 5, 8), expected_num_trainable_weights=12)


def test_layer_harness_with_padding_mask():
    run_layer_test(TransformerEncoderLayer, KWARGS,
                   {"inputs": RNG.normal(size=(2, 5, 8)).astype("float32"),
                    "padding_mask": np.array([[1, 1, 1, 0, 0], [1] * 5], "float32")},
                   expected_output_shape=(2, 5, 8))


def test_pad_positions_do_not_change_real_outputs():
    layer = TransformerEncoderLayer(num_heads=2, filter_size=16)
    x = RNG.normal(size=(1, 5, 8)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0]], "float32")
    out = np.array(layer(x, padding_mask=mask))
    changed = x.copy()
    changed[:, 3:] = RNG.normal(size=(1, 2, 8))
    np.testing.assert_allclose(np.array(layer(changed, padding_mask=mask))[:, :3],
                               out[:, :3], atol=1e-5)
    # Equal to running on the unpadded prefix alone.
    np.testing.assert_allclose(np.array(layer(x[:, :3]))[:, :3], out[:, :3], atol=1e-5)


def test_pre_norm_residual_is_identity_when_sublayers_output_zero():
    layer = TransformerEncoderLayer(num_heads=2, filter_size=4)
    x = RNG.normal(size=(1, 3, 8)).astype("float32")
    layer(x)
    for sublayer in (layer._self_attention._output_dense, layer._feed_forward._output_dense):
        sublayer.set_weights([np.zeros_like(w) for w in sublayer.get_weights()])
    np.testing.assert_allclose(np.array(layer(x)), x, atol=1e-6)


def test_depth_must_divide_into_heads():
    with pytest.raises(ValueError, match="Received: input depth=7, num_heads=2"):
        TransformerEncoderLayer(num_heads=2, filter_size=4)(np.zeros((1, 2, 7), "float32"))


@pytest.mark.parametrize("kwargs, message", [
    ({"num_heads": 0, "filter_size": 4}, "Received: num_heads=0"),
    ({"num_heads": 2, "filter_size": "4"}, "Received: filter_size=4"),
    ({"num_heads": 2, "filter_size": 4, "attention_dropout": 1.5},
     "Received: attention_dropout=1.5"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TransformerEncoderLayer(**kwargs)
