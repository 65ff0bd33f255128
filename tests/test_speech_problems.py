"""SpeechRecognitionProblem: WAV shards, in-graph decoding, batching, WAV serving, learning."""

import numpy as np
import pytest
import tensorflow as tf

from t2t_multimodel import problem, registry, speech_problems
from t2t_multimodel.data import shards
from t2t_multimodel.metrics import decode as decode_metrics
from t2t_multimodel.problem import default_model_hparams

# Tones as "words": a tiny speech task a tiny model learns in seconds.
TONES = {"low": 400.0, "mid": 1000.0, "high": 2500.0}
TONE_SECONDS, GAP_SECONDS = 0.12, 0.06
TINY = ("hidden_size=32,num_heads=2,moe_num_experts=4,moe_hidden_size=32,large_kernel_size=5,"
        "moe_train_capacity_factor=0,moe_eval_capacity_factor=0,audio_num_mel_bins=20,"
        "learning_rate=3e-3,learning_rate_warmup_steps=50")


def tone_utterance(words, rate, rng):
    """int16 waveform of `words` as tones at `rate`, random amplitude and phase."""
    parts = []
    for word in words:
        t = np.arange(int(TONE_SECONDS * rate)) / rate
        amplitude = rng.uniform(3000, 12000)
        parts.append(amplitude * np.sin(2 * np.pi * TONES[word] * t + rng.uniform(0, 6.28)))
        parts.append(np.zeros(int(GAP_SECONDS * rate)))
    return np.concatenate(parts).astype(np.int16)


def tone_samples(split, count, seed):
    rng = np.random.RandomState(seed + (split != problem.DatasetSplit.TRAIN))
    for i in range(count):
        words = list(rng.choice(sorted(TONES), rng.randint(1, 4)))
        rate = 8000 if i % 4 == 3 else 16000  # Some at 8 kHz: resampled at datagen.
        waveform = tone_utterance(words, rate, rng)
        sample = {"transcript": " ".join(words), "utterance_id": f"{split}-{i}"}
        if i % 5 == 4:  # Some as WAV file bytes.
            sample["wav"] = speech_problems.wav_bytes(waveform, rate)
        else:
            sample.update(waveform=waveform, sample_rate=rate)
        yield sample


class TinyTones(speech_problems.SpeechRecognitionProblem):
    dataset_splits = [{"split": problem.DatasetSplit.TRAIN, "shards": 2},
                      {"split": problem.DatasetSplit.EVAL, "shards": 1}]
    approx_vocab_size = 2**9
    audio_max_seconds = 0.4  # Drops the 3-tone utterances (0.54 s) in training.
    counts = {problem.DatasetSplit.TRAIN: 240, problem.DatasetSplit.EVAL: 24}

    def __init__(self, calls=None):
        super().__init__()
        self.calls = calls

    def generate_samples(self, data_dir, tmp_dir, split):
        if self.calls is not None:
            self.calls.append(split)
        return tone_samples(split, self.counts[split], seed=7)


registry.register_problem("tiny_tones_for_test")(TinyTones)


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("tones"))
    p = registry.problem("tiny_tones_for_test")
    p.generate_data(data_dir, None)
    return p, data_dir


def _stored(data_dir, split):
    files = shards.find_shards(data_dir, "tiny_tones_for_test", split)
    spec = {"audio/encoded": tf.io.FixedLenFeature([], tf.string),
            "audio/num_samples": tf.io.FixedLenFeature([], tf.int64),
            "utterance_id": tf.io.FixedLenFeature([], tf.string),
            "targets": tf.io.FixedLenFeature([], tf.string)}
    return [tf.io.parse_single_example(r, spec) for r in tf.data.TFRecordDataset(files)]


def test_transcripts_are_normalized():
    assert speech_problems.normalize_transcript("Press 1, then 42 -- Call-Forward.") == (
        "press one then four two call forward")


# ---- Datagen and the input pipeline --------------------------------------------
def test_shards_hold_16khz_wavs_and_transcripts(generated):
    p, data_dir = generated
    rows = _stored(data_dir, problem.DatasetSplit.TRAIN)
    assert len(rows) == 240
    for row in rows[:10]:
        waveform, rate = speech_problems.read_wav(row["audio/encoded"].numpy())
        assert rate == 16000 and waveform.size == int(row["audio/num_samples"])
        words = row["targets"].numpy().decode().split()
        # 8 kHz utterances were resampled: the length is the 16 kHz one either way.
        expected = len(words) * int((TONE_SECONDS + GAP_SECONDS) * 16000)
        assert abs(waveform.size - expected) <= 2 * len(words)
    # The vocabulary is learned from the train transcripts.
    encoder = p.get_feature_encoders(data_dir)["targets"]
    assert encoder.decode(encoder.encode("low high mid")) == "low high mid"


def test_existing_splits_are_skipped(generated):
    _, data_dir = generated
    calls = []
    TinyTones(calls=calls).generate_data(data_dir, None)
    assert calls == []


