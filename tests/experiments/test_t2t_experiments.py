"""t2t-experiments --quick on two tiny stand-ins: every table and cell, reuse, resume.

The offline problems need Debian/npm downloads at datagen, so the roles go to
two problems generated here: a text classification (the ones in 7 bits;
the "parsing" and "language" problem) and scikit-learn's 8x8 digits (the
"image"). Both have class-label targets, so the MultiModel stops after its
encoder: the cheapest graphs, which keeps the five runs of the three tables
near a minute. One test runs the command six times in a row (first run in
two worker processes, rerun, resume after simulated kills, --report_only, a
run locked by another invocation), so `pytest -n 2` never runs it twice. The
count-ones problem is a --t2t_usr_dir (`count_ones_usr`): the workers import
it by the flag.
"""

import contextlib
import glob
import io
import json
import os
import shutil
import sys

import pytest
import tensorflow as tf
from absl import flags

from t2t_multimodel import registry, usr_dir

USR_DIR = os.path.join(os.path.dirname(__file__), "count_ones_usr")
BITS = "experiments_test_count_ones"
DIGITS = "image_digits"
CELLS = ("joint", f"single-{BITS}", f"single-{DIGITS}", "no_moe", "no_attention")
SEED = 1234


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    pytest.importorskip("sklearn")
    usr_dir.import_usr_dir(USR_DIR)  # registers BITS (the workers import it by the flag)
    path = str(tmp_path_factory.mktemp("experiments_data"))
    for name in (BITS, DIGITS):
        registry.problem(name).generate_data(path, os.path.join(path, "tmp"))
    return path


def _args(data_dir, output_dir, **extra):
    values = dict(data_dir=data_dir, output_dir=output_dir, table="all", quick="true",
                  t2t_usr_dir=USR_DIR,
                  joint_problems=f"{BITS},{DIGITS}", parsing_problem=BITS,
                  image_problem=DIGITS, language_problems=BITS)
    values.update(extra)
    return ["t2t-experiments"] + [f"--{k}={v}" for k, v in values.items()]


def _run(argv, out=None):
    """Runs the binary's main in this process; its printed lines."""
    from t2t_multimodel.bin import t2t_experiments

    flags.FLAGS.unparse_flags()
    flags.FLAGS(argv)
    out = out or io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            t2t_experiments.main([])
    finally:
        flags.FLAGS.unparse_flags()  # leave the process's flags as other tests expect them
    return out.getvalue().splitlines()


def _results(output_dir):
    return {cell: os.path.join(output_dir, cell, f"seed-{SEED}", "result.json") for cell in CELLS}


def _rewind(run_dir, step):
    """Leaves `run_dir` as a kill right after the checkpoint of `step` would."""
    os.remove(os.path.join(run_dir, "result.json"))
    for path in glob.glob(os.path.join(run_dir, "ckpt-*")):
        if not os.path.basename(path).startswith(f"ckpt-{step}."):
            os.remove(path)
    kept = os.path.join(run_dir, f"ckpt-{step}")
    tf.compat.v1.train.update_checkpoint_state(run_dir, kept, all_model_checkpoint_paths=[kept])


class _ReleaseWhenWaiting(io.StringIO):
    """stdout that releases `lock` when the command says it waits for it."""

    def __init__(self, lock):
        super().__init__()
        self.lock = lock

    def write(self, text):
        if text.startswith("Waiting for "):
            self.lock.release()
        return super().write(text)


