"""Tests for `t2t_multimodel.decoding.beam_search` against table-driven fake models."""

import itertools

import numpy as np
import pytest
import tensorflow as tf
from decoding.decoding_fakes import EOS, A, B, C, hand_model, inputs, random_model

from t2t_multimodel.decoding import FullPrefixDecoder, beam_search, greedy_search


def penalty(length, alpha):
    return ((5.0 + length) / 6.0) ** alpha


def decode(model, tasks, beam_size=2, alpha=0.0, max_length=6, **kwargs):
    ids, scores = beam_search(model, {"inputs": inputs(*tasks)}, beam_size, alpha, max_length,
                              **kwargs)
    return ids.numpy(), scores.numpy()


def test_beats_greedy_when_its_first_step_is_a_trap():
    model = hand_model()
    ids, scores = decode(model, [0], beam_size=2)
    np.testing.assert_array_equal(ids, [[B, EOS, 0, 0, 0, 0]])  # Padding after EOS.
    np.testing.assert_allclose(scores, [np.log(0.36)], atol=1e-4)
    np.testing.assert_allclose(scores, [model.path_log_prob(0, [B, EOS])], atol=1e-5)
    greedy_ids, greedy_scores = greedy_search(model, {"inputs": inputs(0)}, max_length=6)
    np.testing.assert_array_equal(greedy_ids.numpy(), [[A, A, EOS, 0, 0, 0]])
    assert scores[0] > greedy_scores.numpy()[0] + 0.5


@pytest.mark.parametrize("tasks", [[0], [1], [2], [0, 1, 2]])
def test_beam_size_one_equals_greedy(tasks):
    model = hand_model()
    ids, scores = decode(model, tasks, beam_size=1, alpha=0.0, max_length=6)
    greedy_ids, greedy_scores = greedy_search(model, {"inputs": inputs(*tasks)}, max_length=6)
    np.testing.assert_array_equal(ids, greedy_ids.numpy())
    np.testing.assert_allclose(scores, greedy_scores.numpy(), atol=1e-5)


@pytest.mark.parametrize("alpha, expected_path", [
    (0.0, [A, EOS]),
    (1.0, [A, EOS]),
    (2.0, [B, B, B, EOS]),
])
def test_length_penalty_picks_the_winner(alpha, expected_path):
    # A EOS: 0.4 * 0.9; B B B EOS: 0.5 * 0.8**3. By hand:
    #   alpha 0: log 0.36 = -1.022 > log 0.256 = -1.363
    #   alpha 1: -1.022 / (7/6) = -0.876 > -1.363 / (9/6) = -0.908
    #   alpha 2: -1.022 / (7/6)**2 = -0.751 < -1.363 / (9/6)**2 = -0.606
    model = hand_model()
    short = model.path_log_prob(1, [A, EOS]) / penalty(2, alpha)
    long = model.path_log_prob(1, [B, B, B, EOS]) / penalty(4, alpha)
    assert (short > long) == (len(expected_path) == 2)
    ids, scores = decode(model, [1], beam_size=2, alpha=alpha, max_length=6)
    np.testing.assert_array_equal(ids[0], expected_path + [0] * (6 - len(expected_path)))
    np.testing.assert_allclose(scores, [max(short, long)], atol=1e-5)


def test_return_beams_gives_k_sorted_hypotheses():
    model = hand_model()
    ids, scores = decode(model, [0, 1], beam_size=2, max_length=6, return_beams=True)
    assert ids.shape == (2, 2, 6) and scores.shape == (2, 2)
    np.testing.assert_array_equal(ids[0], [[B, EOS, 0, 0, 0, 0], [A, A, EOS, 0, 0, 0]])
    np.testing.assert_allclose(scores[0], [np.log(0.36), np.log(0.18)], atol=1e-4)
    np.testing.assert_array_equal(ids[1], [[A, EOS, 0, 0, 0, 0], [B, B, B, EOS, 0, 0]])
    np.testing.assert_allclose(scores[1], [np.log(0.36), np.log(0.256)], atol=1e-4)
    best_ids, best_scores = decode(model, [0, 1], beam_size=2, max_length=6)
    np.testing.assert_array_equal(best_ids, ids[:, 0])
    np.testing.assert_allclose(best_scores, scores[:, 0])


