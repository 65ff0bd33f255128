"""`RunLock`: one process at a time trains a run directory."""

import fcntl
import os
import socket

LOCK_FILE = "experiments.lock"


class RunLock:
    """An exclusive lock on one run's directory, held while it trains.

    Two `t2t-experiments` invocations may share an `--output_dir` (machines
    sharing a disk, or `--table=2,3` beside `--table=4`); a run both would
    train is trained by whichever locks it first. The lock is an `flock` on
    `<run_dir>/experiments.lock`: the kernel releases it when its process
    ends, however it ends, so a killed invocation never leaves a stale lock
    behind. The file keeps the holder's host and pid for the message of the
    one that waits.

    Args:
        run_dir: str. The run's directory (created if missing).

    Example:

    ```python
    lock = RunLock(run_dir)
    if not lock.acquire(blocking=False):
        print(f"trained by {lock.holder()}")
        lock.acquire()  # waits until that process is done with it
    try:
        ...
    finally:
        lock.release()
    ```
    """

    def __init__(self, run_dir):
        self.run_dir = run_dir
        self.path = os.path.join(run_dir, LOCK_FILE)
        self._fd = None

    def acquire(self, blocking=True):
        """Takes the lock; False (without waiting) if another holds it and not `blocking`."""
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this RunLock. "
                               f"Received: run_dir={self.run_dir}")
        os.makedirs(self.run_dir, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if blocking else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{socket.gethostname()} {os.getpid()}\n".encode())
        self._fd = fd
        return True

    def release(self):
        """Releases the lock (a no-op when not held)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def holder(self):
        """"pid <n> on <host>" of the process that holds (or last held) the lock."""
        try:
            with open(self.path) as f:
                host, pid = f.read().split()
        except (OSError, ValueError):
            return "another process"
        return f"pid {pid} on {host}"

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc_info):
        self.release()
