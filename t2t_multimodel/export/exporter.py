"""Writes a SavedModel that decodes raw text with no project code needed."""

import os
import shutil

import tensorflow as tf

from t2t_multimodel.decoding.decoder import serving_module


def export(run, export_dir, dhp):
    """Saves `ServingModule(run)` with `serving_default` and `decode` signatures.

    Written to a temporary directory beside `export_dir`, then moved into
    place, so a reader never sees a half-written SavedModel.
    """
    module = serving_module(run, dhp)
    signatures = module.signatures()
    parent = os.path.dirname(os.path.abspath(export_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".tmp-{os.getpid()}-{os.path.basename(export_dir)}")
    if os.path.exists(tmp):
        shutil.rmtree(tmp)
    tf.saved_model.save(module, tmp, signatures=signatures)
    if os.path.exists(export_dir):
        shutil.rmtree(export_dir)
    os.replace(tmp, export_dir)
    return export_dir
