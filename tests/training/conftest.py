"""Session fixtures of the trainer tests: a tiny problem's data and one short run.

The run (100 steps, evaluations at 50 and 100, checkpoints at 50 and 100) is
trained once per test process; tests that continue it work on a copy.
"""

import shutil

import pytest
from training import tiny_problem

from t2t_multimodel import usr_dir
from t2t_multimodel.training import trainer

FIRST_RUN_STEPS = 100


@pytest.fixture(scope="session")
def tiny_usr_dir(tmp_path_factory):
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