def test_batch_decodes_each_example_independently():
    model = hand_model()
    ids, scores = decode(model, [0, 1, 2, 1], beam_size=3, alpha=2.0, max_length=5)
    np.testing.assert_array_equal(ids, [
        [B, EOS, 0, 0, 0],
        [B, B, B, EOS, 0],
        [C, C, C, C, C],
        [B, B, B, EOS, 0],
    ])
    for row, task in enumerate([0, 1, 2, 1]):
        single_ids, single_scores = decode(model, [task], beam_size=3, alpha=2.0, max_length=5)
        np.testing.assert_array_equal(ids[row], single_ids[0])
        np.testing.assert_allclose(scores[row], single_scores[0], atol=1e-6)


def test_respects_max_length_and_keeps_unfinished_hypotheses():
    # Every finished hypothesis holds a 1e-6 EOS; the cut C C C (0.9**3) is far better.
    ids, scores = decode(hand_model(), [2], beam_size=2, alpha=0.6, max_length=3)
    assert ids.shape == (1, 3)
    np.testing.assert_array_equal(ids, [[C, C, C]])
    np.testing.assert_allclose(scores, [3 * np.log(0.9) / penalty(3, 0.6)], atol=1e-4)


def test_large_beam_with_small_vocabulary():
    # 2K = 10 candidates per step out of K * V = 25: the dead beams of the first step
    # must not turn into hypotheses.
    ids, scores = decode(hand_model(), [0, 1], beam_size=5, max_length=6, return_beams=True)
    np.testing.assert_array_equal(ids[:, 0], [[B, EOS, 0, 0, 0, 0], [A, EOS, 0, 0, 0, 0]])
    assert np.all(np.diff(scores, axis=1) <= 0)
    assert np.all(scores > -30.0)


def test_cached_step_matches_full_prefix():
    model = random_model()
    features = {"inputs": inputs(0, 1, 2)}
    args = dict(beam_size=3, alpha=0.6, max_length=8, return_beams=True)
    ids, scores = beam_search(model, features, **args)
    full_ids, full_scores = beam_search(FullPrefixDecoder(model), features, **args)
    np.testing.assert_array_equal(ids.numpy(), full_ids.numpy())
    np.testing.assert_allclose(scores.numpy(), full_scores.numpy(), atol=1e-5)
    for row in range(3):
        for beam in range(3):
            path = [int(t) for t in ids[row, beam].numpy()]
            length = path.index(EOS) + 1 if EOS in path else len(path)
            np.testing.assert_allclose(
                scores[row, beam].numpy(),
                model.path_log_prob(row, path) / penalty(length, 0.6), atol=1e-4)


class CountingModel:
    """Counts the `step` calls (eagerly, `tf.while_loop` runs its body in Python)."""

    def __init__(self, model):
        self.model, self.steps = model, 0

    def encode(self, features):
        return self.model.encode(features)

    def initial_cache(self, encoded, max_length):
        return self.model.initial_cache(encoded, max_length)

    def step(self, ids, index, cache, encoded):
        self.steps += 1
        return self.model.step(ids, index, cache, encoded)


def test_stops_early_once_no_alive_beam_can_win():
    # After 2 steps B EOS (0.36) is finished and the best alive A A has 0.2.
    model = CountingModel(hand_model())
    ids, _ = decode(model, [0], beam_size=2, alpha=0.0, max_length=50)
    assert model.steps == 2
    np.testing.assert_array_equal(ids[0, :3], [B, EOS, 0])
    # With all beams returned, A A EOS (0.18) must finish too: 3 steps.
    model = CountingModel(hand_model())
    decode(model, [0], beam_size=2, alpha=0.0, max_length=50, return_beams=True)
    assert model.steps == 3
    model = CountingModel(hand_model())
    greedy_search(model, {"inputs": inputs(0, 1)}, max_length=50)
    assert model.steps == 4


@pytest.mark.parametrize("seed", [0, 1])
def test_large_beam_finds_the_exact_best_hypothesis(seed):
    # V=4, L=4: K=27 keeps every alive prefix, so the search is exhaustive.
    model = random_model(seed=seed, num_tasks=2, vocab_size=4, prefix_weight=1.0)
    for alpha, task in itertools.product([0.0, 0.6, 2.0], [0, 1]):
        best_score, best_path = -np.inf, None
        for length in range(1, 5):
            for path in itertools.product(range(4), repeat=length):
                if EOS in path[:-1] or (path[-1] != EOS and length < 4):
                    continue
                score = model.path_log_prob(task, list(path)) / penalty(length, alpha)
                if score > best_score:
                    best_score, best_path = score, list(path)
        ids, scores = decode(model, [task], beam_size=27, alpha=alpha, max_length=4)
        np.testing.assert_array_equal(ids[0], best_path + [0] * (4 - len(best_path)))
        np.testing.assert_allclose(scores[0], best_score, atol=1e-4)


