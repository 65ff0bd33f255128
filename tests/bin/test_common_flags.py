"""Which binaries turn TF's oneDNN kernels off, and that they do it before TF loads."""

import os
import subprocess
import sys

import pytest

PROBE = """
import builtins, os
real = builtins.__import__
def spy(name, *args, **kwargs):
    if name.split(".")[0] == "tensorflow":
        print("at tensorflow import:", os.environ.get("TF_ENABLE_ONEDNN_OPTS"))
        builtins.__import__ = real
    return real(name, *args, **kwargs)
builtins.__import__ = spy
import t2t_multimodel.bin.{binary}
print("after import:", os.environ.get("TF_ENABLE_ONEDNN_OPTS"))
"""


def _probe(binary, preset=None):
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if preset is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = preset
    result = subprocess.run([sys.executable, "-c", PROBE.format(binary=binary)], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-500:]
    return result.stdout.splitlines()


def test_experiments_turns_onednn_off_before_tensorflow_loads():
    # t2t-experiments trains only the MultiModel, for which oneDNN is slower here.
    lines = _probe("t2t_experiments")
    assert "at tensorflow import: 0" in lines, lines
    assert _probe("t2t_experiments", preset="1")[-1] == "after import: 1"


@pytest.mark.parametrize("binary", ["t2t_datagen", "t2t_trainer", "t2t_decoder",
                                    "t2t_exporter"])
def test_general_binaries_keep_tensorflows_default(binary):
    assert _probe(binary)[-1] == "after import: None"
