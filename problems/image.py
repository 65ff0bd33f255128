"""Image classification problems on real images that need no download.

* `image_digits`: scikit-learn's bundled `load_digits()` (1,797 8x8
  handwritten digits, UCI optdigits, BSD-3), split by a fixed permutation
  into 1,497 train and 300 held-out dev images. Needs `scikit-learn`.
* `image_fashion_mnist`: Fashion-MNIST (Zalando, MIT), 60,000 train and
  10,000 dev (the official test set, as in T2T) 28x28 grey images, read from
  the four original gzip IDX files in `--tmp_dir` or, failing that, from
  Debian's `dataset-fashion-mnist` (`/usr/share/datasets/fashion-mnist` when
  installed, else `apt-get download` into `--tmp_dir`, no root needed; see
  `t2t_multimodel/data/system_packages.py`).

* `image_imagenet` (224x224), `image_imagenet64`, `image_imagenet32`:
  ImageNet (ILSVRC2012) from its class folders, as users have it after
  unpacking the official tars: `--tmp_dir/imagenet/train/<wnid>/*.JPEG` and
  `--tmp_dir/imagenet/val/<wnid>/*.JPEG` (the common layout, e.g. after
  valprep.sh), or a flat `val/ILSVRC2012_val_NNNNNNNN.JPEG` folder whose
  labels come from the ground-truth list that tensorflow-datasets ships
  (`imagenet2012/validation_labels.txt`). The 1,000 classes are the synset
  ids of tensorflow-datasets' `imagenet2012/labels.txt` (read as a file;
  TFDS itself is never called, so nothing is ever downloaded), so class ids
  equal TFDS's. Images are resized (shorter side, then a centre crop) to
  `image_size`.

Digits and Fashion-MNIST keep the images' single grey channel and original
size (the image modality repeats grey to RGB, so they share its net with
colour problems); no augmentation.
"""

import gzip
import importlib.util
import os
import re
import struct
import sys
import zlib

import numpy as np

from t2t_multimodel import image_problems, problem, registry
from t2t_multimodel.data import system_packages
from t2t_multimodel.errors import DataError

FASHION_MNIST_PACKAGE = "dataset-fashion-mnist"
FASHION_MNIST_PACKAGE_DIR = "usr/share/datasets/fashion-mnist"
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
        """`filename` in `tmp_dir` if there, else in Debian's dataset-fashion-mnist."""
        if tmp_dir and os.path.isfile(os.path.join(tmp_dir, filename)):
            return os.path.join(tmp_dir, filename)
        try:
            return system_packages.debian_path(
                FASHION_MNIST_PACKAGE, f"{FASHION_MNIST_PACKAGE_DIR}/{filename}", tmp_dir)
        except DataError as e:
            reason = str(e).split(" Received: ")[0]
            raise DataError(
                f"{self.name}: {filename} is not in --tmp_dir ({tmp_dir}) and {reason} "
                f"(or copy the four Fashion-MNIST .gz files into --tmp_dir). "
                f"Received: filename={filename}") from None


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


IMAGENET_SPLITS = {problem.DatasetSplit.TRAIN: "train", problem.DatasetSplit.EVAL: "val"}
_IMAGE_EXTENSIONS = (".jpeg", ".jpg", ".png")
_VAL_FILE = re.compile(r"ILSVRC2012_val_(\d{8})\.JPEG$", re.IGNORECASE)


def tfds_imagenet_file(name):
    """The path of `name` in tensorflow-datasets' imagenet2012 folder (not imported)."""
    spec = importlib.util.find_spec("tensorflow_datasets")
    if spec is None or not spec.submodule_search_locations:
        raise DataError(f"the ImageNet label list ships with tensorflow-datasets: pip install "
                        f"tensorflow-datasets. Received: file={name}")
    path = os.path.join(spec.submodule_search_locations[0], "datasets", "imagenet2012", name)
    if not os.path.isfile(path):
        raise DataError(f"{path} not found: reinstall tensorflow-datasets (pip install "
                        f"--force-reinstall tensorflow-datasets). Received: file={name}")
    return path


def _read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.strip() for line in f if line.strip()]


