"""`evaluate_checkpoint`: the final evaluation of a run that was killed before it.

The trainer evaluates after its last checkpoint; a run killed in between is
at `train_steps` (so the trainer has nothing left to do) without an
evaluation there. This evaluates its latest checkpoint as the trainer would
(the same `Evaluator` and `DecodeEvaluator`) and writes the values to the
run's eval events, so its curves and result read them like any other.
"""

from t2t_multimodel.decoding import loading
from t2t_multimodel.training import evaluation, summaries


def evaluate_checkpoint(run_dir, eval_steps, eval_decode_samples, log_fn=print):
    """Evaluates the latest checkpoint of `run_dir` on every problem of the run.

    Args:
        run_dir: str. A training run's `output_dir`.
        eval_steps: int. Dev batches (<= 0: the whole dev split).
        eval_decode_samples: int. Dev examples decoded for real (0: none).
        log_fn: callable taking one str.

    Returns:
        int, the checkpoint's step (its values are in `run_dir/eval`).
    """
    runs = loading.load_runs(run_dir)
    config, step = runs[0].config, runs[0].step
    flat = {}
    for run in runs:
        decoder = (evaluation.DecodeEvaluator(run.model, run.problem, run.problem_key,
                                              config.data_dir, eval_decode_samples)
                   if eval_decode_samples > 0 else None)
        evaluator = evaluation.Evaluator(
            run.model.for_problem(run.problem_key),
            lambda run=run: run.problem.dataset("eval", config.data_dir, config.hparams),
            run.problem.eval_metrics(), log_fn, decode_evaluator=decoder)
        values = evaluator.evaluate(eval_steps)
        prefix = f"{run.problem.name}/" if len(runs) > 1 else ""
        flat.update({prefix + k: v for k, v in values.items()})
        log_fn(f"eval {run.problem.name} of the step-{step} checkpoint: "
               f"{summaries.metrics_line(values)}")
    writer = summaries.Summaries(run_dir)
    writer.scalars("eval", flat, step)
    writer.close()
    return step
