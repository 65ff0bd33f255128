"""Image -> text problems (captioning) on the image and text machinery.

`Image2TextProblem` is T2T's `image_utils.Image2TextProblem`: the inputs
are images stored as `ImageProblem` stores them (`image/encoded` PNG bytes
and T2T's other `image/*` features), the targets are raw caption strings
tokenized in the graph by a SentencePiece vocabulary learnt from the train
captions (`Text2TextProblem`'s vocabulary machinery):

```python
@registry.register_problem
class TinyCaptions(image_text_problems.Image2TextProblem):
    def generate_samples(self, data_dir, tmp_dir, split):
        yield {"image": np.zeros([8, 8, 3], np.uint8), "captions": ["a black square"]}
```

Each sample is one image and its reference captions. Train stores one
example per (image, caption) pair; dev and test store one example per image,
its first caption as `targets` and every caption in `image/captions`, so
BLEU scores a decode against all references (`dev_pair`).
"""

import tensorflow as tf

from t2t_multimodel import image_problems, metrics, problem, text_problems
from t2t_multimodel.errors import DataError


class Image2TextProblem(image_problems.ImageProblem, text_problems.Text2TextProblem):
    """Image captioning: `generate_samples` yields `{"image", "captions"}` dicts.

    Subclasses override `generate_samples(data_dir, tmp_dir, split)` (a uint8
    `image [H, W, C]` of one shape for the whole problem and a non-empty list
    of caption strings), and usually `approx_vocab_size`, `dataset_splits`
    and `tokens_per_example`. The features are `inputs` (uint8
    `[H, W, num_channels]`) and `targets` (subword ids + EOS), with the
    modalities `{"inputs": "image", "targets": "symbol"}`, the space ids
    `IMAGE -> EN_TOK`, and the decode metric BLEU. The SavedModel takes
    encoded image files and returns captions.

    Args:
        was_reversed: bool. Kept for T2T compatibility; must be False.
        was_copy: bool. Kept for T2T compatibility; must be False.

    Example:

    ```python
    p = registry.problem("image_caption_shapes")
    p.generate_data("/data", "/tmp")
    ds = p.dataset("train", "/data", hparams)  # inputs [B, 32, 32, 3], targets [B, T]
    ```
    """

    # ---- Subclass interface ---------------------------------------------
    def generate_samples(self, data_dir, tmp_dir, split):
        """Yields `{"image": uint8 array [H, W, C], "captions": [str, ...]}` of `split`."""
        raise NotImplementedError(f"{type(self).__name__} must override generate_samples. "
                                  f"Received: problem={self.name}")

    @property
    def approx_vocab_size(self):
        return 2**12

    @property
    def is_generate_per_split(self):
        return True

    @property
    def num_classes(self):
        raise NotImplementedError(f"{self.name} is a captioning problem: it has no classes. "
                                  f"Received: problem={self.name}")

    # ---- Problem interface ----------------------------------------------
    @property
    def target_space_id(self):
        return problem.SpaceID.EN_TOK

    def feature_encoders(self, data_dir):
        return {"inputs": image_problems.ImageEncoder(channels=self.num_channels),
                "targets": self.get_or_create_vocab(data_dir, None, force_get=True)}

    def hparams(self, defaults, model_hparams):
        encoders = self._encoders or self.get_feature_encoders()
        defaults.stop_at_eos = True
        defaults.modality = {"inputs": "image", "targets": "symbol"}
        defaults.vocab_size = {"inputs": 256, "targets": encoders["targets"].vocab_size}
        defaults.vocab_name = {"targets": self.vocab_filename}

    def example_reading_spec(self):
        return {
            "image/encoded": tf.io.FixedLenFeature([], tf.string),
            "image/format": tf.io.FixedLenFeature([], tf.string, default_value=b"png"),
            "targets": tf.io.FixedLenFeature([], tf.string),
            "image/captions": tf.io.VarLenFeature(tf.string),
        }

    def preprocess_example(self, example, mode, hparams):
        """Decodes `image/encoded` into `inputs`; `targets` are the caption's ids."""
        del mode, hparams
        image = tf.io.decode_image(example["image/encoded"], channels=self.num_channels,
                                   dtype=tf.uint8, expand_animations=False)
        return {"inputs": image, "targets": example["targets"]}

    def eval_metrics(self):
        return [metrics.Metrics.ACC, metrics.Metrics.ACC_PER_SEQ,
                metrics.Metrics.NEG_LOG_PERPLEXITY]

    def decode_metrics(self):
        return ["bleu"]

    def dev_pair(self, example):
        """`(PNG bytes, reference)` of one dev example: its caption, or the list
        of its captions when it has several (multi-reference BLEU)."""
        captions = example["image/captions"]
        if isinstance(captions, tf.SparseTensor):
            captions = captions.values
        references = [c.decode("utf-8") for c in captions.numpy().tolist()]
        if len(references) < 2:
            references = example["targets"].numpy().decode("utf-8")
        return example["image/encoded"].numpy(), references

    # ---- Data generation ------------------------------------------------
    # The vocabulary is learned from the train captions only.
    vocab_text_features = ("targets",)

    def generate_data(self, data_dir, tmp_dir, task_id=-1):
        """Writes the shards of every split (existing ones are skipped), then
        learns the SentencePiece vocabulary from the train captions."""
        super().generate_data(data_dir, tmp_dir, task_id)
        self.get_or_create_vocab(data_dir, tmp_dir)

    def _stored_samples(self, data_dir, tmp_dir, split):
        """Train: one example per (image, caption); dev/test: one per image."""
        shape = None
        train = split == problem.DatasetSplit.TRAIN
        for sample in self.generate_samples(data_dir, tmp_dir, split):
            image = self._check_image(sample.get("image"), shape)
            shape = image.shape
            captions = sample.get("captions")
            if (not isinstance(captions, (list, tuple)) or not captions
                    or not all(isinstance(c, str) and c.strip() for c in captions)):
                raise DataError(f"{self.name}.generate_samples must yield 'captions', a "
                                f"non-empty list of non-empty str. Received: "
                                f"captions={captions!r}")
            stored = {"image/encoded": tf.io.encode_png(image).numpy(),
                      "image/format": b"png",
                      "image/height": int(shape[0]),
                      "image/width": int(shape[1])}
            if train:
                for caption in captions:
                    yield {**stored, "targets": caption}
            else:
                yield {**stored, "targets": captions[0], "image/captions": list(captions)}
