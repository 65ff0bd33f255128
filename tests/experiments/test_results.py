"""What a run's result reads from its directory: active time over resumed sessions."""

import os

import tensorflow as tf

from t2t_multimodel.experiments import results


def _events(directory, name, wall_times):
    os.makedirs(directory, exist_ok=True)
    with tf.io.TFRecordWriter(os.path.join(directory, f"events.out.tfevents.{name}")) as w:
        for step, wall_time in enumerate(wall_times):
            w.write(tf.compat.v1.Event(wall_time=wall_time, step=step).SerializeToString())


def test_active_seconds_adds_the_sessions_of_a_resumed_run(tmp_path):
    run = str(tmp_path)
    # Session 1: train events 1000-1300 s, an eval at 1350; killed. Session 2
    # (a day later): 90000-90200 s.
    _events(os.path.join(run, "train"), "a", [1000.0, 1100.0, 1200.0, 1300.0])
    _events(os.path.join(run, "eval"), "a", [1350.0])
    _events(os.path.join(run, "train"), "b", [90000.0, 90100.0, 90200.0])
    assert results.active_seconds(run) == 350.0 + 200.0


def test_active_seconds_of_an_empty_run_is_zero(tmp_path):
    assert results.active_seconds(str(tmp_path)) == 0
