"""Greedy decoding in a `tf.while_loop`, written against the model's incremental interface.

Every model implements (see `t2t_multimodel.models.t2t_model`):

```
encode(features)                     -> encoded: dict of [B, ...] tensors
initial_cache(encoded, max_length)   -> cache:   dict of [B, ...] tensors
step(ids [B], index, cache, encoded) -> (logits [B, V], new cache)
```

`greedy_search` runs that loop in the graph, so it works eagerly, inside a
`tf.function` and inside an exported SavedModel; `max_length` may be a tensor.
The helpers at the bottom (argument checks, batch size, loop shape
invariants) are shared with `beam_search`.
"""

import tensorflow as tf

PAD_ID = 0
EOS_ID = 1
NEG_INF = -1.0e9


def greedy_search(model, features, max_length, eos_id=EOS_ID, constraint=None):
    """Decodes the most probable next token at each step, until EOS.

    The first step is fed the start symbol (0) at index 0. A sequence is
    finished once it emits `eos_id`; after that it emits padding (0) at no
    cost, and the loop stops as soon as every sequence is finished or
    `max_length` tokens were decoded.

    Args:
        model: an object with the incremental decoding interface `encode`,
            `initial_cache` and `step` (a `T2TModel`, or a
            `t2t_multimodel.decoding.full_prefix.FullPrefixDecoder`).
        features: dict of `[B, ...]` tensors passed to `model.encode`.
        max_length: int or int32 scalar tensor, at least 1. The most tokens
            decoded, EOS included.
        eos_id: int. The end-of-sequence id. Defaults to `1`.
        constraint: None or a callable `(prefix [B, T], index, inputs) ->
            bool [B, V]` of the allowed next ids (e.g. `TreeConstraint`);
            the others get no probability. Needs `features["inputs"]`.

    Returns:
        A tuple `(ids, scores)`: `ids` int32 `[B, max_length]`, the decoded
        tokens up to and including EOS, padded with 0 after it; `scores`
        float32 `[B]`, the sum of the log-probabilities of the emitted tokens
        (EOS included).

    Example:

    ```python
    ids, scores = greedy_search(model, {"inputs": inputs}, max_length=20)
    ```
    """
    max_length = check_positive_int("max_length", max_length)
    encoded = model.encode(features)
    batch_size = infer_batch_size(encoded, features)
    cache = model.initial_cache(encoded, max_length)

    positions = tf.range(max_length)
    ids = tf.zeros([batch_size, max_length], tf.int32)
    prev_ids = tf.zeros([batch_size], tf.int32)  # The start symbol.
    finished = tf.zeros([batch_size], tf.bool)
    scores = tf.zeros([batch_size], tf.float32)

    def cond(index, ids, prev_ids, finished, scores, cache):
        return tf.logical_and(index < max_length, tf.logical_not(tf.reduce_all(finished)))

    def body(index, ids, prev_ids, finished, scores, cache):
        logits, cache = model.step(prev_ids, index, cache, encoded)
        log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
        if constraint is not None:
            log_probs = constrained(log_probs, constraint(ids, index, features["inputs"]))
        next_ids = tf.argmax(log_probs, axis=-1, output_type=tf.int32)
        next_log_probs = tf.gather(log_probs, next_ids, axis=1, batch_dims=1)
        next_ids = tf.where(finished, PAD_ID, next_ids)
        scores += tf.where(finished, 0.0, next_log_probs)
        ids = tf.where(positions[tf.newaxis, :] == index, next_ids[:, tf.newaxis], ids)
        finished = tf.logical_or(finished, tf.equal(next_ids, eos_id))
        return index + 1, ids, next_ids, finished, scores, cache

    loop_vars = (tf.constant(0), ids, prev_ids, finished, scores, cache)
    invariants = (
        tf.TensorShape([]),
        tf.TensorShape([None, None]),
        tf.TensorShape([None]),
        tf.TensorShape([None]),
        tf.TensorShape([None]),
        relaxed_batch_shapes(cache),
    )
    _, ids, _, _, scores, _ = tf.while_loop(
        cond, body, loop_vars, shape_invariants=invariants, maximum_iterations=max_length)
    if isinstance(max_length, int):
        ids = tf.ensure_shape(ids, [None, max_length])
    return ids, scores


def constrained(log_probs, allowed):
    """`log_probs [N, V]` with the ids not `allowed [N, V]` at -1e9 (not renormalised:
    scores stay the model's log-probabilities)."""
    return tf.where(allowed, log_probs, NEG_INF)


def check_positive_int(name, value):
    """Returns `value` if a positive Python int, or a tensor cast to int32.

    Raises:
        ValueError: if `value` is a Python number that is not an int >= 1.
    """
    if tf.is_tensor(value):
        value = tf.cast(value, tf.int32)
        tf.debugging.assert_positive(value, message=f"`{name}` must be at least 1.")
        return value
    if isinstance(value, bool) or not hasattr(value, "__index__") or value < 1:
        raise ValueError(f"`{name}` must be an integer >= 1. Received: {name}={value!r}")
    return int(value)


def infer_batch_size(encoded, features):
    """The dynamic batch size: the leading dimension of the first encoded tensor.

    Falls back to `features` when the model encodes nothing (a language model).
    """
    flat = tf.nest.flatten(encoded) or tf.nest.flatten(features)
    if not flat:
        raise ValueError(
            "Cannot infer the batch size: `encode` returned no tensors and `features` is "
            f"empty. Received: features={features!r}")
    return tf.shape(flat[0])[0]


def relaxed_batch_shapes(structure):
    """`tf.while_loop` shape invariants: each tensor's shape with an unknown batch dim."""

    def relax(tensor):
        shape = tf.TensorShape(tensor.shape)
        if shape.rank is None or shape.rank == 0:
            return shape
        return tf.TensorShape([None]).concatenate(shape[1:])

    return tf.nest.map_structure(relax, structure)
