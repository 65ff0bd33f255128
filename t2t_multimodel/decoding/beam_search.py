"""Beam search in a `tf.while_loop`, written against the model's incremental interface.

This is Tensor2Tensor's beam search (`utils/beam_search.py`) on top of
`encode / initial_cache / step` (see `t2t_multimodel.models.t2t_model`):

- Scores are sums of log-probabilities. A finished hypothesis of `n` tokens
  (EOS included) is ranked by `log_prob / ((5 + n) / 6) ** alpha`, the GNMT
  length penalty.
- Two sets of `K = beam_size` hypotheses per example: *alive* (no EOS yet)
  and *finished*. Each step takes the top `2K` extensions of the alive set,
  so that extensions ending in EOS cannot starve the alive set: the best `K`
  that do not end in EOS become the new alive set, and those that do are
  merged into the finished set, which keeps its best `K`.
- The loop stops after `max_length` steps, or once no alive hypothesis can
  beat the finished one(s) that matter even with the most favourable length
  penalty still reachable: the best finished one for the best beam, the worst
  of the `K` finished ones with `return_beams=True`.
- When the loop ran for `max_length` steps, the alive hypotheses (cut there,
  without EOS) compete with the finished ones for the output, scored
  `log_prob / ((5 + max_length) / 6) ** alpha`. (T2T instead returned any
  finished hypothesis before an alive one, so a short `max_length` could make
  it return a near-impossible early EOS.) Slots no real hypothesis reaches
  (only possible when `K * V` is tiny) hold junk with a score near `-1e9`
  or `-inf`.

Every tensor in `encoded` and `cache` is batch-leading, so they are tiled to
`[B * K, ...]` (example-major: row `b * K + k`) and reordered by parent beam
without being inspected. `beam_size`, `alpha` and `max_length` may all be
scalar tensors, so one SavedModel signature serves any of them.
"""

import tensorflow as tf

from t2t_multimodel.decoding.greedy import (
    EOS_ID,
    NEG_INF,  # The log-probability of a dead hypothesis; finite, so sums stay finite.
    check_positive_int,
    constrained,
    infer_batch_size,
    relaxed_batch_shapes,
)


