import keras
import numpy as np
import pytest
import tensorflow as tf

from t2t_multimodel import registry
from t2t_multimodel.hparams.transformer import transformer_base, transformer_tiny
from t2t_multimodel.models.t2t_model import T2TModel
from t2t_multimodel.models.transformer import Transformer
from t2t_multimodel.problem_hparams import ProblemHParams

VOCAB = 12
INPUTS = np.array([[4, 5, 6, 7, 1, 0], [3, 8, 1, 0, 0, 0]], "int32")
TARGETS = np.array([[7, 6, 5, 4, 1], [8, 3, 1, 0, 0]], "int32")


def _hparams(**overrides):
    values = dict(hidden_size=16, filter_size=32, num_heads=4, num_hidden_layers=2, dropout=0.0,
                  attention_dropout=0.0, relu_dropout=0.0)
    values.update(overrides)
    return transformer_tiny().override_from_dict(values)


def _problem(inputs_vocab=VOCAB, targets_vocab=VOCAB, **kwargs):
    return ProblemHParams(modality={"inputs": "symbol", "targets": "symbol"},
                          vocab_size={"inputs": inputs_vocab, "targets": targets_vocab},
                          target_space_id=3, **kwargs)


def _model(seed=0, **overrides):
    keras.utils.set_random_seed(seed)
    return Transformer(_hparams(**overrides), _problem())


def _features(inputs=INPUTS, targets=TARGETS):
    return {"inputs": np.asarray(inputs), "targets": np.asarray(targets)}


def test_registered_and_a_t2t_model():
    assert registry.Registries.models["transformer"] is Transformer
    assert issubclass(Transformer, T2TModel)


def test_output_shape_dtype_and_loss():
    model = _model()
    logits = model(_features())
    assert tuple(logits.shape) == (2, 5, VOCAB) and logits.dtype == "float32"
    loss = model.loss(_features(), logits)
    assert loss.shape == () and np.isfinite(float(loss))
    # Inputs and targets share one symbol modality, so one embedding table.
    assert model.input_modality is model.target_modality
    assert sum("embeddings" in w.path and "modality" in w.path for w in model.weights) == 1


def test_loss_multiplier_scales_the_loss():
    keras.utils.set_random_seed(0)
    model = Transformer(_hparams(), _problem(loss_multiplier=2.5))
    logits = model(_features())
    expected = model.target_modality.loss(logits, TARGETS, model.hparams.label_smoothing) * 2.5
    np.testing.assert_allclose(float(model.loss(_features(), logits)), float(expected),
                               rtol=1e-6)


def test_loss_survives_compile():
    model = _model()
    model.compile(optimizer="adam")
    assert callable(model.loss)


def test_causal():
    model = _model()
    logits = np.array(model(_features()))
    changed = TARGETS.copy()
    changed[0, 2] = 9
    new = np.array(model(_features(targets=changed)))
    # Target t feeds the prediction of t + 1: positions <= 2 are unchanged.
    np.testing.assert_allclose(new[0, :3], logits[0, :3], atol=1e-5)
    assert not np.allclose(new[0, 3:], logits[0, 3:])
    np.testing.assert_allclose(new[1], logits[1], atol=1e-5)


def test_padding_does_not_change_real_positions():
    model = _model()
    logits = np.array(model(_features()))
    padded_inputs = np.pad(INPUTS, [[0, 0], [0, 4]])
    padded_targets = np.pad(TARGETS, [[0, 0], [0, 3]])
    padded = np.array(model(_features(padded_inputs, padded_targets)))
    np.testing.assert_allclose(padded[:, :5], logits, atol=1e-5)
    # And the second example alone, without the batch's padding, agrees too.
    alone = np.array(model(_features(INPUTS[1:, :3], TARGETS[1:, :3])))
    np.testing.assert_allclose(alone[0], logits[1, :3], atol=1e-5)


def test_target_space_id_feature():
    model = _model()
    default = np.array(model(_features()))
    explicit = np.array(model({**_features(), "target_space_id": np.array([3, 3], "int32")}))
    np.testing.assert_allclose(explicit, default, atol=1e-6)
    other = np.array(model({**_features(), "target_space_id": np.array([3, 5], "int32")}))
    np.testing.assert_allclose(other[0], default[0], atol=1e-6)
    assert not np.allclose(other[1], default[1])


def _step_logits(model, features, max_length):
    encoded = model.encode(features)
    cache = model.initial_cache(encoded, max_length)
    ids = np.zeros([features["targets"].shape[0]], "int32")
    steps = []
    for index in range(features["targets"].shape[1]):
        logits, cache = model.step(ids, index, cache, encoded)
        steps.append(np.array(logits))
        ids = features["targets"][:, index]
    return np.stack(steps, axis=1)


@pytest.mark.parametrize("shared", [True, False])
def test_cached_incremental_decoding_equals_full_pass(shared):
    model = _model(shared_embedding_and_softmax_weights=shared)
    full = np.array(model(_features()))
    steps = _step_logits(model, _features(), max_length=8)
    assert steps.dtype == np.float32
    np.testing.assert_allclose(steps, full, atol=1e-4)


def test_interface_shapes_are_batch_leading_and_static():
    model = _model()
    encoded = model.encode(_features())
    assert tuple(encoded["encoder_output"].shape) == (2, 6, 16)
    assert tuple(encoded["encoder_padding_mask"].shape) == (2, 6)
    cache = model.initial_cache(encoded, 7)
    assert sorted(cache) == ["layer_0", "layer_1"]
    assert all(tuple(c.shape) == (2, 2, 4, 7, 4) for c in cache.values())  # B, K/V, heads, L
    logits, new_cache = model.step(np.zeros([2], "int32"), 0, cache, encoded)
    assert tuple(logits.shape) == (2, VOCAB)
    assert all(tuple(new_cache[k].shape) == tuple(cache[k].shape) for k in cache)


