"""`ClassLabelEncoder`: class label strings <-> class ids (no reserved ids)."""

import types

import tensorflow as tf

from t2t_multimodel.encoders.text_encoder_base import TextEncoder
from t2t_multimodel.errors import DataError


class ClassLabelEncoder(TextEncoder):
    """Encodes a class label string as its index in `class_labels`.

    As in T2T, `encode(label)` returns one int (not a list) and `decode`
    accepts an int or a one-element list. There are no reserved ids: id 0 is
    the first class. In the graph, `encode_tf` maps a scalar label to a
    [1] int32 tensor (the `targets` feature of a `Text2ClassProblem`) and 1-D
    labels to a RaggedTensor [B, 1]; an unknown label fails at run time with
    an `InvalidArgumentError`. `decode_tf` maps ids [B, L] to the labels of
    their first column, [B] strings.

    Args:
        class_labels: list of str or None. The labels, in id order.
        class_labels_fname: str or None. A file with one label per line
            (used instead of `class_labels`).
        name: str or None. The `tf.Module` name.

    Example:

    ```python
    encoder = ClassLabelEncoder(["neg", "pos"])
    encoder.encode("pos")                  # 1
    encoder.decode([1])                    # "pos"
    encoder.decode_tf(tf.constant([[1], [0]]))  # [b"pos", b"neg"]
    ```
    """

    def __init__(self, class_labels=None, class_labels_fname=None, name=None):
        super().__init__(num_reserved_ids=0, name=name)
        if class_labels_fname:
            if not tf.io.gfile.exists(class_labels_fname):
                raise DataError(f"class labels file not found. "
                                f"Received: class_labels_fname={class_labels_fname}")
            with tf.io.gfile.GFile(class_labels_fname, "r") as f:
                class_labels = [label.strip() for label in f.read().splitlines()]
            if class_labels and not class_labels[-1]:
                class_labels.pop()
        if not class_labels:
            raise DataError(f"ClassLabelEncoder needs class_labels or class_labels_fname. "
                            f"Received: class_labels={class_labels!r}, "
                            f"class_labels_fname={class_labels_fname!r}")
        self._class_labels = tuple(class_labels)
        self._label_to_id = types.MappingProxyType(
            {label: i for i, label in enumerate(class_labels)})
        with tf.init_scope():
            self._table = tf.lookup.StaticHashTable(
                tf.lookup.KeyValueTensorInitializer(
                    tf.constant(list(self._label_to_id), tf.string),
                    tf.constant(list(self._label_to_id.values()), tf.int32)),
                default_value=-1)
            self._labels = tf.constant(list(self._class_labels), tf.string)

    def encode(self, s):
        if s not in self._label_to_id:
            raise DataError(f"unknown class label; the labels are "
                            f"{list(self._class_labels)[:20]}. Received: label={s!r}")
        return self._label_to_id[s]

    def decode(self, ids, strip_extraneous=False):
        del strip_extraneous
        label_id = ids
        if hasattr(label_id, "tolist"):
            label_id = label_id.tolist()
        if isinstance(label_id, (list, tuple)):
            if len(label_id) != 1:
                raise ValueError(f"decode takes one class id. Received: ids={ids!r}")
            (label_id,) = label_id
        return self._class_labels[int(label_id)]

    def decode_list(self, ids):
        return [self._class_labels[int(i)] for i in ids]

    @property
    def vocab_size(self):
        return len(self._class_labels)

    @property
    def class_labels(self):
        """The labels, in id order (a tuple of str)."""
        return self._class_labels

    def _encode_batch_tf(self, strings):
        ids = self._table.lookup(strings)
        check = tf.debugging.Assert(
            tf.reduce_all(ids >= 0),
            ["ClassLabelEncoder: unknown class labels. Received: labels=",
             tf.boolean_mask(strings, ids < 0)], summarize=10)
        with tf.control_dependencies([check]):
            ids = tf.identity(ids)
        return tf.RaggedTensor.from_tensor(ids[:, tf.newaxis])

    def decode_tf(self, ids):
        """Ids [B, L] -> the [B] labels of the first column; 1-D ids -> a scalar."""
        if isinstance(ids, tf.RaggedTensor):
            ids = ids.to_tensor()
        ids = tf.cast(tf.convert_to_tensor(ids), tf.int32)
        if ids.shape.rank == 1:
            return tf.gather(self._labels, ids[0])
        if ids.shape.rank != 2:
            raise ValueError(f"decode_tf takes 1-D or 2-D ids. Received: ids.shape={ids.shape}")
        return tf.gather(self._labels, ids[:, 0])
