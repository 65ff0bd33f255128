"""--t2t_usr_dir: a user's package is imported and registers its names."""

import textwrap

import pytest

from t2t_multimodel import registry, usr_dir
from t2t_multimodel.errors import T2TError


def test_imports_package_and_registers(tmp_path):
    pkg = tmp_path / "my_usr_dir_pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("from . import my_hparams  # noqa\n")
    (pkg / "my_hparams.py").write_text(textwrap.dedent("""
        from t2t_multimodel import registry

        @registry.register_hparams
        def my_usr_dir_test_hparams():
            hparams = registry.hparams("basic_params1")()
            hparams.hidden_size = 16
            return hparams
    """))
    try:
        usr_dir.import_usr_dir(str(pkg))
        assert registry.hparams("my_usr_dir_test_hparams")().hidden_size == 16
    finally:
        registry.Registries.hparams.unregister("my_usr_dir_test_hparams")


def test_not_a_package_is_a_clear_error(tmp_path):
    with pytest.raises(T2TError, match="__init__.py"):
        usr_dir.import_usr_dir(str(tmp_path))
    with pytest.raises(T2TError, match="not a directory"):
        usr_dir.import_usr_dir(str(tmp_path / "missing"))
