"""What importing the binaries' shared flags does to the process before TensorFlow loads."""

import os
import subprocess
import sys

import pytest

CODE = ("import os; from t2t_multimodel.bin import common_flags; "
        "print(os.environ['TF_ENABLE_ONEDNN_OPTS'])")


@pytest.mark.parametrize("preset, expected", [(None, "0"), ("1", "1")])
def test_onednn_is_off_unless_the_caller_set_it(preset, expected):
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    if preset is not None:
        env["TF_ENABLE_ONEDNN_OPTS"] = preset
    out = subprocess.run([sys.executable, "-c", CODE], env=env, capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == expected


PROBE = """
import builtins, os
real = builtins.__import__
def spy(name, *args, **kwargs):
    if name.split(".")[0] == "tensorflow" and "TF_ENABLE_ONEDNN_OPTS" not in os.environ:
        raise SystemExit("tensorflow imported before TF_ENABLE_ONEDNN_OPTS was set")
    return real(name, *args, **kwargs)
builtins.__import__ = spy
import t2t_multimodel.bin.{binary}
"""


@pytest.mark.parametrize("binary", ["t2t_datagen", "t2t_trainer", "t2t_decoder",
                                    "t2t_exporter", "t2t_experiments"])
def test_binaries_import_the_shared_flags_before_tensorflow(binary):
    # The variable only works if it is set before TensorFlow is first imported.
    env = {k: v for k, v in os.environ.items() if k != "TF_ENABLE_ONEDNN_OPTS"}
    result = subprocess.run([sys.executable, "-c", PROBE.format(binary=binary)], env=env,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-500:]
