"""Speech recognition problems: WAV audio in, transcripts out.

`from tensor2tensor.data_generators import speech_recognition` becomes
`from t2t_multimodel import speech_problems`. A subclass yields utterances
per split:

```python
@registry.register_problem
class TinySpeech(speech_problems.SpeechRecognitionProblem):
    def generate_samples(self, data_dir, tmp_dir, split):
        yield {"waveform": np.zeros([8000], np.int16), "sample_rate": 8000,
               "transcript": "silence"}
```

Storage: each example holds `audio/encoded` (a 16 kHz mono 16-bit PCM WAV
file; other rates are resampled at datagen with `scipy.signal.resample_poly`),
`audio/num_samples` and the raw transcript string `targets`, written
atomically (`t2t_multimodel.data.shards`). In the graph, `preprocess_example`
decodes the WAV with `tf.audio.decode_wav` into the float32 waveform
`inputs` `[N]` that the `audio` modality takes (batched: `[B, N]`,
0-padded), and the transcript becomes subword ids (EOS appended).

The transcript vocabulary is `Text2TextProblem`'s machinery (same knobs and
file names: `vocab_type`, `approx_vocab_size`, `vocab_filename`,
`get_or_create_vocab`), learned from the train transcripts only.

Batching: samples are not tokens. An utterance costs
`max(target tokens, seconds * audio_tokens_per_second)` tokens of
`batch_size` (default 100 per second: one per 10 ms frame, since the audio
net's convolutions over every frame and mel bin dominate the cost of a
speech batch), and utterances
longer than `audio_max_seconds` (model hparam if the set has one, else the
class attribute) are dropped in training; so are transcripts longer than
`max_length` tokens.

Serving: the SavedModel takes WAV file bytes (`serving_inputs`). Any 16-bit
PCM WAV is accepted: stereo is averaged to mono, and a file at another
sample rate is resampled in the graph (band-limited, by FFT). Bytes that are
not a RIFF/WAVE file fail with an `InvalidArgumentError` saying so, per
request; the server keeps running.
"""

import math
import os

import numpy as np
import tensorflow as tf

from t2t_multimodel import metrics, problem, text_problems
from t2t_multimodel.data import batching, shards
from t2t_multimodel.data.wav import (  # noqa: F401  (T2T-style speech_problems.<name>)
    SAMPLE_RATE,
    WavEncoder,
    decode_wav_tf,
    read_wav,
    resample,
    resample_tf,
    wav_bytes,
)
from t2t_multimodel.errors import DataError


