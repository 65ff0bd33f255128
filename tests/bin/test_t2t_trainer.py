"""t2t-trainer run as a user would: one-line errors, --registry_help, kill -9 and resume.

Every subprocess is bounded by a timeout. The tiny problem and hparams set come
from a `--t2t_usr_dir` package (tests/training/tiny_problem.py).
"""

import os
import random
import re
import subprocess
import sys
import time

import pytest
from training import tiny_problem

TRAINER = [sys.executable, "-m", "t2t_multimodel.bin.t2t_trainer"]
ENV = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
# TF's C++ runtime prints these before Python runs; TF_CPP_MIN_LOG_LEVEL can't stop them.
RUNTIME_NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog|"
                           r"[IWE]\d{4} \d\d:\d\d:\d\d)")


@pytest.fixture(scope="module")
def usr_and_data(tmp_path_factory):
    from t2t_multimodel import registry, usr_dir

    usr = tiny_problem.write_usr_dir(str(tmp_path_factory.mktemp("cli_usr")))
    usr_dir.import_usr_dir(usr)
    data_dir = str(tmp_path_factory.mktemp("cli_data"))
    registry.problem(tiny_problem.PROBLEM).generate_data(data_dir, data_dir + "/tmp")
    return usr, data_dir


def _args(usr, data_dir, **overrides):
    flags = dict(t2t_usr_dir=usr, problem=tiny_problem.PROBLEM, model=tiny_problem.MODEL,
                 hparams_set=tiny_problem.HPARAMS_SET, data_dir=data_dir,
                 output_dir=None, train_steps=5, eval_steps=1,
                 save_checkpoints_steps=5, local_eval_frequency=0)
    flags.update(overrides)
    return [f"--{k}={v}" for k, v in flags.items() if v is not None]


def _stderr_lines(stderr):
    return [line for line in stderr.splitlines() if line.strip() and not RUNTIME_NOISE.match(line)]


def test_usage_errors_are_one_line(usr_and_data, tmp_path):
    usr, data_dir = usr_and_data
    out = str(tmp_path / "out")
    cases = {
        "did you mean trainer_test_identity": dict(problem="trainer_test_identiy"),
        "did you mean transformer": dict(model="transfomer"),
        "did you mean trainer_test_tiny": dict(hparams_set="trainer_test_tin"),
        "did you mean hidden_size": dict(hparams="hiden_size=64"),
        "Received: hidden_size=abc": dict(hparams="hidden_size=abc"),
    }
    procs, outputs = {}, {}
    try:
        pending = list(cases.items())
        while pending or len(outputs) < len(procs):
            running = [e for e in procs if e not in outputs]
            if pending and len(running) < 2:  # two at a time: one per core
                expected, flags = pending.pop(0)
                args = _args(usr, data_dir, **{"output_dir": out, **flags})
                procs[expected] = subprocess.Popen(
                    TRAINER + args, env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                    text=True)
            else:
                outputs[running[0]] = procs[running[0]].communicate(timeout=120)[1]
    finally:
        for proc in procs.values():
            proc.kill()
    for expected, proc in procs.items():
        stderr = outputs[expected]
        lines = _stderr_lines(stderr)
        assert proc.returncode == 1, (expected, stderr)
        assert "Traceback" not in stderr, stderr
        assert len(lines) == 1 and lines[0].startswith("Error: "), (expected, lines)
        assert expected in lines[0], (expected, lines)
    assert not os.path.exists(out)


def test_registry_help_lists_names():
    result = subprocess.run(TRAINER + ["--registry_help"], env=ENV, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    for name in ("algorithmic_reverse_binary40", "transformer", "transformer_tiny"):
        assert f"  * {name}\n" in result.stdout


def _latest_step(output_dir):
    path = os.path.join(output_dir, "checkpoint")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        match = re.search(r'^model_checkpoint_path: "ckpt-(\d+)"', f.read(), re.M)
    return int(match.group(1)) if match else 0


def test_kill_9_then_resume(usr_and_data, tmp_path):
    usr, data_dir = usr_and_data
    out = str(tmp_path / "run")
    proc = subprocess.Popen(
        TRAINER + _args(usr, data_dir, output_dir=out, train_steps=100000,
                        save_checkpoints_steps=10, eval_steps=0, log_step_count_steps=10),
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while _latest_step(out) < 20:
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "no checkpoint within 120 s"
            time.sleep(0.2)
        # Kill at a random step: anywhere in the next ~10-20 steps, at times mid-save.
        time.sleep(random.uniform(0.0, 1.0))
    finally:
        proc.kill()  # SIGKILL: no cleanup of any kind
        proc.communicate(timeout=30)
    assert proc.returncode == -9
    killed_at = _latest_step(out)
    assert killed_at >= 20

    train_steps = killed_at + 15
    result = subprocess.run(
        TRAINER + _args(usr, data_dir, output_dir=out, train_steps=train_steps,
                        save_checkpoints_steps=10, eval_steps=2, log_step_count_steps=5),
        env=ENV, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    resumed = re.search(r"^Resuming from step (\d+)", result.stdout, re.M)
    assert resumed and int(resumed.group(1)) == killed_at > 0, result.stdout
    assert _latest_step(out) == train_steps
    assert f"step {train_steps}/{train_steps}" in result.stdout
    assert f"Final eval (step {train_steps}): loss" in result.stdout
