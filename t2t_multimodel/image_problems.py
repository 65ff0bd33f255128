"""Image classification problems with Tensor2Tensor's storage format.

`from tensor2tensor.data_generators import image_utils` becomes
`from t2t_multimodel import image_problems`. A subclass yields
`{"image": uint8 array [H, W, C], "label": int}` samples per split and
declares its classes:

```python
@registry.register_problem
class TinyShapes(image_problems.ImageProblem):
    num_classes = 2
    num_channels = 1
    class_labels = ["dark", "light"]

    def generate_samples(self, data_dir, tmp_dir, split):
        yield {"image": np.zeros([8, 8, 1], np.uint8), "label": 0}
```

Each example is stored as T2T's `image_generator` wrote it: `image/encoded`
(PNG bytes), `image/format` (`b"png"`), `image/class/label` (int64),
`image/height` and `image/width`, so shards written by T2T can be read too
(`image/encoded` may hold any format `tf.io.decode_image` reads).

Differences from T2T, by design:

* One base class (`ImageProblem`, T2T's `Image2ClassProblem`): samples come
  from `generate_samples(data_dir, tmp_dir, split)` per split, written
  atomically (see `t2t_multimodel.data.shards`); a split whose shards all
  exist is skipped.
* No data augmentation and no resizing: `preprocess_example` only decodes,
  so train and eval see the same pixels. All images of a problem must have
  one shape (checked at generation time) so batches need no padding.
* Batches hold `batch_size // tokens_per_example` images
  (`batch_size_means_tokens` is False), so one token `batch_size` serves
  text and image problems in a mixture.
"""

import numbers
import os

import numpy as np
import tensorflow as tf

from t2t_multimodel import metrics, problem, text_encoder
from t2t_multimodel.data import shards
from t2t_multimodel.errors import DataError


class ImageEncoder:
    """Pixel values as ids (0..255): T2T's `ImageEncoder`, without files.

    It has no `encode_tf`, so `Problem.encode_example` leaves image features
    alone; images are decoded in `ImageProblem.preprocess_example`.

    Args:
        height: int or None. Image height, needed by `decode`.
        width: int or None. Image width, needed by `decode`.
        channels: int. Channels per pixel.

    Example:

    ```python
    encoder = ImageEncoder(height=2, width=2, channels=1)
    encoder.encode(np.array([[[0], [255]], [[7], [9]]], np.uint8))  # [0, 255, 7, 9]
    encoder.decode([0, 255, 7, 9])  # PNG bytes of the 2x2 image
    ```
    """

    def __init__(self, height=None, width=None, channels=3):
        if not isinstance(channels, int) or channels not in (1, 2, 3, 4):
            raise ValueError(f"channels must be 1, 2, 3 or 4. Received: channels={channels!r}")
        self.height = height
        self.width = width
        self.channels = channels

    @property
    def num_reserved_ids(self):
        return 0

    @property
    def vocab_size(self):
        return 256

    def encode(self, image):
        """The pixel values of a uint8 image `[H, W, C]`, flattened."""
        return np.asarray(image, np.uint8).reshape(-1).tolist()

    def decode(self, ids, strip_extraneous=False):
        """PNG bytes of the image whose flattened pixel values are `ids`."""
        del strip_extraneous
        if self.height is None or self.width is None:
            raise ValueError(f"decode needs the image size. Received: height={self.height}, "
                             f"width={self.width}")
        pixels = np.asarray(ids, np.int64)
        expected = self.height * self.width * self.channels
        if pixels.size != expected:
            raise ValueError(f"decode takes {expected} pixel values. Received: "
                             f"len(ids)={pixels.size}")
        if pixels.min() < 0 or pixels.max() > 255:
            raise ValueError(f"pixel values must be in [0, 255]. Received: "
                             f"min={pixels.min()}, max={pixels.max()}")
        image = pixels.astype(np.uint8).reshape(self.height, self.width, self.channels)
        return tf.io.encode_png(image).numpy()

    def decode_list(self, ids):
        return [str(int(i)) for i in ids]


