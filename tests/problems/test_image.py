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
    """No installed dataset-fashion-mnist and no apt-get to download it."""
    monkeypatch.setenv("T2T_DEB_ROOT", str(tmp_path / "not-installed"))
    monkeypatch.setenv("PATH", str(tmp_path / "no-programs"))


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
    for part in ["train-labels-idx1-ubyte.gz", tmp_dir, "apt-get is not installed",
                 "apt-get install dataset-fashion-mnist", "--tmp_dir"]:
        assert part in message
    assert message.endswith("Received: filename=train-labels-idx1-ubyte.gz")
    assert os.listdir(tmp_path / "data") == []


def test_fashion_mnist_falls_back_to_the_installed_package(monkeypatch, tmp_path):
    _write_fashion(str(tmp_path / "root" / image.FASHION_MNIST_PACKAGE_DIR))
    monkeypatch.setenv("T2T_DEB_ROOT", str(tmp_path / "root"))
    p = registry.problem("image_fashion_mnist")
    p.generate_data(str(tmp_path / "data"), str(tmp_path / "empty_tmp"))
    assert len(_examples(p, str(tmp_path / "data"), "eval")) == NUM_TEST


def test_fashion_mnist_reads_the_package_unpacked_into_tmp_dir(no_system_copy, tmp_path):
    # Where apt-get download + dpkg-deb -x leave it when it is not installed.
    tmp_dir = str(tmp_path / "tmp")
    _write_fashion(os.path.join(tmp_dir, "debian", image.FASHION_MNIST_PACKAGE,
                                image.FASHION_MNIST_PACKAGE_DIR))
    p = registry.problem("image_fashion_mnist")
    p.generate_data(str(tmp_path / "data"), tmp_dir)
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


# ---- image_imagenet ---------------------------------------------------------
WNIDS = ["n01440764", "n01443537", "n15075141"]  # the first two and the last ILSVRC2012 class


def _write_jpeg(path, height, width, colour):
    import tensorflow as tf

    os.makedirs(os.path.dirname(path), exist_ok=True)
    pixels = np.zeros([height, width, 3], np.uint8) + np.array(colour, np.uint8)
    with open(path, "wb") as f:
        f.write(tf.io.encode_jpeg(pixels, quality=100).numpy())


def _imagenet_tree(tmp_dir, flat_val=False):
    """train/<wnid>/*.JPEG of different sizes, one colour per class; val by class or flat."""
    colours = {"n01440764": (250, 10, 10), "n01443537": (10, 250, 10), "n15075141": (10, 10, 250)}
    sizes = [(40, 60), (50, 32), (33, 33)]
    for i, wnid in enumerate(WNIDS):
        for j, (h, w) in enumerate(sizes[:2 + (i == 0)]):
            _write_jpeg(os.path.join(tmp_dir, "imagenet", "train", wnid, f"{wnid}_{j}.JPEG"),
                        h, w, colours[wnid])
    truth = image._read_lines(image.tfds_imagenet_file("validation_labels.txt"))
    if flat_val:  # the official val tar: labels from the ground-truth list, by file number
        for number in (1, 2, 3):
            wnid = truth[number - 1]
            _write_jpeg(os.path.join(tmp_dir, "imagenet", "val",
                                     f"ILSVRC2012_val_{number:08d}.JPEG"), 36, 48,
                        colours.get(wnid, (128, 128, 128)))
        return [truth[0], truth[1], truth[2]]
    for wnid in WNIDS[:2]:
        _write_jpeg(os.path.join(tmp_dir, "imagenet", "val", wnid, "val_0.JPEG"), 64, 40,
                    colours[wnid])
    return WNIDS[:2]


