import numpy as np
import pytest
import tensorflow as tf
from layer_harness import run_layer_test

from t2t_multimodel.layers.transformer_decoder_layer import TransformerDecoderLayer

RNG = np.random.default_rng(0)
KWARGS = {"num_heads": 2, "filter_size": 16, "dropout": 0.1, "attention_dropout": 0.1,
          "relu_dropout": 0.1, "layer_norm_epsilon": 1e-5}


def _random(*shape):
    return RNG.normal(size=shape).astype("float32")


def test_layer_harness():
    run_layer_test(TransformerDecoderLayer, KWARGS,
                   {"decoder_sequence": _random(2, 4, 8), "encoder_sequence": _random(2, 6, 8),
                    "encoder_padding_mask": np.array([[1] * 4 + [0] * 2, [1] * 6], "float32")},
                   expected_output_shape=(2, 4, 8), expected_num_trainable_weights=18)


def test_layer_harness_with_cache():
    run_layer_test(TransformerDecoderLayer, KWARGS,
                   {"decoder_sequence": _random(2, 1, 8), "encoder_sequence": _random(2, 6, 8),
                    "self_attention_cache": np.zeros((2, 2, 2, 4, 4), "float32")},
                   expected_output_shape=((2, 1, 8), (2, 2, 2, 4, 4)),
                   call_kwargs={"self_attention_cache_update_index": 0},
                   run_training_check=False)


def test_causal():
    layer = TransformerDecoderLayer(num_heads=2, filter_size=16)
    x, memory = _random(1, 5, 8), _random(1, 3, 8)
    out = np.array(layer(x, memory))
    changed = x.copy()
    changed[:, 3] += 1.0
    new = np.array(layer(changed, memory))
    np.testing.assert_allclose(new[:, :3], out[:, :3], atol=1e-5)
    assert not np.allclose(new[:, 3], out[:, 3])


def test_encoder_padding_is_ignored():
    layer = TransformerDecoderLayer(num_heads=2, filter_size=16)
    x, memory = _random(1, 3, 8), _random(1, 5, 8)
    mask = np.array([[1, 1, 1, 0, 0]], "float32")
    out = np.array(layer(x, memory, encoder_padding_mask=mask))
    np.testing.assert_allclose(np.array(layer(x, memory[:, :3])), out, atol=1e-5)


def test_cached_steps_equal_full_pass():
    layer = TransformerDecoderLayer(num_heads=2, filter_size=16)
    length = 5
    x, memory = _random(2, length, 8), _random(2, 3, 8)
    full = np.array(layer(x, memory))
    cache = tf.zeros((2, 2, 2, length, 4))
    for i in range(length):
        out, cache = layer(x[:, i:i + 1], memory, self_attention_cache=cache,
                           self_attention_cache_update_index=i)
        np.testing.assert_allclose(np.array(out)[:, 0], full[:, i], atol=1e-5)
    # Two positions at once from index 3 also agree.
    out, _ = layer(x[:, 3:5], memory, self_attention_cache=cache,
                   self_attention_cache_update_index=3)
    np.testing.assert_allclose(np.array(out), full[:, 3:5], atol=1e-5)


def test_cache_needs_an_index():
    layer = TransformerDecoderLayer(num_heads=2, filter_size=4)
    with pytest.raises(ValueError, match="Received: self_attention_cache_update_index=None"):
        layer(_random(1, 1, 8), _random(1, 2, 8),
              self_attention_cache=np.zeros((1, 2, 2, 3, 4), "float32"))


@pytest.mark.parametrize("kwargs, message", [
    ({"num_heads": -1, "filter_size": 4}, "Received: num_heads=-1"),
    ({"num_heads": 2, "filter_size": 0}, "Received: filter_size=0"),
    ({"num_heads": 2, "filter_size": 4, "relu_dropout": 1.0}, "Received: relu_dropout=1.0"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TransformerDecoderLayer(**kwargs)
