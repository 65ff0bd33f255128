"""Registered problems, one module per dataset family, and mixtures of them.

Installed as `t2t_multimodel.problems`; importing it registers them all.
"""

from t2t_multimodel.problems import (  # noqa: F401
    algorithmic,
    caption,
    image,
    mixtures,
    parsing,
    speech,
    translate_offline,
    translate_wmt,
)
