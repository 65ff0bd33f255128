"""Text problems with Tensor2Tensor's subclass interface and raw-string shards.

`from tensor2tensor.data_generators import text_problems` becomes
`from t2t_multimodel import text_problems`. A subclass overrides
`generate_samples(data_dir, tmp_dir, dataset_split)` and
`is_generate_per_split`, and may change the vocabulary knobs:

```python
@registry.register_problem
class TranslateTinyEnde(text_problems.Text2TextProblem):
    @property
    def is_generate_per_split(self):
        return False

    @property
    def approx_vocab_size(self):
        return 2**13

    def generate_samples(self, data_dir, tmp_dir, dataset_split):
        return text_problems.text2text_txt_tab_iterator(os.path.join(tmp_dir, "ende.tsv"))
```

Differences from T2T, by design:

* The shards hold the **raw strings** (`inputs`, `targets` bytes features);
  the data pipeline tokenizes them in the graph with the encoder's
  `encode_tf`, so the data on disk does not depend on the vocabulary.
* `generate_data` writes the shards first (atomically, see
  `t2t_multimodel.data.shards`), then learns the SUBWORD vocabulary from the
  train shards (`generate_text_for_vocab`); a split whose shards all exist is
  skipped, and so is a vocabulary file that exists.
* SUBWORD vocabularies are SentencePiece unigram models (see
  `t2t_multimodel.encoders.subword_text_encoder`); the file keeps T2T's name
  `vocab.<problem>.<approx_vocab_size>.subwords` but holds the model proto.
* Shards are not shuffled after writing: samples are spread round-robin over
  the shards, and training shuffles files and examples.
* No sequence packing (`packed_length`).
"""

import os
import sys

import tensorflow as tf

from t2t_multimodel import metrics, problem, text_encoder
from t2t_multimodel.data import shards
from t2t_multimodel.data.text_iterators import (  # noqa: F401  (T2T's names)
    text2class_txt_iterator,
    text2self_txt_iterator,
    text2text_txt_iterator,
    text2text_txt_tab_iterator,
    txt_line_iterator,
)
from t2t_multimodel.errors import DataError


class VocabType:
    """Available text vocabularies."""

    CHARACTER = "character"
    SUBWORD = "subwords"
    TOKEN = "tokens"


