"""t2t-experiments: the paper's Tables 2-4 in miniature, with a Markdown report.

    t2t-datagen --problem=multimodel_paper_offline --data_dir=~/t2t_data
    t2t-experiments --table=all --data_dir=~/t2t_data --output_dir=~/t2t_exp \\
        --train_steps=3000 --seeds=3 --report=~/t2t_exp/report.md
    t2t-experiments --table=2 --quick ...        # a smoke run: tiny model, 6 steps, 1 seed
    t2t-experiments --report_only ...            # the report of the runs finished so far

Table 2 trains the MultiModel on the uniform mixture of the eight offline
problems ("joint") and on each problem alone ("single"); Table 3 trains
parsing alone and with the image problem (and reuses the joint run); Table 4
trains the mixture without the MoE and without attention (and reuses the
joint run as "full"). Every run gets the same --train_steps, one directory
per cell and seed under --output_dir. Rerunning the same command skips the
finished runs and resumes an interrupted one from its checkpoint. Two
invocations may share --output_dir (machines sharing a disk, or --table=2,3
beside --table=4): a run one of them is training is locked, and the other
waits for its result after its own runs. The --*_problem flags replace the offline
problems by others (tests, own data).
"""

import functools
import os
import shlex

from absl import flags, logging

from t2t_multimodel.bin import common_flags

common_flags.multimodel_cpu_kernels()  # before TensorFlow loads (the next import)

from t2t_multimodel.experiments import roles, runner  # noqa: E402

# allow_override: t2t-trainer defines the same four flags; either binary may
# be imported first into one process (tests).
flags.DEFINE_string("table", "all", 'The tables to run: "2", "3", "4", "2,4" or "all".')
flags.DEFINE_integer("train_steps", 3000, "Steps of every run (single problem or mixture).",
                     allow_override=True)
flags.DEFINE_integer("seeds", 3, "Runs per cell, with seeds 1234, 1235, ...")
flags.DEFINE_bool("quick", False,
                  "A smoke run: a tiny MultiModel, 6 steps, 1 seed, 2 dev batches and 4 "
                  "decodes per evaluation, no graph optimization (flags given explicitly win).")
flags.DEFINE_string("report", None,
                    "The Markdown report to write (default: <output_dir>/report.md); the "
                    "PNG plots go beside it.")
flags.DEFINE_bool("report_only", False,
                  "Train nothing: write the report of the runs finished so far in --output_dir "
                  "(an interim report while another invocation trains).")
flags.DEFINE_bool("train_only", False,
                  "Train the runs and write no report (a second machine or process sharing "
                  "--output_dir; the report comes from one invocation without it).")
flags.DEFINE_integer("workers", 1,
                     "Train in this many processes at once, sharing the runs (each run is "
                     "locked while it trains) and the cores: on 2 cores, --workers=2 trained "
                     "1.6x the runs per hour. Each run trains in a new process (a process "
                     "keeps much of the memory of every run it trained), except with --quick, "
                     "--train_only or --max_runs and one worker: then in this one. The report "
                     "is written when all are done.")
flags.DEFINE_integer("max_runs", 0,
                     "Train at most this many runs, then stop (0: all).")
flags.DEFINE_string("notes", None,
                    "A Markdown file added to the report as its discussion (what the numbers "
                    "mean, written after reading them); the report stays the command's output.")
flags.DEFINE_string("base_hparams", runner.DEFAULT_HPARAMS,
                    "Overrides of every run before --hparams (the demo's).")
flags.DEFINE_integer("eval_steps", 20, "Dev batches per evaluation.", allow_override=True)
flags.DEFINE_integer("local_eval_frequency", 0,
                     "Evaluate every this many steps (the curves); 0: train_steps / the "
                     "number of joint problems, so that a single run is evaluated after as "
                     "many updates as the joint run gives each problem.",
                     allow_override=True)
flags.DEFINE_integer("save_checkpoints_steps", 0,
                     "Checkpoint every this many steps; 0: the eval frequency.",
                     allow_override=True)
flags.DEFINE_integer("eval_decode_samples", 100,
                     "Dev examples decoded for real at the last evaluation (the real metric).")
flags.DEFINE_string("joint_problems", roles.DEFAULT_JOINT,
                    'The joint mixture: a registered mixture or "a,b,c" (uniform).')
flags.DEFINE_string("parsing_problem", roles.DEFAULT_PARSING,
                    "The data-poor problem of Tables 2 and 3 (one of the joint problems).")
flags.DEFINE_string("image_problem", roles.DEFAULT_IMAGE,
                    "The image problem added to parsing in Table 3 (one of the joint problems).")
