"""The training loop: learning, checkpoints, resume, refusals, TensorBoard."""

import glob
import json
import os

import pytest
import tensorflow as tf
from training import tiny_problem

from t2t_multimodel.errors import HParamsError, T2TError
from t2t_multimodel.run_config import RunConfig
from t2t_multimodel.training import trainer

STEPS = 100  # conftest.FIRST_RUN_STEPS


def _train(data_dir, output_dir, usr, lines=None, **kwargs):
    args = dict(train_steps=STEPS, eval_steps=0, save_checkpoints_steps=50,
                local_eval_frequency=50, log_step_count_steps=25)
    args.update(kwargs)
    return trainer.train(tiny_problem.PROBLEM, tiny_problem.MODEL, tiny_problem.HPARAMS_SET,
                         data_dir, output_dir, t2t_usr_dir=usr,
                         log_fn=(lines if lines is not None else []).append, **args)


def _listing(directory):
    return sorted((os.path.relpath(p, directory), os.path.getsize(p))
                  for p in glob.glob(os.path.join(directory, "**"), recursive=True)
                  if os.path.isfile(p))


def _summary_tags(directory):
    tags = set()
    for path in glob.glob(os.path.join(directory, "events.out.tfevents.*")):
        for event in tf.compat.v1.train.summary_iterator(path):
            tags.update(value.tag for value in event.summary.value)
    return tags


def test_short_run_learns(first_run):
    output_dir, result, lines = first_run
    assert result["global_step"] == STEPS and result["start_step"] == 0
    losses = [loss for _, loss, _ in result["train_history"]]
    assert losses[-1] < 0.7 * losses[0], losses
    (step1, eval1), (step2, eval2) = result["eval_history"]
    assert (step1, step2) == (50, 100)
    assert eval2["accuracy"] > eval1["accuracy"] + 0.05, (eval1, eval2)
    assert eval2["loss"] < eval1["loss"]
    # The problem's metrics, from teacher-forced logits.
    assert set(eval2) == {"loss", "accuracy", "accuracy_per_sequence", "neg_log_perplexity"}
    assert result["eval_accuracy"] == eval2["accuracy"]
    assert result["steps_per_sec"] > 0 and result["tokens_per_sec"] > 0
    # Length-bucketed batches of many shapes, one trace each.
    assert result["train_step_traces"] == 1 and result["eval_step_traces"] == 1
    assert any(line.startswith("step 25/100  loss ") and "steps/s" in line for line in lines)
    assert tf.train.latest_checkpoint(output_dir).endswith("ckpt-100")
    config = RunConfig.load(output_dir)
    assert config.model == "transformer" and config.problems == [tiny_problem.PROBLEM]
    assert config.hparams.hidden_size == 32
    assert config.problem_hparams[tiny_problem.PROBLEM]["vocab_size"]["targets"] == 12
    assert {"loss", "accuracy", "learning_rate", "steps_per_sec",
            "tokens_per_sec"} <= _summary_tags(os.path.join(output_dir, "train"))
    assert {"loss", "accuracy", "accuracy_per_sequence",
            "neg_log_perplexity"} <= _summary_tags(os.path.join(output_dir, "eval"))


def test_resume_from_saved_step(first_run_copy, tiny_data_dir, tiny_usr_dir):
    lines = []
    result = _train(tiny_data_dir, first_run_copy, tiny_usr_dir, lines, train_steps=130,
                    eval_steps=2, local_eval_frequency=0)
    assert any(line.startswith(f"Resuming from step {STEPS}") for line in lines), lines
    assert result["start_step"] == STEPS and result["global_step"] == 130
    assert [step for step, _ in result["eval_history"]] == [130]  # eval_steps > 0: at the end
    assert tf.train.latest_checkpoint(first_run_copy).endswith("ckpt-130")
    # The optimizer was restored too: the schedule continues from its step.
    assert int(tf.train.load_variable(tf.train.latest_checkpoint(first_run_copy),
                                      "optimizer/_iterations/.ATTRIBUTES/VARIABLE_VALUE")) == 130
    # Already there: exits at once, saying so.
    lines = []
    again = _train(tiny_data_dir, first_run_copy, tiny_usr_dir, lines, train_steps=130)
    assert again["global_step"] == 130 and again["train_history"] == []
    assert "already at step 130" in lines[0]


