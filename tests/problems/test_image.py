"""Image problems: scikit-learn digits (real data) and Fashion-MNIST (IDX format fixtures)."""

import filecmp
import gzip
import os
import struct

import numpy as np
import pytest

from t2t_multimodel import registry
from t2t_multimodel.errors import DataError
from t2t_multimodel.problem import default_model_hparams
from t2t_multimodel.problems import image


def _examples(p, data_dir, mode):
    ds = p.dataset(mode, data_dir, batch=False, repeat=False, shuffle_files=False)
    return list(ds.as_numpy_iterator())


# ---- image_digits ---------------------------------------------------------
@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    pytest.importorskip("sklearn")
    data_dir = str(tmp_path_factory.mktemp("digits"))
    p = registry.problem("image_digits")
    p.generate_data(data_dir, None)
    return p, data_dir


def test_digits_counts_shapes_labels_and_held_out_dev(digits):
    p, data_dir = digits
    train, dev = _examples(p, data_dir, "train"), _examples(p, data_dir, "eval")
    assert (len(train), len(dev)) == (1497, 300)
    for ex in train + dev:
        assert ex["inputs"].shape == (8, 8, 1) and ex["inputs"].dtype == np.uint8
        assert ex["targets"].shape == (1,) and 0 <= ex["targets"][0] <= 9
    assert {int(ex["targets"][0]) for ex in dev} == set(range(10))
    train_bytes = {ex["inputs"].tobytes() for ex in train}
    dev_bytes = {ex["inputs"].tobytes() for ex in dev}
    assert len(train_bytes) == 1497 and len(dev_bytes) == 300 and not train_bytes & dev_bytes
    pixels = np.stack([ex["inputs"] for ex in train])
    assert (pixels.min(), pixels.max()) == (0, 255)  # 0..16 scaled by 255 // 16


