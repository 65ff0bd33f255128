"""A failed checkpoint write (disk full) and a foreign output_dir: clear errors, nothing lost."""

import errno
import glob
import json
import os

import pytest
import tensorflow as tf
from training import tiny_problem

from t2t_multimodel.errors import T2TError
from t2t_multimodel.training import trainer

FIRST_RUN_STEPS = 100


def _train(data_dir, output_dir, usr, **kwargs):
    args = dict(train_steps=FIRST_RUN_STEPS + 10, eval_steps=0, local_eval_frequency=0,
                save_checkpoints_steps=10, log_fn=lambda line: None)
    args.update(kwargs)
    return trainer.train(tiny_problem.PROBLEM, tiny_problem.MODEL, tiny_problem.HPARAMS_SET,
                         data_dir, output_dir, t2t_usr_dir=usr, **args)


def test_disk_full_during_a_save_keeps_the_previous_checkpoint(
        first_run_copy, tiny_data_dir, tiny_usr_dir, monkeypatch):
    real_write = tf.train.Checkpoint._write

    def full_disk(self, file_prefix, *args, **kwargs):
        # Half of the data file lands on disk, then the device is full.
        with open(file_prefix + ".data-00000-of-00001", "wb") as f:
            f.write(b"\x00" * 100)
        raise OSError(errno.ENOSPC, "No space left on device", file_prefix)

    monkeypatch.setattr(tf.train.Checkpoint, "_write", full_disk)
    with pytest.raises(T2TError, match=r"writing the checkpoint of step 110 into .* failed "
                                       r"\(.*No space left on device.*\); the checkpoint of "
                                       r"step 100 is intact; free disk space and rerun"):
        _train(tiny_data_dir, first_run_copy, tiny_usr_dir)
    assert tf.train.latest_checkpoint(first_run_copy).endswith("ckpt-100")
    assert not glob.glob(os.path.join(first_run_copy, "ckpt-110*"))  # the partial file is gone
    monkeypatch.setattr(tf.train.Checkpoint, "_write", real_write)
    lines = []
    result = _train(tiny_data_dir, first_run_copy, tiny_usr_dir, log_fn=lines.append)
    assert any(line.startswith("Resuming from step 100") for line in lines)
    assert result["global_step"] == FIRST_RUN_STEPS + 10


def test_output_dir_of_another_problem_is_refused(first_run_copy, tiny_data_dir, tiny_usr_dir):
    path = os.path.join(first_run_copy, "hparams.json")
    with open(path) as f:
        values = json.load(f)
    values["problems"] = ["algorithmic_reverse_binary40"]
    with open(path, "w") as f:
        json.dump(values, f)
    before = sorted(os.listdir(first_run_copy))
    with pytest.raises(T2TError, match="holds a run of model transformer on problem "
                                       "algorithmic_reverse_binary40; use a new --output_dir"):
        _train(tiny_data_dir, first_run_copy, tiny_usr_dir)
    assert sorted(os.listdir(first_run_copy)) == before
