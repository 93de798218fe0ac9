"""i2i.losses: every loss against values computed by hand in NumPy, float32 throughout."""

from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from i2i import registry
from i2i.losses import (
    VGG19_NOTOP_FILE,
    PerceptualLoss,
    VGGWeightsNotFoundError,
    adversarial_loss,
    gradient_penalty,
    l1_loss,
    l2_loss,
    pixel_loss,
    vgg_preprocess,
)

RNG = np.random.default_rng(1)
REAL = RNG.normal(0.5, 2.0, size=(2, 4, 4, 1)).astype(np.float32)
FAKE = RNG.normal(-0.5, 2.0, size=(2, 4, 4, 1)).astype(np.float32)


@pytest.fixture
def mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    yield
    keras.config.set_dtype_policy(previous)


def bce(logits, label):
    p = 1.0 / (1.0 + np.exp(-logits.astype(np.float64)))
    return float(np.mean(-(label * np.log(p) + (1 - label) * np.log(1 - p))))


def expected_terms(mode, real, fake):
    """(generator, discriminator) from the papers' formulas, in float64 NumPy."""
    real, fake = real.astype(np.float64), fake.astype(np.float64)
    if mode == "vanilla":
        return bce(fake, 1.0), 0.5 * (bce(real, 1.0) + bce(fake, 0.0))
    if mode == "lsgan":
        return np.mean((fake - 1) ** 2), 0.5 * (np.mean((real - 1) ** 2) + np.mean(fake**2))
    if mode == "hinge":
        d = np.mean(np.maximum(0, 1 - real)) + np.mean(np.maximum(0, 1 + fake))
        return -np.mean(fake), d
    if mode == "wgan-gp":
        return -np.mean(fake), np.mean(fake) - np.mean(real)
    raise AssertionError(mode)


# --- adversarial ---------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["vanilla", "lsgan", "hinge", "wgan-gp"])
def test_adversarial_terms_match_numpy(mode):
    loss = adversarial_loss(mode)
    assert loss.name == mode
    g, d = expected_terms(mode, REAL, FAKE)
    np.testing.assert_allclose(float(loss.generator(FAKE)), g, rtol=1e-5)
    np.testing.assert_allclose(float(loss.discriminator(REAL, FAKE)), d, rtol=1e-5)


@pytest.mark.parametrize("mode", ["vanilla", "lsgan", "hinge", "wgan-gp"])
def test_adversarial_terms_are_float32_for_float16_logits(mode, mixed_precision):
    loss = adversarial_loss(mode)
    g = loss.generator(FAKE.astype(np.float16))
    d = loss.discriminator(REAL.astype(np.float16), FAKE.astype(np.float16))
    assert g.dtype == "float32" and d.dtype == "float32"


def test_vanilla_is_stable_for_extreme_logits():
    loss = adversarial_loss("vanilla")
    logits = np.float32([[-200.0, 200.0]])
    np.testing.assert_allclose(float(loss.generator(logits)), 100.0, rtol=1e-6)
    assert np.isfinite(float(loss.discriminator(logits, logits)))


def test_label_smoothing_and_wgan_settings():
    smooth = adversarial_loss("vanilla", real_label=0.9)
    np.testing.assert_allclose(float(smooth.generator(FAKE)), bce(FAKE, 0.9), rtol=1e-5)
    assert adversarial_loss("lsgan").gradient_penalty_weight == 0
    wgan = adversarial_loss("wgan-gp")
    assert (wgan.gradient_penalty_weight, wgan.critic_steps) == (10.0, 5)


def test_adversarial_modes_are_registered():
    assert sorted(registry.ADVERSARIAL_LOSSES) == ["hinge", "lsgan", "vanilla", "wgan-gp"]
    with pytest.raises(KeyError, match="known: hinge, lsgan, vanilla, wgan-gp"):
        adversarial_loss("relativistic")


def quadratic_critic():
    """D(x) = 0.5 * x^2 per pixel (a 1x1 conv of x*x), so grad_x sum(D) = x."""
    inputs = keras.Input((None, None, 1))
    squared = keras.layers.Multiply()([inputs, inputs])
    conv = keras.layers.Conv2D(1, 1, use_bias=False, kernel_initializer="ones")
    outputs = conv(squared)
    conv.kernel.assign(np.full((1, 1, 1, 1), 0.5, np.float32))
    return keras.Model(inputs, outputs)