def test_half_written_checkpoint_is_never_picked(first_run_copy, tiny_data_dir, tiny_usr_dir):
    # What a kill during the save of step 150 leaves: data files of a
    # checkpoint that the `checkpoint` state file does not name.
    prefix = os.path.join(first_run_copy, "ckpt-100")
    data = open(prefix + ".data-00000-of-00001", "rb").read()
    with open(os.path.join(first_run_copy, "ckpt-150.data-00000-of-00001"), "wb") as f:
        f.write(data[: len(data) // 2])
    with open(os.path.join(first_run_copy, "ckpt-150.index"), "wb") as f:
        f.write(b"\x00garbage")
    os.makedirs(os.path.join(first_run_copy, "ckpt-150_temp"))
    assert tf.train.latest_checkpoint(first_run_copy).endswith("ckpt-100")
    lines = []
    result = _train(tiny_data_dir, first_run_copy, tiny_usr_dir, lines, train_steps=105,
                    local_eval_frequency=0)
    assert any(line.startswith("Resuming from step 100") for line in lines), lines
    assert result["global_step"] == 105


def test_a_run_from_before_a_new_hparam_resumes(first_run_copy, tiny_data_dir, tiny_usr_dir):
    # hparams.json written before the set gained `learning_rate_decay_steps`.
    path = os.path.join(first_run_copy, "hparams.json")
    record = json.load(open(path))
    del record["hparams"]["learning_rate_decay_steps"]
    with open(path, "w") as f:
        json.dump(record, f)
    lines = []
    result = _train(tiny_data_dir, first_run_copy, tiny_usr_dir, lines, train_steps=105,
                    local_eval_frequency=0)
    assert result["global_step"] == 105, lines
    # Set away from its default, the new hparam is a real difference.
    with pytest.raises(T2TError, match=r"hparams differ in: learning_rate_decay_steps\)"):
        _train(tiny_data_dir, first_run_copy, tiny_usr_dir, train_steps=110,
               hparams_overrides="learning_rate_decay_steps=500")


def test_other_hparams_are_refused_before_training(first_run, tiny_data_dir, tiny_usr_dir):
    output_dir = first_run[0]
    before = _listing(output_dir)
    with pytest.raises(T2TError, match=r"output_dir holds a run of model transformer on "
                                       r"problem trainer_test_identity \(hparams differ in: "
                                       r"dropout, hidden_size\); use a new --output_dir\. "
                                       r"Received: output_dir="):
        _train(tiny_data_dir, output_dir, tiny_usr_dir, train_steps=200,
               hparams_overrides="hidden_size=64,dropout=0.5")
    assert _listing(output_dir) == before


def test_other_model_is_refused(first_run_copy, tiny_data_dir, tiny_usr_dir):
    path = os.path.join(first_run_copy, "hparams.json")
    with open(path) as f:
        values = json.load(f)
    values["model"] = "lstm_seq2seq"
    with open(path, "w") as f:
        json.dump(values, f)
    before = _listing(first_run_copy)
    with pytest.raises(T2TError, match="holds a run of model lstm_seq2seq on problem "
                                       "trainer_test_identity; use a new --output_dir"):
        _train(tiny_data_dir, first_run_copy, tiny_usr_dir, train_steps=200)
    assert _listing(first_run_copy) == before


def test_non_finite_loss_stops_without_saving(tiny_data_dir, tiny_usr_dir, tmp_path):
    output_dir = str(tmp_path / "nan")
    with pytest.raises(T2TError, match=r"became NaN/Inf at step \d+; the last good checkpoint "
                                       r"\(step \d+\) is kept; lower learning_rate.*"
                                       r"Received: learning_rate=1e\+30"):
        _train(tiny_data_dir, output_dir, tiny_usr_dir, train_steps=50,
               save_checkpoints_steps=1, local_eval_frequency=0,
               hparams_overrides="learning_rate=1e30,learning_rate_schedule=constant")
    for path in glob.glob(os.path.join(output_dir, "ckpt-*.index")):
        reader = tf.train.load_checkpoint(path[: -len(".index")])
        for name in reader.get_variable_to_shape_map():
            value = reader.get_tensor(name)
            if hasattr(value, "dtype") and value.dtype.kind == "f":
                assert tf.reduce_all(tf.math.is_finite(value)), name


def test_usage_errors(tiny_data_dir, tiny_usr_dir, tmp_path):
    out = str(tmp_path / "out")
    with pytest.raises(T2TError, match="unknown problem 'nope'"):
        trainer.train("algorithmic_reverse_binary40,nope", "transformer", "transformer_tiny",
                      tiny_data_dir, out)
    with pytest.raises(HParamsError, match="did you mean rsqrt_decay"):
        _train(tiny_data_dir, out, tiny_usr_dir,
               hparams_overrides="learning_rate_schedule=rsqrt_decy")
    with pytest.raises(T2TError, match="no train data for problem trainer_test_identity"):
        _train(str(tmp_path), out, tiny_usr_dir)
    assert not os.path.exists(out)

