"""T2T's text file iterators, used by problems' `generate_samples`.

Re-exported by `t2t_multimodel.text_problems` under T2T's names.
"""

import tensorflow as tf

from t2t_multimodel.errors import DataError


def txt_line_iterator(txt_path):
    """Yields the lines of a text file, stripped; a missing file is a `DataError`."""
    if not tf.io.gfile.exists(txt_path):
        raise DataError(f"data file {txt_path} does not exist: put it there or fix the path. "
                        f"Received: txt_path={txt_path}")
    with tf.io.gfile.GFile(txt_path) as f:
        for line in f:
            yield line.strip()


def _zip_lines(first_path, second_path):
    missing = object()
    first, second = txt_line_iterator(first_path), txt_line_iterator(second_path)
    while True:
        a, b = next(first, missing), next(second, missing)
        if a is missing and b is missing:
            return
        if a is missing or b is missing:
            raise DataError(f"the files have different numbers of lines. "
                            f"Received: paths=({first_path}, {second_path})")
        yield a, b


def text2text_txt_iterator(source_txt_path, target_txt_path):
    """Yields `{"inputs", "targets"}` from parallel files, line by line."""
    for inputs, targets in _zip_lines(source_txt_path, target_txt_path):
        yield {"inputs": inputs, "targets": targets}


def text2text_txt_tab_iterator(txt_path):
    """Yields `{"inputs", "targets"}` from `inputs<TAB>targets` lines.

    Lines without a tab are skipped (as in T2T).
    """
    for line in txt_line_iterator(txt_path):
        if line and "\t" in line:
            inputs, targets = line.split("\t", 1)
            yield {"inputs": inputs.strip(), "targets": targets.strip()}


def text2self_txt_iterator(txt_path):
    """Yields `{"targets": line}` for each line."""
    for line in txt_line_iterator(txt_path):
        yield {"targets": line}


def text2class_txt_iterator(source_txt_path, label_txt_path, class_strs=None):
    """Yields `{"inputs", "label"}` from a text file and a label file.

    Args:
        source_txt_path: str. One input text per line.
        label_txt_path: str. One label per line: an int, or one of `class_strs`.
        class_strs: list of str or None. Label names, in id order.
    """
    ids = {s: i for i, s in enumerate(class_strs)} if class_strs else None
    for inputs, label in _zip_lines(source_txt_path, label_txt_path):
        if ids is not None:
            if label not in ids:
                raise DataError(f"unknown label in {label_txt_path}; the labels are "
                                f"{list(class_strs)}. Received: label={label!r}")
            label_id = ids[label]
        else:
            try:
                label_id = int(label)
            except ValueError as e:
                raise DataError(f"labels in {label_txt_path} must be ints (or pass "
                                f"class_strs). Received: label={label!r}") from e
        yield {"inputs": inputs, "label": label_id}