def test_gradient_penalty_matches_numpy_on_interpolates():
    real = np.zeros((3, 4, 4, 1), np.float32)
    fake = RNG.uniform(0.5, 1.0, size=(3, 4, 4, 1)).astype(np.float32)
    alpha = keras.random.uniform((3, 1, 1, 1), seed=keras.random.SeedGenerator(5)).numpy()
    interpolated = real + alpha * (fake - real)
    norms = np.sqrt((interpolated.astype(np.float64) ** 2).sum(axis=(1, 2, 3)))
    expected = np.mean((norms - 1.0) ** 2)
    got = gradient_penalty(quadratic_critic(), real, fake, seed=keras.random.SeedGenerator(5))
    assert got.dtype == "float32"
    np.testing.assert_allclose(float(got), expected, rtol=1e-5)


def test_gradient_penalty_conditional_trains_the_critic():
    # A linear critic on concat(condition, image): grad wrt the image is w_image per pixel.
    inputs = keras.Input((None, None, 2))
    conv = keras.layers.Conv2D(1, 1, use_bias=False)
    critic = keras.Model(inputs, conv(inputs))
    conv.kernel.assign(np.float32([0.3, -0.2]).reshape(1, 1, 2, 1))
    real = RNG.normal(size=(2, 3, 5, 1)).astype(np.float32)
    fake = RNG.normal(size=(2, 3, 5, 1)).astype(np.float32)
    condition = RNG.normal(size=(2, 3, 5, 1)).astype(np.float32)
    expected = (np.sqrt(15 * 0.2**2) - 1.0) ** 2
    seed = keras.random.SeedGenerator(0)
    with tf.GradientTape() as tape:
        penalty = gradient_penalty(critic, real, fake, seed=seed, condition=condition)
    np.testing.assert_allclose(float(penalty), expected, rtol=1e-5)
    # d/dw_image (sqrt(15 w^2) - 1)^2 = 2 (sqrt(15)|w| - 1) sqrt(15) sign(w)
    gradient = tape.gradient(penalty, conv.kernel).numpy().ravel()
    w_image = -0.2
    expected_gradient = 2 * (np.sqrt(15) * abs(w_image) - 1) * np.sqrt(15) * np.sign(w_image)
    np.testing.assert_allclose(gradient, [0.0, expected_gradient], rtol=1e-4, atol=1e-6)


# --- pixel ---------------------------------------------------------------------------


def test_pixel_losses_match_numpy():
    y_true = RNG.uniform(-1, 1, size=(2, 5, 5, 3)).astype(np.float32)
    y_pred = RNG.uniform(-1, 1, size=(2, 5, 5, 3)).astype(np.float32)
    d = y_pred.astype(np.float64) - y_true
    np.testing.assert_allclose(float(l1_loss(y_true, y_pred)), np.abs(d).mean(), rtol=1e-5)
    np.testing.assert_allclose(float(l2_loss(y_true, y_pred)), (d**2).mean(), rtol=1e-5)
    assert pixel_loss("l2") is l2_loss
    with pytest.raises(ValueError, match="unknown pixel loss 'l3'"):
        pixel_loss("l3")


def test_pixel_losses_are_float32_for_float16_inputs():
    a = np.float16([[1.0, 2.0]])
    b = np.float16([[1.5, 0.0]])
    for loss in (l1_loss, l2_loss):
        assert loss(a, b).dtype == "float32"


# --- perceptual ----------------------------------------------------------------------


@pytest.mark.parametrize("value_range", [(-1.0, 1.0), (0.0, 1.0)])
def test_vgg_preprocess_matches_keras(value_range):
    low, high = value_range
    images = RNG.uniform(low, high, size=(2, 4, 4, 3)).astype(np.float32)
    unit = (images - low) / (high - low)
    expected = keras.applications.vgg19.preprocess_input(unit * 255.0)
    np.testing.assert_allclose(vgg_preprocess(images, value_range), expected, atol=1e-3)


