"""Upscale2D: UpSampling2D's numbers, traceable for any size, exportable, safe-mode loadable."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from i2i import export
from i2i.layers import Upscale2D
from i2i.nets.srresnet import srresnet

SR_CARD = {"task": "super-resolution", "scale": 2, "value_range": [0.0, 1.0], "stride": 1}


@pytest.mark.parametrize("interpolation", ["bicubic", "bilinear", "nearest"])
@pytest.mark.parametrize("scale", [2, 3, 4])
def test_bit_identical_to_upsampling2d(interpolation, scale):
    rng = np.random.default_rng(scale)
    for shape in [(2, 7, 5, 3), (1, 1, 1, 3), (1, 16, 9, 2)]:
        x = rng.random(shape, dtype=np.float32)
        expected = keras.layers.UpSampling2D(scale, interpolation=interpolation)(x)
        np.testing.assert_array_equal(Upscale2D(scale, interpolation)(x), expected)


def test_traces_for_unknown_sizes_where_upsampling2d_cannot():
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, Upscale2D(4, name="bicubic")(inputs))
    assert model.output_shape == (None, None, None, 3)
    spec = [tf.TensorSpec([None, None, None, 3], tf.float32)]
    traced = tf.function(lambda x: model(x), input_signature=spec)
    x = np.random.default_rng(0).random((1, 5, 6, 3), dtype=np.float32)
    expected = keras.layers.UpSampling2D(4, interpolation="bicubic")(x)
    np.testing.assert_array_equal(traced(x), expected)

    old = keras.Model(inputs, keras.layers.UpSampling2D(4, interpolation="bicubic")(inputs))
    with pytest.raises(Exception, match="symbolic"):
        tf.function(lambda x: old(x), input_signature=spec).get_concrete_function()


def test_safe_mode_round_trip_and_bad_arguments(tmp_path):
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, Upscale2D(3, "bilinear", name="up")(inputs))
    model.save(tmp_path / "up.keras")
    loaded = keras.saving.load_model(tmp_path / "up.keras", safe_mode=True)
    layer = loaded.get_layer("up")
    assert isinstance(layer, Upscale2D) and (layer.scale, layer.interpolation) == (3, "bilinear")
    x = np.random.default_rng(1).random((1, 4, 5, 3), dtype=np.float32)
    np.testing.assert_array_equal(loaded(x), model(x))
    with pytest.raises(ValueError, match="positive integer"):
        Upscale2D(1.5)
    with pytest.raises(ValueError, match="interpolation"):
        Upscale2D(2, "lanczos3")


def _old_style_srresnet(**kwargs):
    """srresnet(residual="bicubic") as built before Upscale2D (UpSampling2D named 'bicubic')."""

    def swap(layer):
        if layer.name == "bicubic":
            return keras.layers.UpSampling2D(
                layer.scale, interpolation="bicubic", dtype="float32", name="bicubic"
            )
        return layer.__class__.from_config(layer.get_config())

    return keras.models.clone_model(srresnet(**kwargs), clone_function=swap)


def test_srresnet_weights_trained_with_upsampling2d_load_and_give_the_same_output():
    kwargs = {"scale": 2, "num_blocks": 1, "filters": 8, "batch_norm": False, "residual": "bicubic"}
    old = _old_style_srresnet(**kwargs)
    assert isinstance(old.get_layer("bicubic"), keras.layers.UpSampling2D)
    rng = np.random.default_rng(2)
    old.set_weights([rng.normal(0, 0.1, w.shape).astype("float32") for w in old.get_weights()])
    new = srresnet(**kwargs)
    assert isinstance(new.get_layer("bicubic"), Upscale2D)
    new.set_weights(old.get_weights())  # same weight list: the resize layers have none
    x = rng.random((1, 11, 7, 3), dtype=np.float32)
    np.testing.assert_array_equal(new(x), old(x))


def test_residual_srresnet_exports_to_savedmodel_and_onnx_and_tflite_says_why_not(tmp_path):
    net = srresnet(scale=2, num_blocks=1, filters=8, batch_norm=False, residual="bicubic")
    rng = np.random.default_rng(3)
    net.set_weights([rng.normal(0, 0.05, w.shape).astype("float32") for w in net.get_weights()])
    image = rng.integers(0, 256, (1, 13, 10, 3), dtype=np.uint8)
    expected = np.clip(np.round(np.asarray(net(image / np.float32(255))) * 255), 0, 255)
    for format, out in [("savedmodel", tmp_path / "sr"), ("onnx", tmp_path / "sr.onnx")]:
        result = export.export_generator(net, out, format, card=SR_CARD)
        assert result.max_abs_diff <= 1
        output = export.run_artifact(out, format, image, entry="uint8")
        assert output.shape == (1, 26, 20, 3)
        assert np.abs(output.astype(int) - expected).max() <= 1
    with pytest.raises(export.UnsupportedModelError, match=r"'bicubic' \(Upscale2D\).*Resize"):
        export.export_generator(net, tmp_path / "sr.tflite", card=SR_CARD)
    assert not (tmp_path / "sr.tflite").exists()