class SpeechRecognitionProblem(problem.Problem):
    """Speech recognition: `generate_samples` yields utterances, stored as WAV files.

    Subclasses override `generate_samples(data_dir, tmp_dir, split)`,
    yielding `{"waveform": int16 numpy [N], "sample_rate": int,
    "transcript": str}` or `{"wav": bytes of a 16-bit PCM WAV file,
    "transcript": str}`; further str/int keys (e.g. `"utterance_id"`) are
    stored as they are. They may change `dataset_splits`, `vocab_type`
    (SUBWORD or CHARACTER), `approx_vocab_size`, `audio_max_seconds` and
    `audio_tokens_per_second`. Features: `inputs` (float32 waveform in
    [-1, 1], `[N]` per example, `[B, N]` batched) and `targets` (ids + EOS);
    modalities `{"inputs": "audio", "targets": "symbol"}`; space ids
    `AUDIO_WAV -> EN_TOK` (`EN_CHR` with a character vocabulary).

    Args:
        was_reversed: bool. Kept for T2T compatibility; must be False.
        was_copy: bool. Kept for T2T compatibility; must be False.

    Example:

    ```python
    p = registry.problem("speech_recognition_espeak")
    p.generate_data("/data", "/tmp")
    ds = p.dataset("train", "/data", hparams)  # inputs [B, N] float32
    ```

    References:
        - T2T `data_generators/speech_recognition.py`.
    """

    sample_rate = SAMPLE_RATE
    # Utterances longer than this are dropped in training (a model hparam
    # `audio_max_seconds`, when the hparams set has one, wins).
    audio_max_seconds = 10.0
    # Tokens of `batch_size` one second of audio costs: one per 10 ms frame
    # the audio net convolves, its dominant cost.
    audio_tokens_per_second = 100
    # Default decode budget: target tokens per second of audio (+ extra_length).
    serving_tokens_per_second = 20
    # Batched waveforms are 0-padded to a multiple of this (the audio net
    # ignores trailing zeros): few distinct shapes, so oneDNN's per-shape
    # convolution kernels are built once, not for every batch.
    audio_pad_seconds = 0.25

    # ---- Transcript vocabulary: Text2TextProblem's knobs and files ---------
    vocab_type = text_problems.VocabType.SUBWORD
    approx_vocab_size = 2**10
    additional_reserved_tokens = ()
    max_subtoken_length = None
    oov_token = None
    use_vocab_from_other_problem = None
    vocab_filename = text_problems.Text2TextProblem.vocab_filename
    get_or_create_vocab = text_problems.Text2TextProblem.get_or_create_vocab
    # Learned from the train transcripts only (never dev or test text).
    vocab_text_features = ("targets",)
    max_samples_for_vocab = None
    generate_text_for_vocab = text_problems.Text2TextProblem.generate_text_for_vocab

    # ---- Subclass interface ---------------------------------------------
    @property
    def dataset_splits(self):
        """Splits and their shard counts."""
        return [{"split": problem.DatasetSplit.TRAIN, "shards": 10},
                {"split": problem.DatasetSplit.EVAL, "shards": 1}]

    def generate_samples(self, data_dir, tmp_dir, split):
        """Yields `{"waveform" | "wav", "sample_rate", "transcript"}` of `split`."""
        raise NotImplementedError(f"{type(self).__name__} must override generate_samples. "
                                  f"Received: problem={self.name}")

    # ---- Problem interface ----------------------------------------------
    @property
    def input_space_id(self):
        return problem.SpaceID.AUDIO_WAV

    @property
    def target_space_id(self):
        if self.vocab_type == text_problems.VocabType.CHARACTER:
            return problem.SpaceID.EN_CHR
        return problem.SpaceID.EN_TOK

    @property
    def has_inputs(self):
        return True

    def feature_encoders(self, data_dir):
        return {"inputs": WavEncoder(self.sample_rate),
                "targets": self.get_or_create_vocab(data_dir, None, force_get=True)}

    def hparams(self, defaults, model_hparams):
        del model_hparams
        encoders = self._encoders or self.get_feature_encoders()
        defaults.stop_at_eos = True
        defaults.modality = {"inputs": "audio", "targets": "symbol"}
        defaults.vocab_size = {"targets": encoders["targets"].vocab_size}
        defaults.vocab_name = {"targets": self.vocab_filename}

    def example_reading_spec(self):
        return {"audio/encoded": tf.io.FixedLenFeature([], tf.string),
                "targets": tf.io.FixedLenFeature([], tf.string)}

    def preprocess_example(self, example, mode, hparams):
        """Decodes `audio/encoded` into the float32 waveform `inputs` `[N]`."""
        del mode, hparams
        return {"inputs": decode_wav_tf(example["audio/encoded"], self.sample_rate),
                "targets": example["targets"]}

    def eval_metrics(self):
        return [metrics.Metrics.ACC, metrics.Metrics.ACC_PER_SEQ,
                metrics.Metrics.NEG_LOG_PERPLEXITY]

    def decode_metrics(self):
        return ["word_error_rate"]

    def serving_inputs(self, strings):
        """`[B]` WAV file bytes → (waveforms `[B, N]` float32 0-padded, decode budget)."""
        rate = self.sample_rate
        waveforms = tf.map_fn(
            lambda data: tf.RaggedTensor.from_tensor(decode_wav_tf(data, rate)[None, :]),
            strings, fn_output_signature=tf.RaggedTensorSpec([1, None], tf.float32, 1))
        waveforms = waveforms.merge_dims(1, 2).to_tensor(0.0)
        seconds = tf.cast(tf.shape(waveforms)[1], tf.float32) / float(rate)
        waveforms = self._pad_waveforms(waveforms)
        length = tf.cast(tf.math.ceil(seconds * self.serving_tokens_per_second), tf.int32)
        return waveforms, length

    def _pad_waveforms(self, waveforms):
        """`[B, N]` 0-padded to a multiple of `audio_pad_seconds`."""
        quantum = max(1, int(self.audio_pad_seconds * self.sample_rate))
        n = tf.shape(waveforms)[1]
        return tf.pad(waveforms, [[0, 0], [0, (quantum - n % quantum) % quantum]])

    def dev_pair(self, example):
        """(WAV file bytes, transcript) of one dev example from `decode_examples`."""
        return (example["audio/encoded"].numpy(),
                example["targets"].numpy().decode("utf-8"))

    @property
    def batch_size_means_tokens(self):
        # The base class would count waveform samples as tokens; `dataset`
        # batches by `utterance_cost` instead.
        return False

    def utterance_cost(self, example):
        """The tokens of `batch_size` an utterance costs (see the module docstring)."""
        seconds = tf.cast(tf.shape(example["inputs"])[0], tf.float32) / float(self.sample_rate)
        audio = tf.cast(tf.math.ceil(seconds * self.audio_tokens_per_second), tf.int32)
        return tf.maximum(audio, tf.shape(example["targets"])[0])

    def max_seconds(self, hparams):
        return float(hparams.get("audio_max_seconds", self.audio_max_seconds)
                     if hparams is not None else self.audio_max_seconds)

    def dataset(self, mode, data_dir=None, hparams=None, shuffle_files=None, repeat=None,
                seed=None, batch=True, prefetch=True, partition_id=0, num_partitions=1):
        """`Problem.dataset`, batched by audio-aware length (see the module docstring).

        Returns:
            A `tf.data.Dataset` of dicts: `inputs` float32 `[B, N]`,
            `targets` int32 `[B, T]` (EOS appended), both 0-padded, and
            `target_space_id`.
        """
        hparams = hparams or problem.default_model_hparams()
        ds = super().dataset(mode, data_dir, hparams, shuffle_files=shuffle_files,
                             repeat=repeat, seed=seed, batch=False, prefetch=False,
                             partition_id=partition_id, num_partitions=num_partitions)
        training = mode == problem.DatasetSplit.TRAIN
        max_tokens = hparams.max_length if training else hparams.get("eval_max_length", 0)
        if training:
            max_samples = int(self.max_seconds(hparams) * self.sample_rate)
            ds = ds.filter(lambda ex: tf.shape(ex["inputs"])[0] <= max_samples)
        if max_tokens:
            ds = ds.filter(lambda ex: tf.shape(ex["targets"])[0] <= max_tokens)
        if batch:
            longest = max(int(hparams.max_length or 0),
                          int(math.ceil(self.max_seconds(hparams) * self.audio_tokens_per_second)))
            boundaries = batching.bucket_boundaries(
                longest + 1, hparams.get("min_length_bucket", 8),
                hparams.get("length_bucket_step", 1.1))
            sizes = [max(1, hparams.batch_size // n)
                     for n in [max(1, b - 1) for b in boundaries] + [longest]]
            ds = ds.bucket_by_sequence_length(self.utterance_cost, boundaries, sizes,
                                              drop_remainder=False)
            ds = ds.map(lambda ex: dict(ex, inputs=self._pad_waveforms(ex["inputs"])))
        if prefetch:
            ds = ds.prefetch(tf.data.AUTOTUNE)
        return ds

    # ---- Data generation ------------------------------------------------
    def generate_data(self, data_dir, tmp_dir, task_id=-1):
        """Writes the WAV shards of every split, then the transcript vocabulary.

        Splits whose shards all exist are skipped, and so is an existing
        vocabulary. `task_id` is accepted for T2T compatibility and unused.
        """
        del task_id
        os.makedirs(data_dir, exist_ok=True)
        if tmp_dir:
            os.makedirs(tmp_dir, exist_ok=True)
        shards.write_missing_splits(
            self.name, data_dir, self.dataset_filename(), self.dataset_splits,
            lambda split: self._stored_samples(data_dir, tmp_dir, split))
        self.get_or_create_vocab(data_dir, tmp_dir)

    def _stored_samples(self, data_dir, tmp_dir, split):
        """The samples of `split` as stored: 16 kHz mono WAV bytes and the transcript."""
        for sample in self.generate_samples(data_dir, tmp_dir, split):
            transcript = sample.get("transcript")
            if not isinstance(transcript, str):
                raise DataError(f"{self.name}.generate_samples must yield a str 'transcript'. "
                                f"Received: transcript={transcript!r}")
            if "wav" in sample:
                waveform, rate = read_wav(sample["wav"], source=sample.get("utterance_id",
                                                                           "<wav bytes>"))
            else:
                waveform, rate = sample.get("waveform"), sample.get("sample_rate")
                if (not isinstance(waveform, np.ndarray) or waveform.dtype != np.int16
                        or waveform.ndim != 1):
                    got = f"{type(waveform).__name__} {getattr(waveform, 'dtype', '')}"
                    raise DataError(f"{self.name}.generate_samples must yield an int16 numpy "
                                    f"'waveform' [N] or 'wav' bytes. Received: waveform={got}")
                if not isinstance(rate, int) or rate < 100:
                    raise DataError(f"{self.name}.generate_samples must yield an int "
                                    f"'sample_rate'. Received: sample_rate={rate!r}")
            waveform = resample(waveform, rate, self.sample_rate)
            if not waveform.size:
                raise DataError(f"{self.name}: an utterance has no samples. Received: "
                                f"transcript={transcript!r}")
            stored = {k: v for k, v in sample.items()
                      if k not in ("wav", "waveform", "sample_rate", "transcript")}
            stored.update({"audio/encoded": wav_bytes(waveform, self.sample_rate),
                           "audio/sample_rate": self.sample_rate,
                           "audio/num_samples": int(waveform.size),
                           "targets": transcript})
            yield stored


def normalize_transcript(text):
    """Lower case, digits spelled out one by one, no punctuation but inner apostrophes."""
    words = []
    for token in text.lower().replace("-", " ").split():
        token = "".join(c if c.isalnum() or c == "'" else " " for c in token)
        for part in token.split():
            part = part.strip("'")
            if part.isdigit():
                words.extend(DIGIT_WORDS[int(d)] for d in part)
            elif part:
                words.append(part)
    return " ".join(words)


DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
