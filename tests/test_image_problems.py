"""ImageProblem: PNG shards in T2T's format, pixel-exact read-back, image batching."""

import os

import numpy as np
import pytest
import tensorflow as tf

from t2t_multimodel import image_problems, metrics, problem
from t2t_multimodel.data import shards
from t2t_multimodel.errors import DataError
from t2t_multimodel.problem import default_model_hparams

NUM_TRAIN, NUM_DEV = 25, 7


def _image(i):
    """A distinct 4x4x3 image per index."""
    return ((np.arange(48, dtype=np.int64) * 5 + i * 11) % 256).astype(np.uint8).reshape(4, 4, 3)


def _samples(split):
    indices = range(NUM_TRAIN) if split == problem.DatasetSplit.TRAIN else range(
        NUM_TRAIN, NUM_TRAIN + NUM_DEV)
    return [{"image": _image(i), "label": i % 3} for i in indices]


class TinyImages(image_problems.ImageProblem):
    REGISTERED_NAME = "tiny_images_for_test"
    num_classes = 3
    class_labels = ["red", "green", "blue"]
    dataset_splits = [{"split": problem.DatasetSplit.TRAIN, "shards": 2},
                      {"split": problem.DatasetSplit.EVAL, "shards": 1}]
    tokens_per_example = 16

    def __init__(self, samples=_samples, calls=None):
        super().__init__()
        self._samples = samples
        self._calls = calls

    def generate_samples(self, data_dir, tmp_dir, split):
        if self._calls is not None:
            self._calls.append(split)
        yield from self._samples(split)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("images"))
    p = TinyImages()
    p.generate_data(data_dir, None)
    return p, data_dir


def _hparams(batch_size):
    hparams = default_model_hparams()
    hparams.batch_size = batch_size
    return hparams


def test_shards_use_t2t_image_features(generated):
    p, data_dir = generated
    files = shards.find_shards(data_dir, p.dataset_filename(), "train")
    assert [os.path.basename(f) for f in files] == [
        "tiny_images_for_test-train-00000-of-00002", "tiny_images_for_test-train-00001-of-00002"]
    record = next(iter(tf.data.TFRecordDataset(files[0])))
    feature = tf.train.Example.FromString(record.numpy()).features.feature
    assert set(feature) == {"image/encoded", "image/format", "image/class/label",
                            "image/height", "image/width"}
    assert feature["image/format"].bytes_list.value == [b"png"]
    assert feature["image/encoded"].bytes_list.value[0][:8] == b"\x89PNG\r\n\x1a\n"
    assert feature["image/class/label"].int64_list.value == [0]
    assert (feature["image/height"].int64_list.value, feature["image/width"].int64_list.value) \
        == ([4], [4])
    decoded = tf.io.decode_png(feature["image/encoded"].bytes_list.value[0]).numpy()
    np.testing.assert_array_equal(decoded, _image(0))


def test_dataset_reads_back_pixel_exact_images_and_labels(generated):
    p, data_dir = generated
    examples = list(p.dataset("eval", data_dir, _hparams(160), batch=False).as_numpy_iterator())
    assert len(examples) == NUM_DEV
    for i, ex in zip(range(NUM_TRAIN, NUM_TRAIN + NUM_DEV), examples, strict=True):
        assert ex["inputs"].dtype == np.uint8 and ex["inputs"].shape == (4, 4, 3)
        np.testing.assert_array_equal(ex["inputs"], _image(i))
        assert ex["targets"].tolist() == [i % 3]
        assert ex["target_space_id"] == problem.SpaceID.IMAGE_LABEL
    train = list(p.dataset("train", data_dir, _hparams(160), batch=False, repeat=False)
                 .as_numpy_iterator())
    assert sorted(ex["inputs"].tobytes() for ex in train) == sorted(
        _image(i).tobytes() for i in range(NUM_TRAIN))


def test_batches_hold_batch_size_over_tokens_per_example(generated):
    p, data_dir = generated
    train = p.dataset("train", data_dir, _hparams(160))
    for batch in train.take(6):  # repeats; a partial batch is dropped in training
        assert batch["inputs"].shape == (10, 4, 4, 3) and batch["inputs"].dtype == tf.uint8
        assert batch["targets"].shape == (10, 1) and batch["targets"].dtype == tf.int32
    evals = [b["inputs"].shape[0] for b in p.dataset("eval", data_dir, _hparams(64))]
    assert evals == [4, 3]  # 64 // 16 = 4; eval keeps the last partial batch
    tiny = [b["inputs"].shape[0] for b in p.dataset("eval", data_dir, _hparams(8))]
    assert tiny == [1] * NUM_DEV  # never fewer than one image


