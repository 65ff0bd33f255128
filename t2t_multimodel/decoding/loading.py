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
    """

    def __init__(self, config, problem, model, step):
        self.config = config
        self.problem = problem
        self.model = model
        self.step = step
        self.encoders = problem.get_feature_encoders(config.data_dir)


def load_run(output_dir, problem_name=None, checkpoint_path=None):
    """Loads the run in `output_dir`; `problem_name` picks one of a mixture."""
    config = RunConfig.load(output_dir)
    usr_dir.import_usr_dir(config.t2t_usr_dir)
    name = problem_name or config.problems[0]
    if name not in config.problems:
        raise T2TError(f"the run in {output_dir} was trained on {', '.join(config.problems)}; "
                       f"pick one of them. Received: problem={name}")
    problem = registry.problem(name)
    problem.get_feature_encoders(config.data_dir)
    problem_hparams = ProblemHParams.from_dict(config.problem_hparams[name])
    model = registry.model(config.model)(config.hparams, problem_hparams)
    model(model.dummy_features(), training=False)
    checkpoint_path = checkpoint_path or tf.train.latest_checkpoint(output_dir)
    if checkpoint_path is None:
        raise DataError(f"no checkpoint in {output_dir}: train first (t2t-trainer "
                        f"--output_dir={output_dir}). Received: output_dir={output_dir}")
    step = tf.Variable(0, dtype=tf.int64)
    checkpoints.restore_model(model, checkpoint_path, step=step)
    return LoadedRun(config, problem, model, int(step.numpy()))


def default_export_dir(output_dir):
    return os.path.join(output_dir, "export")
