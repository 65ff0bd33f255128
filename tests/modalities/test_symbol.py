import math

import numpy as np
import pytest
from layer_harness import run_layer_test

from t2t_multimodel import registry
from t2t_multimodel.hparams_lib import HParams
from t2t_multimodel.modalities.symbol import SymbolModality

IDS = np.array([[3, 4, 1, 0], [2, 1, 0, 0]], "int32")


def test_layer_harness():
    run_layer_test(SymbolModality, {"vocabulary_size": 10, "hidden_size": 8}, IDS,
                   expected_output_shape=(2, 4, 8), expected_num_trainable_weights=1)


def test_registered_as_symbol():
    assert registry.Registries.modalities["symbol"] is SymbolModality
    assert SymbolModality.REGISTERED_NAME == "symbol"


def test_bottom_scales_by_sqrt_depth_and_zeroes_padding():
    modality = SymbolModality(vocabulary_size=10, hidden_size=16)
    out = np.array(modality.bottom(IDS))
    table = np.array(modality.embeddings)
    np.testing.assert_allclose(out[0, 0], table[3] * 4.0, rtol=1e-6)
    np.testing.assert_array_equal(out[0, 3], 0.0)
    np.testing.assert_array_equal(out[1, 2:], 0.0)
    np.testing.assert_array_equal(np.array(modality.targets_bottom(IDS)), out)


def test_top_is_tied_to_the_embedding_when_shared():
    modality = SymbolModality(vocabulary_size=10, hidden_size=8)
    x = np.random.default_rng(0).normal(size=(2, 3, 8)).astype("float32")
    logits = modality.top(x)
    assert logits.dtype == "float32" and tuple(logits.shape) == (2, 3, 10)
    np.testing.assert_allclose(np.array(logits), x @ np.array(modality.embeddings).T,
                               rtol=1e-5, atol=1e-5)
    assert len(modality.weights) == 1


def test_separate_softmax_when_not_shared():
    modality = SymbolModality(vocabulary_size=10, hidden_size=8,
                              shared_embedding_and_softmax_weights=False)
    x = np.ones((1, 2, 8), "float32")
    np.testing.assert_allclose(np.array(modality.top(x)),
                               x @ np.array(modality.softmax_weights).T, rtol=1e-5)
    assert len(modality.weights) == 2


def test_from_hparams():
    hparams = HParams(hidden_size=12, shared_embedding_and_softmax_weights=False)
    targets = SymbolModality.from_hparams(hparams, 20, feature="targets")
    assert (targets.vocabulary_size, targets.hidden_size) == (20, 12)
    assert not targets.shared_embedding_and_softmax_weights
    inputs = SymbolModality.from_hparams(hparams, 20, feature="inputs")
    assert inputs.shared_embedding_and_softmax_weights  # no unused softmax table


def _reference_loss(logits, targets, smoothing):
    vocab = logits.shape[-1]
    confidence, low = 1.0 - smoothing, smoothing / (vocab - 1)
    soft = np.full(logits.shape, low)
    np.put_along_axis(soft, targets[..., None], confidence, axis=-1)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    normalizing = -(confidence * math.log(confidence) + (vocab - 1) * low * math.log(low + 1e-20))
    xent = -(soft * log_probs).sum(-1) - normalizing
    weights = (targets != 0).astype("float64")
    return (xent * weights).sum() / weights.sum()


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_loss_matches_reference(smoothing):
    modality = SymbolModality(vocabulary_size=10, hidden_size=8)
    logits = np.random.default_rng(1).normal(size=(2, 4, 10)).astype("float32")
    loss = modality.loss(logits, IDS, label_smoothing=smoothing)
    assert loss.dtype == "float32" and loss.shape == ()
    np.testing.assert_allclose(float(loss), _reference_loss(logits, IDS, smoothing), rtol=1e-5)


def test_loss_ignores_padding_and_is_zero_for_the_smoothed_optimum():
    modality = SymbolModality(vocabulary_size=10, hidden_size=8)
    logits = np.random.default_rng(2).normal(size=(2, 4, 10)).astype("float32")
    changed = logits.copy()
    changed[IDS == 0] = 50.0
    np.testing.assert_allclose(float(modality.loss(changed, IDS, 0.1)),
                               float(modality.loss(logits, IDS, 0.1)), rtol=1e-6)
    # Logits whose softmax is the smoothed target distribution cost 0.
    smoothed = np.full((2, 4, 10), 0.1 / 9)
    np.put_along_axis(smoothed, IDS[..., None], 0.9, axis=-1)
    np.testing.assert_allclose(
        float(modality.loss(np.log(smoothed).astype("float32"), IDS, 0.1)), 0.0, atol=1e-5)
    # All padding gives 0, not NaN.
    assert float(modality.loss(logits, np.zeros_like(IDS), 0.1)) == 0.0


@pytest.mark.parametrize("kwargs, message", [
    ({"vocabulary_size": 0, "hidden_size": 8}, "Received: vocabulary_size=0"),
    ({"vocabulary_size": 10, "hidden_size": 8.0}, "Received: hidden_size=8.0"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SymbolModality(**kwargs)


def test_invalid_label_smoothing():
    modality = SymbolModality(vocabulary_size=10, hidden_size=8)
    with pytest.raises(ValueError, match="Received: label_smoothing=1.0"):
        modality.loss(np.zeros((1, 4, 10), "float32"), IDS[:1], label_smoothing=1.0)
