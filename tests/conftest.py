"""Shared test set-up: quiet TensorFlow, importable helpers, shared fixtures.

Session fixtures train one tiny run (`first_run`, 100 steps of a copy task)
that trainer, decoder and exporter tests share; tests that continue or damage
it work on a copy. Under `pytest -n 2` each worker builds its own.
"""

import os
import shutil
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import pytest  # noqa: E402
from training import tiny_problem  # noqa: E402

FIRST_RUN_STEPS = 100


@pytest.fixture(scope="session")
def tiny_usr_dir(tmp_path_factory):
    from t2t_multimodel import usr_dir

    path = tiny_problem.write_usr_dir(str(tmp_path_factory.mktemp("usr")))
    usr_dir.import_usr_dir(path)
    return path


@pytest.fixture(scope="session")
def tiny_data_dir(tiny_usr_dir, tmp_path_factory):
    from t2t_multimodel import registry

    data_dir = str(tmp_path_factory.mktemp("data"))
    registry.problem(tiny_problem.PROBLEM).generate_data(data_dir, data_dir + "/tmp")
    return data_dir


@pytest.fixture(scope="session")
def first_run(tiny_usr_dir, tiny_data_dir, tmp_path_factory):
    """(output_dir, result dict, logged lines) of a 100-step run."""
    from t2t_multimodel.training import trainer

    output_dir = str(tmp_path_factory.mktemp("first_run") / "out")
    lines = []
    result = trainer.train(
        tiny_problem.PROBLEM, tiny_problem.MODEL, tiny_problem.HPARAMS_SET, tiny_data_dir,
        output_dir, train_steps=FIRST_RUN_STEPS, eval_steps=0, save_checkpoints_steps=50,
        local_eval_frequency=50, t2t_usr_dir=tiny_usr_dir, log_fn=lines.append,
        log_step_count_steps=25)
    return output_dir, result, lines


@pytest.fixture
def first_run_copy(first_run, tmp_path):
    """A private copy of the first run's output_dir, to continue or damage."""
    copy = str(tmp_path / "out")
    shutil.copytree(first_run[0], copy)
    return copy


TRAINED_RUN_STEPS = 400


@pytest.fixture(scope="session")
def trained_run(first_run, tiny_usr_dir, tiny_data_dir, tmp_path_factory):
    """output_dir of the first run continued to 400 steps (copies digits exactly;
    at 250 one CI run in three decoded "9 0 0 4" as "9 9 0 4")."""
    from t2t_multimodel.training import trainer

    output_dir = str(tmp_path_factory.mktemp("trained_run") / "out")
    shutil.copytree(first_run[0], output_dir)
    trainer.train(
        tiny_problem.PROBLEM, tiny_problem.MODEL, tiny_problem.HPARAMS_SET, tiny_data_dir,
        output_dir, train_steps=TRAINED_RUN_STEPS, eval_steps=0,
        save_checkpoints_steps=TRAINED_RUN_STEPS, local_eval_frequency=0,
        t2t_usr_dir=tiny_usr_dir, log_fn=lambda line: None)
    return output_dir
