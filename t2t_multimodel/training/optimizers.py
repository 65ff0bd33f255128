"""The optimizer of a training run, from its hparams.

`hparams.optimizer` is `"adam"` (T2T's default; AdamW when `weight_decay > 0`)
or `"adamw"`. Read: `optimizer_adam_beta1`, `optimizer_adam_beta2`,
`optimizer_adam_epsilon`, `clip_grad_norm` (> 0: clip the global gradient
norm), `weight_decay` and the learning-rate schedule (`schedules`). Both are
Keras's optimizers with a fused update (`FusedAdam`, `FusedAdamW`): the same
math and slot variables in a fraction of the traced ops.

```python
optimizer = optimizers.from_hparams(hparams)
```
"""

import keras
import tensorflow as tf

from t2t_multimodel.errors import HParamsError, did_you_mean
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
        hint = did_you_mean(name, OPTIMIZERS, n=2, cutoff=0.5)
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
        return FusedAdamW(weight_decay=weight_decay, name="adamw", **kwargs)
    return FusedAdam(name="adam", **kwargs)


class _FusedUpdate:
    """Keras Adam's `update_step` as one `ResourceApplyAdam` kernel per variable.

    Keras writes the update as ~40 small ops per variable (the step's beta
    powers recomputed for each one); a train step of the MultiModel holds
    hundreds of variables, and under MirroredStrategy every replica device
    gets its own copy, so the optimizer was the largest part of the traced
    graph and of the time TensorFlow takes to trace and instantiate it (each
    problem of a mixture has its own train step). Here the beta powers are
    computed once per device and step and each variable costs a cast and one
    fused kernel. Same math (m and v as Keras's, the bias correction folded
    into the learning rate), same slot variables and checkpoints; sparse
    gradients (embedding lookups) keep Keras's own update.
    """

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        self._step_scalars = {}  # device -> (beta_1 power, beta_2 power), for this update
        try:
            super()._backend_update_step(grads, trainable_variables, learning_rate)
        finally:
            self._step_scalars = None

    def _scalars(self, variable, learning_rate):
        cache = getattr(self, "_step_scalars", None)
        key = (variable.device, variable.dtype)
        if cache is not None and key in cache:
            return cache[key]
        dtype = variable.dtype
        local_step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        scalars = (tf.pow(beta_1, local_step), tf.pow(beta_2, local_step),
                   tf.cast(learning_rate, dtype), beta_1, beta_2, tf.cast(self.epsilon, dtype))
        if cache is not None:
            cache[key] = scalars
        return scalars

    def update_step(self, gradient, variable, learning_rate):
        if (self.amsgrad or not isinstance(variable, tf.Variable)
                or isinstance(gradient, tf.IndexedSlices)):
            # Keras's sparse update (m and v of the looked-up rows only) as is.
            return super().update_step(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        m = self._momentums[index].value
        v = self._velocities[index].value
        beta_1_power, beta_2_power, lr, beta_1, beta_2, epsilon = self._scalars(
            variable, learning_rate)
        gradient = tf.cast(gradient, variable.dtype)
        return tf.raw_ops.ResourceApplyAdam(
            var=variable.handle, m=m.handle, v=v.handle, beta1_power=beta_1_power,
            beta2_power=beta_2_power, lr=lr, beta1=beta_1, beta2=beta_2, epsilon=epsilon,
            grad=gradient, use_locking=False)


class FusedAdam(_FusedUpdate, keras.optimizers.Adam):
    """`keras.optimizers.Adam` with fused updates (see `_FusedUpdate`)."""


class FusedAdamW(_FusedUpdate, keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` with fused updates (see `_FusedUpdate`)."""
