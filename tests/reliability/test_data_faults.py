"""Corrupt, truncated, empty and missing data: one clear error naming the file."""

import glob
import os
import shutil

import pytest
from training import tiny_problem

from t2t_multimodel.data import shards
from t2t_multimodel.errors import DataError
from t2t_multimodel.training import trainer


def _copy_data(tiny_data_dir, tmp_path):
    data_dir = str(tmp_path / "data")
    shutil.copytree(tiny_data_dir, data_dir)
    return data_dir, sorted(glob.glob(os.path.join(data_dir, f"{tiny_problem.PROBLEM}-train-*")))


def _record_start(data, index):
    """The byte offset of record `index` of TFRecord bytes (8-byte length, CRCs of 4)."""
    offset = 0
    for _ in range(index):
        offset += 8 + 4 + int.from_bytes(data[offset:offset + 8], "little") + 4
    return offset


def _train(data_dir, output_dir, usr):
    return trainer.train(tiny_problem.PROBLEM, tiny_problem.MODEL, tiny_problem.HPARAMS_SET,
                         data_dir, output_dir, train_steps=3, eval_steps=0,
                         local_eval_frequency=0, save_checkpoints_steps=3, t2t_usr_dir=usr,
                         log_fn=lambda line: None)


@pytest.mark.parametrize("damage", ["truncated", "corrupt"])
def test_damaged_shard_is_named(damage, tiny_data_dir, tiny_usr_dir, tmp_path):
    data_dir, paths = _copy_data(tiny_data_dir, tmp_path)
    bad = paths[1]
    data = open(bad, "rb").read()
    start = _record_start(data, 100)  # read before the first batch
    if damage == "truncated":  # cut inside the 101st record, as a killed writer would
        data = data[: start + 20]
    else:  # flip bytes of a record: its CRC no longer matches
        data = data[:start + 16] + bytes(b ^ 0xFF for b in data[start + 16:start + 24]) + \
            data[start + 24:]
    with open(bad, "wb") as f:
        f.write(data)
    assert shards.find_unreadable(paths)[0] == bad
    with pytest.raises(DataError, match=rf"data file {bad} is corrupt or truncated \(.+\); "
                                        r"delete it and rerun t2t-datagen.*Received: path="):
        _train(data_dir, str(tmp_path / "out"), tiny_usr_dir)


def test_empty_shards_are_named(tiny_data_dir, tiny_usr_dir, tmp_path):
    data_dir, paths = _copy_data(tiny_data_dir, tmp_path)
    for path in paths:
        open(path, "wb").close()
    with pytest.raises(DataError, match=f"the train shards of {tiny_problem.PROBLEM} hold no "
                                        f"examples: {paths[0]}, {paths[1]}"):
        _train(data_dir, str(tmp_path / "out"), tiny_usr_dir)


def test_missing_shards_and_partial_writes_are_never_read(tiny_data_dir, tiny_usr_dir, tmp_path):
    # What a datagen killed mid-write leaves: hidden temporary files only.
    data_dir, paths = _copy_data(tiny_data_dir, tmp_path)
    for path in paths:
        os.rename(path, os.path.join(data_dir, f".tmp-123-{os.path.basename(path)}"))
    assert shards.find_shards(data_dir, tiny_problem.PROBLEM, "train") == []
    with pytest.raises(DataError, match=f"no train data for problem {tiny_problem.PROBLEM} "
                                        f"in {data_dir}: run t2t-datagen"):
        _train(data_dir, str(tmp_path / "out"), tiny_usr_dir)
