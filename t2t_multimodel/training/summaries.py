"""TensorBoard summaries and the progress line of a training run.

Scalars go to `output_dir/train` (loss, accuracy, learning_rate,
steps_per_sec, tokens_per_sec) and `output_dir/eval` (each eval metric), as
in T2T, so `tensorboard --logdir=output_dir` shows both runs side by side.
"""

import os
import time

import numpy as np
import tensorflow as tf


class Summaries:
    """The train and eval summary writers of one `output_dir`.

    Args:
        output_dir: str. The training run's directory.
        enabled: bool. False writes nothing (the non-chief workers of a
            multi-worker run).

    Example:

    ```python
    summaries = Summaries(output_dir)
    summaries.scalars("train", {"loss": 2.3}, step=100)
    summaries.flush()
    ```
    """

    def __init__(self, output_dir, enabled=True):
        self._writers = {
            kind: (tf.summary.create_file_writer(os.path.join(output_dir, kind)) if enabled
                   else tf.summary.create_noop_writer())
            for kind in ("train", "eval")}

    def scalars(self, kind, values, step):
        """Writes `values` (name -> float) under `kind` ("train" or "eval")."""
        with self._writers[kind].as_default():
            for name, value in values.items():
                tf.summary.scalar(name, value, step=int(step))

    def flush(self):
        for writer in self._writers.values():
            writer.flush()

    def close(self):
        for writer in self._writers.values():
            writer.close()


class Throughput:
    """Steps/s and tokens/s over training time only (not eval or saving).

    Call `start()` when training steps (re)start, `add(tokens)` after each
    step and `pause()` before eval or saving. `interval()` returns the rates
    since its last call; `total()` those of the whole session. Neither counts
    the first step, which includes tracing, nor steps added with
    `counted=False` (a mixture's first step of each further problem).

    Example:

    ```python
    meter = Throughput(); meter.start()
    meter.add(tokens=3000)
    meter.interval()  # (steps_per_sec, tokens_per_sec)
    ```
    """

    def __init__(self):
        self._running_since = None
        self._elapsed = 0.0
        self._steps = 0
        self._tokens = 0.0
        self._interval_mark = (0.0, 0, 0.0)
        self._total_mark = None

    def start(self):
        if self._running_since is None:
            self._running_since = time.perf_counter()

    def pause(self):
        if self._running_since is not None:
            self._elapsed += time.perf_counter() - self._running_since
            self._running_since = None

    def _now(self):
        running = 0.0
        if self._running_since is not None:
            running = time.perf_counter() - self._running_since
        return self._elapsed + running

    def add(self, tokens, counted=True):
        """Adds a step; `counted=False`: a step run while paused (tracing), not counted."""
        self._steps += 1
        self._tokens += float(tokens)
        if self._total_mark is None:  # the first step includes tracing: not counted
            self._total_mark = (self._now(), self._steps, self._tokens)
            self._interval_mark = self._total_mark
        elif not counted:
            self._total_mark = _shifted(self._total_mark, tokens)
            self._interval_mark = _shifted(self._interval_mark, tokens)

    @staticmethod
    def _rates(mark, now, steps, tokens):
        seconds = now - mark[0]
        if seconds <= 0 or steps <= mark[1]:
            return 0.0, 0.0
        return (steps - mark[1]) / seconds, (tokens - mark[2]) / seconds

    def interval(self):
        now = self._now()
        rates = self._rates(self._interval_mark, now, self._steps, self._tokens)
        self._interval_mark = (now, self._steps, self._tokens)
        return rates

    def total(self):
        if self._total_mark is None:
            return 0.0, 0.0
        return self._rates(self._total_mark, self._now(), self._steps, self._tokens)

    @property
    def seconds(self):
        """Training seconds of this session, tracing included."""
        return self._now()


def _shifted(mark, tokens):
    seconds, steps, total = mark
    return seconds, steps + 1, total + float(tokens)


def progress_line(step, train_steps, loss, accuracy, learning_rate, steps_per_sec,
                  tokens_per_sec):
    """One line: `step 120/1000  loss 2.3104  accuracy 0.4120  lr 1.2e-03  ...`."""
    return (f"step {step}/{train_steps}  loss {loss:.4f}  accuracy {accuracy:.4f}  "
            f"lr {learning_rate:.3g}  {steps_per_sec:.2f} steps/s  "
            f"{tokens_per_sec:,.0f} tokens/s")


def metrics_line(values):
    """`loss 1.2345  accuracy 0.9000 ...` for a dict of metrics."""
    return "  ".join(f"{k} {v:.4f}" for k, v in values.items())


def moe_statistics(model):
    """TensorBoard scalars of every `MixtureOfExperts` layer in `model`.

    Per layer: `moe/<layer>/dropped_fraction`, `importance_cv_squared`,
    `load_cv_squared` and `load_<i>` (the share of routed assignments of
    expert i) of the layer's latest call.
    """
    from t2t_multimodel.layers.mixture_of_experts import MixtureOfExperts

    values = {}
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if not isinstance(layer, MixtureOfExperts) or not layer.built:
            continue
        for key, value in layer.statistics().items():
            array = np.asarray(value, dtype=np.float64).reshape(-1)
            if array.size == 1:
                values[f"moe/{layer.name}/{key}"] = float(array[0])
            else:
                for i, item in enumerate(array):
                    values[f"moe/{layer.name}/{key}_{i}"] = float(item)
    return values
