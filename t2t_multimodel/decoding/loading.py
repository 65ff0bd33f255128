"""Rebuilds a trained model from `--output_dir` alone (for decoder and exporter)."""

import os

import tensorflow as tf

from t2t_multimodel import registry, usr_dir
from t2t_multimodel.errors import DataError, T2TError
from t2t_multimodel.problem_hparams import ProblemHParams
from t2t_multimodel.run_config import RunConfig
from t2t_multimodel.training import checkpoints


class LoadedRun:
    """A trained model with its problem, encoders and run record.

    Args:
        config: `RunConfig` of the run.
        problem: the `Problem` instance decoded for.
        model: the `T2TModel` with the latest checkpoint's weights.
        step: int. The global step of the restored checkpoint.
        problem_key: str or None. The problem's name in a mixture's model
            (None: a one-problem model).
    """

    def __init__(self, config, problem, model, step, problem_key=None):
        self.config = config
        self.problem = problem
        self.model = model
        self.step = step
        self.problem_key = problem_key
        self.encoders = problem.get_feature_encoders(config.data_dir)


def several_problems(spec):
    """Whether `--problem` (of t2t-decoder / t2t-exporter) names several
    problems: "all" or "a,b"; then `load_runs(output_dir, problem_names(spec))`."""
    names = problem_names(spec)
    return names is None or len(names) > 1


def problem_names(spec):
    """The names in `--problem` ("a,b" -> ["a", "b"]); None for "all" (every one)."""
    names = [n.strip() for n in (spec or "").split(",") if n.strip()]
    return None if names == ["all"] else names


def load_run(output_dir, problem_name=None, checkpoint_path=None):
    """Loads the run in `output_dir`; `problem_name` picks one of a mixture."""
    return load_runs(output_dir, [problem_name] if problem_name else None, checkpoint_path,
                     first_only=problem_name is None)[0]


def load_runs(output_dir, problem_names=None, checkpoint_path=None, first_only=False):
    """One `LoadedRun` per problem of `problem_names` (None: every problem of
    the run), all sharing one restored model."""
    config = RunConfig.load(output_dir)
    usr_dir.import_usr_dir(config.t2t_usr_dir)
    names = list(problem_names or (config.problems[:1] if first_only else config.problems))
    for name in names:
        if name not in config.problems:
            raise T2TError(f"the run in {output_dir} was trained on "
                           f"{', '.join(config.problems)}; pick one of them with --problem. "
                           f"Received: problem={name}")
    problems = {n: registry.problem(n) for n in config.problems}
    by_name = {n: ProblemHParams.from_dict(config.problem_hparams[n]) for n in config.problems}
    mixture = len(config.problems) > 1
    model = registry.model(config.model)(
        config.hparams, by_name if mixture else by_name[config.problems[0]])
    for n, problem in problems.items():
        problem.get_feature_encoders(config.data_dir)
        model.for_problem(n if mixture else None)(
            _build_features(model, problem, config, n if mixture else None), training=False)
    checkpoint_path = checkpoint_path or tf.train.latest_checkpoint(output_dir)
    if checkpoint_path is None:
        raise DataError(f"no checkpoint in {output_dir}: train first (t2t-trainer "
                        f"--output_dir={output_dir}). Received: output_dir={output_dir}")
    step = tf.Variable(0, dtype=tf.int64)
    checkpoints.restore_model(model, checkpoint_path, step=step)
    return [LoadedRun(config, problems[name], model, int(step.numpy()),
                      problem_key=name if mixture else None) for name in names]


def _build_features(model, problem, config, key):
    """A batch that builds every weight: the model's dummy one for text, else a dev batch.

    Image and audio nets need an input of the real kind (channels, rank), which
    only the problem's data shows.
    """
    modality = model.problem_hparams_for(key).modality.get("inputs")
    if modality in (None, "symbol"):
        return model.dummy_features(key)
    dataset = problem.dataset("eval", config.data_dir, config.hparams, prefetch=False)
    return next(iter(dataset.take(1)))


def default_export_dir(output_dir):
    return os.path.join(output_dir, "export")
