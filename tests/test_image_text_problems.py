"""Image2TextProblem: PNG + caption shards, captions-only vocabulary, padded batches, dev refs."""

import os

import numpy as np
import pytest
import tensorflow as tf

from t2t_multimodel import image_text_problems, problem
from t2t_multimodel.data import shards
from t2t_multimodel.errors import DataError
from t2t_multimodel.problem import default_model_hparams

WORDS = ["red", "green", "blue", "dark", "bright", "square", "stripe", "dot"]


def _image(i):
    return ((np.arange(48, dtype=np.int64) * 7 + i * 13) % 256).astype(np.uint8).reshape(4, 4, 3)


def _captions(i):
    """1-3 captions of 2-6 words per image."""
    rng = np.random.RandomState(i)
    return [" ".join(WORDS[w] for w in rng.randint(len(WORDS), size=rng.randint(2, 7)))
            for _ in range(1 + i % 3)]


def _samples(split):
    indices = range(12) if split == problem.DatasetSplit.TRAIN else range(12, 16)
    return [{"image": _image(i), "captions": _captions(i)} for i in indices]


class TinyCaptions(image_text_problems.Image2TextProblem):
    REGISTERED_NAME = "tiny_captions_for_test"
    approx_vocab_size = 300
    dataset_splits = [{"split": problem.DatasetSplit.TRAIN, "shards": 2},
                      {"split": problem.DatasetSplit.EVAL, "shards": 1}]
    tokens_per_example = 16

    def __init__(self, samples=_samples):
        super().__init__()
        self._samples = samples

    def generate_samples(self, data_dir, tmp_dir, split):
        yield from self._samples(split)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("captions"))
    p = TinyCaptions()
    p.generate_data(data_dir, None)
    return p, data_dir


def _records(data_dir, split):
    files = shards.find_shards(data_dir, "tiny_captions_for_test", split)
    return [tf.train.Example.FromString(r.numpy()).features.feature
            for r in tf.data.TFRecordDataset(files)]


def test_train_stores_one_example_per_caption_and_dev_one_per_image(generated):
    _, data_dir = generated
    train = _records(data_dir, "train")
    expected = sorted((_image(i).tobytes(), c) for i in range(12) for c in _captions(i))
    stored = sorted((tf.io.decode_png(f["image/encoded"].bytes_list.value[0]).numpy().tobytes(),
                     f["targets"].bytes_list.value[0].decode()) for f in train)
    assert stored == expected and len(stored) == sum(len(_captions(i)) for i in range(12))
    dev = _records(data_dir, "eval")
    assert len(dev) == 4
    for i, f in zip(range(12, 16), dev, strict=True):
        assert f["image/format"].bytes_list.value == [b"png"]
        assert f["image/encoded"].bytes_list.value[0][:4] == b"\x89PNG"
        assert (f["image/height"].int64_list.value, f["image/width"].int64_list.value) == (
            [4], [4])
        assert [c.decode() for c in f["image/captions"].bytes_list.value] == _captions(i)
        assert f["targets"].bytes_list.value[0].decode() == _captions(i)[0]


def test_vocabulary_is_learnt_from_train_captions_only(generated):
    p, data_dir = generated
    assert sorted(os.listdir(data_dir))[-1] == "vocab.tiny_captions_for_test.300.subwords"
    texts = list(p.generate_text_for_vocab(data_dir, None))
    assert sorted(texts) == sorted(c for i in range(12) for c in _captions(i))
    encoder = p.get_feature_encoders(data_dir)["targets"]
    for caption in _captions(3):
        assert encoder.decode(encoder.encode(caption)) == caption


def test_dataset_decodes_images_and_tokenizes_captions_in_padded_batches(generated):
    p, data_dir = generated
    encoder = p.get_feature_encoders(data_dir)["targets"]
    dev = list(p.dataset("eval", data_dir, batch=False).as_numpy_iterator())
    for i, ex in zip(range(12, 16), dev, strict=True):
        np.testing.assert_array_equal(ex["inputs"], _image(i))
        assert ex["targets"].tolist() == encoder.encode(_captions(i)[0]) + [1]  # EOS
        assert ex["target_space_id"] == problem.SpaceID.EN_TOK
    hparams = default_model_hparams()
    hparams.batch_size = 64  # 64 // 16 = 4 images a batch
    batch = next(iter(p.dataset("train", data_dir, hparams)))
    assert batch["inputs"].shape == (4, 4, 4, 3) and batch["inputs"].dtype == tf.uint8
    targets = batch["targets"].numpy()
    lengths = (targets != 0).sum(axis=1)
    assert targets.shape == (4, lengths.max())
    for row, length in zip(targets, lengths, strict=True):
        assert row[length - 1] == 1 and not row[length:].any()  # EOS, then padding


def test_hparams_serving_and_dev_pairs(generated):
    p, data_dir = generated
    hp = p.get_hparams(data_dir=data_dir)
    encoder = p.get_feature_encoders(data_dir)["targets"]
    assert hp.modality == {"inputs": "image", "targets": "symbol"}
    assert hp.vocab_size == {"inputs": 256, "targets": encoder.vocab_size}
    assert hp.vocab_name == {"targets": "vocab.tiny_captions_for_test.300.subwords"}
    assert (hp.input_space_id, hp.target_space_id) == (problem.SpaceID.IMAGE,
                                                       problem.SpaceID.EN_TOK)
    assert p.decode_metrics() == ["bleu"] and p.has_inputs
    pairs = [p.dev_pair(ex) for ex in p.decode_examples("eval", data_dir)]
    for i, (image_bytes, reference) in zip(range(12, 16), pairs, strict=True):
        np.testing.assert_array_equal(tf.io.decode_png(image_bytes).numpy(), _image(i))
        captions = _captions(i)
        assert reference == (captions if len(captions) > 1 else captions[0])
    images, length = p.serving_inputs(tf.constant([pairs[0][0], pairs[1][0]]))
    np.testing.assert_array_equal(images.numpy(), np.stack([_image(12), _image(13)]))
    assert int(length) == 1


def test_generation_is_skipped_when_done_and_a_clean_error_on_bad_captions(generated, tmp_path):
    p, data_dir = generated
    before = {f: os.path.getmtime(os.path.join(data_dir, f)) for f in os.listdir(data_dir)}
    p.generate_data(data_dir, None)
    assert {f: os.path.getmtime(os.path.join(data_dir, f)) for f in os.listdir(data_dir)} \
        == before
    for bad in ([], "a caption", ["ok", ""], [3]):
        bad_problem = TinyCaptions(lambda split, bad=bad: [{"image": _image(0), "captions": bad}])
        with pytest.raises(DataError, match="'captions', a non-empty list of non-empty str"):
            bad_problem.generate_data(str(tmp_path / "bad"), None)
        assert os.listdir(tmp_path / "bad") == []
    grey = TinyCaptions(lambda split: [{"image": _image(0)[..., :1], "captions": ["a"]}])
    with pytest.raises(DataError, match="have 3 channels"):
        grey.generate_data(str(tmp_path / "grey"), None)