def test_problem_hparams_encoders_and_metrics(generated):
    p, data_dir = generated
    hp = p.get_hparams(data_dir=data_dir)
    assert hp.modality == {"inputs": "image", "targets": "class_label"}
    assert hp.vocab_size == {"inputs": 256, "targets": 3}
    assert (hp.input_space_id, hp.target_space_id) == (25, 1)
    assert (problem.SpaceID.IMAGE, problem.SpaceID.IMAGE_LABEL) == (25, 1)
    encoders = p.get_feature_encoders(data_dir)
    assert not hasattr(encoders["inputs"], "encode_tf")
    assert encoders["inputs"].vocab_size == 256
    assert encoders["targets"].decode([2]) == "blue" and encoders["targets"].encode("red") == 0
    assert p.eval_metrics() == [metrics.Metrics.ACC, metrics.Metrics.ACC_TOP5]
    assert p.has_inputs and not p.batch_size_means_tokens


def test_existing_splits_are_skipped_and_crashes_leave_no_shard(tmp_path):
    calls = []
    p = TinyImages(calls=calls)
    p.generate_data(str(tmp_path), None)
    before = {f: os.path.getmtime(tmp_path / f) for f in os.listdir(tmp_path)}
    p.generate_data(str(tmp_path), None)
    assert calls == ["train", "eval"]
    assert {f: os.path.getmtime(tmp_path / f) for f in os.listdir(tmp_path)} == before

    def crashing(split):
        yield from _samples(split)[:5]
        raise RuntimeError("source read failed")

    crash_dir = tmp_path / "crash"
    with pytest.raises(RuntimeError, match="source read failed"):
        TinyImages(samples=crashing).generate_data(str(crash_dir), None)
    assert os.listdir(crash_dir) == []


@pytest.mark.parametrize("sample,message", [
    ({"image": _image(0).astype(np.float32), "label": 0}, "uint8 numpy 'image'"),
    ({"image": _image(0)[..., 0], "label": 0}, "uint8 numpy 'image'"),
    ({"image": _image(0)[..., :1], "label": 0}, "have 3 channels"),
    ({"image": np.zeros([5, 4, 3], np.uint8), "label": 0}, "must have one shape"),
    ({"image": _image(0), "label": 3}, r"'label' in \[0, 3\)"),
    ({"image": _image(0), "label": True}, r"'label' in \[0, 3\)"),
    ({"image": _image(0), "label": "1"}, r"'label' in \[0, 3\)"),
])
def test_bad_samples_are_clear_errors(sample, message, tmp_path):
    p = TinyImages(samples=lambda split: [{"image": _image(1), "label": 1}, sample])
    with pytest.raises(DataError, match=message):
        p.generate_data(str(tmp_path), None)
    assert os.listdir(tmp_path) == []


def test_numpy_integer_labels_are_accepted(tmp_path):
    p = TinyImages(samples=lambda split: [{"image": _image(1), "label": np.int64(2)}])
    p.generate_data(str(tmp_path), None)
    ex = next(iter(p.dataset("eval", str(tmp_path), batch=False)))
    assert ex["targets"].numpy().tolist() == [2]


def test_image_encoder_round_trip_and_errors():
    encoder = image_problems.ImageEncoder(height=4, width=4, channels=3)
    ids = encoder.encode(_image(5))
    assert len(ids) == 48 and ids[:2] == [55, 60]
    np.testing.assert_array_equal(tf.io.decode_png(encoder.decode(ids)).numpy(), _image(5))
    with pytest.raises(ValueError, match="decode takes 48 pixel values"):
        encoder.decode(ids[:-1])
    with pytest.raises(ValueError, match="max=256"):
        encoder.decode([256] + ids[1:])
    with pytest.raises(ValueError, match="Received: channels=5"):
        image_problems.ImageEncoder(channels=5)


class SizedImages(image_problems.ImageProblem):
    num_classes = 2
    image_size = 6


@pytest.mark.parametrize("fit", ["crop", "pad"])
def test_serving_resizes_other_sizes_and_composites_alpha_on_white(fit):
    p = SizedImages()
    p.image_fit = fit
    exact = _image(1)[:3, :3].repeat(2, axis=0).repeat(2, axis=1)  # 6x6
    wide = np.full([8, 16, 3], 200, np.uint8)
    transparent = np.zeros([6, 6, 4], np.uint8)  # fully transparent black
    files = [tf.io.encode_png(exact), tf.io.encode_jpeg(wide, quality=100),
             tf.io.encode_png(transparent)]
    images, _ = p.serving_inputs(tf.stack(files))
    images = images.numpy()
    assert images.shape == (3, 6, 6, 3) and images.dtype == np.uint8
    np.testing.assert_array_equal(images[0], exact)  # the right size: pixels kept
    if fit == "crop":
        assert np.abs(images[1].astype(int) - 200).max() <= 2
    else:  # the 8x16 image fills 3 middle rows; the padding is white
        assert (images[1][0] == 255).all() and (images[1][-1] == 255).all()
        assert np.abs(images[1][2].astype(int) - 200).max() <= 2
    assert (images[2] == 255).all()
