"""`FullPrefixDecoder`: incremental decoding without a cache, the reference path.

It wraps a model's teacher-forcing call (`model(features) -> logits [B, T, V]`)
in the `encode / initial_cache / step` interface: each step re-runs the whole
model on the prefix decoded so far and reads the logits at the position being
predicted, as T2T's `_slow_greedy_infer` did. That costs O(T^2) model work,
so it is for tests and benchmarks: greedy or beam search over a model and
over `FullPrefixDecoder(model)` must decode the same ids (and the same scores,
up to float rounding), which checks the model's cached `step`.
"""

import tensorflow as tf

from t2t_multimodel.decoding.greedy import PAD_ID


class FullPrefixDecoder:
    """Exposes a teacher-forcing model through the incremental decoding interface.

    The model must be causal over `targets`: the logits at position `t` may
    depend only on `targets[:, :t]` (the model shifts the targets right
    itself, as `T2TModel.call` does), and `features` must not need anything
    but batch-leading tensors.

    The "cache" is the `[B, max_length]` buffer of tokens decoded so far, so
    beam search tiles and reorders it like any other cache. At step `index`
    the model is called on `targets = buffer[:, :index + 1]`, whose last
    entry is a 0 placeholder for the token being predicted.

    Args:
        model: callable `model(features, training=False) -> logits [B, T, V]`.

    Example:

    ```python
    cached = greedy_search(model, features, max_length=20)
    reference = greedy_search(FullPrefixDecoder(model), features, max_length=20)
    # The ids are equal when `model.step` is correct.
    ```
    """

    def __init__(self, model):
        self.model = model

    def encode(self, features, training=False):
        """Returns the features without `targets`; nothing is precomputed."""
        return {key: value for key, value in features.items() if key != "targets"}

    def initial_cache(self, encoded, max_length):
        """Returns `{"targets": zeros [B, max_length] int32}`."""
        batch_size = tf.shape(tf.nest.flatten(encoded)[0])[0]
        return {"targets": tf.fill([batch_size, max_length], PAD_ID)}

    def step(self, ids, index, cache, encoded):
        """Writes `ids` at `index - 1`, re-runs the model and returns its logits at `index`."""
        targets = cache["targets"]
        positions = tf.range(tf.shape(targets)[1])
        targets = tf.where(positions[tf.newaxis, :] == index - 1, ids[:, tf.newaxis], targets)
        features = dict(encoded, targets=targets[:, : index + 1])
        logits = self.model(features, training=False)
        return tf.gather(logits, index, axis=1), {"targets": targets}
