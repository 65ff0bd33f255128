import glob
import os

import pytest
import tensorflow as tf

from t2t_multimodel import registry
from t2t_multimodel.decoding import decoder, loading
from t2t_multimodel.training import trainer

REVERSE = "algorithmic_reverse_binary40_test"
DIGITS = "image_digits"
# The tiny MultiModel with one encoder and one decoder block (the MoE then
# follows each): tracing the two problems' train steps is most of the run.
HPARAMS = ("hidden_size=32,num_heads=2,moe_num_experts=4,moe_hidden_size=32,large_kernel_size=5,"
           "encoder_blocks=1,decoder_blocks=1,learning_rate=3e-3,learning_rate_warmup_steps=50")
STEPS = 150
# Measured over 3 seeds at step 150: reverse 0.78-0.86 dev accuracy (0.28 after
# 4 steps; a model that only learned the lengths and the digit frequencies
# would score about 0.55), digits 0.95-0.98 (chance 0.10).
REVERSE_BAR = 0.65
DIGITS_BAR = 0.7


@pytest.fixture(scope="module")
def mixture_data_dir(tmp_path_factory):
    pytest.importorskip("sklearn")
    data_dir = str(tmp_path_factory.mktemp("mixture_data"))
    for name in (REVERSE, DIGITS):
        registry.problem(name).generate_data(data_dir, os.path.join(data_dir, "tmp"))
    return data_dir


def _scalars(event_dir):
    """{tag: [(step, value)]} of the TensorBoard events in `event_dir`."""
    values = {}
    for path in glob.glob(os.path.join(event_dir, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                number = float(tf.make_ndarray(value.tensor)) if value.HasField(
                    "tensor") else value.simple_value
                values.setdefault(value.tag, []).append((event.step, number))
    return values


def test_trains_a_mixture_of_a_text_and_an_image_problem(mixture_data_dir, tmp_path):
    output_dir = str(tmp_path / "out")
    lines = []
    result = trainer.train(
        f"{REVERSE},{DIGITS}", "multimodel", "multimodel_tiny", mixture_data_dir, output_dir,
        hparams_overrides=HPARAMS, train_steps=STEPS, eval_steps=0,
        local_eval_frequency=STEPS // 2, save_checkpoints_steps=STEPS, log_fn=lines.append,
        log_step_count_steps=STEPS // 2)
    log = "\n".join(lines)
    assert result["global_step"] == STEPS
    assert "Mixture (uniform): " + f"{REVERSE} 50.0%, {DIGITS} 50.0%" in log
    # Per-problem train lines at each logged step, per-problem eval lines.
    for name in (REVERSE, DIGITS):
        assert sum(line.startswith(f"  {name}: loss ") for line in lines) == 2, log
        for step in (STEPS // 2, STEPS):
            assert any(line.startswith(f"eval {name} at step {step} (") for line in lines), log
    # The whole dev splits: 100 reverse examples, 300 digits (64 a batch).
    assert f"eval {DIGITS} at step {STEPS} (5 batches)" in log

    # Both problems learned: well above their untrained and chance levels,
    # and better than halfway through.
    reverse = result[f"eval_{REVERSE}/accuracy"]
    digits = result[f"eval_{DIGITS}/accuracy"]
    assert reverse >= REVERSE_BAR, log
    assert digits >= DIGITS_BAR, log
    halfway = dict(result["eval_history"])[STEPS // 2]
    assert reverse > halfway[f"{REVERSE}/accuracy"], log
    assert f"eval_{DIGITS}/accuracy_top5" in result
    assert "eval_accuracy" not in result  # no number for the mixture as a whole

    train = _scalars(os.path.join(output_dir, "train"))
    for name in (REVERSE, DIGITS):
        assert f"{name}/loss" in train and f"{name}/accuracy" in train
    assert "loss" not in train
    moe = sorted(tag for tag in train if tag.startswith("moe/"))
    for layer in ("encoder_moe", "decoder_moe"):
        for key in ("dropped_fraction", "importance_cv_squared", "load_cv_squared"):
            assert f"moe/{layer}/{key}" in moe, moe
        loads = [train[f"moe/{layer}/load_{i}"][-1] for i in range(4)]
        assert {step for step, _ in loads} == {STEPS}
        assert sum(value for _, value in loads) == pytest.approx(1.0, abs=1e-5)
    evals = _scalars(os.path.join(output_dir, "eval"))
    assert evals[f"{DIGITS}/accuracy"][-1] == (STEPS, pytest.approx(digits, abs=1e-6))

    # Decoding picks one problem of the mixture, and with it its command token.
    dhp = decoder.decode_hparams("beam_size=1,num_samples=64")
    modules = {}
    for name in (REVERSE, DIGITS):
        run = loading.load_run(output_dir, name)
        modules[name] = decoder.serving_module(run, dhp)
        assert modules[name].target_space_id == registry.problem(name).target_space_id
        if name == DIGITS:
            values = decoder.decode_dev(run, modules[name], dhp, log_fn=lambda _: None)
            assert values["accuracy"] >= DIGITS_BAR
            assert values["accuracy_top5"] >= values["accuracy"]
            # The majority class of 10 balanced digits is right about 10% of the time.
            assert values["baseline_accuracy"] < 0.2
            table = decoder.summary_table({name: values})
            assert f"| {name} | accuracy | " in table and table.endswith("| yes |")
    runs = loading.load_runs(output_dir)
    assert [r.problem.name for r in runs] == [REVERSE, DIGITS]
    assert runs[0].model is runs[1].model
    assert modules[REVERSE].target_space_id != modules[DIGITS].target_space_id
    outputs, _ = decoder.decode_lines(modules[REVERSE], ["1 0 0 1 1", "0 1"], dhp)
    assert all(set(out.split()) <= {"0", "1"} and out for out in outputs), outputs
