"""The compiled train step: XLA (`xla_compile`) computes the same updates, and refuses
what it cannot compile."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import t2t_multimodel.hparams  # noqa: F401 (registers the sets)
from t2t_multimodel import registry
from t2t_multimodel.errors import T2TError
from t2t_multimodel.training import optimizers, steps

PROBLEM_HPARAMS = {"modality": {"inputs": "symbol", "targets": "symbol"},
                   "vocab_size": {"inputs": 12, "targets": 12}, "target_space_id": 4}


def _reverse_batches(count, batch=8, length=6, seed=0):
    """Reverse a sequence of digits 2..11 (0 is padding, 1 EOS): real, learnable pairs."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        inputs = rng.integers(2, 12, size=(batch, length)).astype("int32")
        targets = np.concatenate([inputs[:, ::-1], np.ones((batch, 1), "int32")], axis=1)
        out.append({"inputs": tf.constant(inputs), "targets": tf.constant(targets),
                    "target_space_id": tf.fill([batch], 4)})
    return out


def _train(model_name, hparams_set, overrides, batches, jit_compile):
    hparams = registry.hparams(hparams_set)()
    hparams.parse(overrides)
    keras.utils.set_random_seed(hparams.seed)
    model = registry.model(model_name)(hparams, PROBLEM_HPARAMS)
    model(batches[0], training=False)
    optimizer = optimizers.from_hparams(hparams)
    optimizer.build(model.trainable_variables)
    spec = {k: tf.TensorSpec(v.shape, v.dtype) for k, v in batches[0].items()}
    step = steps.make_train_step(model, optimizer, tf.Variable(0, dtype=tf.int64), spec,
                                 jit_compile=jit_compile)
    return [float(step(b)["loss"]) for b in batches], model


TRANSFORMER = ("hidden_size=32,filter_size=64,num_heads=2,num_hidden_layers=1,dropout=0.0,"
               "attention_dropout=0.0,relu_dropout=0.0,learning_rate_schedule=constant,"
               "learning_rate=0.01")


def test_xla_step_computes_the_same_updates_and_learns():
    batches = _reverse_batches(30)
    plain, plain_model = _train("transformer", "transformer_tiny", TRANSFORMER, batches, False)
    xla, xla_model = _train("transformer", "transformer_tiny", TRANSFORMER, batches, True)
    np.testing.assert_allclose(xla[:5], plain[:5], rtol=1e-3)
    assert xla[-1] < 0.7 * xla[0], xla
    for a, b in zip(xla_model.trainable_weights[:3], plain_model.trainable_weights[:3],
                    strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-3)


def test_xla_refuses_the_mixture_of_experts():
    batches = _reverse_batches(1)
    with pytest.raises(T2TError, match=r"cannot compile layer '.*moe.*' \(MixtureOfExperts\): "
                                       r"its shapes depend on the data\. Set xla_compile=false "
                                       r"\(or use_moe=false\)\. Received: xla_compile=True"):
        _train("multimodel", "multimodel_tiny", "", batches, True)
