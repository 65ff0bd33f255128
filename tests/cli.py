"""Helpers for tests that run the binaries as a user would (subprocesses)."""

import os
import subprocess
import sys

BIN = {name: f"t2t_multimodel.bin.t2t_{name}" for name in ("datagen", "trainer", "decoder",
                                                             "exporter")}

# A loader run with -I in a temporary directory, where importing t2t_multimodel
# is refused: the SavedModel must work with tensorflow and tensorflow_text only.
STANDALONE_PRELUDE = """
import sys
class Refuse:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] == 't2t_multimodel':
            raise ImportError('t2t_multimodel is not available in this process')
sys.meta_path.insert(0, Refuse())
try:
    import t2t_multimodel
    raise SystemExit('t2t_multimodel imported')
except ImportError:
    pass
import tensorflow as tf, tensorflow_text  # noqa
"""


def run_binary(name, *args, timeout=300, check=True):
    """Runs `t2t-<name> args`; returns the CompletedProcess (text)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-m", BIN[name], *args], capture_output=True,
                            text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise AssertionError(f"t2t-{name} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result


def run_standalone(code, cwd, timeout=120):
    """Runs `code` after STANDALONE_PRELUDE in an isolated interpreter in `cwd`."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run([sys.executable, "-I", "-c", STANDALONE_PRELUDE + code],
                            capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)
    if result.returncode != 0:
        raise AssertionError(f"standalone loader failed:\n{result.stderr[-3000:]}")
    return result.stdout
