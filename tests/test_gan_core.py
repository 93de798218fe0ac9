"""GANModel: the shared train_step, its hooks, compile, config and the model contract."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
from gan_contract import check_gan_contract
from tiny_gan import TinyGAN, TinyOptions, make_tiny_gan, tiny_arrays

from i2i.gans.gan_model import GANModel


def tiny_batch(count=4):
    source, target = tiny_arrays(count)
    return {"source": source, "target": target}


def repeat(batch, steps):
    return tf.data.Dataset.from_tensors(batch).repeat(steps)


@pytest.mark.parametrize("gan_mode", ["lsgan", "wgan-gp"])
def test_tiny_gan_meets_the_contract(tmp_path, gan_mode):
    options = TinyOptions(gan_mode=gan_mode, n_critic=2 if gan_mode == "wgan-gp" else 1)
    check_gan_contract(lambda: make_tiny_gan(options), tiny_batch(), tmp_path)


def test_auto_optimizers_use_paper_defaults():
    model = make_tiny_gan(compile=False)
    model.compile()
    for optimizer in model.optimizers:
        assert isinstance(optimizer, keras.optimizers.Adam)
        assert math.isclose(float(optimizer.learning_rate), 2e-4, rel_tol=1e-6)
        assert optimizer.beta_1 == 0.5 and optimizer.beta_2 == 0.999
    assert model.jit_compile is False  # pinned, not Keras' "auto"
    with pytest.raises(ValueError, match="loss="):
        model.compile(loss="mae")


def test_mixed_float16_wraps_both_optimizers_and_keeps_losses_float32():
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = make_tiny_gan()
    finally:
        keras.config.set_dtype_policy("float32")
    assert all(isinstance(o, keras.optimizers.LossScaleOptimizer) for o in model.optimizers)
    logs = model.fit(repeat(tiny_batch(), 3), epochs=1, verbose=0).history
    assert all(math.isfinite(v[-1]) for v in logs.values())
    assert model.generator.layers[1].compute_dtype == "float16"
    assert model.predict(tiny_batch()["source"], verbose=0).dtype == np.float32


class Recorder(TinyGAN):
    """Records at which point of the step each loss hook ran (a variable-backed clock)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.clock = tf.Variable(0, trainable=False)
        self.g_at = tf.Variable(0, trainable=False)
        self.d_at = tf.Variable(0, trainable=False)

    def generator_losses(self, batch, fake):
        self.clock.assign_add(1)
        self.g_at.assign(self.clock)
        return super().generator_losses(batch, fake)

    def discriminator_losses(self, batch, fake):
        self.clock.assign_add(1)
        self.d_at.assign(self.clock)
        return super().discriminator_losses(batch, fake)


@pytest.mark.parametrize("discriminator_first", [True, False])
def test_update_order_follows_discriminator_first(discriminator_first):
    from tiny_gan import tiny_discriminator, tiny_generator

    cls = type("Ordered", (Recorder,), {"discriminator_first": discriminator_first})
    model = cls(tiny_generator(), tiny_discriminator())
    model.compile()
    model.fit(repeat(tiny_batch(), 1), epochs=1, verbose=0)
    assert (int(model.d_at) < int(model.g_at)) == discriminator_first


def test_n_critic_discriminator_steps_per_generator_step():
    model = make_tiny_gan(TinyOptions(gan_mode="wgan-gp", n_critic=3))
    model.fit(repeat(tiny_batch(), 2), epochs=1, verbose=0)
    assert int(model.generator_optimizer.iterations) == 2
    assert int(model.discriminator_optimizer.iterations) == 6


def test_call_predict_and_evaluate_use_the_generator():
    model = make_tiny_gan()
    batch = tiny_batch()
    np.testing.assert_allclose(
        model.predict(batch["source"], verbose=0),
        model.generator.predict(batch["source"], verbose=0),
        atol=1e-6,
    )
    results = model.evaluate(repeat(batch, 2), verbose=0, return_dict=True)
    assert set(results) == {"g_loss", "g_gan", "g_l1"}  # generator side only


def test_the_gan_learns_the_mapping():
    model = make_tiny_gan(TinyOptions(lr=2e-3))
    source, target = tiny_arrays()
    before = np.mean(np.abs(model.predict(source, verbose=0) - target))
    data = tf.data.Dataset.from_tensor_slices({"source": source, "target": target})
    model.fit(data.repeat().batch(8), steps_per_epoch=100, epochs=1, verbose=0)
    after = np.mean(np.abs(model.predict(source, verbose=0) - target))
    assert after < 0.7 * before


def test_hooks_must_return_declared_terms():
    class Wrong(TinyGAN):
        def generator_losses(self, batch, fake):
            return {"undeclared": keras.ops.mean(fake)}

    from tiny_gan import tiny_discriminator, tiny_generator

    model = Wrong(tiny_generator(), tiny_discriminator())
    model.compile()
    with pytest.raises(KeyError, match="undeclared"):
        model.fit(repeat(tiny_batch(), 1), epochs=1, verbose=0)
    assert issubclass(Wrong, GANModel)
