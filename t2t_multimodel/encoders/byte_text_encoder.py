"""`ByteTextEncoder`: UTF-8 bytes as ids (T2T's CHARACTER vocabulary)."""

import tensorflow as tf

from t2t_multimodel.encoders import reserved
from t2t_multimodel.encoders.text_encoder_base import TextEncoder


class ByteTextEncoder(TextEncoder):
    """Encodes each UTF-8 byte as `byte + num_reserved_ids` (vocab size 258).

    In the graph, `tf.strings.bytes_split` splits strings into one-byte
    strings and `tf.io.decode_raw` reads their values (a lookup with no table
    to track; a scalar string is read by `decode_raw` directly); decoding
    gathers one-byte strings and joins them with `tf.strings.reduce_join`.
    Any text round-trips, non-ASCII included. `decode_tf` returns raw bytes:
    ids that do not form valid UTF-8 stay as they are, while the Python
    `decode` replaces them with U+FFFD (as T2T).

    Args:
        num_reserved_ids: int. Ids below it are reserved (PAD=0, EOS=1).
        name: str or None. The `tf.Module` name.

    Example:

    ```python
    encoder = ByteTextEncoder()
    encoder.encode("hé")                    # [106, 197, 171]
    encoder.decode([106, 197, 171])          # "hé"
    encoder.decode_tf([[106, 197, 171, 1]])  # [b"h\\xc3\\xa9"]
    ```
    """

    def __init__(self, num_reserved_ids=reserved.NUM_RESERVED_TOKENS, name=None):
        super().__init__(num_reserved_ids=num_reserved_ids, name=name)

    def encode(self, s):
        return [c + self._num_reserved_ids for c in s.encode("utf-8")]

    def decode(self, ids, strip_extraneous=False):
        if strip_extraneous:
            ids = reserved.strip_ids(ids, list(range(self._num_reserved_ids)))
        return b"".join(self.decode_list(ids)).decode("utf-8", "replace")

    def decode_list(self, ids):
        """Ids -> list of bytes (reserved ids give their token's bytes)."""
        decoded = []
        for id_ in ids:
            id_ = int(id_)
            if 0 <= id_ < self._num_reserved_ids:
                token = (reserved.RESERVED_TOKENS_BYTES[id_]
                         if id_ < len(reserved.RESERVED_TOKENS_BYTES) else b"")
                decoded.append(token)
            elif self._num_reserved_ids <= id_ < self.vocab_size:
                decoded.append(bytes([id_ - self._num_reserved_ids]))
            else:
                raise ValueError(f"byte id out of range [0, {self.vocab_size}). "
                                 f"Received: id={id_}")
        return decoded

    @property
    def vocab_size(self):
        return 2**8 + self._num_reserved_ids

    def _encode_scalar_tf(self, string):
        return tf.cast(tf.io.decode_raw(string, tf.uint8), tf.int32) + self._num_reserved_ids

    def _encode_batch_tf(self, strings):
        chars = tf.strings.bytes_split(strings)
        return tf.ragged.map_flat_values(
            lambda c: tf.reshape(tf.cast(tf.io.decode_raw(c, tf.uint8), tf.int32), [-1])
            + self._num_reserved_ids, chars)

    def _decode_batch_tf(self, ids):
        table = tf.constant([b""] * self._num_reserved_ids + [bytes([b]) for b in range(256)])
        chars = tf.gather(table, tf.clip_by_value(ids, 0, self.vocab_size - 1))
        return tf.strings.reduce_join(chars, axis=-1)
