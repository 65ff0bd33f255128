"""Registered problems, one module per dataset family.

Installed as `t2t_multimodel.problems`; importing it registers them all.
"""

from t2t_multimodel.problems import algorithmic, caption, image, parsing  # noqa: F401
from t2t_multimodel.problems import translate_offline, translate_wmt  # noqa: F401