class ImageProblem(problem.Problem):
    """Image classification: `generate_samples` yields `{"image", "label"}` dicts.

    Subclasses override `generate_samples(data_dir, tmp_dir, split)` and
    `num_classes`, and usually `num_channels` (default 3), `class_labels`
    (default `ID_0`, `ID_1`, ...), `dataset_splits` and `tokens_per_example`.
    The dataset's features are `inputs` (uint8 `[H, W, C]`) and `targets`
    (the class id, `[1]`; class 0 is a real class), with the modalities
    `{"inputs": "image", "targets": "class_label"}` and the space ids
    `IMAGE -> IMAGE_LABEL`.

    Args:
        was_reversed: bool. Kept for T2T compatibility; must be False.
        was_copy: bool. Kept for T2T compatibility; must be False.

    Example:

    ```python
    p = registry.problem("image_digits")
    p.generate_data("/data", "/tmp")
    ds = p.dataset("train", "/data", hparams)  # inputs [B, 8, 8, 1] uint8
    ```
    """

    # ---- Subclass interface ---------------------------------------------
    @property
    def num_classes(self):
        raise NotImplementedError(f"{type(self).__name__} must override num_classes. "
                                  f"Received: problem={self.name}")

    @property
    def class_labels(self):
        return [f"ID_{i}" for i in range(self.num_classes)]

    @property
    def num_channels(self):
        return 3

    @property
    def dataset_splits(self):
        """Splits and their shard counts."""
        return [{"split": problem.DatasetSplit.TRAIN, "shards": 10},
                {"split": problem.DatasetSplit.EVAL, "shards": 1}]

    @property
    def tokens_per_example(self):
        """The tokens of `batch_size` one image takes: batches hold
        `batch_size // tokens_per_example` images."""
        return 64

    def generate_samples(self, data_dir, tmp_dir, split):
        """Yields `{"image": uint8 array [H, W, C], "label": int}` of `split`."""
        raise NotImplementedError(f"{type(self).__name__} must override generate_samples. "
                                  f"Received: problem={self.name}")

    # ---- Problem interface ----------------------------------------------
    @property
    def input_space_id(self):
        return problem.SpaceID.IMAGE

    @property
    def target_space_id(self):
        return problem.SpaceID.IMAGE_LABEL

    @property
    def has_inputs(self):
        return True

    @property
    def batch_size_means_tokens(self):
        return False

    def feature_encoders(self, data_dir):
        del data_dir
        return {"inputs": ImageEncoder(channels=self.num_channels),
                "targets": text_encoder.ClassLabelEncoder(self.class_labels)}

    def hparams(self, defaults, model_hparams):
        defaults.modality = {"inputs": "image", "targets": "class_label"}
        defaults.vocab_size = {"inputs": 256, "targets": self.num_classes}

    def example_reading_spec(self):
        return {
            "image/encoded": tf.io.FixedLenFeature([], tf.string),
            "image/format": tf.io.FixedLenFeature([], tf.string, default_value=b"png"),
            "image/class/label": tf.io.FixedLenFeature([1], tf.int64),
        }

    def preprocess_example(self, example, mode, hparams):
        """Decodes `image/encoded` into `inputs`; `image/class/label` becomes `targets`."""
        del mode, hparams
        image = tf.io.decode_image(example["image/encoded"], channels=self.num_channels,
                                   dtype=tf.uint8, expand_animations=False)
        return {"inputs": image, "targets": example["image/class/label"]}

    def eval_metrics(self):
        return [metrics.Metrics.ACC, metrics.Metrics.ACC_TOP5]

    def decode_metrics(self):
        return [metrics.Metrics.ACC, metrics.Metrics.ACC_TOP5]

    image_size = None
    """int or None. Set by problems whose data is resized to `image_size`
    squared: served images of another size are resized the same way in the
    graph (`image_fit`), and transparency is composited on white."""

    image_fit = "crop"
    """How `image_size` is reached: "crop" (shorter side, then the centre
    square) or "pad" (padded to a square with white, then resized)."""

    def serving_inputs(self, strings):
        """Each string is an encoded image file (PNG/JPEG/GIF/BMP/WebP) of the problem's
        size, or of any size when the problem sets `image_size`. Bytes of no image
        format (empty, text) raise InvalidArgumentError naming their batch indices;
        a damaged file raises the decoder's error ("Invalid PNG ...")."""
        channels, size, fit = self.num_channels, self.image_size, self.image_fit
        strings = _checked_image_files(strings)

        def decode(data):
            if size:
                return _fit_image(data, channels, size, fit)
            return tf.io.decode_image(data, channels=channels, expand_animations=False)

        images = tf.map_fn(decode, strings,
                           fn_output_signature=tf.TensorSpec([None, None, channels], tf.uint8))
        return images, tf.constant(1)

    def dev_pair(self, example):
        """(the stored image file's bytes, the label's name)."""
        label = int(example["image/class/label"].numpy().reshape(-1)[0])
        return (example["image/encoded"].numpy(),
                self.get_feature_encoders()["targets"].decode([label]))

    # ---- Data generation ------------------------------------------------
    def generate_data(self, data_dir, tmp_dir, task_id=-1):
        """Writes the PNG shards of every split; splits whose shards exist are skipped.

        `task_id` is accepted for T2T compatibility and unused.
        """
        del task_id
        os.makedirs(data_dir, exist_ok=True)
        if tmp_dir:
            os.makedirs(tmp_dir, exist_ok=True)
        shards.write_missing_splits(
            self.name, data_dir, self.dataset_filename(), self.dataset_splits,
            lambda split: self._stored_samples(data_dir, tmp_dir, split))

    def _stored_samples(self, data_dir, tmp_dir, split):
        """The samples of `split` as T2T's `image_generator` stored them."""
        shape = None
        for sample in self.generate_samples(data_dir, tmp_dir, split):
            image, label = sample.get("image"), sample.get("label")
            image = self._check_image(image, shape)
            shape = image.shape
            if (isinstance(label, bool) or not isinstance(label, numbers.Integral)
                    or not 0 <= label < self.num_classes):
                raise DataError(f"{self.name}.generate_samples must yield an int 'label' in "
                                f"[0, {self.num_classes}). Received: label={label!r}")
            yield {"image/encoded": tf.io.encode_png(image).numpy(),
                   "image/format": b"png",
                   "image/class/label": int(label),
                   "image/height": int(shape[0]),
                   "image/width": int(shape[1])}

    def _check_image(self, image, shape):
        if not isinstance(image, np.ndarray) or image.dtype != np.uint8 or image.ndim != 3:
            got = (f"{type(image).__name__} {getattr(image, 'dtype', '')} "
                   f"{getattr(image, 'shape', '')}")
            raise DataError(f"{self.name}.generate_samples must yield a uint8 numpy 'image' "
                            f"[H, W, C]. Received: image={got}")
        if image.shape[-1] != self.num_channels:
            raise DataError(f"{self.name} images have {self.num_channels} channels. "
                            f"Received: image.shape={image.shape}")
        if shape is not None and image.shape != shape:
            raise DataError(f"all images of {self.name} must have one shape {shape}. "
                            f"Received: image.shape={image.shape}")
        return image


