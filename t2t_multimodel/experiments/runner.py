"""`Runner`: trains the cells of the tables, one after another, resumably.

Each cell and seed trains in `<output_dir>/<cell>/seed-<seed>` with
`trainer.train`. When it finishes, `result.json` (its final metrics per
problem and its eval curves, read back from the eval events) is written
atomically: a cell with a matching `result.json` is skipped on the next
call; a cell without one (interrupted) is trained again, and the trainer
resumes it from its latest checkpoint. A run is trained under its
`RunLock`: one that another invocation is training (same `output_dir`) is
left to it and its result is waited for after the other runs.
"""

import os
import time

from t2t_multimodel import registry, usr_dir
from t2t_multimodel.errors import DataError, T2TError
from t2t_multimodel.experiments import results, run_lock

# The demo's overrides of multimodel_tiny (bin/demo.sh): a peak learning rate
# that suits a few thousand steps, no label smoothing so that the eval loss is
# the log-perplexity, and 512-token batches (twice the steps per second).
DEFAULT_HPARAMS = ("learning_rate=0.003,learning_rate_warmup_steps=200,label_smoothing=0.0,"
                   "batch_size=512")
BASE_SEED = 1234  # basic_params1's seed: seed i of a cell uses BASE_SEED + i

# --quick: a MultiModel small enough for CI (one block each, width 32), a
# few steps, one seed, a few dev batches and decodes.
QUICK_HPARAMS = ("hidden_size=32,filter_size=64,num_heads=2,moe_num_experts=4,"
                 "moe_hidden_size=32,large_kernel_size=3,encoder_blocks=1,mixer_blocks=1,"
                 "decoder_blocks=1,batch_size=128,max_length=48")
QUICK = dict(train_steps=6, seeds=1, eval_steps=2, local_eval_frequency=3,
             save_checkpoints_steps=3, eval_decode_samples=4)


