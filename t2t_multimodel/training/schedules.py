"""Learning-rate schedules selected by `hparams.learning_rate_schedule`.

Four schedules, each a function of the optimizer step (`iterations`, 0 on the
first update):

* `"constant"`: `learning_rate`.
* `"rsqrt_decay"`: linear warmup to `learning_rate`, then inverse square root
  decay: `learning_rate * min(1, step / warmup) * sqrt(warmup / max(step, warmup))`.
  The peak, `learning_rate`, is reached at the end of warmup.
* `"cosine_decay"`: the same linear warmup, then half a cosine from
  `learning_rate` down to zero at `learning_rate_decay_steps` (zero after it).
  For runs of a known length: the rate is spent by the last step instead of
  stopping wherever an open-ended decay has got to.
* `"noam"`: T2T's legacy noam schedule, so T2T hparams values (the paper's
  `learning_rate=0.05`, `learning_rate_warmup_steps=3000`) mean what they
  meant there: `learning_rate * 5000**0.5 * hidden_size**-0.5 *
  min((step + 1) * warmup**-1.5, (step + 1)**-0.5)`.

```python
schedule = schedules.from_hparams(hparams)
optimizer = keras.optimizers.Adam(learning_rate=schedule)
```
"""

import math

import keras
from keras import ops

from t2t_multimodel.errors import HParamsError, did_you_mean

SCHEDULES = ("constant", "rsqrt_decay", "cosine_decay", "noam")


@keras.saving.register_keras_serializable(package="t2t_multimodel")
class T2TLearningRateSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """The learning rate at each optimizer step, by schedule name.

    Args:
        schedule: str. One of `"constant"`, `"rsqrt_decay"`,
            `"cosine_decay"`, `"noam"`.
        learning_rate: float. The base learning rate (the peak for
            `"rsqrt_decay"` and `"cosine_decay"`; a multiplier for `"noam"`).
        warmup_steps: int. Warmup steps (all but `"constant"`).
        hidden_size: int. The model width (`"noam"` scales by its -0.5 power).
        decay_steps: int. The step where `"cosine_decay"` reaches zero; it
            must exceed `warmup_steps`.

    Example:

    ```python
    schedule = T2TLearningRateSchedule("rsqrt_decay", 0.2, warmup_steps=4000)
    float(schedule(4000))   # 0.2
    float(schedule(16000))  # 0.1
    schedule = T2TLearningRateSchedule("cosine_decay", 0.2, warmup_steps=100,
                                       decay_steps=1100)
    float(schedule(600))    # 0.1
    ```
    """

    def __init__(self, schedule, learning_rate, warmup_steps=0, hidden_size=512,
                 decay_steps=0):
        check_schedule_name(schedule)
        if schedule != "constant" and warmup_steps <= 0:
            raise HParamsError(
                f"the {schedule} schedule needs learning_rate_warmup_steps > 0. "
                f"Received: learning_rate_warmup_steps={warmup_steps}")
        if schedule == "noam" and hidden_size <= 0:
            raise HParamsError(
                f"the noam schedule needs hidden_size > 0. Received: hidden_size={hidden_size}")
        if schedule == "cosine_decay" and decay_steps <= warmup_steps:
            raise HParamsError(
                "the cosine_decay schedule needs learning_rate_decay_steps (the run's "
                f"--train_steps) > learning_rate_warmup_steps ({warmup_steps}). "
                f"Received: learning_rate_decay_steps={decay_steps}")
        self.schedule = schedule
        self.learning_rate = float(learning_rate)
        self.warmup_steps = int(warmup_steps)
        self.hidden_size = int(hidden_size)
        self.decay_steps = int(decay_steps)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        lr = ops.convert_to_tensor(self.learning_rate, "float32")
        if self.schedule == "constant":
            return lr + 0.0 * step
        warmup = float(self.warmup_steps)
        if self.schedule == "rsqrt_decay":
            ramp = ops.minimum(1.0, step / warmup)
            decay = ops.sqrt(warmup / ops.maximum(step, warmup))
            return lr * ramp * decay
        if self.schedule == "cosine_decay":
            ramp = ops.minimum(1.0, step / warmup)
            done = ops.clip((step - warmup) / float(self.decay_steps - self.warmup_steps),
                            0.0, 1.0)
            return lr * ramp * 0.5 * (1.0 + ops.cos(math.pi * done))
        # noam
        step1 = step + 1.0
        scale = 5000.0**0.5 * float(self.hidden_size) ** -0.5
        return lr * scale * ops.minimum(step1 * warmup**-1.5, ops.rsqrt(step1))

    def get_config(self):
        return {"schedule": self.schedule, "learning_rate": self.learning_rate,
                "warmup_steps": self.warmup_steps, "hidden_size": self.hidden_size,
                "decay_steps": self.decay_steps}


def check_schedule_name(name):
    """Raises `HParamsError` (with close matches) for an unknown schedule name."""
    if name in SCHEDULES:
        return
    hint = did_you_mean(name, SCHEDULES, n=2, cutoff=0.5)
    raise HParamsError(
        f"unknown learning_rate_schedule {name!r}: {hint}choose one of "
        f"{', '.join(SCHEDULES)}. Received: learning_rate_schedule={name}")


def from_hparams(hparams):
    """The schedule `hparams` names (`learning_rate_schedule`, `learning_rate`,
    `learning_rate_warmup_steps`, `hidden_size`, `learning_rate_decay_steps`)."""
    return T2TLearningRateSchedule(
        hparams.get("learning_rate_schedule", "constant"),
        hparams.learning_rate,
        warmup_steps=hparams.get("learning_rate_warmup_steps", 0),
        hidden_size=hparams.get("hidden_size", 512),
        decay_steps=hparams.get("learning_rate_decay_steps", 0))