@registry.register_problem
class ImageImagenet(image_problems.ImageProblem):
    """ILSVRC2012 from its class folders, 1,000 synset classes, 224x224 RGB."""

    image_size = 224
    seed = 1234

    @property
    def num_classes(self):
        return 1000

    @property
    def class_labels(self):
        return _read_lines(tfds_imagenet_file("labels.txt"))

    @property
    def dataset_splits(self):
        return [{"split": problem.DatasetSplit.TRAIN, "shards": 100},
                {"split": problem.DatasetSplit.EVAL, "shards": 10}]

    @property
    def tokens_per_example(self):
        return self.image_size * self.image_size // 16

    def generate_samples(self, data_dir, tmp_dir, split):
        del data_dir
        files = self.labelled_files(tmp_dir, split)
        if split == problem.DatasetSplit.TRAIN:
            files = [files[i] for i in np.random.RandomState(self.seed).permutation(len(files))]
        print(f"{self.name} {split}: {len(files)} images", file=sys.stderr, flush=True)
        for path, label in files:
            yield {"image": read_image(path, self.image_size, crop=True), "label": label}

    def labelled_files(self, tmp_dir, split):
        """Sorted `(image path, class id)` of `split` from the ImageNet folders."""
        name = IMAGENET_SPLITS[problem.DatasetSplit.TRAIN if split == problem.DatasetSplit.TRAIN
                               else problem.DatasetSplit.EVAL]
        folder = os.path.join(tmp_dir or "", "imagenet", name)
        if not tmp_dir or not os.path.isdir(folder):
            raise DataError(
                f"{self.name} reads ImageNet (ILSVRC2012) class folders: put the {name} images "
                f"in --tmp_dir/imagenet/{name}/<wnid>/*.JPEG (e.g. imagenet/{name}/n01440764/"
                f"...; untar ILSVRC2012_img_{name}.tar there). Received: folder={folder}")
        ids = {wnid: i for i, wnid in enumerate(self.class_labels)}
        entries = sorted(os.listdir(folder))
        flat = [e for e in entries if _VAL_FILE.match(e)]
        if flat and name == "val":
            truth = _read_lines(tfds_imagenet_file("validation_labels.txt"))
            return [(os.path.join(folder, e), ids[truth[int(_VAL_FILE.match(e).group(1)) - 1]])
                    for e in flat]
        files = []
        for wnid in entries:
            path = os.path.join(folder, wnid)
            if not os.path.isdir(path):
                continue
            if wnid not in ids:
                raise DataError(f"{path} is not an ImageNet class folder: folders of "
                                f"imagenet/{name}/ must be named by the 1,000 ILSVRC2012 "
                                f"synset ids (n01440764, ...). Received: folder={wnid}")
            files += [(os.path.join(path, f), ids[wnid]) for f in sorted(os.listdir(path))
                      if f.lower().endswith(_IMAGE_EXTENSIONS)]
        if not files:
            raise DataError(f"{folder} holds no <wnid>/*.JPEG images: put the {name} images "
                            f"in --tmp_dir/imagenet/{name}/<wnid>/. Received: folder={folder}")
        return files


@registry.register_problem
class ImageImagenet64(ImageImagenet):
    """`image_imagenet` at 64x64."""

    image_size = 64


@registry.register_problem
class ImageImagenet32(ImageImagenet):
    """`image_imagenet` at 32x32."""

    image_size = 32


def read_image(path, size, crop=True):
    """The uint8 RGB `[size, size, 3]` of an image file (JPEG, PNG, ...).

    Transparency is composited on white. `crop=True` resizes the shorter side
    to `size` and keeps the centre square (ImageNet, COCO); `crop=False` pads
    the image to a square with white and resizes it whole by area averaging
    (clip art: no ringing halos on the white).
    """
    try:
        from PIL import Image
    except ImportError as e:
        raise DataError(f"reading image files needs Pillow: pip install pillow. "
                        f"Received: {e}") from None
    try:
        with Image.open(path) as opened:
            opened.load()
            im = opened
            if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P"
                                                  and "transparency" in im.info):
                im = im.convert("RGBA")
                white = Image.new("RGBA", im.size, (255, 255, 255, 255))
                im = Image.alpha_composite(white, im)
            im = im.convert("RGB")
    except (OSError, ValueError, Image.DecompressionBombError) as e:
        raise DataError(f"{path} is not a readable image ({e}); replace or delete it. "
                        f"Received: path={path}") from None
    width, height = im.size
    if crop:
        scale = size / min(width, height)
        new = (max(size, round(width * scale)), max(size, round(height * scale)))
        im = im.resize(new, Image.BICUBIC, reducing_gap=3.0)
        left, top = (new[0] - size) // 2, (new[1] - size) // 2
        im = im.crop((left, top, left + size, top + size))
    else:
        side = max(width, height)
        square = Image.new("RGB", (side, side), (255, 255, 255))
        square.paste(im, ((side - width) // 2, (side - height) // 2))
        im = square.resize((size, size), Image.BOX)
    return np.asarray(im, np.uint8)
