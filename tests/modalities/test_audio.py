import numpy as np
import pytest
import tensorflow as tf
from layer_harness import run_layer_test

from t2t_multimodel import registry
from t2t_multimodel.hparams_lib import HParams
from t2t_multimodel.modalities.audio import AudioModality

RNG = np.random.default_rng(0)


def _waveform(samples):
    wave = RNG.uniform(-0.9, 0.9, size=samples).astype("float32")
    wave[-1] = 0.5  # the last sample is real
    return wave


def _frames(samples, steps=2):
    """Real output frames of `samples` real samples at 16 kHz (400 / 160)."""
    frames = max(0, (samples - 400) // 160 + 1)
    for _ in range(steps):
        frames = (frames + 1) // 2
    return frames


def test_layer_harness_one_second_waveform():
    # 1 s at 16 kHz: 1 + (16000 - 400) // 160 = 98 frames -> 49 -> 25.
    out = run_layer_test(AudioModality, {"hidden_size": 8}, RNG.uniform(-1, 1, (2, 16000)),
                         expected_output_shape=(2, 25, 8), expected_num_trainable_weights=27)
    assert np.abs(np.array(out)).min(axis=-1).max() > 0  # no position is zeroed


def test_layer_harness_features():
    run_layer_test(AudioModality, {"hidden_size": 8, "num_mel_bins": 20,
                                   "compression_steps": 3},
                   RNG.normal(size=(2, 30, 20)).astype("float32"),
                   expected_output_shape=(2, 4, 8), expected_num_trainable_weights=41)


def test_registered_as_audio():
    assert registry.Registries.modalities["audio"] is AudioModality
    assert AudioModality.targets_are_sequences is None


def test_int16_waveform_is_scaled():
    modality = AudioModality(hidden_size=8)
    ints = (RNG.uniform(-1, 1, (2, 4000)) * 20000).astype("int16")
    np.testing.assert_allclose(np.array(modality.bottom(ints)),
                               np.array(modality.bottom(ints.astype("float32") / 32768.0)),
                               atol=1e-5)


def test_mask_lengths_and_trailing_zeros():
    modality = AudioModality(hidden_size=8)
    batch = np.zeros((3, 16000), "float32")
    batch[0] = _waveform(16000)
    batch[1, :8000] = _waveform(8000)
    batch[2, :12345] = _waveform(12345)
    batch[2, 12000:12345] = 0.0  # trailing exact zeros count as padding
    mask = np.array(modality.bottom_mask(batch))
    expected = [_frames(16000), _frames(8000), _frames(12000)]
    assert expected == [25, 12, 19]
    np.testing.assert_array_equal(mask, np.arange(25)[None, :] < np.array(expected)[:, None])
    assert mask.shape[1] == modality.bottom(batch).shape[1]
    # Shorter than one frame: no real frame.
    np.testing.assert_array_equal(np.array(modality.bottom_mask(batch[:, :300])), [[0]] * 3)


def test_waveform_padding_invariance():
    """Appending zeros leaves every real output frame as computed unpadded, the last included."""
    modality = AudioModality(hidden_size=16)
    short, long = _waveform(8000), _waveform(12345)
    alone = [np.array(modality.bottom(w[None]))[0] for w in (short, long)]
    batch = np.zeros((2, 16000), "float32")
    batch[0, :8000], batch[1, :12345] = short, long
    out = np.array(modality.bottom(batch))
    mask = np.array(modality.bottom_mask(batch))
    for i, reference in enumerate(alone):
        assert reference.shape[0] == mask[i].sum() == _frames(len(short if i == 0 else long))
        np.testing.assert_allclose(out[i, :len(reference)], reference, atol=1e-4)
        np.testing.assert_array_equal(out[i, len(reference):], 0.0)
    assert np.abs(alone[0]).mean() > 0.1


def test_features_padding_invariance():
    modality = AudioModality(hidden_size=8, num_mel_bins=20)
    features = RNG.normal(size=(1, 13, 20)).astype("float32")
    padded = np.concatenate([features, np.zeros((1, 8, 20), "float32")], axis=1)
    reference = np.array(modality.bottom(features))
    out = np.array(modality.bottom(padded))
    np.testing.assert_array_equal(np.array(modality.bottom_mask(padded)), [[1] * 4 + [0] * 2])
    np.testing.assert_allclose(out[:, :4], reference, atol=1e-4)


def test_unknown_shapes_in_a_graph():
    modality = AudioModality(hidden_size=8)
    fn = tf.function(lambda x: (modality.bottom(x), modality.bottom_mask(x)),
                     input_signature=[tf.TensorSpec([None, None], tf.float32)])
    batch = np.zeros((2, 6000), "float32")
    batch[0], batch[1, :3000] = _waveform(6000), _waveform(3000)
    out, mask = fn(tf.constant(batch))
    np.testing.assert_allclose(out.numpy(), np.array(modality.bottom(batch)), atol=1e-5)
    np.testing.assert_array_equal(mask.numpy().sum(1), [_frames(6000), _frames(3000)])


def test_from_hparams():
    hparams = HParams(hidden_size=12, audio_sample_rate=8000, audio_num_mel_bins=40,
                      audio_compression_steps=3)
    modality = AudioModality.from_hparams(hparams, None, feature="inputs")
    assert (modality.hidden_size, modality.sample_rate, modality.num_mel_bins,
            modality.compression_steps) == (12, 8000, 40, 3)
    default = AudioModality.from_hparams(HParams(hidden_size=12), 0)
    assert (default.sample_rate, default.num_mel_bins, default.compression_steps) == (
        16000, 80, 2)


@pytest.mark.parametrize("kwargs, message", [
    ({"hidden_size": 0}, "Received: hidden_size=0"),
    ({"hidden_size": 8, "sample_rate": 50}, "Received: sample_rate=50"),
    ({"hidden_size": 8, "num_mel_bins": 0}, "Received: num_mel_bins=0"),
    ({"hidden_size": 8, "compression_steps": -1}, "Received: compression_steps=-1"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        AudioModality(**kwargs)


@pytest.mark.parametrize("shape", [(1, 10, 7), (1, 10, 80, 1)])
def test_rejects_other_shapes(shape):
    with pytest.raises(ValueError, match="Received: inputs.shape="):
        AudioModality(hidden_size=8).bottom(np.ones(shape, "float32"))


def test_inputs_only():
    modality = AudioModality(hidden_size=8)
    with pytest.raises(NotImplementedError, match="AudioModality is inputs-only"):
        modality.targets_bottom(np.zeros((1, 800), "float32"))
    with pytest.raises(NotImplementedError, match="AudioModality is inputs-only"):
        modality.top(np.zeros((1, 4, 8), "float32"))
    with pytest.raises(NotImplementedError, match="AudioModality is inputs-only"):
        modality.loss(np.zeros((1, 4, 8), "float32"), np.zeros((1, 4), "int32"))
