"""`Mixture`: several problems trained as one, with a sampling schedule.

`t2t-trainer --problem=a,b,c` trains on a uniform mixture; a registered
mixture names its problems and schedule once:

```python
from t2t_multimodel import mixture, registry

@registry.register_mixture
def digits_and_reverse():
    return mixture.Mixture(["image_digits", "algorithmic_reverse_binary40"],
                           schedule="temperature", temperature=2.0)
```

Each training step trains on one batch of one problem, chosen by a
`tf.data` sampler with the schedule's rates. Batches of different problems
cannot share a tensor (an image batch and a text batch have different
shapes), so each problem keeps its own input pipeline and compiled step;
within one problem's batch every example carries its own
`target_space_id` (the command token), as the model expects.
"""


import tensorflow as tf

from t2t_multimodel.errors import T2TError, did_you_mean

SCHEDULES = ("uniform", "proportional", "temperature", "weighted")


class Mixture:
    """Problems to train on together and how often to sample each.

    Args:
        problems: list of str. Registered problem names (at least one, no
            repeats).
        schedule: str. `"uniform"`: every problem equally often;
            `"proportional"`: in proportion to its number of training
            examples, each capped at `maximum_examples`; `"temperature"`:
            proportional to `size ** (1 / temperature)` (sizes capped too),
            so temperature 1 is proportional and a large one nears uniform;
            `"weighted"`: in proportion to `weights` (as seqio's rates).
        maximum_examples: int or None. The cap on a problem's size in the
            proportional and temperature schedules (None: no cap).
        temperature: float. The temperature of `"temperature"` (> 0).
        weights: list of float or None. The `"weighted"` schedule's weight
            of each problem, in `problems` order (each > 0; they need not
            sum to 1). Required by `"weighted"`, refused by the others.

    Example:

    ```python
    mix = Mixture(["a", "b"], schedule="proportional", maximum_examples=10000)
    mix.rates({"a": 50000, "b": 2000})   # [0.833..., 0.166...]
    Mixture(["a", "b"], schedule="weighted", weights=[3, 1]).rates()  # [0.75, 0.25]
    ```

    References:
        - T2T `MultiProblem` (`data_generators/multi_problem.py`).
        - seqio `MixtureRegistry` rates; the temperature schedule of
          [Arivazhagan et al., 2019](https://arxiv.org/abs/1907.05019).
    """

    def __init__(self, problems, schedule="uniform", maximum_examples=None, temperature=1.0,
                 weights=None):
        problems = [p.strip() for p in problems if p and p.strip()]
        if not problems:
            raise T2TError(f"a mixture needs at least one problem. Received: problems={problems}")
        if len(set(problems)) != len(problems):
            raise T2TError(f"a mixture lists each problem once. Received: problems={problems}")
        if schedule not in SCHEDULES:
            hint = did_you_mean(schedule, SCHEDULES, n=1)
            raise T2TError(f"unknown mixture schedule {schedule!r}: {hint}pick one of "
                           f"{', '.join(SCHEDULES)}. Received: schedule={schedule!r}")
        if maximum_examples is not None and maximum_examples <= 0:
            raise T2TError(f"maximum_examples must be > 0 or None. "
                           f"Received: maximum_examples={maximum_examples}")
        if temperature <= 0:
            raise T2TError(f"temperature must be > 0. Received: temperature={temperature}")
        if (weights is not None) != (schedule == "weighted"):
            raise T2TError(f"weights go with the weighted schedule and only with it. "
                           f"Received: schedule={schedule!r}, weights={weights}")
        if weights is not None:
            weights = [float(w) for w in weights]
            if len(weights) != len(problems) or min(weights) <= 0:
                raise T2TError(f"weights needs one number > 0 per problem ({len(problems)}). "
                               f"Received: weights={weights}")
        self.problems = problems
        self.schedule = schedule
        self.weights = weights
        self.maximum_examples = maximum_examples
        self.temperature = float(temperature)

    @property
    def needs_sizes(self):
        """Whether `rates` needs the problems' training set sizes."""
        return self.schedule not in ("uniform", "weighted") and len(self.problems) > 1

    def rates(self, sizes=None):
        """Sampling rates (summing to 1) in `problems` order.

        Args:
            sizes: dict problem -> number of training examples (needed by the
                proportional and temperature schedules).
        """
        if self.weights is not None:
            return [w / sum(self.weights) for w in self.weights]
        if not self.needs_sizes:
            return [1.0 / len(self.problems)] * len(self.problems)
        missing = [p for p in self.problems if not (sizes or {}).get(p)]
        if missing:
            raise T2TError(f"the {self.schedule} schedule needs the training set size of "
                           f"{', '.join(missing)}. Received: sizes={sizes}")
        capped = [min(sizes[p], self.maximum_examples or sizes[p]) for p in self.problems]
        power = 1.0 if self.schedule == "proportional" else 1.0 / self.temperature
        weights = [float(size) ** power for size in capped]
        total = sum(weights)
        return [w / total for w in weights]

    def choices(self, rates, seed):
        """An endless `tf.data.Dataset` of problem indices drawn with `rates`."""
        constants = [tf.data.Dataset.from_tensors(tf.constant(i, tf.int64)).repeat()
                     for i in range(len(self.problems))]
        if len(constants) == 1:
            return constants[0]
        return tf.data.Dataset.sample_from_datasets(
            constants, weights=[float(r) for r in rates], seed=seed)

    def __repr__(self):
        return (f"Mixture({self.problems}, schedule={self.schedule!r}, "
                f"maximum_examples={self.maximum_examples}, temperature={self.temperature}, "
                f"weights={self.weights})")


def resolve(spec):
    """The `Mixture` of `--problem`: "a", "a,b,c" (uniform) or a registered mixture name."""
    from t2t_multimodel import registry

    if isinstance(spec, Mixture):
        return spec
    names = [n.strip() for n in str(spec or "").split(",") if n.strip()]
    if not names:
        raise T2TError(f"--problem is required. Received: problem={spec!r}")
    if len(names) == 1 and names[0] in registry.list_mixtures():
        made = registry.mixture(names[0])
        made = made() if callable(made) and not isinstance(made, Mixture) else made
        if not isinstance(made, Mixture):
            raise T2TError(f"the mixture {names[0]} must be a Mixture or return one. "
                           f"Received: {type(made).__name__}")
        return made
    for name in names:
        registry.problem(name)  # an unknown name fails here, with close matches
    return Mixture(names)


def count_examples(problem, data_dir):
    """The number of training examples in `problem`'s shards."""
    files = problem.data_files(data_dir, "train")
    return int(tf.data.TFRecordDataset(files).reduce(
        tf.constant(0, tf.int64), lambda n, _: n + 1))
