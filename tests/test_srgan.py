"""i2i.gans.srgan: SRGAN on the shared GAN core (contract, content loss, EMA)."""

import json
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from gan_contract import check_gan_contract

from i2i import registry
from i2i.data import sr
from i2i.gans.srgan import (
    SRGAN,
    VGG54_WEIGHT,
    ContentLossFallbackWarning,
    build_srgan,
)
from i2i.losses import VGG19_NOTOP_FILE, PerceptualLoss, l1_loss
from i2i.nets.sr_discriminator import sr_discriminator
from i2i.nets.srresnet import srresnet

SCALE = 2


def tiny_generator():
    return srresnet(scale=SCALE, num_blocks=1, filters=8)


def tiny_discriminator():
    return sr_discriminator(filters=4, depth=2, dense_units=8)


def make_tiny(content="l1", ema_decay=0.0, compile=True, **kwargs):
    model = build_srgan(
        tiny_generator(),
        tiny_discriminator(),
        content=content,
        ema_decay=ema_decay,
        seed=0,
        **kwargs,
    )
    if compile:
        model.compile(
            generator_optimizer="auto" if ema_decay else keras.optimizers.Adam(1e-3),
            discriminator_optimizer=keras.optimizers.Adam(1e-3),
        )
    return model


@pytest.fixture(scope="module")
def batch(photos):
    """Two real 16x16 HR crops and their MATLAB-bicubic x2 LR images, in [0, 1]."""
    hr = [photos["astronaut"][100:116, 200:216], photos["coffee"][150:166, 300:316]]
    lr = [sr.downsample(image, SCALE) for image in hr]
    return {
        "lr": np.stack(lr).astype(np.float32) / 255.0,
        "hr": np.stack(hr).astype(np.float32) / 255.0,
    }


@pytest.fixture
def no_vgg_weights(tmp_path, monkeypatch):
    """A machine without the VGG19 ImageNet weights file (as in tests/test_losses.py)."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    if (Path("/tmp/.keras/models") / VGG19_NOTOP_FILE).exists():
        pytest.skip("VGG19 weights are in /tmp/.keras/models on this machine")


def test_meets_the_gan_contract(batch, tmp_path):
    # With EMA on: its averages live in the generator optimizer, so the contract's
    # checkpoint check covers them too.
    check_gan_contract(lambda: make_tiny(ema_decay=0.9), batch, tmp_path)


def test_generator_updated_first_and_terms_weighted(batch):
    model = make_tiny()
    assert not model.discriminator_first
    assert model.default_optimizer == {"learning_rate": 1e-4, "beta_1": 0.9, "beta_2": 0.999}
    assert model.loss_names == ("g_content", "g_adv", "d_adv")
    sr_images = model.generator(batch["lr"])
    terms = model.generator_losses(batch, sr_images)
    np.testing.assert_allclose(float(terms["g_content"]), float(l1_loss(batch["hr"], sr_images)))
    logits = model.discriminator(sr_images, training=True)  # as in the step (batch norm)
    expected_adv = 1e-3 * float(model.gan_loss.generator(logits))
    np.testing.assert_allclose(float(terms["g_adv"]), expected_adv, rtol=1e-5)


def test_vgg54_content_loss(batch):
    keras.utils.set_random_seed(0)
    # Random VGG19 weights stand in for ImageNet ones (nothing is downloaded).
    model = make_tiny(content="vgg54", vgg_weights=None)
    assert model.content == "vgg54" and "VGG54" in model.content_note
    sr_images = model.generator(batch["lr"])
    reference = PerceptualLoss("block5_conv4", weights=None, input_range=(0, 1), criterion="l2")
    reference.model.set_weights(model._perceptual.value.model.get_weights())
    expected = VGG54_WEIGHT * float(reference(batch["hr"], sr_images))
    got = float(model.generator_losses(batch, sr_images)["g_content"])
    np.testing.assert_allclose(got, expected, rtol=1e-4)
    history = model.fit(tf.data.Dataset.from_tensors(batch), verbose=0).history
    assert np.isfinite(history["g_content"][-1])
    # The VGG is not part of the model's weights (never checkpointed or exported).
    assert len(model.weights) == len(make_tiny().weights)


def test_l1_fallback_warning_without_vgg_weights(no_vgg_weights):
    with pytest.warns(ContentLossFallbackWarning, match="L1 instead of VGG54"):
        model = make_tiny(content="auto")
    assert model.content == "l1" and VGG19_NOTOP_FILE in model.content_note
    # Explicit VGG54 without the weights is an error, not a silent fallback.
    from i2i.losses import VGGWeightsNotFoundError

    with pytest.raises(VGGWeightsNotFoundError):
        make_tiny(content="vgg54")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert make_tiny(content="l1").content == "l1"


def test_ema_tracks_the_generator(batch):
    model = make_tiny(ema_decay=0.5)
    assert model.evaluation_generator() is model.generator  # before any update
    start = [w.numpy().copy() for w in model.generator.trainable_weights]
    data = tf.data.Dataset.from_tensors(batch).repeat(3)
    model.fit(data, verbose=0)
    ema = model.evaluation_generator()
    assert ema is not model.generator and ema.name == model.generator.name
    now = [w.numpy() for w in model.generator.trainable_weights]
    averaged = [w.numpy() for w in ema.trainable_weights]
    # After 3 steps with momentum 0.5 the average lies between the start and now.
    moved = [i for i, (a, b) in enumerate(zip(start, now, strict=True)) if not np.allclose(a, b)]
    assert moved
    for i in moved[:3]:
        assert not np.allclose(averaged[i], now[i])
    # Non-trainable weights (batch-norm statistics) are the generator's own.
    for a, b in zip(ema.non_trainable_weights, model.generator.non_trainable_weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    x = batch["lr"]
    assert not np.allclose(ema(x), model.generator(x))


def test_ema_needs_an_ema_optimizer():
    model = make_tiny(ema_decay=0.9, compile=False)
    with pytest.raises(ValueError, match="use_ema=True"):
        model.compile(generator_optimizer=keras.optimizers.Adam(1e-4))


def test_config_is_json_and_registered():
    model = make_tiny(ema_decay=0.9)
    config = json.loads(json.dumps(model.get_config()))
    assert config["content"] == "l1" and config["ema_decay"] == 0.9
    assert config["adversarial_weight"] == 1e-3
    assert registry.resolve(registry.GANS, "srgan") is SRGAN
