import math

import numpy as np
import pytest
from layer_harness import run_layer_test

from t2t_multimodel import registry
from t2t_multimodel.hparams_lib import HParams
from t2t_multimodel.modalities.class_label import ClassLabelModality

RNG = np.random.default_rng(0)


def _random(*shape):
    return RNG.normal(size=shape).astype("float32")


@pytest.mark.parametrize("ids", [np.array([0, 3], "int32"), np.array([[0], [3]], "int32")])
def test_layer_harness(ids):
    run_layer_test(ClassLabelModality, {"vocabulary_size": 5, "hidden_size": 8}, ids,
                   expected_output_shape=(2, 1, 8), expected_num_trainable_weights=1)


def test_registered_as_class_label():
    assert registry.Registries.modalities["class_label"] is ClassLabelModality
    assert ClassLabelModality.targets_are_sequences is False


def test_bottom_scales_by_sqrt_depth_and_keeps_class_zero():
    modality = ClassLabelModality(vocabulary_size=5, hidden_size=16)
    out = np.array(modality.bottom(np.array([0, 3])))
    table = np.array(modality.weights[0])
    assert out.shape == (2, 1, 16)
    np.testing.assert_allclose(out[:, 0], table[[0, 3]] * 4.0, rtol=1e-6)
    assert np.abs(out[0]).sum() > 0
    np.testing.assert_array_equal(np.array(modality.bottom_mask(np.array([[0], [3]]))),
                                  [[1.0], [1.0]])
    targets = np.array(modality.targets_bottom(np.array([[2], [4], [0]])))
    np.testing.assert_array_equal(targets, np.zeros((3, 1, 16)))


def test_each_path_creates_only_its_weights():
    targets_side = ClassLabelModality(vocabulary_size=5, hidden_size=8)
    logits = targets_side.top(_random(2, 4, 8))
    assert logits.dtype == "float32" and tuple(logits.shape) == (2, 1, 5)
    assert len(targets_side.trainable_weights) == 7  # separable conv 3, norm 2, dense 2
    assert not any("embedding" in w.path for w in targets_side.weights)


def test_top_ignores_padded_positions():
    modality = ClassLabelModality(vocabulary_size=5, hidden_size=8)
    body = _random(2, 3, 8)
    reference = np.array(modality.top(body))
    np.testing.assert_allclose(np.array(modality.top(body, np.ones((2, 3)))), reference,
                               rtol=1e-6)
    padded = np.concatenate([body, 100.0 * _random(2, 4, 8)], axis=1)
    mask = np.array([[1] * 3 + [0] * 4] * 2, "float32")
    np.testing.assert_allclose(np.array(modality.top(padded, mask)), reference, atol=1e-5)
    # A real position does matter.
    changed = body.copy()
    changed[:, 1] += 1.0
    assert not np.allclose(np.array(modality.top(changed)), reference, atol=1e-3)


def _reference_loss(logits, targets, smoothing):
    classes = logits.shape[-1]
    confidence, low = 1.0 - smoothing, smoothing / (classes - 1)
    soft = np.full(logits.shape, low)
    soft[np.arange(len(targets)), targets] = confidence
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    normalizing = -(confidence * math.log(confidence)
                    + (classes - 1) * low * math.log(low + 1e-20))
    return (-(soft * log_probs).sum(-1) - normalizing).mean()


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_loss_matches_reference_and_counts_class_zero(smoothing):
    modality = ClassLabelModality(vocabulary_size=4, hidden_size=8)
    logits = _random(4, 1, 4)
    targets = np.array([0, 2, 0, 3], "int32")
    expected = _reference_loss(logits[:, 0].astype("float64"), targets, smoothing)
    for shaped in (targets, targets[:, None]):
        loss = modality.loss(logits, shaped, label_smoothing=smoothing)
        assert loss.dtype == "float32" and loss.shape == ()
        np.testing.assert_allclose(float(loss), expected, rtol=1e-5)
    if smoothing == 0.0:  # plain cross entropy, by hand, over all four examples
        log_softmax = logits[:, 0] - np.log(np.exp(logits[:, 0]).sum(-1, keepdims=True))
        np.testing.assert_allclose(expected, -log_softmax[np.arange(4), targets].mean(),
                                   rtol=1e-6)


def test_loss_of_a_perfect_prediction_is_zero():
    modality = ClassLabelModality(vocabulary_size=3, hidden_size=8)
    logits = np.array([[[50.0, 0.0, 0.0]], [[0.0, 0.0, 50.0]]], "float32")
    assert float(modality.loss(logits, np.array([0, 2]))) == pytest.approx(0.0, abs=1e-6)


def test_from_hparams():
    modality = ClassLabelModality.from_hparams(HParams(hidden_size=12), 7, feature="targets")
    assert (modality.vocabulary_size, modality.hidden_size) == (7, 12)


@pytest.mark.parametrize("kwargs, message", [
    ({"vocabulary_size": 0, "hidden_size": 8}, "Received: vocabulary_size=0"),
    ({"vocabulary_size": 3, "hidden_size": 2.5}, "Received: hidden_size=2.5"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ClassLabelModality(**kwargs)


def test_invalid_label_smoothing():
    modality = ClassLabelModality(vocabulary_size=3, hidden_size=8)
    with pytest.raises(ValueError, match="Received: label_smoothing=1.0"):
        modality.loss(np.zeros((1, 1, 3), "float32"), np.array([0]), label_smoothing=1.0)


def test_two_label_sets_in_one_model_get_distinct_checkpoint_keys():
    # bottom/top are not __call__: without the modality's own name scope the
    # weights of two class-label nets had one path and one checkpoint key.
    import keras

    from t2t_multimodel.training import checkpoints

    class TwoHeads(keras.Model):
        def __init__(self):
            super().__init__()
            self.ten = ClassLabelModality(10, 8, name="class_label_10")
            self.four = ClassLabelModality(4, 8, name="class_label_4")

        def call(self, x):
            return self.ten.top(x), self.four.top(x), self.four.bottom(np.array([1, 2]))

    model = TwoHeads()
    model(np.ones((2, 3, 8), "float32"))
    keys = checkpoints.model_variables(model)
    assert "class_label_10/top_dense/kernel" in keys and "class_label_4/top_dense/kernel" in keys
    assert "class_label_4/embedding/embeddings" in keys
    assert len(keys) == len(model.weights)
