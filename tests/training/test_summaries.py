"""Throughput: steps/s over training time, without the steps that trace."""

import pytest

from t2t_multimodel.training import summaries


def test_throughput_leaves_out_the_steps_that_build_a_train_step(monkeypatch):
    now = [0.0]
    monkeypatch.setattr(summaries.time, "perf_counter", lambda: now[0])
    meter = summaries.Throughput()
    meter.start()
    now[0] = 30.0
    meter.add(100)  # the first step traces: not counted
    now[0] = 31.0
    meter.add(100)
    # A mixture's first step of another problem: built while paused, not counted.
    meter.pause()
    now[0] = 60.0
    meter.add(500, counted=False)
    meter.start()
    assert meter.interval() == pytest.approx((1.0, 100.0))
    now[0] = 62.0
    meter.add(300)
    assert meter.interval() == pytest.approx((0.5, 150.0))
    assert meter.total() == pytest.approx((2 / 3, 400 / 3))
    assert meter.seconds == pytest.approx(33.0)
