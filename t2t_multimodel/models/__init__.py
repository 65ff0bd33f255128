"""Registered models; importing this package registers them."""

from t2t_multimodel.models import multimodel, transformer  # noqa: F401