CASES = [  # (tasks, beam_size, alpha, max_length)
    ((0,), 1, 0.0, 6),
    ((0, 1), 2, 0.0, 6),
    ((1, 2, 0), 2, 2.0, 6),
    ((1,), 3, 1.0, 4),
    ((2, 0), 4, 0.6, 2),
]


class Decoder(tf.Module):
    """What an export wraps: decoding with every search parameter as an input."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    @tf.function(input_signature=[
        tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([], tf.int32),
        tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.int32)])
    def beam(self, inputs, beam_size, alpha, max_length):
        ids, scores = beam_search(self.model, {"inputs": inputs}, beam_size, alpha, max_length)
        return {"ids": ids, "scores": scores}

    @tf.function(input_signature=[
        tf.TensorSpec([None, None], tf.int32), tf.TensorSpec([], tf.int32)])
    def greedy(self, inputs, max_length):
        ids, scores = greedy_search(self.model, {"inputs": inputs}, max_length)
        return {"ids": ids, "scores": scores}


def run_cases(decoder):
    for tasks, beam_size, alpha, max_length in CASES:
        outputs = decoder.beam(inputs(*tasks), tf.constant(beam_size), tf.constant(alpha),
                               tf.constant(max_length))
        ids, scores = decode(hand_model(), tasks, beam_size, alpha, max_length)
        np.testing.assert_array_equal(outputs["ids"].numpy(), ids)
        np.testing.assert_allclose(outputs["scores"].numpy(), scores, atol=1e-6)
    outputs = decoder.greedy(inputs(0, 1), tf.constant(6))
    np.testing.assert_array_equal(outputs["ids"].numpy(),
                                  [[A, A, EOS, 0, 0, 0], [B, B, B, EOS, 0, 0]])


def test_tensor_beam_size_alpha_and_max_length_in_tf_function():
    decoder = Decoder(hand_model())
    run_cases(decoder)
    assert len(decoder.beam._list_all_concrete_functions()) == 1


def test_saved_model_round_trip(tmp_path):
    decoder = Decoder(hand_model())
    tf.saved_model.save(decoder, str(tmp_path), signatures={
        "decode": decoder.beam, "greedy": decoder.greedy})
    loaded = tf.saved_model.load(str(tmp_path))
    run_cases(loaded)
    outputs = loaded.signatures["decode"](
        inputs=inputs(0), beam_size=tf.constant(2), alpha=tf.constant(0.0),
        max_length=tf.constant(6))
    np.testing.assert_array_equal(outputs["ids"].numpy(), [[B, EOS, 0, 0, 0, 0]])


@pytest.mark.parametrize("name, value", [
    ("beam_size", 0), ("beam_size", -1), ("beam_size", 1.5),
    ("max_length", 0), ("max_length", None),
])
def test_rejects_invalid_arguments(name, value):
    args = dict(beam_size=2, alpha=0.6, max_length=5)
    args[name] = value
    with pytest.raises(ValueError, match=rf"Received: {name}={value!r}$"):
        beam_search(hand_model(), {"inputs": inputs(0)}, **args)


def test_rejects_invalid_tensor_beam_size():
    with pytest.raises(tf.errors.InvalidArgumentError, match="beam_size"):
        beam_search(hand_model(), {"inputs": inputs(0)}, tf.constant(0), 0.6, 5)


def test_transformer_cached_decoding_matches_full_prefix():
    """Integration: the real Transformer's `step` against re-running it on the prefix."""
    transformer = pytest.importorskip("t2t_multimodel.models.transformer")
    hparams_sets = pytest.importorskip("t2t_multimodel.hparams.transformer")
    tf.keras.utils.set_random_seed(0)
    hparams = hparams_sets.transformer_tiny()
    hparams.hidden_size, hparams.filter_size = 32, 64
    problem = {"modality": {"inputs": "symbol", "targets": "symbol"},
               "vocab_size": {"inputs": 12, "targets": 12}}
    model = transformer.Transformer(hparams, problem)
    features = {"inputs": tf.constant([[4, 5, 6, 1, 0], [7, 3, 1, 0, 0]], tf.int32)}
    model(dict(features, targets=tf.zeros([2, 3], tf.int32)))  # Builds the model.
    for search in [lambda m: greedy_search(m, features, 6),
                   lambda m: beam_search(m, features, 3, 0.6, 6, return_beams=True)]:
        ids, scores = search(model)
        full_ids, full_scores = search(FullPrefixDecoder(model))
        np.testing.assert_array_equal(ids.numpy(), full_ids.numpy())
        np.testing.assert_allclose(scores.numpy(), full_scores.numpy(), atol=1e-4)
