"""Registered models; importing this package registers them."""

from t2t_multimodel.models import transformer  # noqa: F401
