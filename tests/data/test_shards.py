"""Atomic shard writing: complete shards or nothing a reader would match."""

import pytest
import tensorflow as tf

from t2t_multimodel.data import shards
from t2t_multimodel.errors import DataError


def read_all(paths):
    spec = {"x": tf.io.FixedLenFeature([], tf.string)}
    return [tf.io.parse_single_example(r, spec)["x"].numpy().decode()
            for r in tf.data.TFRecordDataset(paths)]


def test_round_robin_names_and_contents(tmp_path):
    paths = shards.shard_paths(str(tmp_path), "prob", "train", 3)
    assert [p.rsplit("/", 1)[1] for p in paths] == [
        "prob-train-00000-of-00003", "prob-train-00001-of-00003", "prob-train-00002-of-00003"]
    count = shards.write_shards(({"x": f"s{i}"} for i in range(7)), paths)
    assert count == 7
    assert read_all([paths[0]]) == ["s0", "s3", "s6"]
    assert shards.find_shards(str(tmp_path), "prob", "train") == paths
    dev = shards.shard_paths(str(tmp_path), "prob", "eval", 1)[0]
    assert dev.endswith("prob-dev-00000-of-00001")


def test_interrupted_generation_leaves_nothing_readable(tmp_path):
    paths = shards.shard_paths(str(tmp_path), "prob", "train", 2)

    def failing():
        for i in range(5):
            yield {"x": str(i)}
        raise RuntimeError("source broke")

    with pytest.raises(RuntimeError):
        shards.write_shards(failing(), paths)
    assert list(tmp_path.iterdir()) == []
    assert shards.find_shards(str(tmp_path), "prob", "train") == []


def test_temporary_files_are_never_matched(tmp_path):
    (tmp_path / ".tmp-1-prob-train-00000-of-00001").write_text("partial")
    (tmp_path / "prob-train-00000-of-00001.incomplete").write_text("partial")
    assert shards.find_shards(str(tmp_path), "prob", "train") == []


def test_empty_generator_and_bad_values_are_clear_errors(tmp_path):
    paths = shards.shard_paths(str(tmp_path), "prob", "train", 1)
    with pytest.raises(DataError, match="no examples"):
        shards.write_shards(iter([]), paths)
    with pytest.raises(DataError, match="must be str, bytes, int or float"):
        shards.to_example({"x": [object()]})
    with pytest.raises(DataError, match="empty"):
        shards.to_example({"x": []})