class Text2TextProblem(problem.Problem):
    """A problem whose inputs and targets are text, sharing one vocabulary.

    Subclasses must override `generate_samples`, which yields
    `{"inputs": str, "targets": str}` dicts (further keys are stored as they
    are), and `is_generate_per_split`. The space ids are GENERIC unless a
    subclass overrides `input_space_id` / `target_space_id`.

    Args:
        was_reversed: bool. Kept for T2T compatibility; must be False.
        was_copy: bool. Kept for T2T compatibility; must be False.

    Example:

    ```python
    @registry.register_problem
    class CopyText(text_problems.Text2TextProblem):
        is_generate_per_split = False
        vocab_type = text_problems.VocabType.CHARACTER

        def generate_samples(self, data_dir, tmp_dir, dataset_split):
            for line in ["hello", "world"]:
                yield {"inputs": line, "targets": line}

    p = registry.problem("copy_text")
    p.generate_data("/data", "/tmp")
    ds = p.dataset("train", "/data", hparams)
    ```
    """

    # ---- Subclass interface (T2T's names and defaults) ------------------
    @property
    def dataset_splits(self):
        """Splits and their shard counts; see `is_generate_per_split`."""
        return [{"split": problem.DatasetSplit.TRAIN, "shards": 100},
                {"split": problem.DatasetSplit.EVAL, "shards": 1}]

    @property
    def is_generate_per_split(self):
        """True: `generate_samples` is called once per split. False: it is
        called once (with TRAIN) and its stream is spread round-robin over
        the shards of all splits."""
        raise NotImplementedError(
            f"{type(self).__name__} must override is_generate_per_split. "
            f"Received: problem={self.name}")

    def generate_samples(self, data_dir, tmp_dir, dataset_split):
        """Yields `{"inputs": str, "targets": str}` samples of `dataset_split`."""
        raise NotImplementedError(
            f"{type(self).__name__} must override generate_samples. "
            f"Received: problem={self.name}")

    @property
    def vocab_type(self):
        return VocabType.SUBWORD

    @property
    def approx_vocab_size(self):
        return 2**15

    @property
    def additional_reserved_tokens(self):
        """Tokens after PAD and EOS in a SUBWORD vocabulary (never split)."""
        return []

    @property
    def oov_token(self):
        """TOKEN vocabularies: the token unknown tokens become (None: an error)."""
        return None

    @property
    def max_samples_for_vocab(self):
        """At most this many train samples feed the SUBWORD vocabulary (None: all)."""
        return 5 * 10**5

    @property
    def max_subtoken_length(self):
        """Longest SUBWORD piece in characters (None: SentencePiece's 16)."""
        return None

    @property
    def has_inputs(self):
        return True

    @property
    def use_vocab_from_other_problem(self):
        """A `Problem` instance whose SUBWORD vocabulary this one reuses, or None."""
        return None

    @property
    def vocab_filename(self):
        other = self.use_vocab_from_other_problem
        if other is not None:
            return other.vocab_filename
        if self.vocab_type == VocabType.SUBWORD:
            return (f"vocab.{self.dataset_filename()}.{self.approx_vocab_size}."
                    f"{VocabType.SUBWORD}")
        return f"vocab.{self.dataset_filename()}.{VocabType.TOKEN}"

    @property
    def vocab_text_features(self):
        """The stored features whose text the vocabulary is learned from:
        every string feature of `example_reading_spec` (problems whose shards
        also hold image or audio bytes name their text features)."""
        return [k for k, v in self.example_reading_spec().items()
                if isinstance(v, tf.io.FixedLenFeature) and v.dtype == tf.string]

    def generate_text_for_vocab(self, data_dir, tmp_dir):
        """The texts the SUBWORD vocabulary is learned from.

        Reads at most `max_samples_for_vocab` samples of the train shards;
        each of `vocab_text_features` contributes one text per sample.
        """
        del tmp_dir
        files = shards.find_shards(data_dir, self.dataset_filename(), problem.DatasetSplit.TRAIN)
        if not files:
            raise DataError(
                f"no train shards to learn the vocabulary of {self.name} from: run "
                f"t2t-datagen --problem={self.name} --data_dir={data_dir}. "
                f"Received: data_dir={data_dir}")
        # Samples are spread round-robin over the shards, so reading the
        # shards one after the other still gives an even sample of the stream.
        yield from shards.read_strings(files, self.vocab_text_features,
                                       limit=self.max_samples_for_vocab or 0)

    def get_or_create_vocab(self, data_dir, tmp_dir, force_get=False):
        """The shared text encoder; learns and stores a missing SUBWORD one.

        Args:
            data_dir: str. Where the vocabulary file lives.
            tmp_dir: str or None. Passed to `generate_text_for_vocab`.
            force_get: bool. Only load: a missing file is a `DataError`.

        Returns:
            A `text_encoder.TextEncoder`.
        """
        vocab_type = self.vocab_type
        if vocab_type == VocabType.CHARACTER:
            return text_encoder.ByteTextEncoder()
        if vocab_type not in (VocabType.SUBWORD, VocabType.TOKEN):
            raise DataError(f"unknown vocab_type of problem {self.name}; use one of "
                            f"{VocabType.CHARACTER!r}, {VocabType.SUBWORD!r}, "
                            f"{VocabType.TOKEN!r}. Received: vocab_type={vocab_type!r}")
        if data_dir is None:
            raise DataError(f"problem {self.name} reads its vocabulary from data_dir. "
                            f"Received: data_dir=None")
        path = os.path.join(data_dir, self.vocab_filename)
        if vocab_type == VocabType.TOKEN:
            if not tf.io.gfile.exists(path):
                raise DataError(
                    f"token vocabulary {path} not found: TOKEN problems read a vocabulary "
                    f"you provide in data_dir (one token per line, starting with "
                    f"{text_encoder.PAD} and {text_encoder.EOS}). Received: "
                    f"vocab_filename={self.vocab_filename}")
            return text_encoder.TokenTextEncoder(path, replace_oov=self.oov_token)
        if tf.io.gfile.exists(path):
            return text_encoder.SubwordTextEncoder(path)
        if force_get:
            raise DataError(
                f"vocabulary {path} not found: run t2t-datagen --problem={self.name} "
                f"--data_dir={data_dir}. Received: vocab_filename={self.vocab_filename}")
        other = self.use_vocab_from_other_problem
        if other is not None:
            return other.get_or_create_vocab(data_dir, tmp_dir)
        encoder = text_encoder.SubwordTextEncoder.build_from_generator(
            self.generate_text_for_vocab(data_dir, tmp_dir), self.approx_vocab_size,
            max_subtoken_length=self.max_subtoken_length,
            reserved_tokens=text_encoder.RESERVED_TOKENS + list(self.additional_reserved_tokens))
        encoder.store_to_file(path)
        print(f"{self.name}: learned {encoder.vocab_size} subwords -> {path}",
              file=sys.stderr, flush=True)
        return encoder

    def feature_encoders(self, data_dir):
        encoder = self.get_or_create_vocab(data_dir, None, force_get=True)
        encoders = {"targets": encoder}
        if self.has_inputs:
            encoders["inputs"] = encoder
        return encoders

    # ---- Data generation ------------------------------------------------
    def generate_data(self, data_dir, tmp_dir, task_id=-1):
        """Writes raw-string shards of every split, then the vocabulary.

        Splits whose shards all exist are skipped (so is an existing
        vocabulary). `task_id` is accepted for T2T compatibility and unused.
        """
        del task_id
        os.makedirs(data_dir, exist_ok=True)
        if tmp_dir:
            os.makedirs(tmp_dir, exist_ok=True)
        name = self.dataset_filename()
        if self.is_generate_per_split:
            shards.write_missing_splits(
                self.name, data_dir, name, self.dataset_splits,
                lambda split: self._stored_samples(data_dir, tmp_dir, split))
        else:
            all_paths = [p for s in self.dataset_splits
                         for p in shards.shard_paths(data_dir, name, s["split"], s["shards"])]
            if not shards.all_exist(all_paths, f"{self.name} all splits"):
                shards.write_shards(
                    self._stored_samples(data_dir, tmp_dir, problem.DatasetSplit.TRAIN),
                    all_paths, label=f"{self.name} all splits")
        self.get_or_create_vocab(data_dir, tmp_dir)

    def _stored_samples(self, data_dir, tmp_dir, split):
        """The samples of `split` as stored: text features checked, others kept."""
        text_features = (["inputs"] if self.has_inputs else []) + ["targets"]
        for sample in self.generate_samples(data_dir, tmp_dir, split):
            for key in text_features:
                value = sample.get(key)
                if not isinstance(value, str):
                    raise DataError(f"{self.name}.generate_samples must yield a str "
                                    f"{key!r}. Received: {key}={value!r}")
            yield sample

    # ---- Training -------------------------------------------------------
    def hparams(self, defaults, model_hparams):
        encoders = self._encoders or self.get_feature_encoders()
        defaults.stop_at_eos = True
        defaults.modality = {"targets": "symbol"}
        defaults.vocab_size = {"targets": encoders["targets"].vocab_size}
        vocab = self.vocab_filename if self.vocab_type != VocabType.CHARACTER else "bytes"
        defaults.vocab_name = {"targets": vocab}
        if self.has_inputs:
            defaults.modality["inputs"] = "symbol"
            defaults.vocab_size["inputs"] = encoders["inputs"].vocab_size
            defaults.vocab_name["inputs"] = vocab
        if self.vocab_type == VocabType.CHARACTER:
            defaults.loss_multiplier = 2.0

    def example_reading_spec(self):
        spec = {"targets": tf.io.FixedLenFeature([], tf.string)}
        if self.has_inputs:
            spec["inputs"] = tf.io.FixedLenFeature([], tf.string)
        return spec

    def eval_metrics(self):
        return [metrics.Metrics.ACC, metrics.Metrics.ACC_PER_SEQ,
                metrics.Metrics.NEG_LOG_PERPLEXITY, metrics.Metrics.APPROX_BLEU]


