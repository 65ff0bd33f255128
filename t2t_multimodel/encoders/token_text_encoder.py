"""`TokenTextEncoder`: whitespace-separated tokens from a fixed vocabulary."""

import types

import tensorflow as tf

from t2t_multimodel.encoders import reserved
from t2t_multimodel.encoders.text_encoder_base import TextEncoder
from t2t_multimodel.errors import DataError


class TokenTextEncoder(TextEncoder):
    """Encodes whitespace-separated tokens by their index in a vocabulary.

    As in T2T, a vocabulary *file* (one token per line, as `store_to_file`
    writes it) is taken verbatim: line i is id i, so it must start with the
    reserved tokens `<pad>` and `<EOS>` (a `DataError` otherwise). A
    `vocab_list` gets the reserved tokens prepended (ids 0 and 1) and the
    list's tokens after them; reserved tokens inside the list are skipped.
    A duplicated token keeps its last id (T2T's dict inversion).

    Unknown tokens map to the id of `replace_oov` when it is given (it must be
    in the vocabulary). Without it, `encode` raises a `DataError` naming the
    token, and `encode_tf` fails at run time with an `InvalidArgumentError`
    that lists the unknown tokens: nothing is mapped silently.

    In the graph: `tf.strings.split` (ASCII whitespace, as the Python side)
    and a `tf.lookup.StaticHashTable`; decoding gathers the tokens and joins
    them with single spaces. Ids beyond the vocabulary decode as `ID_<id>`.

    Args:
        vocab_filename: str or None. A vocabulary file, one token per line.
        reverse: bool. Reverse the token order when encoding and decoding.
        vocab_list: list of str or None. The vocabulary, when there is no file.
        replace_oov: str or None. The token unknown tokens become.
        num_reserved_ids: int. Number of reserved ids (2: PAD and EOS).
        name: str or None. The `tf.Module` name.

    Example:

    ```python
    encoder = TokenTextEncoder(None, vocab_list=["0", "1"])
    encoder.encode("1 0 1")                      # [3, 2, 3]
    encoder.decode([3, 2, 3])                     # "1 0 1"
    encoder.decode_tf(tf.constant([[3, 2, 1, 0]]))  # [b"1 0"]
    ```
    """

    def __init__(self, vocab_filename=None, reverse=False, vocab_list=None, replace_oov=None,
                 num_reserved_ids=reserved.NUM_RESERVED_TOKENS, name=None):
        super().__init__(num_reserved_ids=num_reserved_ids, name=name)
        self._reverse = bool(reverse)
        self._replace_oov = replace_oov
        if vocab_filename is not None:
            tokens = _read_vocab_file(vocab_filename)
        elif vocab_list is not None:
            tokens = list(reserved.RESERVED_TOKENS[:num_reserved_ids]) + [
                t for t in vocab_list if t not in reserved.RESERVED_TOKENS]
        else:
            raise ValueError("TokenTextEncoder needs vocab_filename or vocab_list. "
                             "Received: vocab_filename=None, vocab_list=None")
        token_to_id = {token: i for i, token in enumerate(tokens)}
        if replace_oov is not None and replace_oov not in token_to_id:
            raise DataError(f"replace_oov must be a token of the vocabulary. "
                            f"Received: replace_oov={replace_oov!r}")
        # Tuples and mapping proxies are not wrapped by `tf.Module` tracking.
        self._id_to_token = tuple(tokens)
        self._token_to_id = types.MappingProxyType(token_to_id)
        with tf.init_scope():
            keys = list(token_to_id)
            self._table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(keys, tf.string),
                    tf.constant([token_to_id[k] for k in keys], tf.int32)),
                default_value=-1 if replace_oov is None else token_to_id[replace_oov])
            self._tokens = tf.constant(tokens, tf.string)

    # ---- Python ---------------------------------------------------------
    def encode(self, s):
        tokens = reserved.split_whitespace(s)
        if self._replace_oov is not None:
            tokens = [t if t in self._token_to_id else self._replace_oov for t in tokens]
        else:
            unknown = [t for t in tokens if t not in self._token_to_id]
            if unknown:
                raise DataError(f"tokens not in the vocabulary of {len(self._id_to_token)} "
                                f"(set replace_oov to map them). Received: "
                                f"unknown={unknown[:10]!r}")
        ids = [self._token_to_id[t] for t in tokens]
        return ids[::-1] if self._reverse else ids

    def decode(self, ids, strip_extraneous=False):
        if strip_extraneous:
            ids = reserved.strip_ids(ids, list(range(self._num_reserved_ids)))
        return " ".join(self.decode_list(ids))

    def decode_list(self, ids):
        seq = reversed(list(ids)) if self._reverse else ids
        return [self._safe_id_to_token(int(i)) for i in seq]

    def _safe_id_to_token(self, idx):
        if 0 <= idx < len(self._id_to_token):
            return self._id_to_token[idx]
        return f"ID_{idx}"

    @property
    def vocab_size(self):
        return len(self._id_to_token)

    def store_to_file(self, filename):
        """Writes the vocabulary, one token per line, atomically."""
        from t2t_multimodel.data import shards

        shards.write_text_atomically(filename, "".join(t + "\n" for t in self._id_to_token))

    # ---- In-graph -------------------------------------------------------
    def _encode_batch_tf(self, strings):
        words = tf.strings.split(strings)
        ids = tf.ragged.map_flat_values(self._table.lookup, words)
        if self._replace_oov is None:
            unknown = tf.boolean_mask(words.flat_values, ids.flat_values < 0)
            check = tf.debugging.Assert(
                tf.equal(tf.size(unknown), 0),
                ["TokenTextEncoder: tokens not in the vocabulary (set replace_oov to "
                 "map them). Received: unknown=", unknown], summarize=10)
            with tf.control_dependencies([check]):
                ids = tf.ragged.map_flat_values(tf.identity, ids)
        if self._reverse:
            ids = tf.reverse(ids, axis=[1])
        return ids

    def _decode_batch_tf(self, ids):
        if self._reverse:
            ids = tf.reverse(ids, axis=[1])

        def to_tokens(flat):
            known = tf.gather(self._tokens, tf.clip_by_value(flat, 0, self.vocab_size - 1))
            outside = tf.strings.join(["ID_", tf.strings.as_string(flat)])
            return tf.where((flat >= 0) & (flat < self.vocab_size), known, outside)

        return tf.strings.reduce_join(tf.ragged.map_flat_values(to_tokens, ids), axis=-1,
                                      separator=" ")


def _read_vocab_file(filename):
    if not tf.io.gfile.exists(filename):
        raise DataError(f"vocabulary file not found. Received: vocab_filename={filename}")
    with tf.io.gfile.GFile(filename, "r") as f:
        tokens = [line.strip() for line in f.read().splitlines()]
    if tokens and not tokens[-1]:
        tokens.pop()
    head = tokens[:reserved.NUM_RESERVED_TOKENS]
    if head != reserved.RESERVED_TOKENS:
        raise DataError(f"a token vocabulary file must start with the reserved tokens "
                        f"{reserved.RESERVED_TOKENS} (one per line, as "
                        f"TokenTextEncoder.store_to_file writes). Received: "
                        f"vocab_filename={filename}, first lines={head!r}")
    return tokens
