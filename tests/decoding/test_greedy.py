"""Tests for `t2t_multimodel.decoding.greedy_search` against table-driven fake models."""

import numpy as np
import pytest
import tensorflow as tf
from decoding.decoding_fakes import EOS, A, B, C, hand_model, inputs, random_model

from t2t_multimodel.decoding import FullPrefixDecoder, greedy_search


def test_returns_the_argmax_path_and_its_log_prob():
    model = hand_model()
    ids, scores = greedy_search(model, {"inputs": inputs(1)}, max_length=6)
    np.testing.assert_array_equal(ids.numpy(), [[B, B, B, EOS, 0, 0]])
    assert ids.dtype == tf.int32 and scores.dtype == tf.float32
    np.testing.assert_allclose(scores.numpy(), [np.log(0.256)], atol=1e-4)
    np.testing.assert_allclose(scores.numpy(), [model.path_log_prob(1, [B, B, B, EOS])],
                               atol=1e-5)


def test_falls_into_the_trap():
    ids, scores = greedy_search(hand_model(), {"inputs": inputs(0)}, max_length=5)
    np.testing.assert_array_equal(ids.numpy(), [[A, A, EOS, 0, 0]])
    np.testing.assert_allclose(scores.numpy(), [np.log(0.18)], atol=1e-4)


def test_batch_decodes_each_example_independently():
    model = hand_model()
    ids, scores = greedy_search(model, {"inputs": inputs(0, 1, 2, 0)}, max_length=6)
    # Example 0 finishes first: it emits padding at no cost while the others go on.
    np.testing.assert_array_equal(ids.numpy(), [
        [A, A, EOS, 0, 0, 0],
        [B, B, B, EOS, 0, 0],
        [C, C, C, C, C, C],
        [A, A, EOS, 0, 0, 0],
    ])
    for row, task in enumerate([0, 1, 2, 0]):
        single_ids, single_scores = greedy_search(
            model, {"inputs": inputs(task)}, max_length=6)
        np.testing.assert_array_equal(ids[row].numpy(), single_ids[0].numpy())
        np.testing.assert_allclose(scores[row].numpy(), single_scores[0].numpy(), atol=1e-6)


def test_respects_max_length():
    ids, scores = greedy_search(hand_model(), {"inputs": inputs(2)}, max_length=3)
    assert ids.shape == (1, 3)
    np.testing.assert_array_equal(ids.numpy(), [[C, C, C]])
    np.testing.assert_allclose(scores.numpy(), [3 * np.log(0.9)], atol=1e-4)


def test_max_length_one():
    ids, _ = greedy_search(hand_model(), {"inputs": inputs(0, 1)}, max_length=1)
    np.testing.assert_array_equal(ids.numpy(), [[A], [B]])


def test_tensor_max_length_and_dynamic_batch_in_tf_function():
    model = hand_model()

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32),
                                  tf.TensorSpec([], tf.int32)])
    def decode(inputs, max_length):
        return greedy_search(model, {"inputs": inputs}, max_length)

    for tasks, max_length in [((0, 1), 6), ((2,), 3), ((1, 2, 0), 2)]:
        ids, scores = decode(inputs(*tasks), tf.constant(max_length))
        expected_ids, expected_scores = greedy_search(
            model, {"inputs": inputs(*tasks)}, max_length)
        np.testing.assert_array_equal(ids.numpy(), expected_ids.numpy())
        np.testing.assert_allclose(scores.numpy(), expected_scores.numpy(), atol=1e-6)
    assert len(decode._list_all_concrete_functions()) == 1


def test_cached_step_matches_full_prefix():
    model = random_model()
    features = {"inputs": inputs(0, 1, 2)}
    ids, scores = greedy_search(model, features, max_length=8)
    full_ids, full_scores = greedy_search(FullPrefixDecoder(model), features, max_length=8)
    np.testing.assert_array_equal(ids.numpy(), full_ids.numpy())
    np.testing.assert_allclose(scores.numpy(), full_scores.numpy(), atol=1e-5)
    for row in range(3):  # The prefix term matters: the path is not the table's argmax path.
        path = [int(t) for t in ids[row].numpy()]
        np.testing.assert_allclose(scores[row].numpy(), model.path_log_prob(row, path),
                                   atol=1e-4)


@pytest.mark.parametrize("max_length", [0, -2, 2.5, True, None])
def test_rejects_invalid_max_length(max_length):
    with pytest.raises(ValueError, match=rf"Received: max_length={max_length!r}$"):
        greedy_search(hand_model(), {"inputs": inputs(0)}, max_length=max_length)
