"""Reserved tokens (T2T's values) and the helpers every encoder shares.

PAD (id 0) and EOS (id 1) come first in every vocabulary, as in T2T, so a
model's padding and end-of-sequence ids do not depend on the vocabulary type.
The in-graph helpers put strings into a batch and cut decoded ids at EOS.
"""

import re

import tensorflow as tf

PAD = "<pad>"
EOS = "<EOS>"
RESERVED_TOKENS = [PAD, EOS]
NUM_RESERVED_TOKENS = len(RESERVED_TOKENS)
PAD_ID = RESERVED_TOKENS.index(PAD)  # Normally 0
EOS_ID = RESERVED_TOKENS.index(EOS)  # Normally 1
RESERVED_TOKENS_BYTES = [PAD.encode("ascii"), EOS.encode("ascii")]

# `tf.strings.split(sep=None)` splits on ASCII whitespace only; the Python
# side uses the same set so that `encode` and `encode_tf` always agree.
_ASCII_WHITESPACE = " \t\n\r\x0b\x0c"
_ASCII_WHITESPACE_RE = re.compile(f"[{re.escape(_ASCII_WHITESPACE)}]+")


def split_whitespace(s):
    """Splits `s` on runs of ASCII whitespace, as `tf.strings.split` does."""
    return [t for t in _ASCII_WHITESPACE_RE.split(s) if t]


def strip_ids(ids, ids_to_strip):
    """Strips `ids_to_strip` from the end of `ids` (T2T's helper)."""
    ids = list(ids)
    while ids and ids[-1] in ids_to_strip:
        ids.pop()
    return ids


def to_string_batch(strings):
    """(`strings` as a 1-D string tensor, whether the input was a scalar)."""
    strings = tf.convert_to_tensor(strings, tf.string)
    rank = strings.shape.rank
    if rank == 0:
        return strings[tf.newaxis], True
    if rank == 1:
        return strings, False
    raise ValueError(f"encode_tf takes a scalar or 1-D string tensor. "
                     f"Received: strings.shape={strings.shape}")


def to_id_batch(ids):
    """(`ids` as a 2-D int32 tensor or RaggedTensor, whether it was 1-D)."""
    if not isinstance(ids, tf.RaggedTensor):
        ids = tf.convert_to_tensor(ids)
    if ids.dtype != tf.int32:
        ids = tf.cast(ids, tf.int32)
    rank = ids.shape.rank
    if rank == 1:
        return ids[tf.newaxis], True
    if rank == 2:
        return ids, False
    raise ValueError(f"decode_tf takes 1-D or 2-D ids. Received: ids.shape={ids.shape}")


def trim_ids(ids, num_reserved_ids):
    """Cuts each row of `ids` [B, L] at its first EOS and drops PAD.

    Only ids that are reserved are special: an encoder without reserved ids
    (`num_reserved_ids=0`) keeps every id. Returns a RaggedTensor [B, None].
    """
    if isinstance(ids, tf.RaggedTensor):
        ids = ids.to_tensor(default_value=PAD_ID if num_reserved_ids > PAD_ID else -1)
    keep = tf.ones_like(ids, tf.bool)
    if num_reserved_ids > EOS_ID:
        is_eos = tf.cast(tf.equal(ids, EOS_ID), tf.int32)
        keep = tf.equal(tf.cumsum(is_eos, axis=1), 0)
    if num_reserved_ids > PAD_ID:
        keep = keep & tf.not_equal(ids, PAD_ID)
    if num_reserved_ids == 0:
        keep = tf.greater_equal(ids, 0)
    return tf.ragged.boolean_mask(ids, keep)
