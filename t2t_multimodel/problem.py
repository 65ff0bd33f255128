"""`Problem`: one dataset, from generation to batched model features.

The subclass interface is Tensor2Tensor's, minus TF1 (a T2T user porting a
problem changes only `from tensor2tensor.data_generators import problem` into
`from t2t_multimodel import problem`):

Data generation:
    * `generate_data(data_dir, tmp_dir, task_id=-1)`: writes sharded TFRecords
      (see `t2t_multimodel.data.shards`) and vocabulary files into `data_dir`.
Training and decoding:
    * `hparams(defaults, model_hparams)`: mutates the `ProblemHParams`
      `defaults` (modalities, vocabulary sizes); returns None.
    * `feature_encoders(data_dir)`: feature name -> encoder (`text_encoder`).
      Encoders with `encode_tf` are applied inside the graph to string
      features, so training, decoding and the SavedModel share one tokenizer.
    * `example_reading_spec()`: feature name -> `tf.io` feature spec.
    * `preprocess_example(example, mode, hparams)`: per-example transform.
    * `input_space_id`, `target_space_id`: the space ids (`SpaceID`); the
      target's is the MultiModel's command token.
Eval:
    * `eval_metrics()`: names from `t2t_multimodel.metrics.Metrics`.

Framework methods (not meant to be overridden): `dataset(mode, data_dir,
hparams)`, `get_hparams`, `get_feature_encoders`, `filepattern`.
"""

import os

import tensorflow as tf

from t2t_multimodel import metrics
from t2t_multimodel.data import batching, shards
from t2t_multimodel.errors import DataError
from t2t_multimodel.problem_hparams import ProblemHParams


class DatasetSplit:
    TRAIN = "train"
    EVAL = "eval"
    TEST = "test"


class SpaceID:
    """Input and target space ids (T2T's values); the command-token ids."""

    GENERIC = 0
    IMAGE_LABEL = 1
    EN_CHR = 2
    EN_TOK = 3
    EN_BPE_TOK = 4
    FR_CHR = 5
    FR_TOK = 6
    DE_CHR = 7
    DE_TOK = 8
    DE_BPE_TOK = 9
    DIGIT_0 = 10
    DIGIT_1 = 11
    AUDIO_WAV = 12
    AUDIO_SPECTRAL = 13
    PARSE_CHR = 14
    PARSE_TOK = 15
    ZH_TOK = 16
    ICE_CHAR = 17
    ICE_TOK = 18
    ICE_PARSE_TOK = 19
    MK_TOK = 20
    CS_TOK = 21
    CS_CHR = 22
    DNA = 23
    REAL = 24
    IMAGE = 25
    PEPTIDE = 26
    PY_TOK = 27
    CPP_TOK = 28
    STROKES = 29
    PICKLED_PYTHON = 30


NUM_SPACE_IDS = 32

_MODES = {
    "train": DatasetSplit.TRAIN,
    "eval": DatasetSplit.EVAL,
    "dev": DatasetSplit.EVAL,
    "test": DatasetSplit.TEST,
}


def default_model_hparams():
    """Model hparams a problem can use without a model (T2T's helper)."""
    from t2t_multimodel.hparams_lib import HParams

    return HParams(batch_size=4096, max_length=256, eval_max_length=0,
                   min_length_bucket=8, length_bucket_step=1.1,
                   shuffle_buffer_size=1024, seed=1234)


def partition_by_files(num_files, num_partitions):
    """Whether `num_partitions` readers split a split by shard (else by record)."""
    return num_files >= num_partitions