def _checked_image_files(strings):
    """`strings`, after asserting each starts as a PNG, JPEG, GIF, BMP or WebP file does."""
    head = tf.strings.substr(strings + b"\0" * 12, 0, 12)  # padded: never out of range
    known = tf.reduce_any(tf.stack([
        tf.strings.substr(head, 0, 4) == b"\x89PNG",
        tf.strings.substr(head, 0, 3) == b"\xff\xd8\xff",
        tf.strings.substr(head, 0, 4) == b"GIF8",
        tf.strings.substr(head, 0, 2) == b"BM",
        tf.strings.substr(head, 8, 4) == b"WEBP"]), axis=0)
    check = tf.debugging.Assert(
        tf.reduce_all(known),
        ["serving inputs must be encoded image files (PNG, JPEG, GIF, BMP or WebP bytes); "
         "received bytes of no image format at batch index", tf.where(~known)[:, 0]],
        summarize=10)
    with tf.control_dependencies([check]):
        return tf.identity(strings)


def _fit_image(data, channels, size, fit):
    """An encoded image file -> uint8 `[size, size, channels]`, in TF ops only.

    Alpha is composited on white; an image already `size` squared keeps its
    exact pixels; others are resized (bicubic, antialiased) by `fit`.
    """
    if channels == 3:  # PNG transparency (other formats have none) on white
        def on_white():
            rgba = tf.cast(tf.io.decode_png(data, channels=4), tf.float32)
            alpha = rgba[..., 3:] / 255.0
            return tf.cast(tf.round(rgba[..., :3] * alpha + 255.0 * (1.0 - alpha)), tf.uint8)

        image = tf.cond(tf.equal(tf.strings.substr(data, 0, 4), b"\x89PNG"), on_white,
                        lambda: tf.io.decode_image(data, channels=3, expand_animations=False))
    else:
        image = tf.io.decode_image(data, channels=channels, expand_animations=False)
    shape = tf.shape(image)
    height, width = shape[0], shape[1]

    def resized():
        x = tf.cast(image, tf.float32)
        if fit == "pad":  # pad with white: resize the inverted image with black padding
            x = 255.0 - tf.image.resize_with_pad(255.0 - x, size, size, method="bicubic",
                                                 antialias=True)
        else:
            scale = size / tf.cast(tf.minimum(height, width), tf.float32)
            new = tf.maximum(size, tf.cast(tf.round(tf.cast(tf.stack([height, width]),
                                                            tf.float32) * scale), tf.int32))
            x = tf.image.resize(x, new, method="bicubic", antialias=True)
            x = tf.image.resize_with_crop_or_pad(x, size, size)
        return tf.cast(tf.clip_by_value(tf.round(x), 0.0, 255.0), tf.uint8)

    return tf.cond(tf.logical_and(tf.equal(height, size), tf.equal(width, size)),
                   lambda: image, resized)
