"""Checkpoints hold every model variable, including layers kept in lists."""

import numpy as np
import pytest
import tensorflow as tf

from t2t_multimodel import registry
from t2t_multimodel.errors import T2TError
from t2t_multimodel.problem_hparams import ProblemHParams
from t2t_multimodel.training import checkpoints

PROBLEM = ProblemHParams(modality={"inputs": "symbol", "targets": "symbol"},
                         vocab_size={"inputs": 7, "targets": 7})
FEATURES = {"inputs": tf.constant([[3, 4, 5, 1]]), "targets": tf.constant([[5, 4, 3, 1]]),
            "target_space_id": tf.constant([0])}


def build(**overrides):
    hparams = registry.hparams("transformer_tiny")().override_from_dict(
        dict(hidden_size=16, filter_size=32, num_heads=2, **overrides))
    model = registry.model("transformer")(hparams, PROBLEM)
    model(FEATURES)
    return model


def test_round_trip_restores_every_variable(tmp_path):
    model = build()
    assert any("encoder_layer_1" in key for key in checkpoints.model_variables(model))
    path = checkpoints.make_checkpoint(model).save(str(tmp_path / "ckpt"))
    fresh = build()  # a second model in the process: its Keras name is transformer_1
    assert not np.allclose(fresh(FEATURES), model(FEATURES))
    checkpoints.restore_model(fresh, path)
    for a, b in zip(model.weights, fresh.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    np.testing.assert_allclose(fresh(FEATURES), model(FEATURES), rtol=1e-6)


def test_other_architecture_is_a_clear_error(tmp_path):
    path = checkpoints.make_checkpoint(build()).save(str(tmp_path / "ckpt"))
    with pytest.raises(T2TError, match="does not hold this model's variables"):
        checkpoints.restore_model(build(num_hidden_layers=3), path)