def test_imagenet_reads_class_folders_and_resizes(tmp_path):
    tmp_dir, data_dir = str(tmp_path / "tmp"), str(tmp_path / "data")
    val_wnids = _imagenet_tree(tmp_dir)
    p = registry.problem("image_imagenet32")
    labels = p.class_labels
    assert len(labels) == 1000 and labels[:2] == WNIDS[:2] and labels[-1] == WNIDS[2]
    p.generate_data(data_dir, tmp_dir)
    train = _examples(p, data_dir, "train")
    assert len(train) == 7
    colour_of = {0: 0, 1: 1, 999: 2}  # the bright channel of each class's colour
    for ex in train:
        assert ex["inputs"].shape == (32, 32, 3) and ex["inputs"].dtype == np.uint8
        label = int(ex["targets"][0])
        assert int(np.argmax(ex["inputs"].reshape(-1, 3).mean(0))) == colour_of[label]
    assert sorted(int(ex["targets"][0]) for ex in train) == [0, 0, 0, 1, 1, 999, 999]
    dev = _examples(p, data_dir, "eval")
    assert [labels[int(ex["targets"][0])] for ex in dev] == val_wnids
    assert p.get_feature_encoders(data_dir)["targets"].decode([999]) == "n15075141"
    assert p.decode_metrics() == ["accuracy", "accuracy_top5"]
    assert (registry.problem("image_imagenet").image_size, p.image_size) == (224, 32)


def test_imagenet_flat_val_folder_takes_labels_from_the_ground_truth_list(tmp_path):
    tmp_dir = str(tmp_path / "tmp")
    expected = _imagenet_tree(tmp_dir, flat_val=True)
    p = registry.problem("image_imagenet32")
    files = p.labelled_files(tmp_dir, "eval")
    assert [os.path.basename(f) for f, _ in files] == [
        f"ILSVRC2012_val_{n:08d}.JPEG" for n in (1, 2, 3)]
    assert [p.class_labels[label] for _, label in files] == expected


def test_imagenet_missing_or_misnamed_folders_are_one_line_errors(tmp_path):
    p = registry.problem("image_imagenet")
    with pytest.raises(DataError) as info:
        p.generate_data(str(tmp_path / "data"), str(tmp_path / "tmp"))
    message = str(info.value)
    assert "\n" not in message and "--tmp_dir/imagenet/train/<wnid>/*.JPEG" in message
    assert f"Received: folder={tmp_path / 'tmp' / 'imagenet' / 'train'}" in message
    os.makedirs(tmp_path / "tmp" / "imagenet" / "train" / "cats")
    with pytest.raises(DataError, match="synset ids .* Received: folder=cats"):
        p.generate_data(str(tmp_path / "data"), str(tmp_path / "tmp"))
    _write_jpeg(str(tmp_path / "tmp" / "imagenet" / "train" / "cats" / "x.JPEG"), 8, 8, (1, 1, 1))
    os.rename(tmp_path / "tmp" / "imagenet" / "train" / "cats",
              tmp_path / "tmp" / "imagenet" / "train" / "n01440764")
    with open(tmp_path / "tmp" / "imagenet" / "train" / "n01440764" / "y.JPEG", "wb") as f:
        f.write(b"not a jpeg")
    with pytest.raises(DataError, match=r"y.JPEG is not a readable image .* Received: path="):
        p.generate_data(str(tmp_path / "data"), str(tmp_path / "tmp"))
    assert os.listdir(tmp_path / "data") == []


def test_read_image_crops_or_pads_and_composites_alpha_on_white(tmp_path):
    from PIL import Image

    rgba = np.zeros([20, 40, 4], np.uint8)
    rgba[:, :20] = (255, 0, 0, 255)  # left half opaque red, right half transparent
    Image.fromarray(rgba).save(tmp_path / "stamp.png")
    cropped = image.read_image(str(tmp_path / "stamp.png"), 10, crop=True)
    assert cropped.shape == (10, 10, 3)
    # The centre square of the 20x40 image: red on its left, white on its right.
    assert tuple(cropped[5, 0]) == (255, 0, 0) and tuple(cropped[5, 9]) == (255, 255, 255)
    padded = image.read_image(str(tmp_path / "stamp.png"), 10, crop=False)
    assert tuple(padded[0, 0]) == (255, 255, 255) and tuple(padded[5, 1]) == (255, 0, 0)
    assert (padded[0] == 255).all() and (padded[-1] == 255).all()  # white padding rows
