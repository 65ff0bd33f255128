"""The label-smoothed cross entropy the symbol and class-label modalities share."""

import math

from keras import ops


def smoothed_cross_entropy(logits, targets, vocabulary_size, label_smoothing):
    """Per-position float32 cross entropy against label-smoothed targets.

    Shifted by the entropy of the smoothed distribution, so a perfect
    prediction costs 0 (T2T's `smoothing_cross_entropy`); with no smoothing it
    is the plain cross entropy. `logits` `[..., V]`, `targets` int `[...]`.
    """
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(
            f"`label_smoothing` must be in [0, 1). Received: label_smoothing={label_smoothing}")
    logits = ops.cast(logits, "float32")
    confidence = 1.0 - label_smoothing
    low_confidence = label_smoothing / max(vocabulary_size - 1, 1)
    soft_targets = ops.one_hot(targets, vocabulary_size, dtype="float32") * (
        confidence - low_confidence) + low_confidence
    xent = -ops.sum(soft_targets * ops.log_softmax(logits, axis=-1), axis=-1)
    # The entropy of the smoothed distribution: the lowest reachable loss.
    normalizing = -(confidence * math.log(confidence)
                    + (vocabulary_size - 1) * low_confidence * math.log(low_confidence + 1e-20))
    return xent - normalizing