def test_greedy_loop_in_tf_function_with_dynamic_batch():
    model = _model()
    length = TARGETS.shape[1]
    expected = _step_logits(model, _features(), max_length=length)

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32),
                                  tf.TensorSpec([None, length], tf.int32)])
    def teacher_forced_steps(inputs, targets):
        encoded = model.encode({"inputs": inputs})
        cache = model.initial_cache(encoded, length)
        outputs = tf.TensorArray(tf.float32, size=length)

        def body(i, ids, cache, outputs):
            logits, cache = model.step(ids, i, cache, encoded)
            return i + 1, targets[:, i], cache, outputs.write(i, logits)

        loop_vars = [tf.constant(0), tf.zeros_like(targets[:, 0]), cache, outputs]
        _, _, _, outputs = tf.while_loop(lambda i, *_: i < length, body, loop_vars)
        return tf.transpose(outputs.stack(), [1, 0, 2])

    np.testing.assert_allclose(np.array(teacher_forced_steps(INPUTS, TARGETS)), expected,
                               atol=1e-4)


def test_get_config_round_trip():
    model = _model(shared_embedding_and_softmax_weights=False)
    logits = np.array(model(_features()))
    config = model.get_config()
    revived = Transformer.from_config(config)
    assert revived.get_config() == config
    assert revived.hparams == model.hparams
    revived(_features())
    revived.set_weights(model.get_weights())
    np.testing.assert_allclose(np.array(revived(_features())), logits, atol=1e-6)
    assert [w.path for w in revived.weights] == [w.path for w in model.weights]


def test_weights_are_created_by_build():
    model = _model()
    model.build({"inputs": (None, None), "targets": (None, None)})
    called = _model()
    called(_features())
    assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in called.weights]


def test_decoder_only_problem_raises_a_clear_error():
    problem = ProblemHParams(modality={"targets": "symbol"}, vocab_size={"targets": VOCAB})
    with pytest.raises(ValueError, match="decoder-only problems are not supported"):
        Transformer(_hparams(), problem)


def test_heads_must_divide_hidden_size():
    with pytest.raises(ValueError, match="Received: hidden_size=18, num_heads=4"):
        Transformer(_hparams(hidden_size=18), _problem())


def test_different_vocab_sizes_do_not_share():
    keras.utils.set_random_seed(0)
    model = Transformer(_hparams(), _problem(inputs_vocab=20, targets_vocab=VOCAB))
    logits = model(_features())
    assert tuple(logits.shape) == (2, 5, VOCAB)
    assert model.input_modality is not model.target_modality


def test_hparams_sets():
    base, tiny = transformer_base(), transformer_tiny()
    assert (base.hidden_size, base.filter_size, base.num_heads, base.num_hidden_layers) == (
        512, 2048, 8, 6)
    assert (base.learning_rate, base.learning_rate_schedule, base.learning_rate_warmup_steps,
            base.optimizer_adam_beta2, base.label_smoothing, base.dropout) == (
        1e-3, "rsqrt_decay", 8000, 0.997, 0.1, 0.1)
    assert (tiny.hidden_size, tiny.filter_size, tiny.num_heads, tiny.num_hidden_layers) == (
        128, 512, 4, 2)
    differences = {k for k, v in tiny.values().items() if base.get(k) != v}
    assert differences == {"hidden_size", "filter_size", "num_heads", "num_hidden_layers",
                           "learning_rate", "learning_rate_warmup_steps"}


def _reverse_batch(rng, size, length=8):
    bits = rng.integers(2, 4, size=(size, length)).astype("int32")  # ids 2, 3; 1 = EOS
    eos = np.ones((size, 1), "int32")
    return {"inputs": np.concatenate([bits, eos], 1),
            "targets": np.concatenate([bits[:, ::-1], eos], 1)}


def test_learns_to_reverse_binary_strings():
    keras.utils.set_random_seed(0)
    hparams = _hparams(hidden_size=32, filter_size=64, num_hidden_layers=1, label_smoothing=0.0)
    model = Transformer(hparams, _problem(inputs_vocab=4, targets_vocab=4))
    rng = np.random.default_rng(0)
    optimizer = keras.optimizers.Adam(3e-3)
    model(_reverse_batch(rng, 2))
    optimizer.build(model.trainable_variables)

    @tf.function
    def train_step(features):
        with tf.GradientTape() as tape:
            loss = model.loss(features, model(features, training=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply(grads, model.trainable_variables)
        return loss

    losses = [float(train_step(_reverse_batch(rng, 32))) for _ in range(300)]
    assert np.mean(losses[-10:]) < 0.1 * np.mean(losses[:10]), (losses[:10], losses[-10:])

    # Greedy decoding with the cache reverses held-out strings.
    features = _reverse_batch(np.random.default_rng(1), 16)
    encoded = model.encode(features)
    length = features["targets"].shape[1]
    cache = model.initial_cache(encoded, length)
    ids, decoded = np.zeros([16], "int32"), []
    for index in range(length):
        logits, cache = model.step(ids, index, cache, encoded)
        ids = np.argmax(np.array(logits), -1).astype("int32")
        decoded.append(ids)
    accuracy = np.mean(np.stack(decoded, 1) == features["targets"])
    assert accuracy > 0.95, accuracy
