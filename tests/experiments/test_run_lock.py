"""RunLock: one holder at a time, its pid in the message, released by a dying holder."""

import os
import socket
import subprocess
import sys

from t2t_multimodel.experiments import run_lock


def test_a_second_lock_fails_without_waiting_and_names_the_holder(tmp_path):
    run_dir = str(tmp_path / "cell" / "seed-1234")
    first, second = run_lock.RunLock(run_dir), run_lock.RunLock(run_dir)
    assert first.acquire(blocking=False)
    assert not second.acquire(blocking=False)
    assert second.holder() == f"pid {os.getpid()} on {socket.gethostname()}"
    first.release()
    assert second.acquire(blocking=False)
    second.release()


def test_the_kernel_releases_the_lock_of_a_killed_holder(tmp_path):
    run_dir = str(tmp_path / "run")
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from t2t_multimodel.experiments import run_lock; "
         f"run_lock.RunLock({run_dir!r}).acquire(); print('held', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        lock = run_lock.RunLock(run_dir)
        assert not lock.acquire(blocking=False)
        assert lock.holder() == f"pid {holder.pid} on {socket.gethostname()}"
    finally:
        holder.kill()
        holder.wait()
    assert lock.acquire(blocking=False)  # no stale lock left by the killed process
    lock.release()
