"""A speech problem's SavedModel takes WAV file bytes, without this package."""

import json

import numpy as np
import pytest
from cli import run_standalone

from t2t_multimodel import problem, registry, speech_problems
from t2t_multimodel.decoding import decoder, loading
from t2t_multimodel.export import exporter

TINY = ("hidden_size=32,num_heads=2,moe_num_experts=4,moe_hidden_size=32,large_kernel_size=5,"
        "audio_num_mel_bins=20,encoder_blocks=1,decoder_blocks=1")
STEPS = 4


def _beeps(count, rate, rng):
    t = np.arange(int(0.1 * rate)) / rate
    beep = np.concatenate([4000 * np.sin(2 * np.pi * 700 * t), np.zeros(int(0.05 * rate))])
    return (np.tile(beep, count) * rng.uniform(0.5, 1.5)).astype(np.int16)


class ExportBeeps(speech_problems.SpeechRecognitionProblem):
    dataset_splits = [{"split": problem.DatasetSplit.TRAIN, "shards": 1},
                      {"split": problem.DatasetSplit.EVAL, "shards": 1}]
    vocab_type = "character"

    def generate_samples(self, data_dir, tmp_dir, split):
        rng = np.random.RandomState(split == "train")
        for i in range(12):
            count = 1 + i % 3
            yield {"waveform": _beeps(count, 16000, rng), "sample_rate": 16000,
                   "transcript": " ".join(["beep"] * count)}


registry.register_problem("export_beeps_for_test")(ExportBeeps)


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    from t2t_multimodel.training import trainer

    data_dir = str(tmp_path_factory.mktemp("beeps"))
    registry.problem("export_beeps_for_test").generate_data(data_dir, None)
    output_dir = str(tmp_path_factory.mktemp("run") / "out")
    trainer.train("export_beeps_for_test", "multimodel", "multimodel_tiny", data_dir,
                  output_dir, hparams_overrides=TINY, train_steps=STEPS, eval_steps=0,
                  local_eval_frequency=STEPS, save_checkpoints_steps=STEPS,
                  log_fn=lambda line: None)
    run = loading.load_run(output_dir)
    dhp = decoder.decode_hparams("beam_size=1,extra_length=5")
    export_dir = str(tmp_path_factory.mktemp("export") / "saved")
    exporter.export(run, export_dir, dhp)
    rng = np.random.RandomState(3)
    wavs = [speech_problems.wav_bytes(_beeps(2, 16000, rng), 16000),
            speech_problems.wav_bytes(_beeps(1, 8000, rng), 8000)]  # Resampled in the graph.
    expected, _ = decoder.decode_lines(decoder.serving_module(run, dhp), wavs, dhp)
    return export_dir, wavs, expected


def test_saved_model_decodes_wav_bytes_without_the_package(exported, tmp_path):
    export_dir, wavs, expected = exported
    code = f"""
import json
m = tf.saved_model.load({export_dir!r})
serve = m.signatures["serving_default"]
out = serve(inputs=tf.constant({wavs!r}))["outputs"].numpy()
try:
    serve(inputs=tf.constant([b"this is not a wav file", {wavs[0]!r}]))
    error = None
except tf.errors.InvalidArgumentError as e:
    error = e.message
again = serve(inputs=tf.constant({wavs[:1]!r}))["outputs"].numpy()  # Still serving.
print(json.dumps({{"outputs": [o.decode("utf-8", "replace") for o in out], "error": error,
                  "again": again[0].decode("utf-8", "replace")}}))
"""
    result = json.loads(run_standalone(code, cwd=str(tmp_path)).strip().splitlines()[-1])
    assert result["outputs"] == expected
    assert all(isinstance(o, str) for o in result["outputs"])
    assert "must be WAV file bytes" in result["error"]
    assert result["again"] == expected[0]
