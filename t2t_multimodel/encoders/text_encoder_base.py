"""`TextEncoder`: the encoder interface, and T2T's ints-as-text encoder.

Every encoder is a `tf.Module`, so its in-graph state (lookup tables, the
SentencePiece model) is tracked: store an encoder as an attribute of a
`tf.Module`, `tf.saved_model.save` that, and the loaded SavedModel tokenizes
and detokenizes in a process that has only `tensorflow` and
`tensorflow_text` (no `t2t_multimodel`). A saved encoder also carries two
signature-ready functions, `tokenize` ([B] strings -> RaggedTensor [B, None]
int32) and `detokenize` ([B, L] int32 -> [B] strings), callable on the loaded
object.
"""

import tensorflow as tf

from t2t_multimodel.encoders import reserved


class TextEncoder(tf.Module):
    """Base class for encoders; itself encodes space-separated integers.

    The Python interface is Tensor2Tensor's: `encode(s) -> list[int]` (no EOS),
    `decode(ids, strip_extraneous=False) -> str`, `decode_list(ids)`,
    `vocab_size`. The in-graph interface:

    * `encode_tf(strings)`: a scalar string gives 1-D int32 ids; a 1-D string
      tensor gives a `tf.RaggedTensor` [B, None] of int32. No EOS is appended
      (`Problem.encode_example` does that).
    * `decode_tf(ids)`: [B, L] int32 (or ragged) -> [B] `tf.string`; each row
      stops at its first EOS and PAD ids are dropped. 1-D ids give a scalar.

    Subclasses implement `encode`, `decode_list`, `vocab_size`,
    `_encode_batch_tf` (1-D strings -> RaggedTensor) and
    `_decode_batch_tf` (trimmed RaggedTensor ids -> 1-D strings).

    This base encodes "1 0 3" as [3, 2, 5]: each integer plus
    `num_reserved_ids`; it has no fixed vocabulary size.

    Args:
        num_reserved_ids: int. Ids below it are reserved (PAD=0, EOS=1).
        name: str or None. The `tf.Module` name.

    Example:

    ```python
    encoder = TextEncoder()
    encoder.encode("1 0 3")                          # [3, 2, 5]
    encoder.decode([3, 2, 5, 1])                     # "1 0 3 <EOS>"
    encoder.encode_tf(tf.constant(["1 2", "3"]))    # <tf.RaggedTensor [[3, 4], [5]]>
    encoder.decode_tf(tf.constant([[3, 4, 1, 0]]))   # [b"1 2"]
    ```
    """

    # Python-side vocabularies: not walked by `tf.Module.variables`.
    _TF_MODULE_IGNORED_PROPERTIES = frozenset((
        "_id_to_token", "_token_to_id", "_class_labels", "_label_to_id", "_processor",
        "_model_proto"))

    def __init__(self, num_reserved_ids=reserved.NUM_RESERVED_TOKENS, name=None):
        super().__init__(name=name)
        if num_reserved_ids < 0:
            raise ValueError(f"num_reserved_ids must be >= 0. "
                             f"Received: num_reserved_ids={num_reserved_ids}")
        self._num_reserved_ids = int(num_reserved_ids)

    @property
    def num_reserved_ids(self):
        return self._num_reserved_ids

    # ---- Python ---------------------------------------------------------
    def encode(self, s):
        """Space-separated integers -> ids (each plus `num_reserved_ids`)."""
        return [int(w) + self._num_reserved_ids for w in reserved.split_whitespace(s)]

    def decode(self, ids, strip_extraneous=False):
        """Ids -> space-separated string; reserved ids print as their tokens.

        Args:
            ids: list of int.
            strip_extraneous: bool. Drops trailing reserved ids (PAD, EOS).

        Returns:
            str.
        """
        if strip_extraneous:
            ids = reserved.strip_ids(ids, list(range(self._num_reserved_ids)))
        return " ".join(self.decode_list(ids))

    def decode_list(self, ids):
        """Ids -> list of str, one per id."""
        decoded = []
        for id_ in ids:
            id_ = int(id_)
            if 0 <= id_ < self._num_reserved_ids:
                decoded.append(_reserved_token(id_))
            else:
                decoded.append(str(id_ - self._num_reserved_ids))
        return decoded

    @property
    def vocab_size(self):
        raise NotImplementedError(
            f"{type(self).__name__} has no fixed vocabulary size; use an encoder "
            f"with a vocabulary (TokenTextEncoder, ByteTextEncoder, ...). "
            f"Received: encoder={type(self).__name__}")

    def tf_module(self):
        """The trackable object holding the in-graph state: the encoder itself."""
        return self

    # ---- In-graph -------------------------------------------------------
    def encode_tf(self, strings):
        """Scalar string -> 1-D int32 ids; 1-D strings -> RaggedTensor [B, None]."""
        batch, scalar = reserved.to_string_batch(strings)
        if scalar:
            return self._encode_scalar_tf(batch[0])
        return self._encode_batch_tf(batch)

    def decode_tf(self, ids):
        """Ids [B, L] (dense or ragged) -> [B] strings; 1-D ids -> a scalar."""
        batch, vector = reserved.to_id_batch(ids)
        texts = self._decode_batch_tf(reserved.trim_ids(batch, self._num_reserved_ids))
        return texts[0] if vector else texts

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def tokenize(self, texts):
        """`encode_tf` with a fixed signature (saved with the module)."""
        return self.encode_tf(texts)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32)])
    def detokenize(self, ids):
        """`decode_tf` with a fixed signature (saved with the module)."""
        return self.decode_tf(ids)

    def _encode_scalar_tf(self, string):
        """One string -> 1-D ids; subclasses may provide a faster path."""
        return self._encode_batch_tf(string[tf.newaxis])[0]

    def _encode_batch_tf(self, strings):
        words = tf.strings.split(strings)
        return tf.ragged.map_flat_values(
            lambda w: tf.strings.to_number(w, tf.int32) + self._num_reserved_ids, words)

    def _decode_batch_tf(self, ids):
        words = tf.strings.as_string(ids - self._num_reserved_ids)
        return tf.strings.reduce_join(words, axis=-1, separator=" ")


def _reserved_token(id_):
    if id_ < len(reserved.RESERVED_TOKENS):
        return reserved.RESERVED_TOKENS[id_]
    return f"<reserved_{id_}>"