class Problem:
    """Base class of every problem; see the module docstring for the contract.

    Args:
        was_reversed: bool. Kept for T2T compatibility; must be False.
        was_copy: bool. Kept for T2T compatibility; must be False.
    """

    REGISTERED_NAME = None

    def __init__(self, was_reversed=False, was_copy=False):
        self._was_reversed = was_reversed
        self._was_copy = was_copy
        self._encoders_by_dir = {}
        self._encoders = None
        self._encoders_dir = None
        self._hparams = None

    # ---- Subclass interface ---------------------------------------------
    def generate_data(self, data_dir, tmp_dir, task_id=-1):
        raise NotImplementedError(f"{self.name} does not generate data")

    def hparams(self, defaults, model_hparams):
        pass

    def feature_encoders(self, data_dir):
        from t2t_multimodel import text_encoder

        return {"inputs": text_encoder.TextEncoder(),
                "targets": text_encoder.TextEncoder()}

    def example_reading_spec(self):
        return {"inputs": tf.io.FixedLenFeature([], tf.string),
                "targets": tf.io.FixedLenFeature([], tf.string)}

    def preprocess_example(self, example, mode, hparams):
        return example

    def eval_metrics(self):
        return [metrics.Metrics.ACC, metrics.Metrics.ACC_TOP5,
                metrics.Metrics.ACC_PER_SEQ, metrics.Metrics.NEG_LOG_PERPLEXITY]

    def decode_constraint(self, encoders):
        """None, or a callable `(prefix, index, inputs) -> bool [N, V]` of the
        next ids that keep a decode valid (`decoding.tree_constraint`).

        Decoders apply it with `--decode_hparams=constrained=true`; without,
        `t2t-decoder` reports the dev metrics of both decodes. `encoders`:
        the problem's feature encoders.
        """
        del encoders
        return None

    def decode_metrics(self):
        """Names of the metrics of real decodes (`t2t_multimodel.metrics.decode`).

        `t2t-decoder` reports them on the dev split and the trainer at eval
        time. Default: `accuracy` for an integer (class) target, else
        `accuracy_per_sequence` (the whole output equals the reference).
        """
        target = self.example_reading_spec().get("targets")
        if target is not None and target.dtype.is_integer:
            return [metrics.Metrics.ACC]
        return [metrics.Metrics.ACC_PER_SEQ]

    def serving_inputs(self, strings):
        """The model's `inputs` feature from `[B]` raw serving strings.

        Traced into the exported SavedModel, so it may use only TensorFlow
        (and tensorflow-text) ops. Default: text, tokenized by the inputs
        encoder with EOS appended and 0-padded.

        Returns:
            `(inputs, length)`: the feature and an int32 scalar, the input
            length the default maximum decode length adds to.
        """
        from t2t_multimodel import text_encoder

        encoder = self.get_feature_encoders()["inputs"]
        ids = tf.cast(encoder.encode_tf(strings), tf.int32)
        eos = tf.fill([ids.nrows(), 1], tf.constant(text_encoder.EOS_ID, tf.int32))
        ids = tf.concat([ids, tf.RaggedTensor.from_tensor(eos)], axis=1).to_tensor(0)
        return ids, tf.shape(ids)[1]

    def dev_pair(self, example):
        """`(serving input, reference)` of one example of `decode_examples`.

        The serving input is what the SavedModel takes (str for text, bytes
        for image and audio files); the reference is the expected output
        string (a class problem's label name), or a list of strings when an
        example has several references.
        """
        encoders = self.get_feature_encoders()
        inputs = example["inputs"].numpy().decode("utf-8")
        target = example["targets"]
        if target.dtype.is_integer:
            return inputs, encoders["targets"].decode([int(target.numpy().reshape(-1)[0])])
        return inputs, target.numpy().decode("utf-8")

    @property
    def input_space_id(self):
        return SpaceID.GENERIC

    @property
    def target_space_id(self):
        return SpaceID.GENERIC

    @property
    def has_inputs(self):
        return "inputs" in self.example_reading_spec()

    @property
    def batch_size_means_tokens(self):
        return True

    @property
    def tokens_per_example(self):
        """With `batch_size_means_tokens` False: the tokens of `batch_size` one
        example takes (1: `batch_size` counts examples)."""
        return 1

    # ---- Framework ------------------------------------------------------
    @property
    def name(self):
        from t2t_multimodel.registry import camelcase_to_snakecase

        return self.REGISTERED_NAME or camelcase_to_snakecase(type(self).__name__)

    def dataset_filename(self):
        return self.name

    def filepattern(self, data_dir, mode):
        split = shards.SPLIT_FILE_NAMES[_MODES[mode]]
        return os.path.join(data_dir, f"{self.dataset_filename()}-{split}*")

    def data_files(self, data_dir, mode):
        """The complete shards of `mode`; a clear error when there are none."""
        files = shards.find_shards(data_dir, self.dataset_filename(), _MODES[mode])
        if not files:
            raise DataError(
                f"no {mode} data for problem {self.name} in {data_dir}: run "
                f"t2t-datagen --problem={self.name} --data_dir={data_dir}. "
                f"Received: data_dir={data_dir}")
        return files

    def get_feature_encoders(self, data_dir=None):
        """The encoders of `data_dir`'s vocabulary, loaded once per directory.

        In-graph encoders own TF resources (lookup tables, SentencePiece
        models) that die with the Python object, so the encoders of a
        directory are kept for the problem's lifetime: a `tf.data` pipeline
        built earlier must never lose the tokenizer it captured.
        """
        key = os.path.abspath(os.path.expanduser(data_dir)) if data_dir else None
        if self._encoders is None or (key and key != self._encoders_dir):
            if key not in self._encoders_by_dir:
                self._encoders_by_dir[key] = self.feature_encoders(data_dir)
            self._encoders = self._encoders_by_dir[key]
            self._encoders_dir = key
        return self._encoders

    @property
    def feature_info(self):
        return self._encoders

    def get_hparams(self, model_hparams=None, data_dir=None):
        """The `ProblemHParams` of this problem (vocabulary from `data_dir`)."""
        key = os.path.abspath(os.path.expanduser(data_dir)) if data_dir else None
        if self._hparams is not None and key in (None, self._encoders_dir):
            return self._hparams
        if data_dir is not None or self._encoders is None:
            self.get_feature_encoders(data_dir)
        defaults = ProblemHParams(input_space_id=self.input_space_id,
                                  target_space_id=self.target_space_id)
        result = self.hparams(defaults, model_hparams)
        if result is not None:
            raise ValueError("The Problem subclass hparams function should mutate "
                             "the defaults passed in and return None.")
        self._hparams = defaults
        return defaults

    def encode_example(self, example, data_dir=None):
        """Applies the in-graph encoders to string features and appends EOS."""
        from t2t_multimodel import text_encoder

        encoders = self.get_feature_encoders(data_dir)
        out = dict(example)
        for name, value in example.items():
            encoder = encoders.get(name)
            if value.dtype == tf.string and hasattr(encoder, "encode_tf"):
                ids = tf.cast(encoder.encode_tf(value), tf.int32)
                out[name] = tf.concat([ids, [text_encoder.EOS_ID]], axis=0)
        return out

    def decode_examples(self, mode, data_dir):
        """Unbatched, unencoded examples of `mode` (raw strings for text)."""
        files = self.data_files(data_dir, mode)
        spec = self.example_reading_spec()
        return tf.data.TFRecordDataset(files).map(
            lambda record: tf.io.parse_single_example(record, spec))

    def dataset(self, mode, data_dir=None, hparams=None, shuffle_files=None,
                repeat=None, seed=None, batch=True, prefetch=True, partition_id=0,
                num_partitions=1):
        """Batched features of `mode` ("train", "eval"/"dev" or "test").

        Args:
            mode: str. A `DatasetSplit` value.
            data_dir: str. Where `generate_data` wrote its shards.
            hparams: `HParams` with the batching knobs (`batch_size` in
                tokens, `max_length`, `eval_max_length`, `min_length_bucket`,
                `length_bucket_step`, `shuffle_buffer_size`, `seed`). When
                `batch_size_means_tokens` is False (images) there is no length
                filter or bucketing: a batch holds `max(1, batch_size //
                tokens_per_example)` examples (the last one dropped if partial
                in training), so one `batch_size` in tokens serves text and
                images in a mixture.
            shuffle_files: bool or None. Defaults to True in training.
            repeat: bool or None. Defaults to True in training.
            seed: int or None. Shuffle seed (the trainer passes one that
                depends on the step it resumes from).
            batch: bool. False returns single examples.
            prefetch: bool. Adds `prefetch(AUTOTUNE)`.
            partition_id: int. This reader's index in `[0, num_partitions)`.
            num_partitions: int. Readers that share the split (the workers of
                a multi-worker run), each reading a disjoint part: every
                `num_partitions`-th shard when there are at least as many
                shards as readers, else every `num_partitions`-th record of
                each shard (see `partition_by_files`).

        Returns:
            A `tf.data.Dataset` of dicts with `inputs`, `targets` (int32, EOS
            appended, 0-padded; image problems: uint8 `inputs` and `[1]`
            class `targets`) and `target_space_id` (int32 per example).
        """
        if mode not in _MODES:
            raise DataError(f"mode must be one of {sorted(set(_MODES))}. Received: mode={mode!r}")
        hparams = hparams or default_model_hparams()
        training = _MODES[mode] == DatasetSplit.TRAIN
        shuffle_files = training if shuffle_files is None else shuffle_files
        repeat = training if repeat is None else repeat
        seed = hparams.get("seed", 1234) if seed is None else seed
        files = self.data_files(data_dir, mode)
        problem_hparams = self.get_hparams(hparams, data_dir)
        spec = self.example_reading_spec()

        read = tf.data.TFRecordDataset
        if num_partitions > 1 and partition_by_files(len(files), num_partitions):
            files = files[partition_id::num_partitions]
        elif num_partitions > 1:
            # Per shard, so that the interleave's order cannot mix the parts.
            def read(path):
                return tf.data.TFRecordDataset(path).shard(num_partitions, partition_id)
        files_ds = tf.data.Dataset.from_tensor_slices(files)
        if shuffle_files:
            files_ds = files_ds.shuffle(len(files), seed=seed)
        ds = files_ds.interleave(read, cycle_length=min(4, len(files)),
                                 num_parallel_calls=tf.data.AUTOTUNE,
                                 deterministic=not training)
        ds = ds.map(lambda record: tf.io.parse_single_example(record, spec),
                    num_parallel_calls=tf.data.AUTOTUNE)
        target_space = tf.constant(problem_hparams.target_space_id, tf.int32)

        def prepare(example):
            example = self.encode_example(example, data_dir)
            example = self.preprocess_example(example, mode, hparams)
            example = {k: (tf.cast(v, tf.int32) if v.dtype == tf.int64 else v)
                       for k, v in example.items()}
            example["target_space_id"] = target_space
            return example

        ds = ds.map(prepare, num_parallel_calls=tf.data.AUTOTUNE)
        max_length = hparams.max_length if training else hparams.get("eval_max_length", 0)
        if self.batch_size_means_tokens:
            ds = batching.filter_by_length(ds, max_length)
        if training:
            ds = ds.shuffle(hparams.get("shuffle_buffer_size", 1024), seed=seed)
        if repeat:
            ds = ds.repeat()
        if batch and not self.batch_size_means_tokens:
            # Padded: image -> text examples have captions of different lengths.
            ds = ds.padded_batch(max(1, hparams.batch_size // self.tokens_per_example),
                                 drop_remainder=training)
        elif batch:
            ds = batching.batch_by_tokens(
                ds, hparams.batch_size, max_length or hparams.max_length,
                hparams.get("min_length_bucket", 8), hparams.get("length_bucket_step", 1.1))
        if prefetch:
            ds = ds.prefetch(tf.data.AUTOTUNE)
        return ds
