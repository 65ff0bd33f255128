"""A datagen killed mid-write: no partial shard set is ever read, and a rerun completes.

`shards.write_shards` renames each finished shard into place, so a datagen
killed between two renames leaves some of the N final shards of a split
without the others; readers refuse such a set (a DataError naming the
missing shards) instead of reading it as the whole split.
"""

import glob
import os
import random
import shutil
import signal
import subprocess
import sys
import time

import pytest
from cli import BIN
from training import tiny_problem

from t2t_multimodel import registry
from t2t_multimodel.data import shards
from t2t_multimodel.errors import DataError
from t2t_multimodel.training import trainer

SIZES = {"train": 4000, "eval": 200}  # tiny_problem's train_size, dev_size


def _check_complete(data_dir):
    for split, size in SIZES.items():
        paths = shards.find_shards(data_dir, tiny_problem.PROBLEM, split)
        assert paths and all(p.endswith(f"-of-{len(paths):05d}") for p in paths), paths
        assert sum(shards.count_records(p) for p in paths) == size
    assert not glob.glob(os.path.join(data_dir, ".tmp-*")), os.listdir(data_dir)


def test_a_split_missing_one_shard_is_refused_and_regenerated(tiny_data_dir, tiny_usr_dir,
                                                              tmp_path):
    data_dir = str(tmp_path / "data")
    shutil.copytree(tiny_data_dir, data_dir)
    paths = shards.find_shards(data_dir, tiny_problem.PROBLEM, "train")
    assert len(paths) == 2
    # What a datagen killed between its two renames leaves: shard 0 final,
    # shard 1 still under its temporary name.
    os.rename(paths[1], os.path.join(data_dir, f".tmp-999-{os.path.basename(paths[1])}"))
    missing = os.path.basename(paths[1])
    with pytest.raises(DataError, match=rf"incomplete \(1 of 2 shards missing: {missing}\).*"
                                        r"rerun t2t-datagen.*Received: shards=1/2$"):
        shards.find_shards(data_dir, tiny_problem.PROBLEM, "train")
    with pytest.raises(DataError, match=missing):  # before any training step
        trainer.train(tiny_problem.PROBLEM, tiny_problem.MODEL, tiny_problem.HPARAMS_SET,
                      data_dir, str(tmp_path / "out"), train_steps=2, eval_steps=0,
                      local_eval_frequency=0, save_checkpoints_steps=2,
                      t2t_usr_dir=tiny_usr_dir, log_fn=lambda line: None)
    assert not os.path.exists(str(tmp_path / "out" / "checkpoint"))
    registry.problem(tiny_problem.PROBLEM).generate_data(data_dir, None)
    _check_complete(data_dir)  # regenerated; the stale temporary file is gone


def test_sigkill_during_datagen_then_rerun_completes(tiny_usr_dir, tmp_path):
    data_dir = str(tmp_path / "data")
    args = [sys.executable, "-m", BIN["datagen"], f"--problem={tiny_problem.PROBLEM}",
            f"--t2t_usr_dir={tiny_usr_dir}", f"--data_dir={data_dir}",
            f"--tmp_dir={tmp_path / 'tmp'}"]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        while not glob.glob(os.path.join(data_dir, "*-of-*")) and proc.poll() is None:
            assert time.monotonic() < deadline, "datagen wrote nothing within 120 s"
            time.sleep(0.005)
        time.sleep(random.uniform(0.0, 0.1))  # somewhere in the 0.6 s of writes
    finally:
        proc.send_signal(signal.SIGKILL)  # no cleanup of any kind
        proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL  # killed before it finished
    seen = sorted(os.listdir(data_dir))
    # Whatever the kill left, a reader gets a whole split, nothing, or a DataError.
    for split in SIZES:
        try:
            paths = shards.find_shards(data_dir, tiny_problem.PROBLEM, split)
        except DataError as e:
            assert "rerun t2t-datagen" in str(e)
            continue
        if paths:
            assert len(paths) == int(paths[0][-5:]), (paths, seen)
    result = subprocess.run(args, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    _check_complete(data_dir)
