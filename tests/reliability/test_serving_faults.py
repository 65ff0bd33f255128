"""Bad inputs to an exported SavedModel: a clear error or a defined output, never a crash.

Each SavedModel is loaded in a process that cannot import t2t_multimodel
(tests/cli.py), fed the bad inputs one call at a time, then a good input: the
process must survive every bad call and still decode the good one right.
WAV inputs are covered by tests/export/test_export_speech.py.
"""

import json

import pytest
from cli import run_standalone
from grey_bars import GreyBars, bars

from t2t_multimodel import registry
from t2t_multimodel.decoding import decoder, loading
from t2t_multimodel.export import exporter
from t2t_multimodel.training import trainer

# Runs each call of CALLS (name -> python expression of the inputs tensor) and
# prints, per call, the outputs or the error's class and message.
PROBE = """
import json
m = tf.saved_model.load({export_dir!r})
serve = m.signatures["serving_default"]
results = {{}}
for name, make in {calls}:
    try:
        out = serve(inputs=eval(make))["outputs"].numpy().tolist()
        results[name] = {{"outputs": [o.decode("utf-8", "replace") for o in out]}}
    except tf.errors.OpError as e:
        results[name] = {{"error": type(e).__name__, "message": str(e)}}
print(json.dumps(results))
"""


def _probe(export_dir, calls, cwd):
    code = PROBE.format(export_dir=export_dir, calls=repr(list(calls.items())))
    return json.loads(run_standalone(code, cwd=cwd, timeout=240).strip().splitlines()[-1])


# ---- A text model (the tiny copy task of tests/conftest.py) ----------------

@pytest.fixture(scope="module")
def text_export(trained_run, tmp_path_factory):
    run = loading.load_run(trained_run)
    dhp = decoder.decode_hparams("beam_size=1")
    export_dir = str(tmp_path_factory.mktemp("text_export") / "saved")
    exporter.export(run, export_dir, dhp)
    return export_dir, run.model.hparams.max_length


def test_text_saved_model_survives_bad_inputs(text_export, tmp_path):
    export_dir, max_length = text_export
    long_line = " ".join(["7"] * 50_000)  # 99,999 characters, 50k tokens
    calls = {
        "int_dtype": "tf.constant([1, 2])",
        "empty_strings": "tf.constant(['', ''])",
        "empty_batch": "tf.constant([], tf.string)",
        "not_utf8": r"tf.constant([b'1 2', b'\xff\xfe 3'])",
        "very_long": f"tf.constant([{long_line!r}])",
        "good_after": "tf.constant(['3 1 4', '2 7'])",
    }
    r = _probe(export_dir, calls, str(tmp_path))

    assert r["int_dtype"]["error"] == "InvalidArgumentError"
    assert "expected to be a string tensor but is a int32 tensor" in r["int_dtype"]["message"]
    # An empty line is EOS alone: a defined output per line.
    assert len(r["empty_strings"]["outputs"]) == 2, r["empty_strings"]
    assert r["empty_batch"] == {"outputs": []}, r["empty_batch"]
    assert r["not_utf8"]["error"] == "InvalidArgumentError"
    assert "must be UTF-8 text" in r["not_utf8"]["message"]
    assert "not valid UTF-8 at batch index] [1]" in r["not_utf8"]["message"], r["not_utf8"]
    # Truncated to the model's max_length: the copy of the first tokens, bounded.
    (long_out,) = r["very_long"]["outputs"]
    assert set(long_out.split()) == {"7"}
    assert len(long_out.split()) <= max_length + 50
    assert r["good_after"]["outputs"] == ["3 1 4", "2 7"]


# ---- An image classifier ------------------------------------------------------

IMAGE_PROBLEM = "grey_bars_for_serving_faults"
HPARAMS = ("hidden_size=32,num_heads=2,moe_num_experts=4,moe_hidden_size=32,large_kernel_size=5,"
           "encoder_blocks=1,decoder_blocks=1,batch_size=256,learning_rate=3e-3,"
           "learning_rate_warmup_steps=10")


if IMAGE_PROBLEM not in registry.Registries.problems:
    registry.register_problem(IMAGE_PROBLEM)(type("ServingFaultsGreyBars", (GreyBars,), {}))


def _png(image):
    import tensorflow as tf

    return tf.io.encode_png(image).numpy()


@pytest.fixture(scope="module")
def image_export(tmp_path_factory):
    data_dir = str(tmp_path_factory.mktemp("bars_data"))
    registry.problem(IMAGE_PROBLEM).generate_data(data_dir, None)
    output_dir = str(tmp_path_factory.mktemp("bars_run") / "out")
    trainer.train(IMAGE_PROBLEM, "multimodel", "multimodel_tiny", data_dir, output_dir,
                  hparams_overrides=HPARAMS, train_steps=40, eval_steps=0,
                  save_checkpoints_steps=40, local_eval_frequency=0, log_fn=lambda line: None)
    run = loading.load_run(output_dir)
    dhp = decoder.decode_hparams("beam_size=1")
    export_dir = str(tmp_path_factory.mktemp("bars_export") / "saved")
    exporter.export(run, export_dir, dhp)
    good = [_png(bars(0, 3)), _png(bars(1, 5))]
    expected, _ = decoder.decode_lines(decoder.serving_module(run, dhp), good, dhp)
    return export_dir, good, expected


def test_image_saved_model_survives_undecodable_bytes(image_export, tmp_path):
    export_dir, good, expected = image_export
    truncated = good[0][: len(good[0]) // 2]
    calls = {
        "int_dtype": "tf.constant([[1, 2]])",
        "text_not_image": "tf.constant([b'1 2 3'])",
        "empty_bytes": "tf.constant([b''])",
        "truncated_png": f"tf.constant([{truncated!r}])",
        "good_after": f"tf.constant({good!r})",
    }
    r = _probe(export_dir, calls, str(tmp_path))
    assert r["int_dtype"]["error"] == "InvalidArgumentError"
    for name in ("text_not_image", "empty_bytes", "truncated_png"):
        assert r[name]["error"] == "InvalidArgumentError", r[name]
    for name in ("text_not_image", "empty_bytes"):
        assert ("must be encoded image files (PNG, JPEG, GIF, BMP or WebP bytes); received "
                "bytes of no image format at batch index") in r[name]["message"], r[name]
    assert "Invalid PNG" in r["truncated_png"]["message"], r["truncated_png"]
    assert r["good_after"]["outputs"] == expected
    assert expected == ["horizontal", "vertical"]
