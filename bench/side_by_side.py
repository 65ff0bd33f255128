"""Runs per hour of two MultiModel trainers side by side vs one at a time.

Behind `t2t-experiments --workers`: trains two problems with `t2t-trainer`
(the experiments' hparams) for `--seconds` each, in three rounds: each alone
(TensorFlow's default threads), both at once with the default threads, both
at once with one intra-/inter-op thread each. A trainer's speed is the median
of its progress lines' steps/s after the first two; the side-by-side speed-up
is the sum over the two trainers of (speed side by side / speed alone): 1.0
means nothing gained. The data must exist (`t2t-datagen`).

    python bench/side_by_side.py --data_dir=~/t2t_data \
        --problems=translate_ende_offline,speech_recognition_espeak
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

from t2t_multimodel.experiments.runner import DEFAULT_HPARAMS  # t2t-experiments' overrides


def _trainer(problem, data_dir, output_dir, seconds, threads):
    env = dict(os.environ, TF_ENABLE_ONEDNN_OPTS="0")  # as t2t-experiments
    if threads:
        env.update(TF_NUM_INTRAOP_THREADS=str(threads), TF_NUM_INTEROP_THREADS=str(threads))
    binary = os.path.join(os.path.dirname(sys.executable), "t2t-trainer")
    command = ["timeout", str(seconds), binary, f"--problem={problem}", "--model=multimodel",
               "--hparams_set=multimodel_tiny", f"--hparams={DEFAULT_HPARAMS}",
               f"--data_dir={data_dir}", f"--output_dir={output_dir}", "--train_steps=1000000",
               "--local_eval_frequency=1000000", "--save_checkpoints_steps=1000000",
               "--log_step_count_steps=50", "--nooptimize_graphs"]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True)


def _speed(process):
    rates = [float(line.split(" steps/s")[0].split()[-1])
             for line in process.communicate()[0].splitlines() if " steps/s" in line]
    if len(rates) < 3:
        raise SystemExit(f"too few progress lines ({len(rates)}): raise --seconds")
    return statistics.median(rates[2:])


def _round(problems, data_dir, scratch, seconds, threads, together):
    speeds = {}
    processes = {}
    for problem in problems:
        output_dir = os.path.join(scratch, f"{problem}-{threads}-{together}")
        shutil.rmtree(output_dir, ignore_errors=True)
        processes[problem] = _trainer(problem, data_dir, output_dir, seconds, threads)
        if not together:
            speeds[problem] = _speed(processes.pop(problem))
    speeds.update({problem: _speed(process) for problem, process in processes.items()})
    return speeds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data_dir", required=True)
    parser.add_argument("--problems", default="translate_ende_offline,speech_recognition_espeak")
    parser.add_argument("--seconds", type=int, default=120)
    args = parser.parse_args()
    problems = args.problems.split(",")
    data_dir = os.path.expanduser(args.data_dir)
    with tempfile.TemporaryDirectory() as scratch:
        alone = _round(problems, data_dir, scratch, args.seconds, None, together=False)
        default = _round(problems, data_dir, scratch, args.seconds, None, together=True)
        single = _round(problems, data_dir, scratch, args.seconds, 1, together=True)
    result = {"alone_steps_per_sec": alone, "side_by_side_default_threads": default,
              "side_by_side_one_thread": single,
              "speedup_default_threads": sum(default[p] / alone[p] for p in problems),
              "speedup_one_thread": sum(single[p] / alone[p] for p in problems)}
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
