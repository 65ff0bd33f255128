"""`train_in_workers`: the runs of `t2t-experiments` in several processes at once.

The MultiModel's steps are many small ops that two threads barely share: on
this 2-core machine two trainers side by side with one thread each ran at
0.90x and 0.69x their speed alone (1.59x the runs per hour), two with TF's
default threads at 0.67x and 0.56x (1.23x; `bench/side_by_side.py`).
Each worker is the same command with `--train_only --max_runs=1`: it walks
the same runs in the same order, and the runs' locks (`RunLock`) share them
out: a worker that meets a run another is training defers it and takes the
next. A worker process trains one run and ends, and a new one takes its place
while runs remain: a process keeps much of the memory of every run it trained
(one that had trained two joint runs and a Fashion-MNIST run held 10 GiB of
the 24).
"""

import os
import subprocess
import sys
import threading

from t2t_multimodel.errors import T2TError

MODULE = "t2t_multimodel.bin.t2t_experiments"


def _relay(stream, prefix, log_fn):
    for line in stream:
        log_fn(prefix + line.rstrip("\n"))


def train_in_workers(args, workers, remaining, log_fn=print):
    """Runs `t2t-experiments <args> --train_only --max_runs=1` in `workers`
    processes at a time, a new one after each, while `remaining()` > 0.

    Each gets `os.cpu_count() // workers` TensorFlow threads (at least one;
    `TF_NUM_INTRAOP_THREADS` / `TF_NUM_INTEROP_THREADS` already set win). Their
    lines are relayed through `log_fn`, prefixed "[worker i] ".

    Args:
        args: list of str. The command's flags (`--name=value`), without
            `--workers`.
        workers: int. How many processes at a time (>= 1).
        remaining: callable returning the number of runs not finished yet.
        log_fn: callable taking one str.

    Raises:
        T2TError: a worker failed (its exit code; its lines before say why).
    """
    if not remaining():
        log_fn("Nothing to train: every run has its result")
        return
    threads = str(max(1, (os.cpu_count() or 1) // workers))
    env = dict(os.environ)
    env.setdefault("TF_NUM_INTRAOP_THREADS", threads)
    env.setdefault("TF_NUM_INTEROP_THREADS", threads)
    command = [sys.executable, "-m", MODULE, *args, "--workers=1", "--train_only",
               "--max_runs=1"]
    log_fn(f"Training in {workers} worker process{'es' if workers > 1 else ''}, "
           f"{env['TF_NUM_INTRAOP_THREADS']} TensorFlow thread(s) each, a new process per run")
    running, codes = {}, {}

    def slot(i):
        while True:
            process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, text=True, bufsize=1)
            running[i] = process
            _relay(process.stdout, f"[worker {i}] ", log_fn)
            codes[i] = process.wait()
            if codes[i] or not remaining():
                return

    threads_ = [threading.Thread(target=slot, args=(i,), daemon=True)
                for i in range(1, workers + 1)]
    try:
        for thread in threads_:
            thread.start()
        for thread in threads_:
            thread.join()
    finally:
        for process in running.values():
            if process.poll() is None:
                process.terminate()
                process.wait()
    failed = [f"worker {i} exited with {code}" for i, code in sorted(codes.items()) if code]
    if failed:
        raise T2TError(f"{'; '.join(failed)}: its lines above (prefixed [worker i]) say why; "
                       f"rerun the same command to resume. Received: workers={workers}")
