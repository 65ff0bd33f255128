"""FusedAdam / FusedAdamW: Keras's Adam math in one kernel per variable."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from t2t_multimodel.training import optimizers


def _model(seed):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input([3], dtype="int32")
    x = keras.layers.Embedding(11, 6)(inputs)  # an IndexedSlices gradient
    x = keras.layers.Dense(5, activation="tanh")(x)
    return keras.Model(inputs, keras.layers.Dense(4)(x))


def _train(optimizer, compiled, steps=4):
    model = _model(0)
    optimizer.build(model.trainable_variables)
    data = np.random.default_rng(1).integers(0, 11, size=(steps, 2, 3)).astype("int32")

    def step(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(model(x) - 0.5))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)

    step = tf.function(step) if compiled else step
    for x in data:
        step(tf.constant(x))
    return [v.numpy() for v in model.trainable_variables + optimizer.variables]


@pytest.mark.parametrize("compiled", [False, True])
@pytest.mark.parametrize("fused_cls, keras_cls, kwargs", [
    (optimizers.FusedAdam, keras.optimizers.Adam, {}),
    (optimizers.FusedAdamW, keras.optimizers.AdamW, {"weight_decay": 0.1}),
])
def test_fused_update_matches_keras(fused_cls, keras_cls, kwargs, compiled):
    args = dict(learning_rate=0.05, beta_1=0.8, beta_2=0.95, epsilon=1e-6, **kwargs)
    fused = _train(fused_cls(**args), compiled)
    reference = _train(keras_cls(**args), compiled)
    assert len(fused) == len(reference)
    for a, b in zip(fused, reference, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_fused_update_traces_few_ops_per_variable():
    # The point of fusing: Keras's Adam traces ~40 ops per variable, which
    # made the train steps of a mixture under MirroredStrategy slow to build.
    model = _model(0)
    variables = model.trainable_variables

    def count_ops(optimizer):
        optimizer.build(variables)
        grads = [tf.TensorSpec(v.shape, v.dtype) for v in variables]
        apply = tf.function(lambda *g: optimizer.apply(list(g), variables))
        return len(apply.get_concrete_function(*grads).graph.get_operations())

    fused = count_ops(optimizers.FusedAdam(0.01))
    reference = count_ops(keras.optimizers.Adam(0.01))
    assert fused < 12 * len(variables) < reference, (fused, reference)


def test_checkpoint_of_keras_adam_restores_into_fused_adam(tmp_path):
    # Runs checkpointed before the fused update resume with their slots.
    def build(optimizer):
        model = _model(0)
        optimizer.build(model.trainable_variables)
        return model, optimizer

    model, old = build(keras.optimizers.Adam(0.01))
    for i, v in enumerate(old.variables):
        v.assign(tf.fill(v.shape, float(i + 1)))
    path = tf.train.Checkpoint(optimizer=old).save(str(tmp_path / "ckpt"))
    model, new = build(optimizers.FusedAdam(0.01, name="adam"))
    tf.train.Checkpoint(optimizer=new).restore(path).assert_consumed()
    for i, v in enumerate(new.variables):
        np.testing.assert_array_equal(v.numpy(), np.full(v.shape, float(i + 1)))
