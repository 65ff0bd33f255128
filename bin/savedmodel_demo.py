"""Decodes held-out examples with exported SavedModels, without this package.

Run as `python -I bin/savedmodel_demo.py DATA_DIR EXPORT_ROOT PROBLEM...`
(the demo does): for each problem, loads `EXPORT_ROOT/<problem>` and feeds it
the first dev examples' raw inputs as a user would — text lines, PNG file
bytes or WAV file bytes, read straight from the dev shards — and prints input
→ output → reference. Importing `t2t_multimodel` is refused, so only
`tensorflow` and `tensorflow_text` (which registers the tokenizer ops) serve.
"""

import glob
import os
import sys


class _RefusePackage:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] == "t2t_multimodel":
            raise ImportError("t2t_multimodel is not available in this process")


sys.meta_path.insert(0, _RefusePackage())

import tensorflow as tf  # noqa: E402
import tensorflow_text  # noqa: E402,F401  (registers the tokenizer ops)

# The raw input and reference of each storage format, by feature name.
_FEATURES = {
    "image/encoded": "PNG", "audio/encoded": "WAV", "inputs": "text",
}


def _examples(data_dir, problem, count, labels):
    files = sorted(glob.glob(os.path.join(data_dir, f"{problem}-dev-*")))
    for record in tf.data.TFRecordDataset(files).take(count):
        example = tf.train.Example.FromString(record.numpy())
        features = example.features.feature
        kind = next(k for k in _FEATURES if k in features)
        raw = features[kind].bytes_list.value[0]
        if "targets" in features and features["targets"].bytes_list.value:
            reference = features["targets"].bytes_list.value[0].decode("utf-8")
        elif "image/class/label" in features:  # the SavedModel returns the label's name
            label = features["image/class/label"].int64_list.value[0]
            reference = labels[label] if labels else f"class id {label}"
        else:
            reference = "?"
        yield kind, raw, reference


def main(data_dir, export_root, problems, count=2):
    for problem in problems:
        model = tf.saved_model.load(os.path.join(export_root, problem))
        serve = model.signatures["serving_default"]
        print(f"== {problem} (SavedModel {os.path.join(export_root, problem)})")
        # A classifier's SavedModel lists its labels in id order.
        labels = ([label.decode("utf-8") for label in model.class_labels.numpy()]
                  if hasattr(model, "class_labels") else None)
        for kind, raw, reference in _examples(data_dir, problem, count, labels):
            out = serve(inputs=tf.constant([raw]))
            output = out["outputs"].numpy()[0].decode("utf-8")
            shown = (raw.decode("utf-8") if _FEATURES[kind] == "text"
                     else f"<{_FEATURES[kind]} file, {len(raw)} bytes>")
            print(f"  input:     {shown}\n  output:    {output}\n  reference: {reference}")
    assert "t2t_multimodel" not in sys.modules


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3:])
