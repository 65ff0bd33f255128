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

import io
import math
import os
import sys
import wave

import numpy as np
import tensorflow as tf

from t2t_multimodel import metrics, problem, text_problems
from t2t_multimodel.data import batching, shards
from t2t_multimodel.errors import DataError

SAMPLE_RATE = 16000
_BAD_WAV = ("serving inputs must be WAV file bytes (RIFF/WAVE, 16-bit PCM); "
            "received bytes that are not a WAV file")


# ---- WAV files in Python (datagen) ------------------------------------------
def wav_bytes(waveform, sample_rate=SAMPLE_RATE):
    """A mono 16-bit PCM WAV file holding int16 `waveform` `[N]`."""
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(sample_rate))
        w.writeframes(np.asarray(waveform, "<i2").tobytes())
    return buffer.getvalue()


def read_wav(data, source="<bytes>"):
    """`(int16 mono waveform [N], sample_rate)` of 16-bit PCM WAV bytes.

    Channels are averaged. The data chunk is read to the end of the file, so
    streamed WAVs whose header holds a placeholder length (espeak-ng and
    sph2pipe writing to a pipe) are read whole.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise DataError(f"{source} is not a WAV file (no RIFF/WAVE header); convert it to "
                        f"16-bit PCM WAV. Received: source={source}")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        chunk, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if chunk == b"fmt ":
            fmt = data[pos + 8:pos + 24]
        elif chunk == b"data":
            if fmt is None or len(fmt) < 16:
                break
            tag, channels, rate = (int.from_bytes(fmt[0:2], "little"),
                                   int.from_bytes(fmt[2:4], "little"),
                                   int.from_bytes(fmt[4:8], "little"))
            bits = int.from_bytes(fmt[14:16], "little")
            if tag not in (1, 0xFFFE) or bits != 16 or channels < 1:
                raise DataError(f"{source} is not 16-bit PCM ({bits}-bit, format {tag}); "
                                f"convert it (e.g. sox in.wav -b 16 out.wav). "
                                f"Received: source={source}")
            body = data[pos + 8:pos + 8 + size] if size < len(data) else data[pos + 8:]
            body = body[:len(body) // (2 * channels) * 2 * channels]
            samples = np.frombuffer(body, "<i2").reshape(-1, channels)
            if channels > 1:
                samples = samples.astype(np.int32).mean(axis=1)
            return samples.reshape(-1).astype(np.int16), rate
        pos += 8 + size + (size & 1)
    raise DataError(f"{source} has no fmt and data chunks; it is not a complete WAV file. "
                    f"Received: source={source}")


def resample(waveform, rate_in, rate_out=SAMPLE_RATE):
    """int16 `waveform` at `rate_in` → int16 at `rate_out` (polyphase, scipy)."""
    if rate_in == rate_out:
        return np.asarray(waveform, np.int16)
    from scipy.signal import resample_poly

    g = math.gcd(int(rate_in), int(rate_out))
    out = resample_poly(np.asarray(waveform, np.float64), rate_out // g, rate_in // g)
    return np.clip(np.round(out), -32768, 32767).astype(np.int16)


# ---- WAV files in the graph (training and serving) --------------------------
def resample_tf(waveform, rate_in, rate_out):
    """Band-limited resampling of float `[N]` by FFT, with core TF ops only.

    The spectrum is cut (or zero-padded) at the new Nyquist frequency, so
    downsampling does not alias.
    """
    n = tf.shape(waveform)[0]
    n_out = tf.cast(tf.math.round(tf.cast(n, tf.float64) * tf.cast(rate_out, tf.float64)
                                  / tf.cast(rate_in, tf.float64)), tf.int32)
    spectrum = tf.signal.rfft(waveform)
    keep = n_out // 2 + 1
    spectrum = spectrum[:keep]
    spectrum = tf.pad(spectrum, [[0, keep - tf.shape(spectrum)[0]]])
    out = tf.signal.irfft(spectrum, fft_length=[n_out])
    return out * tf.cast(n_out, tf.float32) / tf.cast(tf.maximum(n, 1), tf.float32)


def decode_wav_tf(contents, sample_rate=SAMPLE_RATE):
    """WAV bytes (scalar string) → float32 mono waveform `[N]` at `sample_rate`.

    Bytes without a RIFF/WAVE header fail with a clear `InvalidArgumentError`.
    """
    header = tf.strings.substr(tf.strings.join([contents, tf.constant(" " * 12)]), 0, 12)
    is_wav = tf.logical_and(tf.equal(tf.strings.substr(header, 0, 4), "RIFF"),
                            tf.equal(tf.strings.substr(header, 8, 4), "WAVE"))
    check = tf.debugging.Assert(is_wav, [tf.constant(_BAD_WAV)])
    with tf.control_dependencies([check]):
        audio, rate = tf.audio.decode_wav(contents)
    waveform = tf.reduce_mean(audio, axis=1)
    return tf.cond(tf.equal(rate, sample_rate), lambda: waveform,
                   lambda: resample_tf(waveform, rate, sample_rate))


class WavEncoder:
    """The encoder of a speech problem's `inputs`: WAV files ↔ int16 samples.

    It has no `encode_tf` (the shards hold WAV files; `preprocess_example`
    decodes them in the graph).

    Args:
        sample_rate: int. The problem's sample rate.

    Example:

    ```python
    encoder = WavEncoder()
    data = encoder.decode(np.zeros([160], np.int16))    # WAV bytes
    encoder.encode(data)                                  # 160 zeros
    ```
    """

    def __init__(self, sample_rate=SAMPLE_RATE):
        self.sample_rate = int(sample_rate)

    @property
    def num_reserved_ids(self):
        return 0

    @property
    def vocab_size(self):
        return None

    def encode(self, data):
        waveform, rate = read_wav(data)
        return resample(waveform, rate, self.sample_rate).tolist()

    def decode(self, ids, strip_extraneous=False):
        del strip_extraneous
        return wav_bytes(np.asarray(ids, np.int16), self.sample_rate)


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
        for spec in self.dataset_splits:
            split = spec["split"]
            paths = shards.shard_paths(data_dir, self.dataset_filename(), split, spec["shards"])
            if all(tf.io.gfile.exists(p) for p in paths):
                print(f"{self.name} {split}: shards exist, skipping", file=sys.stderr, flush=True)
                continue
            shards.write_shards(self._stored_samples(data_dir, tmp_dir, split), paths,
                                label=f"{self.name} {split}")
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