def test_quick_runs_every_table_reuses_finished_cells_and_resumes(data_dir, tmp_path):
    output_dir, report = str(tmp_path / "out"), str(tmp_path / "docs" / "report.md")
    argv = _args(data_dir, output_dir, report=report)
    lines = _run(argv + ["--workers=2"])
    log = "\n".join(lines)

    # Two worker processes share the runs: every cell trained once (Table 3's
    # parsing + image is the joint run here: the joint mixture is those two
    # problems), 6 steps, one seed; the report written when both are done.
    assert any(line.startswith("Training in 2 worker processes") for line in lines), log
    running = [line.split("] ", 1)[1].split(" seed")[0] for line in lines
               if line.startswith(("[worker 1] Running ", "[worker 2] Running "))]
    assert sorted(running) == sorted(f"Running {cell}" for cell in CELLS), log
    for worker in ("[worker 1] ", "[worker 2] "):  # a new process (its "Tables" line) per run
        own = [line[len(worker):] for line in lines if line.startswith(worker)]
        per_process = " ".join("T" if line.startswith("Tables ") else "R"
                               for line in own if line.startswith(("Tables ", "Running ")))
        assert "R R" not in per_process, log
    assert lines[-1] == f"Wrote {report}", log
    results = {cell: json.load(open(path)) for cell, path in _results(output_dir).items()}
    for cell, result in results.items():
        assert result["eval_step"] == 6 and result["start_step"] == 0, (cell, result)
        for problem in result["problems"]:
            metrics = result["metrics"][problem]
            assert 0.0 <= metrics["accuracy"] <= 1.0 and "decode_accuracy" in metrics, metrics
            assert [step for step, _ in result["curves"][problem]["accuracy"]] == [3, 6]
    assert results["joint"]["problems"] == [BITS, DIGITS]
    config = json.load(open(os.path.join(output_dir, "no_moe", f"seed-{SEED}", "hparams.json")))
    assert config["hparams"]["use_moe"] is False and config["hparams"]["seed"] == SEED
    config = json.load(open(os.path.join(output_dir, "no_attention", f"seed-{SEED}",
                                         "hparams.json")))
    assert config["hparams"]["use_attention"] is False and config["hparams"]["use_moe"] is True

    text = open(report).read()
    for title in ("## Table 2", "## Table 3", "## Table 4"):
        assert title in text, text
    for cell in CELLS:
        assert f"`{cell}`" in text, cell
        png = os.path.join(os.path.dirname(report), f"report_{cell}.png")
        assert open(png, "rb").read(8) == b"\x89PNG\r\n\x1a\n", png
    # Table 3's three columns, the middle one read from the joint run.
    assert f"| {BITS} | with {DIGITS} | `joint` |" in text, text
    claims = [line for line in text.splitlines()
              if "**holds**" in line or "**does not hold at this scale**" in line]
    assert len(claims) == 6, text  # 2 per table, each decided
    joint_accuracy = results["joint"]["metrics"][BITS]["accuracy"]
    assert f"| {BITS} | joint | `joint` | " in text and f"{joint_accuracy:.3f}" in text

    # Rerun: every finished cell is skipped, its result untouched.
    stamps = {cell: os.stat(path).st_mtime_ns for cell, path in _results(output_dir).items()}
    lines = _run(argv)
    assert not any(line.startswith("Running ") for line in lines), lines
    for cell in CELLS:
        assert any(line.startswith(f"Skipped {cell} seed {SEED}: finished") for line in lines)
    assert stamps == {cell: os.stat(path).st_mtime_ns
                      for cell, path in _results(output_dir).items()}
    # With workers too: no process is started for runs that are all finished.
    lines = _run(argv + ["--workers=2"])
    assert "Nothing to train: every run has its result" in lines, lines
    assert not any(line.startswith(("Training in", "[worker")) for line in lines), lines
    assert lines[-1] == f"Wrote {report}", lines

    # A run killed after its step-3 checkpoint resumes there, not from 0.
    run_dir = os.path.join(output_dir, f"single-{DIGITS}", f"seed-{SEED}")
    _rewind(run_dir, 3)
    lines = _run(argv)
    log = "\n".join(lines)
    assert [line.split(":")[0] for line in lines if line.startswith("Running ")] == [
        f"Running single-{DIGITS} seed {SEED}"], log
    assert f"[single-{DIGITS} seed {SEED}] Resuming from step 3" in log, log
    resumed = json.load(open(os.path.join(run_dir, "result.json")))
    assert resumed["start_step"] == 3 and resumed["eval_step"] == 6, resumed
    # Its curve keeps the step-3 evaluation of the first session.
    assert [step for step, _ in resumed["curves"][DIGITS]["accuracy"]] == [3, 6]

    # Killed after its last checkpoint, before the final evaluation: the
    # checkpoint is evaluated (same dev batches, so the same accuracy).
    os.remove(os.path.join(run_dir, "result.json"))
    shutil.rmtree(os.path.join(run_dir, "eval"))
    lines = _run(argv)
    assert any(line.startswith(f"single-{DIGITS} seed {SEED}: no evaluation at step 6")
               for line in lines), lines
    again = json.load(open(os.path.join(run_dir, "result.json")))
    assert again["eval_step"] == 6 and again["start_step"] == 6, again
    [(step, accuracy)] = again["curves"][DIGITS]["accuracy"]
    assert step == 6 and accuracy == pytest.approx(resumed["metrics"][DIGITS]["accuracy"])

    # --report_only while a run is unfinished: the report of the others, nothing trained.
    unfinished = _results(output_dir)["no_moe"]
    os.remove(unfinished)
    lines = _run(argv + ["--report_only", "--workers=2"])  # the same command + --report_only
    assert not any(line.startswith(("Running ", "Skipped ", "Training in")) for line in lines)
    assert not os.path.exists(unfinished)
    text = open(report).read()
    assert "**Interim report: 1 of 5 runs have not finished** (`no_moe` 0 of 1)" in text
    table4 = text[text.index("## Table 4"):]
    assert "- Not decided: no results for no MoE" in table4, table4
    assert f"| {BITS} | no MoE | `no_moe` | – | – | – | – |" in table4, table4

    # Another invocation holds the run's lock: this one defers it, runs (here
    # skips) the others, including the one after it, waits, then trains it
    # when the lock is released.
    from t2t_multimodel.experiments import run_lock

    other = run_lock.RunLock(os.path.dirname(unfinished))
    assert other.acquire(blocking=False)
    lines = _run(argv, out=_ReleaseWhenWaiting(other))
    log = "\n".join(lines)
    holder = f"pid {os.getpid()} on "
    deferred = [i for i, line in enumerate(lines)
                if line.startswith(f"Deferred no_moe seed {SEED}: {holder}")]
    waiting = [i for i, line in enumerate(lines)
               if line.startswith(f"Waiting for no_moe seed {SEED}: {holder}")]
    running = [i for i, line in enumerate(lines) if line.startswith("Running ")]
    assert len(deferred) == len(waiting) == len(running) == 1, log
    skipped = [i for i, line in enumerate(lines) if line.startswith("Skipped ")]
    assert lines[skipped[-1]].startswith(f"Skipped no_attention seed {SEED}"), log
    assert len(skipped) == 4 and deferred[0] < skipped[-1] < waiting[0] < running[0], log
    assert lines[running[0]].startswith(f"Running no_moe seed {SEED}"), log
    assert json.load(open(unfinished))["eval_step"] == 6
    assert "Interim report" not in open(report).read()


