"""`TrainingLoop`: the state and steps of one training session of `trainer.train`."""

import glob
import math
import os
import shutil
import time

import keras
import tensorflow as tf

from t2t_multimodel.data import shards
from t2t_multimodel.errors import DataError, T2TError
from t2t_multimodel.training import summaries


def data_error(what, paths, error):
    """A `DataError` naming the shard of `paths` that `error` came from."""
    bad = shards.find_unreadable(paths)
    if bad is None:
        return DataError(f"reading {what} failed: {str(error).splitlines()[0]}. "
                         f"Received: files={','.join(paths)}")
    path, reason = bad
    return DataError(f"data file {path} is corrupt or truncated ({reason}); delete it and "
                     f"rerun t2t-datagen to write it again. Received: path={path}")


def remove_path(path):
    """Removes the file `path` if it exists."""
    try:
        os.remove(path)
    except OSError:
        pass


class TrainingLoop:
    """The state of one training session of `trainer.train`: steps, logs, checkpoints, evals.

    `train` builds the model, optimizer, checkpoint manager and one compiled
    train step per problem, then calls `run`; the loop draws each step's
    problem, logs progress and TensorBoard scalars, saves checkpoints (never
    one holding NaN/Inf, keeping the previous one if a save fails) and runs the
    evaluators (set as `evaluators`, by problem name).

    Args:
        model: the built `T2TModel`.
        optimizer: its built optimizer.
        global_step: int64 `tf.Variable`.
        manager: the checkpoint writer (`distribution.CheckpointWriter`).
        hparams: the run's `HParams`.
        output_dir: str. The run directory (events go under it).
        train_steps: int. The global step to stop at.
        eval_steps: int. Dev batches per evaluation (<= 0: all).
        save_checkpoints_steps: int. Checkpoint period.
        local_eval_frequency: int. Evaluation period (0: only at the end).
        log_step_count_steps: int. Progress-line period.
        log_fn: callable taking one str.
        chief: bool. Only the chief writes checkpoints, events and evals.
    """

    def __init__(self, model, optimizer, global_step, manager, hparams, output_dir,
                 train_steps, eval_steps, save_checkpoints_steps, local_eval_frequency,
                 log_step_count_steps, log_fn, chief=True):
        self.model = model
        self.chief = chief
        self.output_dir = output_dir
        self.optimizer = optimizer
        self.global_step = global_step
        self.manager = manager
        self.hparams = hparams
        self.train_steps = train_steps
        self.eval_steps = eval_steps
        self.save_every = save_checkpoints_steps
        self.eval_every = local_eval_frequency
        self.log_every = log_step_count_steps
        self.log_fn = log_fn
        self.summaries = summaries.Summaries(output_dir, enabled=chief)
        self.meter = summaries.Throughput()
        self.evaluators = {}
        self.saved_step = None
        self.train_history = []
        self.eval_history = []

    def run(self, train_steps, features, batches, choices, start_step):
        """Trains from `start_step`; each step draws its problem from `choices`.

        `train_steps`, `features` and `batches` are dicts by problem name.
        """
        names = list(train_steps)
        features = dict(features)
        step = start_step
        self.saved_step = start_step if start_step > 0 else None
        interval = {}  # problem -> [loss sum, accuracy sum, steps]
        last_eval_step = None
        self.meter.start()
        built = set()
        while step < self.train_steps:
            name = names[int(next(choices))]
            first = name not in built
            if first:
                self._building(name, len(built), len(names))
            began = time.perf_counter()
            out = train_steps[name](features[name])
            loss = float(out["loss"])
            step += 1
            if not math.isfinite(loss):
                self._non_finite(f"the loss of {name}", step)
            self.meter.add(float(out["tokens"]), counted=not first)
            if first:
                built.add(name)
                self.meter.start()
                self.log_fn(f"Built the train step of {name} in "
                            f"{time.perf_counter() - began:.1f}s")
            sums = interval.setdefault(name, [0.0, 0.0, 0])
            sums[0] += loss
            sums[1] += float(out["accuracy"])
            sums[2] += 1
            if step % self.log_every == 0 or step == self.train_steps:
                self._log_train(step, interval)
                interval = {}
            if step % self.save_every == 0 or step == self.train_steps:
                self._save(step)
            if self.eval_every > 0 and step % self.eval_every == 0:
                self._evaluate(step)
                last_eval_step = step
            if step < self.train_steps:
                features[name] = next(batches[name])
        if self.eval_steps > 0 and last_eval_step != step:
            self._evaluate(step)
        return self._result(start_step, step)

    def _building(self, name, built, count):
        """Logs the first step of a problem: it traces and compiles its train step.

        In a mixture each problem has its own step, built on the first draw of
        its problem (tens of seconds for the MultiModel on a CPU, twice that
        under MirroredStrategy, whose replicas each get a copy of the graph);
        the meter skips that time, so steps/s stays the training rate.
        """
        if built > 0:
            self.meter.pause()
        which = f" ({built + 1} of {count})" if count > 1 else ""
        self.log_fn(f"Building the train step of {name}{which}: tracing and compiling "
                    f"on its first step")

    def _non_finite(self, what, step):
        kept = f"step {self.saved_step}" if self.saved_step is not None else "none yet"
        raise T2TError(
            f"{what} became NaN/Inf at step {step}; the last good checkpoint "
            f"({kept}) is kept; lower learning_rate, set clip_grad_norm or use "
            f"dtype_policy=float32. Received: learning_rate={self.hparams.learning_rate}")

    def _learning_rate(self):
        return float(keras.ops.convert_to_numpy(self.optimizer.learning_rate))

    def _log_train(self, step, interval):
        count = max(sum(v[2] for v in interval.values()), 1)
        loss = sum(v[0] for v in interval.values()) / count
        accuracy = sum(v[1] for v in interval.values()) / count
        steps_per_sec, tokens_per_sec = self.meter.interval()
        lr = self._learning_rate()
        self.train_history.append((step, loss, accuracy))
        self.log_fn(summaries.progress_line(step, self.train_steps, loss, accuracy, lr,
                                            steps_per_sec, tokens_per_sec))
        values = {"learning_rate": lr}
        if len(self.evaluators) > 1:
            # A mixture: every number is per problem, never one for the whole.
            for name, (loss_sum, accuracy_sum, n) in sorted(interval.items()):
                values[f"{name}/loss"] = loss_sum / n
                values[f"{name}/accuracy"] = accuracy_sum / n
                self.log_fn(f"  {name}: loss {loss_sum / n:.4f}  accuracy "
                            f"{accuracy_sum / n:.4f}  ({n} steps)")
        else:
            values.update(loss=loss, accuracy=accuracy)
        if steps_per_sec > 0:
            values.update(steps_per_sec=steps_per_sec, tokens_per_sec=tokens_per_sec)
        values.update(summaries.moe_statistics(self.model))
        self.summaries.scalars("train", values, step)

    def _save(self, step):
        self.meter.pause()
        # The loss of step N checks the weights before update N; the weights
        # saved at step N are checked here, so no checkpoint holds NaN/Inf.
        if not all(bool(tf.reduce_all(tf.math.is_finite(v)))
                   for v in self.model.trainable_variables):
            self._non_finite("the weights", step)
        try:
            path = self.manager.save(step)
        except (OSError, tf.errors.OpError) as e:
            self._save_failed(step, e)
        self.summaries.flush()
        self.saved_step = step
        if path is not None:
            self.log_fn(f"Saved checkpoint {path}")
        self.meter.start()

    def _save_failed(self, step, error):
        """Removes what the failed save of `step` left; raises a one-line `T2TError`."""
        reason = str(error).strip().splitlines()[0] if str(error).strip() else repr(error)
        if self.chief:  # unnamed in the `checkpoint` file, so never picked; free the space
            pattern = os.path.join(self.output_dir, f"ckpt-{step}")
            for path in glob.glob(pattern + ".*") + glob.glob(pattern + "_temp*"):
                if os.path.isdir(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    remove_path(path)
        kept = (f"the checkpoint of step {self.saved_step} is intact"
                if self.saved_step is not None else "no earlier checkpoint exists")
        raise T2TError(
            f"writing the checkpoint of step {step} into {self.output_dir} failed ({reason}); "
            f"{kept}; free disk space and rerun the same command to resume. "
            f"Received: output_dir={self.output_dir}") from error

    def _evaluate(self, step):
        if not self.evaluators:
            return
        self.meter.pause()
        mixture = len(self.evaluators) > 1
        decode = step >= self.train_steps or not self.hparams.get("eval_decode_final_only", False)
        flat = {}
        for name, evaluator in self.evaluators.items():
            try:
                values = evaluator.evaluate(self.eval_steps, decode=decode)
            except (tf.errors.DataLossError, tf.errors.InvalidArgumentError) as e:
                paths = self.problems[name].data_files(self.data_dir, "eval")
                raise data_error(f"the dev data of {name}", paths, e) from None
            prefix = f"{name}/" if mixture else ""
            flat.update({prefix + k: v for k, v in values.items()})
            where = f" {name}" if mixture else ""
            self.log_fn(f"eval{where} at step {step} ({evaluator.last_batches} batches): "
                        f"{summaries.metrics_line(values)}")
        self.eval_history.append((step, flat))
        self.summaries.scalars("eval", flat, step)
        self.summaries.flush()
        self.meter.start()

    def _result(self, start_step, step):
        self.meter.pause()
        steps_per_sec, tokens_per_sec = self.meter.total()
        result = {"global_step": step, "start_step": start_step,
                  "steps_per_sec": steps_per_sec, "tokens_per_sec": tokens_per_sec,
                  "train_seconds": self.meter.seconds,
                  "train_history": self.train_history, "eval_history": self.eval_history}
        if self.train_history:
            result["train_loss"] = self.train_history[-1][1]
            result["train_accuracy"] = self.train_history[-1][2]
        if self.eval_history:
            for name, value in self.eval_history[-1][1].items():
                result[f"eval_{name}"] = value
        self.log_fn(f"Finished at step {step}: {steps_per_sec:.2f} steps/s, "
                    f"{tokens_per_sec:,.0f} tokens/s")
        return result
