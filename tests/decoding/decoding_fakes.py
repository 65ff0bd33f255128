"""Fake models for the decoding tests: next-token logits read from a fixed table.

`TableModel` implements the incremental interface (`encode`, `initial_cache`,
`step`) and the teacher-forcing call, so the exact decodes are known by hand
and cached decoding can be compared with `FullPrefixDecoder`.

Tokens: 0 PAD, 1 EOS, 2 A, 3 B, 4 C. An example's task is `inputs[:, 0]`.
"""

import numpy as np
import tensorflow as tf

PAD, EOS, A, B, C = range(5)
VOCAB_SIZE = 5
NUM_POSITIONS = 5  # Indices past the last row reuse it.
FLOOR = 1e-6  # The probability of every token not listed in a row.

# The row of an unlisted (index, previous token): almost surely EOS.
DEFAULT_ROW = {EOS: 0.9, A: 0.1 / 3, B: 0.1 / 3, C: 0.1 / 3}

# Greedy takes A (0.5), then A (0.4), then EOS (0.9): 0.18. Beam search finds
# B (0.4) then EOS (0.9): 0.36.
TRAP = {
    (0, PAD): {A: 0.5, B: 0.4, EOS: 0.1},
    (1, A): {A: 0.4, B: 0.3, EOS: 0.3},
}

# Short: A EOS = 0.4 * 0.9 = 0.36. Long: B B B EOS = 0.5 * 0.8 ** 3 = 0.256.
# alpha=0 prefers the short one; alpha=2 the long one:
# log(0.36) / (7/6)**2 = -0.751 < log(0.256) / (9/6)**2 = -0.606.
SHORT_OR_LONG = {
    (0, PAD): {A: 0.4, B: 0.5, EOS: 0.05, C: 0.05},
    (1, B): {B: 0.8, EOS: 0.1, A: 0.05, C: 0.05},
    (2, B): {B: 0.8, EOS: 0.1, A: 0.05, C: 0.05},
    (3, B): {EOS: 0.8, A: 0.1, C: 0.1},
}

# Never ends: C (0.9) at every step, EOS only at the floor probability.
LOOP = {
    (index, prev): {C: 0.9, A: 0.05, B: 0.05}
    for index in range(NUM_POSITIONS) for prev in range(VOCAB_SIZE)
}


def make_table(rows):
    """Returns the `[NUM_POSITIONS, V, V]` float32 logits (log-probabilities) of `rows`."""
    table = np.zeros([NUM_POSITIONS, VOCAB_SIZE, VOCAB_SIZE])
    for index in range(NUM_POSITIONS):
        for prev in range(VOCAB_SIZE):
            row = np.full([VOCAB_SIZE], FLOOR)
            for token, prob in rows.get((index, prev), DEFAULT_ROW).items():
                row[token] = prob
            table[index, prev] = np.log(row)
    return table.astype(np.float32)


def log_softmax(x):
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


class TableModel:
    """Next-token logits `tables[task, index, prev] + prefix_weight * onehot(sum(prefix) % V)`.

    The cache is the `[B, max_length]` history of the decoded tokens, so the
    prefix term checks that beam search reorders the cache with its beams.
    """

    def __init__(self, tables, prefix_weight=0.0):
        self.tables_np = np.asarray(tables, np.float32)
        self.tables = tf.constant(self.tables_np)
        self.prefix_weight = prefix_weight
        self.num_positions = self.tables_np.shape[1]
        self.vocab_size = self.tables_np.shape[-1]

    def _logits(self, task, index, prev, prefix_sum):
        index = tf.minimum(index, self.num_positions - 1)
        logits = tf.gather_nd(self.tables, tf.stack([task, index, prev], axis=-1))
        bonus = tf.one_hot(prefix_sum % self.vocab_size, self.vocab_size)
        return logits + self.prefix_weight * bonus

    def encode(self, features, training=False):
        return {"task": tf.cast(features["inputs"][:, 0], tf.int32)}

    def initial_cache(self, encoded, max_length):
        batch_size = tf.shape(encoded["task"])[0]
        return {"history": tf.zeros([batch_size, max_length], tf.int32)}

    def step(self, ids, index, cache, encoded):
        history = cache["history"]
        positions = tf.range(tf.shape(history)[1])
        history = tf.where(positions[tf.newaxis, :] == index - 1, ids[:, tf.newaxis], history)
        index = tf.fill(tf.shape(ids), index)
        logits = self._logits(encoded["task"], index, ids, tf.reduce_sum(history, axis=1))
        return logits, {"history": history}

    def __call__(self, features, training=False):
        targets = features["targets"]
        shape = tf.shape(targets)
        prev = tf.pad(targets[:, :-1], [[0, 0], [1, 0]])
        task = tf.broadcast_to(tf.cast(features["inputs"][:, :1], tf.int32), shape)
        index = tf.broadcast_to(tf.range(shape[1])[tf.newaxis, :], shape)
        return self._logits(task, index, prev, tf.cumsum(prev, axis=1))

    def path_log_prob(self, task, path):
        """The total log-probability of `path` (ids, stopping at EOS) for `task`."""
        total, prev, prefix_sum = 0.0, PAD, 0
        for index, token in enumerate(path):
            logits = self.tables_np[task, min(index, self.num_positions - 1), prev].copy()
            logits[prefix_sum % self.vocab_size] += self.prefix_weight
            total += log_softmax(logits)[token]
            if token == EOS:
                break
            prev, prefix_sum = token, prefix_sum + token
        return total


def hand_model():
    """Tasks 0 TRAP, 1 SHORT_OR_LONG, 2 LOOP."""
    return TableModel(np.stack([make_table(TRAP), make_table(SHORT_OR_LONG), make_table(LOOP)]))


def random_model(seed=0, num_tasks=3, vocab_size=7, prefix_weight=1.5):
    """Random prefix-dependent logits, biased towards EOS late so hypotheses end."""
    rng = np.random.RandomState(seed)
    tables = rng.normal(size=[num_tasks, 6, vocab_size, vocab_size]).astype(np.float32) * 2.0
    tables[:, :, :, PAD] = -10.0
    tables[:, 3:, :, EOS] += 2.0
    return TableModel(tables, prefix_weight=prefix_weight)


def inputs(*tasks):
    """`inputs` [B, 2] int32 whose first column is the task."""
    return tf.constant([[task, 7] for task in tasks], tf.int32)
