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

Every tensor in `encoded` and `cache` has the batch as its leading dimension,
so beam search can tile and reorder them without knowing what they are.
`step` is called with `index` = the position being predicted (0 for the first
target token); at index 0 `ids` holds the start symbol (0). The cache has a
static shape (its time axis is `max_length` long) so it can be a
`tf.while_loop` variable.
"""

import keras

from t2t_multimodel.hparams_lib import HParams
from t2t_multimodel.problem_hparams import ProblemHParams


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
        if isinstance(problem_hparams, dict):
            problem_hparams = ProblemHParams.from_dict(problem_hparams)
        self.hparams = hparams
        self.problem_hparams = problem_hparams

    def get_config(self):
        config = super().get_config()
        config.update({
            "hparams": self.hparams.values(),
            "problem_hparams": self.problem_hparams.to_dict(),
        })
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def dummy_features(self):
        """A one-example batch that builds every weight when called on."""
        import tensorflow as tf

        features = {"targets": tf.constant([[2, 1]], tf.int32),
                    "target_space_id": tf.constant([self.problem_hparams.target_space_id])}
        if "inputs" in self.problem_hparams.modality:
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

    def model_loss(self, features, logits):
        """The scalar training loss of `logits` against `features["targets"]`.

        Padding (target id 0) is masked out; the result is multiplied by the
        problem's `loss_multiplier`. Auxiliary losses the layers add with
        `add_loss` (e.g. MoE load balancing) are in `self.losses`; the trainer
        adds them.
        """
        raise NotImplementedError

    def encode(self, features, training=False):
        raise NotImplementedError

    def initial_cache(self, encoded, max_length):
        raise NotImplementedError

    def step(self, ids, index, cache, encoded):
        raise NotImplementedError
