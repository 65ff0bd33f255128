"""Image classification problems on real images that need no download.

* `image_digits`: scikit-learn's bundled `load_digits()` (1,797 8x8
  handwritten digits, UCI optdigits, BSD-3), split by a fixed permutation
  into 1,497 train and 300 held-out dev images. Needs `scikit-learn`.
* `image_fashion_mnist`: Fashion-MNIST (Zalando, MIT), 60,000 train and
  10,000 dev (the official test set, as in T2T) 28x28 grey images, read from
  the four original gzip IDX files in `--tmp_dir` or, failing that, in
  `/usr/share/datasets/fashion-mnist` (`apt-get install dataset-fashion-mnist`).

Both keep the images' single grey channel and original size (T2T tiled MNIST
to 3 channels only for its image modality's convenience); no augmentation.
"""

import gzip
import os
import struct
import zlib

import numpy as np

from t2t_multimodel import image_problems, problem, registry
from t2t_multimodel.errors import DataError

FASHION_MNIST_SYSTEM_DIR = "/usr/share/datasets/fashion-mnist"
FASHION_MNIST_FILES = {
    problem.DatasetSplit.TRAIN: ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    problem.DatasetSplit.EVAL: ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
_IDX_IMAGES_MAGIC = 2051
_IDX_LABELS_MAGIC = 2049


@registry.register_problem
class ImageDigits(image_problems.ImageProblem):
    """scikit-learn's 8x8 digits (0..16 scaled to 0..255), 1,497 train / 300 dev."""

    seed = 1234
    dev_size = 300

    @property
    def num_classes(self):
        return 10

    @property
    def class_labels(self):
        return [str(i) for i in range(10)]

    @property
    def num_channels(self):
        return 1

    @property
    def dataset_splits(self):
        return [{"split": problem.DatasetSplit.TRAIN, "shards": 1},
                {"split": problem.DatasetSplit.EVAL, "shards": 1}]

    @property
    def tokens_per_example(self):
        return 16

    def generate_samples(self, data_dir, tmp_dir, split):
        del data_dir, tmp_dir
        try:
            from sklearn.datasets import load_digits
        except ImportError as e:
            raise DataError(f"{self.name} reads scikit-learn's bundled digits: "
                            f"pip install scikit-learn. Received: {e}") from None
        digits = load_digits()
        images = (digits.images.astype(np.int64) * 255 // 16).astype(np.uint8)[..., None]
        order = np.random.RandomState(self.seed).permutation(len(images))
        dev = split in (problem.DatasetSplit.EVAL, problem.DatasetSplit.TEST)
        chosen = order[-self.dev_size:] if dev else order[:-self.dev_size]
        for i in chosen:
            yield {"image": images[i], "label": int(digits.target[i])}


@registry.register_problem
class ImageFashionMnist(image_problems.ImageProblem):
    """Fashion-MNIST from its gzip IDX files: 60,000 train / 10,000 dev, 28x28x1."""

    @property
    def num_classes(self):
        return 10

    @property
    def class_labels(self):
        return ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                "Sneaker", "Bag", "Ankle boot"]

    @property
    def num_channels(self):
        return 1

    @property
    def dataset_splits(self):
        return [{"split": problem.DatasetSplit.TRAIN, "shards": 10},
                {"split": problem.DatasetSplit.EVAL, "shards": 1}]

    @property
    def tokens_per_example(self):
        return 49

    def generate_samples(self, data_dir, tmp_dir, split):
        del data_dir
        images_file, labels_file = FASHION_MNIST_FILES[
            problem.DatasetSplit.TRAIN if split == problem.DatasetSplit.TRAIN
            else problem.DatasetSplit.EVAL]
        images = _read_idx(self._find(images_file, tmp_dir), _IDX_IMAGES_MAGIC, 3)
        labels = _read_idx(self._find(labels_file, tmp_dir), _IDX_LABELS_MAGIC, 1)
        if len(images) != len(labels):
            raise DataError(f"{images_file} and {labels_file} disagree on the number of "
                            f"examples. Received: {len(images)} images, {len(labels)} labels")
        if labels.size and labels.max() >= self.num_classes:
            raise DataError(f"{labels_file} holds labels outside [0, {self.num_classes}). "
                            f"Received: max label={labels.max()}")
        for image, label in zip(images, labels, strict=True):
            yield {"image": image[..., None], "label": int(label)}

    def _find(self, filename, tmp_dir):
        """`filename` in `tmp_dir` if there, else in FASHION_MNIST_SYSTEM_DIR."""
        candidates = ([os.path.join(tmp_dir, filename)] if tmp_dir else []) + [
            os.path.join(FASHION_MNIST_SYSTEM_DIR, filename)]
        for path in candidates:
            if os.path.isfile(path):
                return path
        raise DataError(
            f"{self.name}: {filename} not found in --tmp_dir ({tmp_dir}) nor in "
            f"{FASHION_MNIST_SYSTEM_DIR}; run apt-get install dataset-fashion-mnist or copy "
            f"the four Fashion-MNIST .gz files into --tmp_dir. Received: filename={filename}")


def _read_idx(path, magic, rank):
    """The uint8 array of a gzip IDX file (`rank` 1: labels, 3: images)."""
    try:
        with gzip.open(path, "rb") as f:
            data = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path} is not a readable gzip file ({e}); download it again. "
                        f"Received: path={path}") from None
    header_size = 4 * (1 + rank)
    if len(data) < header_size:
        raise DataError(f"{path} is truncated: {len(data)} bytes, shorter than the IDX "
                        f"header. Received: path={path}")
    found, *dims = struct.unpack(f">{1 + rank}I", data[:header_size])
    if found != magic:
        raise DataError(f"{path} is not an IDX {'image' if rank == 3 else 'label'} file: "
                        f"magic number {found}, expected {magic}. Received: path={path}")
    expected = int(np.prod(dims)) + header_size
    if len(data) != expected:
        raise DataError(f"{path} has {len(data)} bytes; its header {dims} needs {expected} "
                        f"(truncated or corrupt). Received: path={path}")
    return np.frombuffer(data, np.uint8, offset=header_size).reshape(dims)
