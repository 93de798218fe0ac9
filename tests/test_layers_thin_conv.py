"""ThinConv2D: Conv2D's outputs and gradients (to float rounding), its weights and config.

No timing is asserted (benchmarks/vs_reference.py measures the speed).
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

from i2i.layers import ThinConv2D
from i2i.layers.thin_conv import thin_conv2d


def twins(filters, kernel, **kwargs):
    """A Conv2D and a ThinConv2D with the same weights, on (13, 11, 5) inputs."""
    inputs = keras.Input((13, 11, 5))
    plain = keras.Model(inputs, keras.layers.Conv2D(filters, kernel, name="c", **kwargs)(inputs))
    thin = keras.Model(inputs, ThinConv2D(filters, kernel, name="c", **kwargs)(inputs))
    rng = np.random.default_rng(0)
    thin.set_weights([rng.normal(size=w.shape).astype("float32") for w in thin.get_weights()])
    plain.set_weights(thin.get_weights())
    return plain, thin


def gradients(model, x, upstream, training=True):
    x = tf.convert_to_tensor(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = model(x, training=training)
        loss = tf.reduce_sum(tf.cast(y, tf.float32) * upstream)
    return [y, *tape.gradient(loss, [x, *model.trainable_variables])]


@pytest.mark.parametrize(
    "filters, kernel, kwargs",
    [
        (3, 7, {"padding": "valid"}),
        (3, (5, 3), {"padding": "same", "activation": "tanh"}),
        (1, 4, {"padding": "valid", "use_bias": False}),
        (16, 3, {"padding": "same"}),
    ],
)
def test_same_outputs_and_gradients_as_conv2d(filters, kernel, kwargs):
    plain, thin = twins(filters, kernel, **kwargs)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 13, 11, 5)).astype("float32")
    y = plain(x)
    upstream = tf.constant(rng.normal(size=y.shape).astype("float32"))
    assert thin.get_layer("c")._thin()
    for expected, got in zip(
        gradients(plain, x, upstream), gradients(thin, x, upstream), strict=True
    ):
        scale = float(np.abs(expected).max())
        np.testing.assert_allclose(got, expected, atol=2e-5 * scale, rtol=0)
    # Inference is Conv2D's own op: bit for bit.
    np.testing.assert_array_equal(thin(x, training=False), y)


def test_matmul_gradient_is_used_in_training_only_where_it_pays():
    @tf.function
    def gradient_ops(layer, training):
        x = tf.ones((1, 12, 12, 4))
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=training)
        return tape.gradient(y, x)

    def op_types(layer, training):
        layer(tf.ones((1, 12, 12, 4)))  # its variables, outside the tf.function
        graph = gradient_ops.get_concrete_function(layer, training).graph
        return {op.type for op in graph.get_operations()}

    thin = ThinConv2D(3, 5, padding="same")
    assert "Conv2DBackpropInput" not in op_types(thin, True)  # the matmul gradient
    assert "Conv2DBackpropInput" in op_types(thin, False)
    for wide in (ThinConv2D(32, 3), ThinConv2D(3, 3, strides=2), ThinConv2D(3, 3, dilation_rate=2)):
        assert not wide._thin()
        assert "Conv2DBackpropInput" in op_types(wide, True)


def test_weights_and_config_are_conv2d_ones_and_it_saves_in_safe_mode(tmp_path):
    plain, thin = twins(3, 7, padding="valid")
    assert [w.path for w in thin.weights] == [w.path for w in plain.weights]
    config = thin.get_layer("c").get_config()
    assert config == {**plain.get_layer("c").get_config()}
    path = tmp_path / "thin.keras"
    thin.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert type(loaded.get_layer("c")) is ThinConv2D
    x = np.random.default_rng(2).normal(size=(1, 13, 11, 5)).astype("float32")
    np.testing.assert_array_equal(loaded(x), plain(x))


def test_mixed_float16_gradients_agree_with_float32():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 13, 11, 5)).astype("float32")
    plain, thin = twins(3, 7, padding="valid")
    mixed_input = keras.Input((13, 11, 5))
    layer = ThinConv2D(3, 7, name="c", dtype="mixed_float16")
    mixed = keras.Model(mixed_input, layer(mixed_input))
    mixed.set_weights(thin.get_weights())
    upstream = tf.constant(rng.normal(size=(2, 7, 5, 3)).astype("float32"))
    expected = gradients(plain, x, upstream)
    got = gradients(mixed, x.astype("float16"), upstream)
    assert got[0].dtype == tf.float16
    for e, g in zip(expected[2:], got[2:], strict=True):  # the weight gradients (float32)
        np.testing.assert_allclose(g, e, atol=1e-2 * float(np.abs(e).max()), rtol=0)


def test_refuses_other_padding():
    with pytest.raises(ValueError, match="padding"):
        thin_conv2d(tf.ones((1, 8, 8, 2)), tf.ones((3, 3, 2, 1)), padding="causal")


def image_net(last_layer, seed, channels):
    """Conv2D -> 8, then `last_layer` 8 -> 3 (the shape of a generator's image output)."""
    inputs = keras.Input((None, None, channels))
    x = keras.layers.Conv2D(8, 3, padding="same", name="body")(inputs)
    model = keras.Model(inputs, last_layer(3, 3, padding="same", name="output_conv")(x))
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(size=w.shape).astype("float32") for w in model.get_weights()])
    return model


class TwoNets(keras.Model):
    """Two networks as attributes, as a GAN model holds its generator and discriminator."""

    def __init__(self, last_layer, seed):
        super().__init__()
        self.generator = image_net(last_layer, seed, 5)
        self.discriminator = image_net(last_layer, seed + 1, 3)
        self(np.zeros((1, 4, 4, 5), "float32"))  # built, so it saves

    def call(self, x):
        return self.discriminator(self.generator(x))


def test_checkpoints_written_with_conv2d_load_into_thinconv2d(tmp_path):
    """Keras addresses layers in a weights file by class (`conv2d_1`), so a run written
    before the image outputs became ThinConv2D is only resumable through the fallback."""
    from i2i import checkpoint

    old = TwoNets(keras.layers.Conv2D, seed=0)
    old.save_weights(tmp_path / "old.weights.h5")
    new = TwoNets(ThinConv2D, seed=10)
    with pytest.raises(ValueError):
        new.load_weights(tmp_path / "old.weights.h5")  # what Keras alone does

    checkpoint.load_weights(new, tmp_path / "old.weights.h5")
    for ours, theirs in zip(new.get_weights(), old.get_weights(), strict=True):
        np.testing.assert_array_equal(ours, theirs)
    assert type(new.generator.get_layer("output_conv")) is ThinConv2D  # no longer posing

    # A file of the current layout loads directly; one of neither layout is refused with
    # the current layout's error.
    new.save_weights(tmp_path / "new.weights.h5")
    checkpoint.load_weights(TwoNets(ThinConv2D, seed=20), tmp_path / "new.weights.h5")
    inputs = keras.Input((None, None, 5))
    other = keras.Model(inputs, keras.layers.Conv2D(4, 1, name="other")(inputs))
    other.save_weights(tmp_path / "other.weights.h5")
    with pytest.raises(ValueError) as direct:
        new.load_weights(tmp_path / "other.weights.h5")
    with pytest.raises(ValueError) as ours:
        checkpoint.load_weights(new, tmp_path / "other.weights.h5")
    assert str(ours.value) == str(direct.value)