def _fail(argv, monkeypatch, capsys):
    """Runs the binary as its console entry point would; its stderr lines (exit code 1)."""
    from t2t_multimodel.bin import common_flags, t2t_experiments

    monkeypatch.setattr(sys, "argv", argv)
    flags.FLAGS.unparse_flags()
    try:
        with pytest.raises(SystemExit) as exit_info:
            common_flags.run_main(t2t_experiments.main)
    finally:
        flags.FLAGS.unparse_flags()
    assert exit_info.value.code == 1
    return capsys.readouterr().err.strip().splitlines()


def test_missing_data_is_one_line_naming_the_datagen_command(tmp_path, monkeypatch, capsys):
    empty = str(tmp_path / "empty")
    reverse = "algorithmic_reverse_binary40_test"
    argv = _args(empty, str(tmp_path / "out"), table="3", joint_problems=f"{reverse},{DIGITS}",
                 parsing_problem=reverse, language_problems=reverse)
    err = _fail(argv, monkeypatch, capsys)
    assert err == [
        f"Error: no data for {reverse}, {DIGITS} in {empty}: generate it first with "
        f"t2t-datagen --problem={reverse},{DIGITS} --data_dir={empty}. "
        f"Received: data_dir={empty}"], err
    assert not os.path.exists(tmp_path / "out")


def test_an_unreadable_notes_file_is_one_line_before_anything_runs(tmp_path, monkeypatch,
                                                                   capsys):
    missing = str(tmp_path / "notes.md")
    argv = _args(str(tmp_path / "data"), str(tmp_path / "out"), notes=missing)
    err = _fail(argv, monkeypatch, capsys)
    assert err == [f"Error: cannot read the --notes file: No such file or directory; give a "
                   f"readable Markdown file. Received: notes={missing}"], err
    assert not os.path.exists(tmp_path / "out")


def test_report_only_with_train_only_is_one_line(tmp_path, monkeypatch, capsys):
    argv = _args(str(tmp_path / "data"), str(tmp_path / "out"), report_only="true",
                 train_only="true")
    err = _fail(argv, monkeypatch, capsys)
    assert err == ["Error: --report_only trains nothing and --train_only writes no report: "
                   "drop one of them. Received: report_only=True, train_only=True"], err


def test_max_runs_with_several_workers_is_one_line(tmp_path, monkeypatch, capsys):
    argv = _args(str(tmp_path / "data"), str(tmp_path / "out"), max_runs=2, workers=2)
    err = _fail(argv, monkeypatch, capsys)
    assert err == ["Error: --max_runs counts the runs of one process; with --workers each "
                   "worker process trains one run: drop one of them. "
                   "Received: max_runs=2, workers=2"], err
