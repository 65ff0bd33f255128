"""Named hparams sets; importing this package registers them all.

Installed as `t2t_multimodel.hparams` (setup.py `package_dir`). Each module
holds one model family's sets, each set a small diff from its base.
"""

from t2t_multimodel.hparams import (
    common,  # noqa: F401
    multimodel,  # noqa: F401
    transformer,  # noqa: F401
)