def test_digits_pixels_and_labels_match_sklearn(digits):
    from sklearn.datasets import load_digits

    p, data_dir = digits
    source = load_digits()
    expected = {(img.astype(np.int64) * 255 // 16).astype(np.uint8).tobytes(): int(t)
                for img, t in zip(source.images, source.target, strict=True)}
    stored = {ex["inputs"].tobytes(): int(ex["targets"][0])
              for ex in _examples(p, data_dir, "train") + _examples(p, data_dir, "eval")}
    assert stored == expected


def test_digits_generation_is_deterministic(digits, tmp_path):
    p, data_dir = digits
    registry.problem("image_digits").generate_data(str(tmp_path), None)
    names = sorted(os.listdir(data_dir))
    assert names == ["image_digits-dev-00000-of-00001", "image_digits-train-00000-of-00001"]
    assert sorted(os.listdir(tmp_path)) == names
    _, mismatch, errors = filecmp.cmpfiles(data_dir, str(tmp_path), names, shallow=False)
    assert mismatch == [] and errors == []


def test_digits_batches_hold_batch_size_over_tokens(digits):
    p, data_dir = digits
    hparams = default_model_hparams()
    hparams.batch_size = 160
    batch = next(iter(p.dataset("train", data_dir, hparams)))
    assert p.tokens_per_example == 16
    assert batch["inputs"].shape == (10, 8, 8, 1) and batch["targets"].shape == (10, 1)
    assert batch["target_space_id"].numpy().tolist() == [1] * 10
    hp = p.get_hparams()
    assert hp.vocab_size == {"inputs": 256, "targets": 10}
    assert p.get_feature_encoders()["targets"].decode([7]) == "7"


# ---- image_fashion_mnist --------------------------------------------------
NUM_TRAIN, NUM_TEST = 20, 10


def _fixture_images(n, offset):
    base = np.arange(28 * 28, dtype=np.int64).reshape(28, 28)
    return np.stack([((base + 37 * (i + offset)) % 256).astype(np.uint8) for i in range(n)])


def _write_idx(path, array, magic=None):
    rank = array.ndim
    magic = magic if magic is not None else (2051 if rank == 3 else 2049)
    header = struct.pack(f">{1 + rank}I", magic, *array.shape)
    with open(path, "wb") as f:
        f.write(gzip.compress(header + array.astype(np.uint8).tobytes(), mtime=0))


def _write_fashion(tmp_dir):
    os.makedirs(tmp_dir, exist_ok=True)
    data = {
        "train": (_fixture_images(NUM_TRAIN, 0), np.arange(NUM_TRAIN, dtype=np.uint8) % 10),
        "t10k": (_fixture_images(NUM_TEST, NUM_TRAIN), (np.arange(NUM_TEST) * 3 % 10)),
    }
    for prefix, (images, labels) in data.items():
        _write_idx(os.path.join(tmp_dir, f"{prefix}-images-idx3-ubyte.gz"), images)
        _write_idx(os.path.join(tmp_dir, f"{prefix}-labels-idx1-ubyte.gz"),
                   labels.astype(np.uint8))
    return data


@pytest.fixture
def no_system_copy(monkeypatch, tmp_path):
    monkeypatch.setattr(image, "FASHION_MNIST_SYSTEM_DIR", str(tmp_path / "not-installed"))


def test_fashion_mnist_reads_idx_files_from_tmp_dir(no_system_copy, tmp_path):
    tmp_dir, data_dir = str(tmp_path / "tmp"), str(tmp_path / "data")
    data = _write_fashion(tmp_dir)
    p = registry.problem("image_fashion_mnist")
    p.generate_data(data_dir, tmp_dir)
    assert len([f for f in os.listdir(data_dir) if "-train-" in f]) == 10
    dev = _examples(p, data_dir, "eval")  # one shard: the order of the file
    images, labels = data["t10k"]
    assert len(dev) == NUM_TEST
    for ex, img, label in zip(dev, images, labels, strict=True):
        assert ex["inputs"].shape == (28, 28, 1) and ex["inputs"].dtype == np.uint8
        np.testing.assert_array_equal(ex["inputs"][..., 0], img)
        assert ex["targets"].tolist() == [label]
    train = _examples(p, data_dir, "train")
    images, labels = data["train"]
    assert sorted((ex["inputs"].tobytes(), int(ex["targets"][0])) for ex in train) == sorted(
        (img[..., None].tobytes(), int(label)) for img, label in zip(images, labels, strict=True))
    hp = p.get_hparams()
    assert hp.vocab_size == {"inputs": 256, "targets": 10} and p.tokens_per_example == 49
    assert p.get_feature_encoders()["targets"].decode([9]) == "Ankle boot"


def test_fashion_mnist_missing_file_is_a_one_line_error(no_system_copy, tmp_path):
    tmp_dir = str(tmp_path / "tmp")
    _write_fashion(tmp_dir)
    os.remove(os.path.join(tmp_dir, "train-labels-idx1-ubyte.gz"))
    with pytest.raises(DataError) as info:
        registry.problem("image_fashion_mnist").generate_data(str(tmp_path / "data"), tmp_dir)
    message = str(info.value)
    assert "\n" not in message
    for part in ["train-labels-idx1-ubyte.gz", tmp_dir, str(tmp_path / "not-installed"),
                 "apt-get install dataset-fashion-mnist", "--tmp_dir"]:
        assert part in message
    assert os.listdir(tmp_path / "data") == []


def test_fashion_mnist_falls_back_to_the_system_directory(monkeypatch, tmp_path):
    system_dir = str(tmp_path / "system")
    _write_fashion(system_dir)
    monkeypatch.setattr(image, "FASHION_MNIST_SYSTEM_DIR", system_dir)
    p = registry.problem("image_fashion_mnist")
    p.generate_data(str(tmp_path / "data"), str(tmp_path / "empty_tmp"))
    assert len(_examples(p, str(tmp_path / "data"), "eval")) == NUM_TEST


@pytest.mark.parametrize("damage,message", [
    ("wrong_magic", "magic number 2049, expected 2051"),
    ("short_payload", "truncated or corrupt"),
    ("short_header", "shorter than the IDX header"),
    ("cut_gzip", "not a readable gzip file"),
    ("count_mismatch", "disagree on the number of examples"),
])
def test_fashion_mnist_corrupt_files_are_clear_errors(damage, message, no_system_copy, tmp_path):
    tmp_dir = str(tmp_path / "tmp")
    _write_fashion(tmp_dir)
    path = os.path.join(tmp_dir, "train-images-idx3-ubyte.gz")
    images = _fixture_images(NUM_TRAIN, 0)
    if damage == "wrong_magic":
        _write_idx(path, images, magic=2049)
    elif damage == "short_payload":
        header = struct.pack(">4I", 2051, NUM_TRAIN, 28, 28)
        with open(path, "wb") as f:
            f.write(gzip.compress(header + images.tobytes()[:-100]))
    elif damage == "short_header":
        with open(path, "wb") as f:
            f.write(gzip.compress(struct.pack(">2I", 2051, NUM_TRAIN)))
    elif damage == "cut_gzip":
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data[:len(data) // 2])
    else:
        _write_idx(path, images[:-1])
    with pytest.raises(DataError, match=message):
        registry.problem("image_fashion_mnist").generate_data(str(tmp_path / "data"), tmp_dir)
    assert os.listdir(tmp_path / "data") == []
