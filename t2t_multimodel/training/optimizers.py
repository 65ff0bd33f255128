"""The optimizer of a training run, from its hparams.

`hparams.optimizer` is `"adam"` (T2T's default; AdamW when `weight_decay > 0`)
or `"adamw"`. Read: `optimizer_adam_beta1`, `optimizer_adam_beta2`,
`optimizer_adam_epsilon`, `clip_grad_norm` (> 0: clip the global gradient
norm), `weight_decay` and the learning-rate schedule (`schedules`).

```python
optimizer = optimizers.from_hparams(hparams)
```
"""

import difflib

import keras

from t2t_multimodel.errors import HParamsError
from t2t_multimodel.training import schedules

OPTIMIZERS = ("adam", "adamw")


def from_hparams(hparams, learning_rate=None):
    """Builds a Keras Adam/AdamW optimizer from `hparams`.

    Args:
        hparams: `HParams` with the optimizer keys (see the module docstring).
        learning_rate: a float or `LearningRateSchedule`; default: the
            schedule `hparams.learning_rate_schedule` names.

    Returns:
        A `keras.optimizers.Optimizer`.
    """
    name = str(hparams.get("optimizer", "adam")).lower()
    if name not in OPTIMIZERS:
        close = difflib.get_close_matches(name, OPTIMIZERS, n=2, cutoff=0.5)
        hint = f"did you mean {' or '.join(close)}? " if close else ""
        raise HParamsError(
            f"unknown optimizer {name!r}: {hint}choose one of {', '.join(OPTIMIZERS)}. "
            f"Received: optimizer={hparams.get('optimizer')}")
    if learning_rate is None:
        learning_rate = schedules.from_hparams(hparams)
    clip = float(hparams.get("clip_grad_norm", 0.0) or 0.0)
    weight_decay = float(hparams.get("weight_decay", 0.0) or 0.0)
    if weight_decay < 0:
        raise HParamsError(f"weight_decay must be >= 0. Received: weight_decay={weight_decay}")
    kwargs = dict(
        learning_rate=learning_rate,
        beta_1=hparams.get("optimizer_adam_beta1", 0.9),
        beta_2=hparams.get("optimizer_adam_beta2", 0.999),
        epsilon=hparams.get("optimizer_adam_epsilon", 1e-7),
        global_clipnorm=clip if clip > 0 else None,
    )
    if weight_decay > 0 or name == "adamw":
        return keras.optimizers.AdamW(weight_decay=weight_decay, **kwargs)
    return keras.optimizers.Adam(**kwargs)
