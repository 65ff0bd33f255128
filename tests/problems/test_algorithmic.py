"""Algorithmic problems: T2T semantics, determinism, held-out dev, in-graph ids."""

import numpy as np
import pytest
import tensorflow as tf

from t2t_multimodel import registry
from t2t_multimodel.problems import algorithmic


def cases(name, n=200, max_length=None, min_length=1, seed=0):
    problem = registry.problem(name)
    rng = np.random.RandomState(seed)
    return problem, list(problem.generator(rng, max_length or problem.train_length,
                                           min_length, n))


def test_task_semantics():
    _, identity = cases("algorithmic_identity_decimal40")
    assert all(c["inputs"] == c["targets"] for c in identity)
    _, reverse = cases("algorithmic_reverse_binary40")
    assert all(c["targets"] == c["inputs"][::-1] for c in reverse)
    assert {s for c in reverse for s in c["inputs"]} == {0, 1}
    _, shift = cases("algorithmic_shift_decimal40")
    assert all(c["targets"] == [s + 10 for s in c["inputs"]] and max(c["inputs"]) < 10
               for c in shift)
    _, ordered = cases("algorithmic_sort_problem")
    assert all(c["targets"] == sorted(c["inputs"]) and len(set(c["inputs"])) == len(c["inputs"])
               for c in ordered)


@pytest.mark.parametrize("name,base", [("algorithmic_addition_binary40", 2),
                                       ("algorithmic_addition_decimal40", 10)])
def test_addition_is_little_endian_sum(name, base):
    problem, added = cases(name)
    plus = base
    for case in added:
        i = case["inputs"].index(plus)
        a, b = case["inputs"][:i], case["inputs"][i + 1:]
        value = lambda digits: sum(d * base ** k for k, d in enumerate(digits))  # noqa: E731
        assert value(case["targets"]) == value(a) + value(b)
        assert len(case["inputs"]) <= 40
    assert problem.vocab_list()[plus] == "+"


def test_lengths_follow_t2t():
    _, reverse = cases("algorithmic_reverse_binary40", n=2000)
    lengths = [len(c["inputs"]) for c in reverse]
    assert min(lengths) == 1 and max(lengths) == 40


def test_text_form_and_ids_match_t2t():
    problem = registry.problem("algorithmic_reverse_decimal40")
    encoder = problem.get_feature_encoders()["inputs"]
    assert encoder.encode("3 0 9") == [5, 2, 11]  # symbol + 2, as in T2T
    ids = encoder.encode_tf(tf.constant("3 0 9"))
    assert ids.numpy().tolist() == [5, 2, 11]
    assert encoder.decode_tf(tf.constant([[5, 2, 11, 1, 0]])).numpy()[0] == b"3 0 9"
    hparams = problem.get_hparams()
    assert hparams.vocab_size == {"inputs": 12, "targets": 12}
    assert (hparams.input_space_id, hparams.target_space_id) == (10, 11)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("algo"))

    class SmallReverse(algorithmic.AlgorithmicReverseBinary40):
        REGISTERED_NAME = "small_reverse_for_test"
        train_size = 3000
        dev_size = 200

    problem = SmallReverse()
    problem.generate_data(data_dir)
    return problem, data_dir


def read_texts(problem, data_dir, mode):
    return [(ex["inputs"].numpy().decode(), ex["targets"].numpy().decode())
            for ex in problem.decode_examples(mode, data_dir)]


def test_generation_is_deterministic_and_dev_is_held_out(generated, tmp_path):
    problem, data_dir = generated
    train = read_texts(problem, data_dir, "train")
    dev = read_texts(problem, data_dir, "eval")
    assert len(train) == 3000 and len(dev) == 200
    assert not {i for i, _ in dev} & {i for i, _ in train}
    assert all(10 <= len(i.split()) <= 40 for i, _ in dev)
    assert all(t == " ".join(i.split()[::-1]) for i, t in train)
    again = type(problem)()
    again.generate_data(str(tmp_path))
    assert read_texts(again, str(tmp_path), "eval") == dev


def test_dataset_batches_hold_ids_with_eos(generated):
    problem, data_dir = generated
    hparams = registry.hparams("transformer_tiny")().parse("batch_size=256,max_length=41")
    batch = next(iter(problem.dataset("train", data_dir, hparams)))
    inputs, targets = batch["inputs"].numpy(), batch["targets"].numpy()
    assert batch["target_space_id"].numpy().tolist() == [11] * len(inputs)
    for row_in, row_out in zip(inputs, targets, strict=True):
        real_in = row_in[row_in > 0].tolist()
        real_out = row_out[row_out > 0].tolist()
        assert real_in[-1] == 1 and real_out[-1] == 1  # EOS appended
        assert real_out[:-1] == real_in[:-1][::-1]
    assert inputs.shape[0] * max(inputs.shape[1], targets.shape[1]) <= 256 + 41


def test_missing_data_is_a_clear_error(tmp_path):
    from t2t_multimodel.errors import DataError

    problem = registry.problem("algorithmic_reverse_binary40")
    with pytest.raises(DataError, match="run t2t-datagen --problem=algorithmic_reverse_binary40"):
        problem.dataset("train", str(tmp_path))