def test_missing_vgg_weights_give_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    keras_tmp = Path("/tmp/.keras/models") / VGG19_NOTOP_FILE
    if keras_tmp.exists():
        pytest.skip(f"{keras_tmp} exists on this machine")
    with pytest.raises(VGGWeightsNotFoundError) as error:
        PerceptualLoss("block1_conv1")
    message = str(error.value)
    assert VGG19_NOTOP_FILE in message and str(tmp_path / "keras" / "models") in message
    assert "\n" not in message
    with pytest.raises(VGGWeightsNotFoundError, match="nowhere.h5: VGG19 weights file not found"):
        PerceptualLoss("block1_conv1", weights=tmp_path / "nowhere.h5")


@pytest.fixture(scope="module")
def random_vgg_loss():
    keras.utils.set_random_seed(0)
    return PerceptualLoss({"block1_conv2": 0.5, "block2_conv1": 2.0}, weights=None)


def test_perceptual_loss_matches_numpy_on_its_features(random_vgg_loss):
    loss = random_vgg_loss
    y_true = RNG.uniform(-1, 1, size=(2, 16, 16, 3)).astype(np.float32)
    y_pred = RNG.uniform(-1, 1, size=(2, 16, 16, 3)).astype(np.float32)

    # NumPy preprocessing ([-1, 1] -> [0, 255], RGB -> BGR, minus the means), then the
    # feature model on its own.
    def numpy_vgg_input(x):
        return ((x + 1.0) * 127.5)[..., ::-1] - np.float32([103.939, 116.779, 123.68])

    true_features = loss.model(numpy_vgg_input(y_true))
    pred_features = loss.model(numpy_vgg_input(y_pred))
    expected = sum(
        weight * np.abs(np.asarray(p, np.float64) - np.asarray(t)).mean()
        for weight, t, p in zip((0.5, 2.0), true_features, pred_features, strict=True)
    )
    got = loss(y_true, y_pred)
    assert got.dtype == "float32"
    np.testing.assert_allclose(float(got), expected, rtol=1e-4)
    assert float(loss(y_true, y_true)) == 0.0
    # The model stops at the deepest requested layer.
    assert loss.model.layers[-1].name == "block2_conv1"


def test_perceptual_loss_gradient_reaches_the_prediction_only(random_vgg_loss):
    y_true = tf.Variable(RNG.uniform(-1, 1, size=(1, 16, 16, 3)).astype(np.float32))
    y_pred = tf.Variable(RNG.uniform(-1, 1, size=(1, 16, 16, 3)).astype(np.float32))
    with tf.GradientTape(persistent=True) as tape:
        value = random_vgg_loss(y_true, y_pred)
    assert tape.gradient(value, y_true) is None
    assert float(tf.reduce_sum(tf.abs(tape.gradient(value, y_pred)))) > 0


def test_perceptual_loss_before_activation_and_l2(mixed_precision):
    keras.utils.set_random_seed(0)
    loss = PerceptualLoss(
        "block1_conv2", weights=None, input_range=(0, 1), criterion="l2", before_activation=True
    )
    assert all(layer.dtype_policy.name == "float32" for layer in loss.model.layers)
    x = RNG.uniform(0, 1, size=(1, 8, 8, 3)).astype(np.float32)
    (features,) = loss.features(x)
    assert features.dtype == "float32" and float(tf.reduce_min(features)) < 0  # before ReLU
    y = x[:, ::-1]
    (other,) = loss.features(y)
    expected = np.mean((np.asarray(other, np.float64) - np.asarray(features)) ** 2)
    np.testing.assert_allclose(float(loss(x, y)), expected, rtol=1e-4)


def test_perceptual_loss_loads_weights_from_the_keras_cache(tmp_path, monkeypatch):
    # Keras' VGG19 notop file is a legacy HDF5 file; write one with known weights.
    keras.utils.set_random_seed(3)
    vgg = keras.applications.VGG19(include_top=False, weights=None)
    models_dir = tmp_path / "keras" / "models"
    models_dir.mkdir(parents=True)
    vgg.save(models_dir / "vgg19.h5")
    (models_dir / "vgg19.h5").rename(models_dir / VGG19_NOTOP_FILE)
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    loss = PerceptualLoss("block1_conv1")
    np.testing.assert_array_equal(
        loss.model.get_layer("block1_conv1").kernel.numpy(),
        vgg.get_layer("block1_conv1").kernel.numpy(),
    )
