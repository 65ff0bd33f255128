import keras
import numpy as np
import pytest
import tensorflow as tf
from layer_harness import run_layer_test

from t2t_multimodel import registry
from t2t_multimodel.hparams_lib import HParams
from t2t_multimodel.modalities.class_label import ClassLabelModality
from t2t_multimodel.modalities.image import ImageModality

RNG = np.random.default_rng(0)


def _images(*shape):
    return RNG.integers(0, 256, size=shape).astype("uint8")


def test_layer_harness_28x28_gray_gives_49_positions():
    run_layer_test(ImageModality, {"hidden_size": 8}, _images(2, 28, 28, 1),
                   expected_output_shape=(2, 49, 8), expected_num_trainable_weights=36)


def test_layer_harness_8x8_rgb_one_step_gives_16_positions():
    run_layer_test(ImageModality, {"hidden_size": 8, "downsample_steps": 1},
                   _images(2, 8, 8, 3).astype("float32"), expected_output_shape=(2, 16, 8),
                   expected_num_trainable_weights=22)


def test_registered_as_image():
    assert registry.Registries.modalities["image"] is ImageModality
    assert ImageModality.targets_are_sequences is None


@pytest.mark.parametrize("height, width, steps, length", [
    (28, 28, 2, 49), (8, 8, 2, 4), (9, 7, 2, 6), (5, 5, 0, 25), (32, 32, 3, 16)])
def test_bottom_mask_matches_bottom(height, width, steps, length):
    modality = ImageModality(hidden_size=4, downsample_steps=steps)
    images = _images(2, height, width, 1)
    assert tuple(modality.bottom(images).shape) == (2, length, 4)
    np.testing.assert_array_equal(np.array(modality.bottom_mask(images)), np.ones((2, length)))
    assert modality.compute_output_shape((2, height, width, 1)) == (2, length, 4)


def test_unknown_sizes_in_a_graph():
    modality = ImageModality(hidden_size=4)
    fn = tf.function(lambda x: (modality.bottom(x), modality.bottom_mask(x)),
                     input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8)])
    out, mask = fn(tf.constant(_images(2, 9, 7, 3)))
    assert tuple(out.shape) == (2, 6, 4) and tuple(mask.shape) == (2, 6)


def test_standardization_ignores_brightness_and_contrast_and_the_batch():
    modality = ImageModality(hidden_size=8)
    images = _images(3, 12, 12, 3)
    out = np.array(modality.bottom(images))
    np.testing.assert_allclose(np.array(modality.bottom(images.astype("float32"))), out)
    changed = images.astype("float32") * 0.5 + 20.0
    np.testing.assert_allclose(np.array(modality.bottom(changed)), out, atol=1e-4)
    np.testing.assert_allclose(np.array(modality.bottom(images[1:2])), out[1:2], atol=1e-5)
    assert not np.allclose(out[0], out[1], atol=1e-3)


def test_from_hparams():
    modality = ImageModality.from_hparams(HParams(hidden_size=12, image_downsample_steps=1),
                                          None, feature="inputs")
    assert (modality.hidden_size, modality.downsample_steps) == (12, 1)
    assert ImageModality.from_hparams(HParams(hidden_size=12), 0).downsample_steps == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"hidden_size": 0}, "Received: hidden_size=0"),
    ({"hidden_size": 8, "downsample_steps": -1}, "Received: downsample_steps=-1"),
])
def test_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ImageModality(**kwargs)


def test_rejects_two_channels():
    with pytest.raises(ValueError, match=r"Received: inputs.shape=\(1, 8, 8, 2\)"):
        ImageModality(hidden_size=8).bottom(_images(1, 8, 8, 2))


def test_inputs_only():
    modality = ImageModality(hidden_size=8)
    with pytest.raises(NotImplementedError, match="ImageModality is inputs-only"):
        modality.targets_bottom(_images(1, 8, 8, 1))
    with pytest.raises(NotImplementedError, match="ImageModality is inputs-only"):
        modality.top(np.zeros((1, 4, 8), "float32"))
    with pytest.raises(NotImplementedError, match="ImageModality is inputs-only"):
        modality.loss(np.zeros((1, 4, 8), "float32"), np.zeros((1, 4), "int32"))


def _bars():
    """32 8x8 images: a bright bar on a dark ground, label 0 horizontal, 1 vertical."""
    images, labels = [], []
    for orientation in (0, 1):
        for position in range(8):
            for brightness in (255, 120):
                image = np.zeros((8, 8), "uint8")
                if orientation == 0:
                    image[position, :] = brightness
                else:
                    image[:, position] = brightness
                images.append(image[:, :, None])
                labels.append(orientation)
    return np.stack(images), np.array(labels, "int32")


def test_image_bottom_and_class_label_top_fit_a_fixed_batch():
    """A capacity and gradient-flow check, not a claim about data.

    `ImageModality.bottom` feeding `ClassLabelModality.top` (with the image's
    mask), trained with Adam for 100 steps on 32 fixed synthetic images of
    horizontal vs vertical bars, must classify all 32 correctly.
    """
    images, labels = _bars()

    class Net(keras.Model):
        def __init__(self):
            super().__init__()
            self.image = ImageModality(hidden_size=16, downsample_steps=1)
            self.label = ClassLabelModality(vocabulary_size=2, hidden_size=16)

        def call(self, x):
            return self.label.top(self.image.bottom(x), self.image.bottom_mask(x))

    keras.utils.set_random_seed(0)
    net = Net()
    net(images)
    optimizer = keras.optimizers.Adam(1e-2)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = net.label.loss(net(x), y)
        grads = tape.gradient(loss, net.trainable_weights)
        optimizer.apply_gradients(zip(grads, net.trainable_weights, strict=True))
        return loss

    first = float(step(images, labels))
    for _ in range(99):
        last = float(step(images, labels))
    predictions = np.argmax(np.array(net(images))[:, 0], axis=-1)
    assert last < first * 0.1, (first, last)
    np.testing.assert_array_equal(predictions, labels)


def test_grey_images_are_their_rgb_copies_and_one_net_takes_both():
    """Grey inputs are repeated to RGB in the graph: a grey image and its RGB
    copy encode identically, and one built net takes grey and RGB images of
    different sizes (problems of a mixture share it)."""
    modality = ImageModality(hidden_size=8, downsample_steps=2)
    grey = _images(2, 28, 28, 1)
    out_grey = np.array(modality.bottom(grey))
    kernel = modality._stem[0][0].kernel
    assert tuple(kernel.shape) == (3, 3, 3, 8)
    np.testing.assert_allclose(np.array(modality.bottom(np.repeat(grey, 3, axis=-1))),
                               out_grey, atol=1e-5)
    rgb = _images(3, 32, 32, 3)
    assert tuple(modality.bottom(rgb).shape) == (3, 64, 8)
    assert tuple(modality.bottom_mask(rgb).shape) == (3, 64)
    assert len(modality.trainable_weights) == 36  # built once, shared by both
    with pytest.raises(ValueError, match=r"Received: inputs.shape=\(1, 8, 8, 2\)"):
        modality.bottom(_images(1, 8, 8, 2))
