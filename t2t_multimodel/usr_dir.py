"""Imports a user's directory of problems, models and hparams sets (`--t2t_usr_dir`).

As in T2T the directory must be a Python package (it has an `__init__.py`
that imports the modules whose decorators register things). It is imported
under its own directory name, before any name is looked up.
"""

import importlib
import os
import sys

from t2t_multimodel.errors import T2TError


def import_usr_dir(usr_dir):
    """Imports the package at `usr_dir` (no-op for an empty value)."""
    if not usr_dir:
        return None
    path = os.path.abspath(os.path.expanduser(usr_dir.rstrip("/")))
    if not os.path.isdir(path):
        raise T2TError(f"--t2t_usr_dir is not a directory. Received: t2t_usr_dir={usr_dir}")
    if not os.path.exists(os.path.join(path, "__init__.py")):
        raise T2TError(
            f"--t2t_usr_dir must be a Python package: add an __init__.py that imports "
            f"your modules. Received: t2t_usr_dir={usr_dir}")
    parent, module_name = os.path.split(path)
    if module_name in sys.modules:
        return sys.modules[module_name]
    sys.path.insert(0, parent)
    try:
        return importlib.import_module(module_name)
    finally:
        sys.path.remove(parent)
