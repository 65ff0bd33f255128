"""`TreeConstraint`: decode only well-formed linearised trees over the input's words."""

import tensorflow as tf

from t2t_multimodel.encoders import reserved


class TreeConstraint:
    """Masks the next tokens that would make a linearised parse tree malformed.

    A linearised tree (Vinyals et al. 2015) is `S NP XX /NP VP XX /VP /S`:
    an opening label `L`, its children, its closing `/L`, and `XX` for each
    input word. With the constraint a decode is exactly one tree with one
    `XX` per input word and matched labels:

    - `XX` only inside a phrase and while fewer than `n` words are covered;
    - an opening label first, or inside a phrase while words remain and
      the tree can still be finished within the decode's length;
    - a closing label only for the innermost open phrase once it covers a
      word, and the root's only once all `n` words are covered;
    - EOS only after the root is closed, and nothing else then.

    `n` is the number of input tokens (padding and EOS excluded): the
    parsing problems' inputs are words, one id per word. The state (depth,
    words covered, innermost open label) is recomputed from the prefix at
    every step, so the constraint carries nothing in the decode loop and
    greedy, beam and exported decodes all use it the same way. The flat-tree
    baseline knows `n` as well, so both are scored on equal terms; the
    decoders report unconstrained decodes beside constrained ones.

    Args:
        vocabulary: list of str. The target tokens by id (reserved tokens
            first, as `TokenTextEncoder` numbers them).
        word_token: str. The word placeholder. Defaults to `"XX"`.

    Call arguments:
        prefix: int `[N, T]`. The ids decoded so far at positions `< index`
            (anything after them is ignored); `T` is the most tokens decoded.
        index: int scalar. The position being decoded.
        inputs: int `[N, L]`. The input ids (0 is padding, 1 EOS).

    Returns a bool `[N, V]`: which next ids keep the tree well formed.

    Example:

    ```python
    constraint = TreeConstraint(["<pad>", "<EOS>", "XX", "S", "/S"])
    constraint(tf.constant([[3, 2]]), 2, tf.constant([[7, 1]]))
    # [[False, False, False, False, True]]: "/S" only (one word, covered)
    ```

    References:
        - [Vinyals et al., 2015](https://arxiv.org/abs/1412.7449), "Grammar
          as a Foreign Language" (they repaired malformed outputs afterwards).
    """

    def __init__(self, vocabulary, word_token="XX"):
        vocabulary = list(vocabulary)
        if word_token not in vocabulary:
            raise ValueError(f"`vocabulary` has no word token {word_token!r}. "
                             f"Received: vocabulary={vocabulary[:10]}...")
        self.vocabulary = vocabulary
        self.word_token = word_token
        reserved_tokens = set(reserved.RESERVED_TOKENS)
        labels = {t for t in vocabulary
                  if t not in reserved_tokens and t != word_token and not t.startswith("/")}
        is_open = [t in labels for t in vocabulary]
        # The id of each opening label's closing label (-1: none).
        closing = [vocabulary.index("/" + t) if t in labels and "/" + t in vocabulary else -1
                   for t in vocabulary]
        self._word_id = vocabulary.index(word_token)
        self._eos_id = reserved.EOS_ID
        self._is_open = tf.constant(is_open)
        self._is_close = tf.constant([t.startswith("/") and t[1:] in labels for t in vocabulary])
        self._closing = tf.constant(closing, tf.int32)

    def __call__(self, prefix, index, inputs):
        prefix = tf.cast(prefix, tf.int32)
        length = tf.shape(prefix)[1]
        seen = tf.range(length)[None, :] < index                               # [1, T]
        opens = tf.logical_and(tf.gather(self._is_open, prefix), seen)          # [N, T]
        closes = tf.logical_and(tf.gather(self._is_close, prefix), seen)
        words_so_far = tf.cumsum(
            tf.cast(tf.logical_and(tf.equal(prefix, self._word_id), seen), tf.int32), axis=1)
        words_done = words_so_far[:, -1]
        level = tf.cumsum(tf.cast(opens, tf.int32) - tf.cast(closes, tf.int32), axis=1)
        depth = level[:, -1]
        words = tf.reduce_sum(tf.cast(tf.greater(inputs, self._eos_id), tf.int32), axis=1)
        # The innermost open phrase: the last opening label at the current depth.
        innermost = tf.logical_and(opens, tf.equal(level, depth[:, None]))
        last = tf.argmax(tf.cast(innermost, tf.int32) * (tf.range(length)[None, :] + 1),
                         axis=1, output_type=tf.int32)
        open_id = tf.gather(prefix, last, axis=1, batch_dims=1)
        close_id = tf.where(depth > 0, tf.gather(self._closing, open_id), -1)   # [N]
        # A phrase closes only once it covers a word (no empty brackets).
        nonempty = words_done > tf.gather(words_so_far, last, axis=1, batch_dims=1)

        started = index > 0
        inside = depth > 0
        words_left = words_done < words
        vocab_ids = tf.range(tf.size(self._is_open))[None, :]                   # [1, V]
        word_ok = tf.logical_and(inside, words_left)
        # A new phrase must still fit: itself, the words left, its closing and
        # those of the open phrases, and EOS, within the prefix's `T` positions.
        fits = index + 3 + (words - words_done) + depth <= length
        open_ok = tf.logical_and(tf.logical_and(words_left, fits),
                                 tf.logical_or(inside, tf.logical_not(started)))
        close_ok = tf.logical_and(tf.logical_and(inside, nonempty),
                                  tf.logical_or(depth > 1, tf.logical_not(words_left)))
        eos_ok = tf.logical_and(started, tf.logical_not(inside))
        allowed = tf.logical_or(tf.logical_or(
            tf.logical_and(tf.equal(vocab_ids, self._word_id), word_ok[:, None]),
            tf.logical_and(self._is_open[None, :], open_ok[:, None])), tf.logical_or(
            tf.logical_and(tf.equal(vocab_ids, close_id[:, None]), close_ok[:, None]),
            tf.logical_and(tf.equal(vocab_ids, self._eos_id), eos_ok[:, None])))
        # No tree fits (an input without words): let the decode end.
        stuck = tf.logical_not(tf.reduce_any(allowed, axis=1, keepdims=True))
        return tf.logical_or(allowed, tf.logical_and(stuck, tf.equal(vocab_ids, self._eos_id)))
