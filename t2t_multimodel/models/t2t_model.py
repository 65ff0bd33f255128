"""`T2TModel`: the Keras model base every registered model extends.

A model maps a features dictionary to logits, and exposes an incremental
decoding interface that greedy and beam search (`t2t_multimodel.decoding`)
are written against once, for every model:

```
call(features)                       -> logits [B, T, V]   (teacher forcing)
encode(features)                     -> encoded: dict of [B, ...] tensors
initial_cache(encoded, max_length)   -> cache:   dict of [B, ...] tensors
step(ids [B], index, cache, encoded) -> (logits [B, V], new cache)
```

Features (all int32 unless said): `inputs` [B, S] token ids, 0 = padding
(images [B, H, W, C] and waveforms [B, N] float for other modalities);
`targets` [B, T], ending with EOS (1) and padded with 0; `target_space_id`
[B], the command-token id of each example's task.

A model trained on a mixture holds the `ProblemHParams` of every problem and
takes `problem=<name>` in each of these calls (default: its first problem);
`model.for_problem(name)` binds it, so the search, the train and eval steps
and the serving module are written once for both cases.

Every tensor in `encoded` and `cache` has the batch as its leading dimension,
so beam search can tile and reorder them without knowing what they are.
`step` is called with `index` = the position being predicted (0 for the first
target token); at index 0 `ids` holds the start symbol (0). The cache has a
static shape (its time axis is `max_length` long) so it can be a
`tf.while_loop` variable.
"""

import keras
from keras import ops

from t2t_multimodel.errors import T2TError
from t2t_multimodel.hparams_lib import HParams
from t2t_multimodel.problem_hparams import ProblemHParams


def problem_hparams_by_name(problem_hparams):
    """`{name: ProblemHParams}` of one problem (name None) or a mixture's dict."""
    if isinstance(problem_hparams, ProblemHParams):
        return {None: problem_hparams}
    if isinstance(problem_hparams, dict) and "modality" in problem_hparams:
        return {None: ProblemHParams.from_dict(problem_hparams)}
    if isinstance(problem_hparams, dict) and problem_hparams:
        return {name: (value if isinstance(value, ProblemHParams)
                       else ProblemHParams.from_dict(value))
                for name, value in problem_hparams.items()}
    raise ValueError("problem_hparams must be a ProblemHParams, its dict, or a dict of "
                     f"them by problem name. Received: problem_hparams={problem_hparams!r}")


class ProblemView:
    """A model with one of its problems bound (`T2TModel.for_problem`).

    Calls, `encode`, `initial_cache`, `step`, `loss` and `target_weights` pass
    `problem=` to the model; every other attribute is the model's.
    """

    def __init__(self, model, problem):
        self.model = model
        self.problem = problem

    def __call__(self, features, training=False):
        return self.model(features, training=training, problem=self.problem)

    def encode(self, features, training=False):
        return self.model.encode(features, training=training, problem=self.problem)

    def initial_cache(self, encoded, max_length):
        return self.model.initial_cache(encoded, max_length, problem=self.problem)

    def step(self, ids, index, cache, encoded):
        return self.model.step(ids, index, cache, encoded, problem=self.problem)

    def loss(self, features, logits):
        return self.model.model_loss(features, logits, problem=self.problem)

    def target_weights(self, targets):
        return self.model.target_weights(targets, problem=self.problem)

    def __getattr__(self, name):
        return getattr(self.model, name)


class T2TModel(keras.Model):
    """Base class of the registered models.

    Args:
        hparams: `HParams` or dict. The model hyperparameters (an hparams set
            with its overrides applied).
        problem_hparams: `ProblemHParams` or dict. What the problem says about
            its features: modalities, vocabulary sizes, space ids.
        **kwargs: passed to `keras.Model`.

    Call arguments:
        features: dict of tensors, see the module docstring.
        training: bool. Dropout and other training-only behaviour.
    """

    def __init__(self, hparams, problem_hparams, **kwargs):
        super().__init__(**kwargs)
        if isinstance(hparams, dict):
            hparams = HParams(**hparams)
        self.hparams = hparams
        self.problem_hparams_by_name = problem_hparams_by_name(problem_hparams)
        self.problem_names = [n for n in self.problem_hparams_by_name if n is not None]
        # The first problem's: the default of every `problem=None` call.
        self.problem_hparams = next(iter(self.problem_hparams_by_name.values()))

    def get_config(self):
        config = super().get_config()
        by_name = self.problem_hparams_by_name
        config.update({
            "hparams": self.hparams.values(),
            "problem_hparams": (self.problem_hparams.to_dict() if None in by_name
                                else {n: p.to_dict() for n, p in by_name.items()}),
        })
        return config

    def problem_hparams_for(self, problem=None):
        """The `ProblemHParams` of `problem` (a name; None: the first problem)."""
        if problem is None:
            return self.problem_hparams
        if problem not in self.problem_hparams_by_name:
            if None in self.problem_hparams_by_name:
                return self.problem_hparams
            raise T2TError(f"this model was built for problems "
                           f"{', '.join(self.problem_names)}; pick one of them. "
                           f"Received: problem={problem}")
        return self.problem_hparams_by_name[problem]

    def for_problem(self, problem=None):
        """A `ProblemView` of this model for `problem` (None: the first)."""
        self.problem_hparams_for(problem)
        return ProblemView(self, problem)

    def targets_are_sequences(self, problem=None):
        """Whether `problem`'s targets are decoded token by token (else one class)."""
        del problem
        return True

    def target_weights(self, targets, problem=None):
        """float32 weights of `targets [B, T]` in losses and metrics (pad id 0 → 0)."""
        del problem
        return ops.cast(ops.not_equal(targets, 0), "float32")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def dummy_features(self, problem=None):
        """A one-example batch that builds every weight when called on."""
        import tensorflow as tf

        php = self.problem_hparams_for(problem)
        features = {"targets": tf.constant([[2, 1]], tf.int32),
                    "target_space_id": tf.constant([php.target_space_id])}
        if "inputs" in php.modality:
            features["inputs"] = tf.constant([[2, 1]], tf.int32)
        return features

    # keras.Model's `Trainer.__init__` runs `self.loss = None` (and `compile`
    # assigns its `loss=` argument), which would shadow a `loss` method on the
    # instance. A property (a data descriptor) wins over instance attributes;
    # Keras never reads the value back.
    @property
    def loss(self):
        """`loss(features, logits)`: the bound `model_loss`."""
        return self.model_loss

    @loss.setter
    def loss(self, value):
        self._compile_loss_argument = value

    def model_loss(self, features, logits, problem=None):
        """The scalar training loss of `logits` against `features["targets"]`.

        Padding (target id 0) is masked out; the result is multiplied by the
        problem's `loss_multiplier`. Auxiliary losses the layers add with
        `add_loss` (e.g. MoE load balancing) are in `self.losses`; the trainer
        adds them.
        """
        raise NotImplementedError

    def encode(self, features, training=False, problem=None):
        raise NotImplementedError

    def initial_cache(self, encoded, max_length, problem=None):
        raise NotImplementedError

    def step(self, ids, index, cache, encoded, problem=None):
        raise NotImplementedError
