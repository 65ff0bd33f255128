"""t2t-exporter: a SavedModel that decodes raw text without this package."""

import json

import pytest
from cli import run_standalone

from t2t_multimodel.decoding import decoder, loading
from t2t_multimodel.export import exporter

LINES = ["1 2 3", "9 0 0 4", "7", "", "5 5 5 5 5 5"]


@pytest.fixture(scope="module")
def exported(trained_run, tmp_path_factory):
    run = loading.load_run(trained_run)
    dhp = decoder.decode_hparams("beam_size=4")
    export_dir = str(tmp_path_factory.mktemp("export") / "saved")
    exporter.export(run, export_dir, dhp)
    expected, scores = decoder.decode_lines(decoder.serving_module(run, dhp), LINES, dhp)
    return export_dir, expected, scores


def test_saved_model_decodes_like_the_decoder_without_the_package(exported, tmp_path):
    export_dir, expected, scores = exported
    code = f"""
import json
m = tf.saved_model.load({export_dir!r})
r = m.signatures["serving_default"](inputs=tf.constant({LINES!r}))
g = m.signatures["decode"](inputs=tf.constant({LINES!r}), beam_size=tf.constant(1),
                           alpha=tf.constant(0.6), max_decode_length=tf.constant(3))
print(json.dumps({{"outputs": [o.decode() for o in r["outputs"].numpy()],
                  "scores": r["scores"].numpy().tolist(),
                  "greedy3": [o.decode() for o in g["outputs"].numpy()]}}))
"""
    result = json.loads(run_standalone(code, cwd=str(tmp_path)).strip().splitlines()[-1])
    assert result["outputs"] == expected
    assert result["outputs"][:3] == LINES[:3]
    assert result["scores"] == pytest.approx(scores, abs=1e-4)
    # max_decode_length=3 cuts the 6-digit copy to at most 3 tokens (EOS included).
    assert len(result["greedy3"][4].split()) <= 3


def test_signatures_are_dense_strings_in_and_out(exported):
    import tensorflow as tf

    loaded = tf.saved_model.load(exported[0])
    serving = loaded.signatures["serving_default"]
    (spec,) = serving.structured_input_signature[1].values()
    assert spec.dtype == tf.string and spec.shape.as_list() == [None]
    assert set(serving.structured_outputs) == {"outputs", "scores"}
    assert set(loaded.signatures["decode"].structured_input_signature[1]) == {
        "inputs", "beam_size", "alpha", "max_decode_length"}