def test_batches_are_padded_waveforms_and_ids(generated):
    p, data_dir = generated
    hparams = default_model_hparams()
    hparams.batch_size = 200  # 100 tokens a second: 2 s of audio a batch.
    batches = list(p.dataset("eval", data_dir, hparams).as_numpy_iterator())
    stored = {r["targets"].numpy().decode(): int(r["audio/num_samples"])
              for r in _stored(data_dir, problem.DatasetSplit.EVAL)}
    encoder = p.get_feature_encoders(data_dir)["targets"]
    assert sum(len(b["inputs"]) for b in batches) == 24  # Eval keeps every utterance.
    for batch in batches:
        assert batch["inputs"].dtype == np.float32 and batch["inputs"].ndim == 2
        assert batch["targets"].dtype == np.int32
        assert (batch["target_space_id"] == problem.SpaceID.EN_TOK).all()
        assert batch["inputs"].shape[1] % 4000 == 0  # Padded to 0.25 s steps.
        longest = max(stored[encoder.decode([i for i in ids if i > 1])]
                      for ids in batch["targets"])
        assert len(batch["inputs"]) <= max(1, 200 // int(np.ceil(longest / 16000 * 100)))
        for waveform, ids in zip(batch["inputs"], batch["targets"], strict=True):
            ids = ids[ids > 0].tolist()
            assert ids[-1] == 1  # EOS
            transcript = encoder.decode(ids[:-1])
            real = np.flatnonzero(waveform).max() + 1
            assert stored[transcript] - real < int(GAP_SECONDS * 16000) + 2  # trailing gap
            assert not waveform[stored[transcript]:].any()  # 0-padded
            assert np.abs(waveform).max() <= 1.0


def test_training_drops_utterances_over_audio_max_seconds(generated):
    p, data_dir = generated
    ds = p.dataset("train", data_dir, default_model_hparams(), batch=False, repeat=False)
    lengths = [len(ex["inputs"]) for ex in ds.as_numpy_iterator()]
    assert lengths and max(lengths) <= 0.4 * 16000
    assert len(lengths) < 240  # Three-tone utterances (0.54 s) are gone.


# ---- Serving -----------------------------------------------------------------
def test_serving_inputs_decode_wav_bytes_and_refuse_other_bytes(generated):
    p, data_dir = generated
    p.get_feature_encoders(data_dir)
    rng = np.random.RandomState(0)
    a = tone_utterance(["low"], 16000, rng)
    b = tone_utterance(["high", "mid"], 8000, rng)  # Resampled in the graph.
    serve = tf.function(p.serving_inputs,
                        input_signature=[tf.TensorSpec([None], tf.string)])
    waveforms, length = serve(tf.constant([speech_problems.wav_bytes(a, 16000),
                                           speech_problems.wav_bytes(b, 8000)]))
    assert waveforms.shape == (2, 4000 * int(np.ceil(2 * len(b) / 4000)))  # 0.25 s steps
    assert np.allclose(waveforms[0, :len(a)], a / 32768.0, atol=1e-6)
    assert not waveforms[0, len(a):].numpy().any()
    assert int(length) == int(np.ceil(2 * len(b) / 16000 * p.serving_tokens_per_second))
    with pytest.raises(tf.errors.InvalidArgumentError, match="not a WAV file"):
        serve(tf.constant([b"<html>not audio</html>"]))


def test_dev_pair_and_decode_metrics(generated):
    p, data_dir = generated
    example = next(iter(p.decode_examples("eval", data_dir)))
    wav, reference = p.dev_pair(example)
    assert speech_problems.read_wav(wav)[1] == 16000
    assert set(reference.split()) <= set(TONES)
    assert p.decode_metrics() == ["word_error_rate"]
    hparams = p.get_hparams(data_dir=data_dir)
    assert hparams.modality == {"inputs": "audio", "targets": "symbol"}
    assert hparams.input_space_id == problem.SpaceID.AUDIO_WAV


# ---- Learning ----------------------------------------------------------------
LEARN_STEPS = 100


def test_multimodel_learns_tones_below_the_empty_output_wer(generated, tmp_path):
    from t2t_multimodel.decoding import decoder, loading
    from t2t_multimodel.training import trainer

    _, data_dir = generated
    output_dir = str(tmp_path / "out")
    lines = []
    trainer.train("tiny_tones_for_test", "multimodel", "multimodel_tiny", data_dir, output_dir,
                  hparams_overrides=TINY, train_steps=LEARN_STEPS, eval_steps=0,
                  local_eval_frequency=LEARN_STEPS, save_checkpoints_steps=LEARN_STEPS,
                  log_fn=lines.append, log_step_count_steps=25)
    losses = [float(line.split("loss ")[1].split()[0]) for line in lines
              if line.startswith("step ")]
    assert losses[-1] < 0.5 * losses[0], lines
    run = loading.load_run(output_dir)
    dhp = decoder.decode_hparams("beam_size=1")
    pairs = [run.problem.dev_pair(ex) for ex in run.problem.decode_examples("eval", data_dir)]
    outputs, _ = decoder.decode_lines(decoder.serving_module(run, dhp),
                                      [w for w, _ in pairs], dhp)
    references = [r for _, r in pairs]
    wer = decode_metrics.compute(["word_error_rate"], outputs, references)["word_error_rate"]
    empty = decode_metrics.compute(["word_error_rate"], [""] * len(pairs),
                                   references)["word_error_rate"]
    assert empty == 1.0
    assert wer < 0.5, list(zip(outputs, references, strict=True))