class Runner:
    """Trains cells (see `cells.py`) per seed and collects their results.

    Args:
        data_dir: str. The problems' data (generated beforehand).
        output_dir: str. One subdirectory per cell and seed.
        model: str. A registered model (the MultiModel: Table 4's ablations
            are its `use_moe` / `use_attention` hparams).
        hparams_set: str. A registered hparams set.
        hparams: str. Overrides for every cell (a cell's own and the seed
            come after them).
        train_steps: int. The step budget of every run (the same for a
            single problem and for the mixture).
        seeds: int. Runs per cell (seeds `BASE_SEED`, `BASE_SEED + 1`, ...).
        eval_steps: int. Dev batches per evaluation.
        local_eval_frequency: int. Steps between evaluations (the curves).
        save_checkpoints_steps: int. Steps between checkpoints.
        eval_decode_samples: int. Dev examples decoded for real at the last
            evaluation, scored with the problem's own metric.
        max_runs: int. `run` returns after training this many runs (0: all).
            A process keeps much of the memory of every run it trained (a
            worker held 10 GiB after two joint runs), so `--workers` trains
            each run in a new process with `max_runs=1`.
        t2t_usr_dir: str or None. A package of the user's problems.
        log_fn: callable taking one str.

    Example:

    ```python
    runner = Runner(data_dir, output_dir, train_steps=3000, seeds=3)
    cells, entries = cells_lib.unique_cells(["2", "3", "4"], Roles())
    runner.check_data(cells)
    outcomes = runner.run(cells)   # {cell name: [result dict per seed]}
    ```
    """

    def __init__(self, data_dir, output_dir, model="multimodel", hparams_set="multimodel_tiny",
                 hparams=DEFAULT_HPARAMS, train_steps=3000, seeds=3, eval_steps=20,
                 local_eval_frequency=500, save_checkpoints_steps=500, eval_decode_samples=100,
                 max_runs=0, t2t_usr_dir=None, log_fn=print):
        for name, value in (("train_steps", train_steps), ("seeds", seeds)):
            if int(value) < 1:
                raise T2TError(f"--{name} must be >= 1. Received: {name}={value}")
        if int(max_runs) < 0:
            raise T2TError(f"--max_runs must be >= 0 (0: all). Received: max_runs={max_runs}")
        self.data_dir = data_dir
        self.output_dir = output_dir
        self.model = model
        self.hparams_set = hparams_set
        self.hparams = hparams or ""
        self.train_steps = int(train_steps)
        self.seeds = [BASE_SEED + i for i in range(int(seeds))]
        self.eval_steps = eval_steps
        self.local_eval_frequency = local_eval_frequency
        self.save_checkpoints_steps = save_checkpoints_steps
        self.eval_decode_samples = eval_decode_samples
        self.max_runs = int(max_runs)
        self.t2t_usr_dir = t2t_usr_dir
        self.log_fn = log_fn
        self.trained = 0  # runs trained (not skipped) by this runner

    def run_dir(self, cell, seed):
        return os.path.join(self.output_dir, cell.name, f"seed-{seed}")

    def overrides(self, cell, seed):
        """The hparams overrides of one run: common, the cell's own, the seed.

        Real decodes run at the last evaluation only: the report reads their
        metrics there, and the curves are of log-perplexity and accuracy.
        """
        parts = [self.hparams, f"eval_decode_samples={self.eval_decode_samples}",
                 "eval_decode_final_only=true",
                 cell.overrides, f"seed={seed}"]
        return ",".join(p for p in parts if p)

    def check_data(self, cells):
        """Raises one `DataError` naming every problem without data and the command."""
        usr_dir.import_usr_dir(self.t2t_usr_dir)
        names = list(dict.fromkeys(p for cell in cells for p in cell.problems))
        missing = []
        for name in names:
            problem = registry.problem(name)
            try:
                problem.data_files(self.data_dir, "train")
                problem.data_files(self.data_dir, "eval")
            except DataError:
                missing.append(name)
        if missing:
            raise DataError(
                f"no data for {', '.join(missing)} in {self.data_dir}: generate it first with "
                f"t2t-datagen --problem={','.join(missing)} --data_dir={self.data_dir}. "
                f"Received: data_dir={self.data_dir}")

    def run(self, cells):
        """Runs every cell for every seed, in order; {cell name: [result per seed]}.

        A run another invocation is training is deferred: its result is
        waited for (its lock) after all the other runs, and the run resumed
        here if that invocation ends before finishing it. After `max_runs`
        trained runs it returns the results it has (fewer seeds per cell).
        """
        done, deferred = {}, []
        for cell, seed in ((cell, seed) for cell in cells for seed in self.seeds):
            if self._spent():
                break
            result = self.run_cell(cell, seed, wait=False)
            if result is None:
                deferred.append((cell, seed))
            else:
                done[cell.name, seed] = result
        for cell, seed in deferred:
            if self._spent():
                break
            done[cell.name, seed] = self.run_cell(cell, seed)
        return {cell.name: [done[cell.name, seed] for seed in self.seeds
                            if (cell.name, seed) in done] for cell in cells}

    def _spent(self):
        return 0 < self.max_runs <= self.trained

    def finished(self, cells):
        """{cell name: [result per finished seed]}, without training anything."""
        return {cell.name: [r for r in (self._finished(cell, seed) for seed in self.seeds) if r]
                for cell in cells}

    def _finished(self, cell, seed):
        """The run's `result.json` if it finished with this runner's settings, else None."""
        stored = results.read_json(os.path.join(self.run_dir(cell, seed), results.RESULT_FILE))
        if (stored is not None and stored.get("problem") == cell.problem
                and stored.get("hparams") == self.overrides(cell, seed)
                and stored.get("train_steps") == self.train_steps
                and stored.get("eval_step") == self.train_steps):
            return stored
        return None

    def run_cell(self, cell, seed, wait=True):
        """Trains one cell for one seed (or reuses its finished result); its result dict.

        Returns None, without waiting, when another invocation is training
        the run and `wait` is False.
        """
        run_dir = self.run_dir(cell, seed)
        label = f"{cell.name} seed {seed}"
        stored = self._finished(cell, seed)
        if stored:
            self.log_fn(f"Skipped {label}: finished "
                        f"({os.path.join(run_dir, results.RESULT_FILE)})")
            return stored
        lock = run_lock.RunLock(run_dir)
        if not lock.acquire(blocking=False):
            if not wait:
                self.log_fn(f"Deferred {label}: {lock.holder()} is training it; its result "
                            "is waited for after the other runs")
                return None
            self.log_fn(f"Waiting for {label}: {lock.holder()} is training it")
            lock.acquire()
        try:
            return self._train(cell, seed, label)
        finally:
            lock.release()

    def _train(self, cell, seed, label):
        """`run_cell` under the run's lock: its result, trained here if not finished."""
        from t2t_multimodel.training import trainer

        run_dir = self.run_dir(cell, seed)
        path = os.path.join(run_dir, results.RESULT_FILE)
        stored = self._finished(cell, seed)  # again: the lock's last holder may have finished it
        if stored:
            self.log_fn(f"Skipped {label}: finished by the invocation waited for ({path})")
            return stored
        overrides = self.overrides(cell, seed)

        def log(line):
            self.log_fn(f"[{label}] {line}")

        self.log_fn(f"Running {label}: {cell.problem} for {self.train_steps} steps in {run_dir}")
        began = time.time()
        out = trainer.train(
            cell.problem, self.model, self.hparams_set, self.data_dir, run_dir,
            hparams_overrides=overrides, train_steps=self.train_steps,
            eval_steps=self.eval_steps, save_checkpoints_steps=self.save_checkpoints_steps,
            local_eval_frequency=self.local_eval_frequency, t2t_usr_dir=self.t2t_usr_dir,
            log_fn=log, log_step_count_steps=max(1, min(100, self.train_steps)))
        events = results.read_eval_events(run_dir)
        if self.train_steps not in events:  # killed between its last checkpoint and eval
            from t2t_multimodel.experiments import final_eval

            self.log_fn(f"{label}: no evaluation at step {self.train_steps}; evaluating "
                        "its latest checkpoint")
            final_eval.evaluate_checkpoint(run_dir, self.eval_steps, self.eval_decode_samples,
                                           log_fn=log)
            events = results.read_eval_events(run_dir)
        eval_step, metrics = results.final_metrics(events, cell.problems)
        result = {
            "cell": cell.name, "seed": seed, "problem": cell.problem,
            "problems": cell.problems, "hparams": overrides,
            "model": self.model, "hparams_set": self.hparams_set,
            "train_steps": self.train_steps, "start_step": out.get("start_step", 0),
            "eval_step": eval_step, "metrics": metrics,
            "curves": results.curves(events, cell.problems),
            "primary": {p: results.primary_metric(registry.problem(p), metrics.get(p))
                        for p in cell.problems},
            # Over every session of the run (a resumed run's earlier ones too).
            "wall_seconds": results.active_seconds(run_dir),
            "session_seconds": time.time() - began,
            "steps_per_sec": out.get("steps_per_sec"),
        }
        if eval_step != self.train_steps:
            raise T2TError(
                f"the run in {run_dir} ended at step {eval_step}, not train_steps="
                f"{self.train_steps}; move it away and rerun. Received: output_dir={run_dir}")
        results.write_json(path, result)
        self.trained += 1
        self.log_fn(f"Finished {label}: {result['wall_seconds']:.0f}s of training and eval "
                    f"over its sessions ({path})")
        return result
