import numpy as np
import pytest
import tensorflow as tf
from layer_harness import run_layer_test

from t2t_multimodel.layers.cached_multi_head_attention import CachedMultiHeadAttention

RNG = np.random.default_rng(0)


def _random(*shape):
    return RNG.normal(size=shape).astype("float32")


def test_layer_harness():
    run_layer_test(CachedMultiHeadAttention, {"num_heads": 2, "key_dim": 3, "dropout": 0.1},
                   {"query": _random(2, 4, 6), "value": _random(2, 5, 8)},
                   expected_output_shape=(2, 4, 6), expected_num_trainable_weights=4)


def test_layer_harness_with_cache():
    out = run_layer_test(
        CachedMultiHeadAttention, {"num_heads": 2, "key_dim": 3},
        {"query": _random(2, 1, 6), "value": _random(2, 1, 6),
         "cache": np.zeros((2, 2, 2, 5, 3), "float32")},
        expected_output_shape=((2, 1, 6), (2, 2, 2, 5, 3)),
        call_kwargs={"cache_update_index": 2}, run_training_check=False)
    cache = np.array(out[1])
    assert np.abs(cache[:, :, :, 2]).sum() > 0
    np.testing.assert_array_equal(np.delete(cache, 2, axis=3), 0.0)


def test_masked_keys_are_ignored():
    layer = CachedMultiHeadAttention(num_heads=2, key_dim=4)
    query, value = _random(2, 3, 8), _random(2, 5, 8)
    mask = np.array([[True] * 3 + [False] * 2, [True] * 5])[:, None, :]
    out = np.array(layer(query, value, attention_mask=mask))
    changed = value.copy()
    changed[0, 3:] = 100.0
    np.testing.assert_allclose(np.array(layer(query, changed, attention_mask=mask))[0], out[0],
                               atol=1e-5)
    # Without the mask the change is seen.
    assert not np.allclose(np.array(layer(query, changed))[0], np.array(layer(query, value))[0])


def test_cached_steps_equal_causal_full_pass():
    layer = CachedMultiHeadAttention(num_heads=2, key_dim=4)
    length = 5
    x = _random(2, length, 8)
    causal = np.tril(np.ones((length, length), bool))
    full = np.array(layer(x, x, attention_mask=causal))
    cache = tf.zeros((2, 2, 2, length, 4))
    for i in range(length):
        mask = np.arange(length)[None, :] <= i
        out, cache = layer(x[:, i:i + 1], x[:, i:i + 1], attention_mask=mask, cache=cache,
                           cache_update_index=i)
        np.testing.assert_allclose(np.array(out)[:, 0], full[:, i], atol=1e-5)


def test_cache_is_a_while_loop_variable_with_dynamic_batch():
    layer = CachedMultiHeadAttention(num_heads=2, key_dim=4)
    length = 4
    x = _random(3, length, 8)
    full = np.array(layer(x, x, attention_mask=np.tril(np.ones((length, length), bool))))

    @tf.function(input_signature=[tf.TensorSpec([None, length, 8], tf.float32)])
    def loop(x):
        cache = tf.zeros([tf.shape(x)[0], 2, 2, length, 4])
        outputs = tf.TensorArray(tf.float32, size=length)

        def body(i, cache, outputs):
            step = x[:, i:i + 1]
            out, cache = layer(step, step, attention_mask=tf.range(length)[None, :] <= i,
                               cache=cache, cache_update_index=i)
            return i + 1, cache, outputs.write(i, out[:, 0])

        _, _, outputs = tf.while_loop(lambda i, *_: i < length, body,
                                      [tf.constant(0), cache, outputs])
        return tf.transpose(outputs.stack(), [1, 0, 2])

    np.testing.assert_allclose(np.array(loop(x)), full, atol=1e-5)


@pytest.mark.parametrize("kwargs, message", [
    ({"num_heads": 0, "key_dim": 2}, "Received: num_heads=0"),
    ({"num_heads": 2, "key_dim": 1.5}, "Received: key_dim=1.5"),
    ({"num_heads": 2, "key_dim": 2, "dropout": -0.1}, "Received: dropout=-0.1"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        CachedMultiHeadAttention(**kwargs)