flags.DEFINE_string("language_problems", ",".join(roles.DEFAULT_LANGUAGE),
                    "The language problems of Table 4's attention claim.")

FLAGS = flags.FLAGS


def _log(message):
    print(message, flush=True)


def _setting(name, quick_value):
    """A flag's value, or the --quick value when --quick is on and the flag is not given."""
    if FLAGS.quick and not FLAGS[name].present:
        return quick_value
    return getattr(FLAGS, name)


def _read_notes(path):
    """The text of --notes (None without it); a clear error if it cannot be read."""
    if not path:
        return None
    from t2t_multimodel.errors import T2TError

    try:
        with open(os.path.expanduser(path), encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise T2TError(f"cannot read the --notes file: {e.strerror}; give a readable Markdown "
                       f"file. Received: notes={path}") from None


def _check_modes():
    from t2t_multimodel.errors import T2TError

    if FLAGS.workers < 1:
        raise T2TError(f"--workers must be >= 1. Received: workers={FLAGS.workers}")
    if FLAGS.max_runs and FLAGS.workers > 1:
        raise T2TError("--max_runs counts the runs of one process; with --workers each worker "
                       "process trains one run: drop one of them. "
                       f"Received: max_runs={FLAGS.max_runs}, workers={FLAGS.workers}")
    if FLAGS.report_only and FLAGS.train_only:
        raise T2TError("--report_only trains nothing and --train_only writes no report: "
                       "drop one of them. Received: report_only=True, train_only=True")


def main(argv):
    del argv
    from t2t_multimodel.experiments import cells, pipeline

    if not FLAGS["verbosity"].present:
        logging.set_verbosity(logging.WARNING)
    common_flags.require("data_dir", "output_dir")
    tables = cells.parse_tables(FLAGS.table)  # before anything slow: a typo fails at once
    notes = _read_notes(FLAGS.notes)
    _check_modes()
    data_dir = os.path.expanduser(FLAGS.data_dir)
    output_dir = os.path.expanduser(FLAGS.output_dir)
    quick = runner.QUICK
    train_steps = _setting("train_steps", quick["train_steps"])
    hparams = ",".join(h for h in (FLAGS.base_hparams,
                                   runner.QUICK_HPARAMS if FLAGS.quick else "",
                                   FLAGS.hparams) if h)
    the_roles = roles.Roles(FLAGS.joint_problems, FLAGS.parsing_problem, FLAGS.image_problem,
                            FLAGS.language_problems)
    eval_every = _setting("local_eval_frequency", quick["local_eval_frequency"])
    eval_every = eval_every or max(1, train_steps // len(the_roles.joint_problems))
    save_every = _setting("save_checkpoints_steps", quick["save_checkpoints_steps"]) or eval_every
    the_runner = runner.Runner(
        data_dir, output_dir, model=FLAGS.model or "multimodel",
        hparams_set=FLAGS.hparams_set or "multimodel_tiny", hparams=hparams,
        train_steps=train_steps, seeds=_setting("seeds", quick["seeds"]),
        eval_steps=_setting("eval_steps", quick["eval_steps"]), local_eval_frequency=eval_every,
        save_checkpoints_steps=save_every,
        eval_decode_samples=_setting("eval_decode_samples", quick["eval_decode_samples"]),
        max_runs=FLAGS.max_runs, t2t_usr_dir=FLAGS.t2t_usr_dir, log_fn=_log)
    report_path = os.path.expanduser(FLAGS.report or os.path.join(output_dir, "report.md"))
    command = "t2t-experiments " + " ".join(
        shlex.quote(f"--{name}={FLAGS[name].value}") for name in sorted(set(FLAGS))
        if FLAGS[name].present)
    train_elsewhere = None
    if FLAGS.workers > 1 or not (FLAGS.quick or FLAGS.train_only or FLAGS.max_runs):
        from t2t_multimodel.experiments import workers

        args = [FLAGS[name].serialize() for name in sorted(set(FLAGS))
                if FLAGS[name].present
                and name not in ("workers", "train_only", "max_runs", "notes", "report")]
        train_elsewhere = functools.partial(workers.train_in_workers, args, FLAGS.workers,
                                            log_fn=_log)
    pipeline.run_tables(tables, the_roles, the_runner, report_path, command,
                        optimize_graphs=FLAGS.optimize_graphs and not FLAGS.quick,
                        report_only=FLAGS.report_only, train_only=FLAGS.train_only,
                        train_elsewhere=train_elsewhere, notes=notes)
    return 0


def run():
    common_flags.run_main(main)


if __name__ == "__main__":
    run()