class Text2SelfProblem(Text2TextProblem):
    """Language modeling: `generate_samples` yields `{"targets": str}`; no inputs.

    Args:
        was_reversed: bool. Kept for T2T compatibility; must be False.
        was_copy: bool. Kept for T2T compatibility; must be False.

    Example:

    ```python
    @registry.register_problem
    class TinyLm(text_problems.Text2SelfProblem):
        is_generate_per_split = False

        def generate_samples(self, data_dir, tmp_dir, dataset_split):
            return text_problems.text2self_txt_iterator(os.path.join(tmp_dir, "lm.txt"))
    ```
    """

    @property
    def has_inputs(self):
        return False


class Text2ClassProblem(Text2TextProblem):
    """Text classification: samples are `{"inputs": str, "label": int}`.

    The label is stored as the int64 `targets` feature `[label]`; the inputs
    are raw strings tokenized in the graph. Subclasses override
    `generate_samples`, `is_generate_per_split` and `num_classes`, and may
    override `class_labels(data_dir)` (default `ID_0`, `ID_1`, ...).

    Args:
        was_reversed: bool. Kept for T2T compatibility; must be False.
        was_copy: bool. Kept for T2T compatibility; must be False.

    Example:

    ```python
    @registry.register_problem
    class TinySentiment(text_problems.Text2ClassProblem):
        is_generate_per_split = True
        num_classes = 2

        def class_labels(self, data_dir):
            return ["neg", "pos"]

        def generate_samples(self, data_dir, tmp_dir, dataset_split):
            yield {"inputs": "great film", "label": 1}
    ```
    """

    @property
    def num_classes(self):
        raise NotImplementedError(f"{type(self).__name__} must override num_classes. "
                                  f"Received: problem={self.name}")

    def class_labels(self, data_dir):
        del data_dir
        return [f"ID_{i}" for i in range(self.num_classes)]

    def feature_encoders(self, data_dir):
        encoder = self.get_or_create_vocab(data_dir, None, force_get=True)
        return {"inputs": encoder,
                "targets": text_encoder.ClassLabelEncoder(self.class_labels(data_dir))}

    def _stored_samples(self, data_dir, tmp_dir, split):
        num_classes = self.num_classes
        for sample in self.generate_samples(data_dir, tmp_dir, split):
            inputs, label = sample.get("inputs"), sample.get("label")
            if not isinstance(inputs, str):
                raise DataError(f"{self.name}.generate_samples must yield a str 'inputs'. "
                                f"Received: inputs={inputs!r}")
            if isinstance(label, bool) or not isinstance(label, int) or not (
                    0 <= label < num_classes):
                raise DataError(f"{self.name}.generate_samples must yield an int 'label' in "
                                f"[0, {num_classes}). Received: label={label!r}")
            stored = {k: v for k, v in sample.items() if k != "label"}
            stored["targets"] = [label]
            yield stored

    def hparams(self, defaults, model_hparams):
        encoders = self._encoders or self.get_feature_encoders()
        defaults.modality = {"inputs": "symbol", "targets": "class_label"}
        defaults.vocab_size = {"inputs": encoders["inputs"].vocab_size,
                               "targets": self.num_classes}

    def example_reading_spec(self):
        return {"inputs": tf.io.FixedLenFeature([], tf.string),
                "targets": tf.io.FixedLenFeature([1], tf.int64)}

    def eval_metrics(self):
        return [metrics.Metrics.ACC, metrics.Metrics.NEG_LOG_PERPLEXITY]