def beam_search(model, features, beam_size, alpha, max_length, eos_id=EOS_ID,
                return_beams=False, constraint=None):
    """Decodes the `beam_size` best hypotheses under the GNMT length penalty.

    With `beam_size=1` and `alpha=0` this returns the greedy path, unless a
    hypothesis that ended earlier (an EOS extension kept in the finished set
    while the alive beam went on) has a higher total log-probability than the
    greedy one: beam search then finds the better sequence.

    Args:
        model: an object with the incremental decoding interface `encode`,
            `initial_cache` and `step` (a `T2TModel`, or a
            `t2t_multimodel.decoding.full_prefix.FullPrefixDecoder`).
        features: dict of `[B, ...]` tensors passed to `model.encode`.
        beam_size: int or int32 scalar tensor, at least 1. `K`, the number
            of hypotheses kept per example.
        alpha: float or float32 scalar tensor. The length penalty exponent:
            0 ranks by total log-probability; larger values favour longer
            hypotheses. T2T's default is `0.6`.
        max_length: int or int32 scalar tensor, at least 1. The most tokens
            decoded, EOS included.
        eos_id: int. The end-of-sequence id. Defaults to `1`.
        return_beams: bool. Return all `K` hypotheses instead of the best.
            Defaults to `False`.
        constraint: None or a callable `(prefix [N, T], index, inputs) ->
            bool [N, V]` of the allowed next ids, as in `greedy_search`.

    Returns:
        A tuple `(ids, scores)`. `ids` is int32 `[B, max_length]` (or
        `[B, K, max_length]` with `return_beams`): tokens up to and including
        EOS, padded with 0. `scores` is float32 `[B]` (or `[B, K]`, best
        first): length-penalised log-probabilities. With `alpha=0` a score is
        the plain sum of the log-probabilities of the tokens.

    Example:

    ```python
    ids, scores = beam_search(model, {"inputs": inputs}, beam_size=4, alpha=0.6,
                              max_length=50)
    ```
    """
    beam_size = check_positive_int("beam_size", beam_size)
    max_length = check_positive_int("max_length", max_length)
    alpha = tf.cast(alpha, tf.float32)

    encoded = model.encode(features)
    batch_size = infer_batch_size(encoded, features)
    encoded = tf.nest.map_structure(lambda t: tf.repeat(t, beam_size, axis=0), encoded)
    if constraint is not None:
        beam_inputs = tf.repeat(features["inputs"], beam_size, axis=0)
    cache = model.initial_cache(encoded, max_length)

    def length_penalty(length):
        return tf.pow((5.0 + tf.cast(length, tf.float32)) / 6.0, alpha)

    positions = tf.range(max_length)
    alive_seq = tf.zeros([batch_size, beam_size, max_length], tf.int32)
    # Only the first beam is live at the start, so the first step does not
    # pick the same extension K times.
    alive_log_probs = tf.tile(
        tf.concat([[0.0], tf.fill([beam_size - 1], NEG_INF)], axis=0)[tf.newaxis, :],
        [batch_size, 1])
    finished_seq = tf.zeros_like(alive_seq)
    finished_scores = tf.fill([batch_size, beam_size], NEG_INF)
    finished_flags = tf.zeros([batch_size, beam_size], tf.bool)

    def cond(index, alive_seq, alive_log_probs, finished_seq, finished_scores,
             finished_flags, cache):
        # An alive hypothesis only loses log-probability, so its best reachable
        # score uses the largest penalty of a length in [index + 1, max_length].
        best_penalty = tf.maximum(length_penalty(index + 1), length_penalty(max_length))
        best_alive = alive_log_probs[:, 0] / best_penalty
        masked = tf.where(finished_flags, finished_scores, -float("inf"))
        if return_beams:
            bar = tf.reduce_min(masked, axis=1)
        else:
            bar = tf.reduce_max(masked, axis=1)
        bound_is_met = tf.reduce_all(bar > best_alive)
        return tf.logical_and(index < max_length, tf.logical_not(bound_is_met))

    def body(index, alive_seq, alive_log_probs, finished_seq, finished_scores,
             finished_flags, cache):
        # 1. Extend every alive hypothesis by every token.
        prev_ids = tf.gather(alive_seq, tf.maximum(index - 1, 0), axis=2)
        prev_ids = tf.where(index > 0, prev_ids, 0)
        logits, cache = model.step(tf.reshape(prev_ids, [-1]), index, cache, encoded)
        log_probs = tf.nn.log_softmax(tf.cast(logits, tf.float32), axis=-1)
        if constraint is not None:
            prefixes = tf.reshape(alive_seq, [batch_size * beam_size, -1])
            log_probs = constrained(log_probs, constraint(prefixes, index, beam_inputs))
        vocab_size = tf.shape(log_probs)[-1]
        log_probs = tf.reshape(log_probs, [batch_size, beam_size, vocab_size])
        candidate_log_probs = alive_log_probs[:, :, tf.newaxis] + log_probs

        # 2. The top 2K extensions, with their parents and tokens.
        flat = tf.reshape(candidate_log_probs, [batch_size, beam_size * vocab_size])
        top_log_probs, top_indices = tf.math.top_k(flat, k=2 * beam_size)
        top_beams = top_indices // vocab_size
        top_ids = top_indices % vocab_size
        top_seq = tf.gather(alive_seq, top_beams, axis=1, batch_dims=1)
        top_seq = tf.where(
            positions[tf.newaxis, tf.newaxis, :] == index, top_ids[:, :, tf.newaxis], top_seq)
        top_eos = tf.equal(top_ids, eos_id)
        # Extensions of dead beams (only there while fewer than K are live) are
        # never finished hypotheses.
        top_finished = tf.logical_and(top_eos, top_log_probs > NEG_INF / 2)

        # 3. The new alive set: the best K that do not end in EOS.
        alive_keys = top_log_probs + tf.cast(top_eos, tf.float32) * NEG_INF
        alive_log_probs, alive_choice = tf.math.top_k(alive_keys, k=beam_size)
        alive_seq = tf.gather(top_seq, alive_choice, axis=1, batch_dims=1)
        parents = tf.gather(top_beams, alive_choice, axis=1, batch_dims=1)
        rows = tf.reshape(
            parents + tf.range(batch_size)[:, tf.newaxis] * beam_size, [-1])
        cache = tf.nest.map_structure(lambda t: tf.gather(t, rows, axis=0), cache)

        # 4. The new finished set: the best K of the old ones and the new ones.
        new_scores = tf.where(top_finished, top_log_probs / length_penalty(index + 1), NEG_INF)
        all_scores = tf.concat([finished_scores, new_scores], axis=1)
        all_seq = tf.concat([finished_seq, top_seq], axis=1)
        all_flags = tf.concat([finished_flags, top_finished], axis=1)
        finished_scores, finished_choice = tf.math.top_k(all_scores, k=beam_size)
        finished_seq = tf.gather(all_seq, finished_choice, axis=1, batch_dims=1)
        finished_flags = tf.gather(all_flags, finished_choice, axis=1, batch_dims=1)
        return (index + 1, alive_seq, alive_log_probs, finished_seq, finished_scores,
                finished_flags, cache)

    loop_vars = (tf.constant(0), alive_seq, alive_log_probs, finished_seq, finished_scores,
                 finished_flags, cache)
    seq_shape = tf.TensorShape([None, None, None])
    score_shape = tf.TensorShape([None, None])
    invariants = (tf.TensorShape([]), seq_shape, score_shape, seq_shape, score_shape,
                  score_shape, relaxed_batch_shapes(cache))
    (steps, alive_seq, alive_log_probs, finished_seq, finished_scores, finished_flags,
     _) = tf.while_loop(cond, body, loop_vars, shape_invariants=invariants,
                        maximum_iterations=max_length)

    # Hypotheses cut by max_length compete with the finished ones. (After an
    # early stop they cannot win, and they are incomplete, so they are left out.)
    hit_max_length = steps >= max_length
    alive_scores = tf.where(hit_max_length, alive_log_probs / length_penalty(steps), -float("inf"))
    finished_scores = tf.where(finished_flags, finished_scores, -float("inf"))
    scores, choice = tf.math.top_k(
        tf.concat([finished_scores, alive_scores], axis=1), k=beam_size)
    ids = tf.gather(tf.concat([finished_seq, alive_seq], axis=1), choice, axis=1, batch_dims=1)
    if isinstance(max_length, int):
        ids = tf.ensure_shape(ids, [None, None, max_length])
    if return_beams:
        return ids, scores
    return ids[:, 0], scores[:, 0]
