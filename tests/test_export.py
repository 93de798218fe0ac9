"""`i2i.export`: SavedModel, TFLite and ONNX exports agree with Keras.

Parity on random-weight tiny generators of each family (U-Net, ResNet, SRResNet, the
compact SR net), each
format run by its own runtime (TensorFlow, LiteRT, ONNX Runtime) on two input sizes;
the uint8 entry point on sizes that are not multiples of the stride; float16; and the
refusals (unrepresentable layers named, existing outputs, bad arguments).
"""

import json

import keras
import numpy as np
import pytest

from i2i import export, imageio

TOLERANCE = 1e-4  # max |difference| from Keras in float32
FLOAT16_TOLERANCE = 2e-2


def randomize(model, seed=0):
    """Random weights of realistic scale (outputs use the whole value range) and
    non-trivial normalization statistics, so parity is checked on real numbers."""
    rng = np.random.default_rng(seed)
    values = []
    for weight in model.weights:
        shape, path = tuple(weight.shape), weight.path
        if "moving_variance" in path:
            value = rng.uniform(0.5, 1.5, shape)
        elif "moving_mean" in path:
            value = rng.normal(0.0, 0.1, shape)
        elif "gamma" in path:
            value = rng.uniform(0.8, 1.2, shape)
        elif "alpha" in path:  # PReLU slopes
            value = rng.uniform(0.1, 0.3, shape)
        elif len(shape) == 4:  # kernels
            fan_in = shape[0] * shape[1] * min(shape[2], shape[3])
            value = rng.normal(0.0, 1.0 / np.sqrt(fan_in), shape)
        else:
            value = rng.normal(0.0, 0.1, shape)
        values.append(value.astype(weight.dtype))
    model.set_weights(values)
    return model


def make_unet():
    from i2i.nets.unet import unet

    card = {"task": "translation", "scale": 1, "value_range": [-1.0, 1.0], "stride": 8}
    return randomize(unet(32, filters=4, depth=3), 1), card


def make_resnet():
    from i2i.nets.resnet_generator import resnet_generator

    card = {"task": "translation", "scale": 1, "value_range": [-1.0, 1.0], "stride": 4}
    return randomize(resnet_generator(filters=4, blocks=2), 2), card


def make_srresnet():
    from i2i.nets.srresnet import srresnet

    card = {"task": "super-resolution", "scale": 2, "value_range": [0.0, 1.0], "stride": 1}
    return randomize(srresnet(scale=2, num_blocks=1, filters=8), 3), card


def make_compact():
    from i2i.nets.compact import compact

    card = {"task": "super-resolution", "scale": 4, "value_range": [0.0, 1.0], "stride": 1}
    return randomize(compact(scale=4, num_conv=2, filters=8), 4), card


def make_compact_unshuffle():
    from i2i.nets.compact import compact

    card = {"task": "super-resolution", "scale": 2, "value_range": [0.0, 1.0], "stride": 2}
    return randomize(compact(scale=2, num_conv=2, filters=8, unshuffle=2), 5), card


FAMILIES = {
    "unet": make_unet,
    "resnet": make_resnet,
    "srresnet": make_srresnet,
    "compact": make_compact,
    "compact_unshuffle": make_compact_unshuffle,
}
# Two different float input sizes per family (batch, height, width): multiples of the stride.
SIZES = {
    "unet": [(1, 16, 24), (2, 32, 16)],
    "resnet": [(1, 16, 16), (2, 12, 28)],
    "srresnet": [(1, 12, 20), (2, 16, 8)],
    "compact": [(1, 12, 20), (2, 16, 8)],
    "compact_unshuffle": [(1, 12, 20), (2, 16, 8)],
}
FORMATS = {"savedmodel": "model", "tflite": "model.tflite", "onnx": "model.onnx"}


@pytest.fixture(scope="module")
def generators():
    cache = {}

    def get(family):
        if family not in cache:
            cache[family] = FAMILIES[family]()
        return cache[family]

    return get


@pytest.fixture(scope="module")
def exported(generators, tmp_path_factory):
    """Export each (family, format, precision, onnx_input) once per module."""
    cache = {}

    def get(family, format, precision="float32", onnx_input="float"):
        key = (family, format, precision, onnx_input)
        if key not in cache:
            model, card = generators(family)
            folder = tmp_path_factory.mktemp(f"{family}-{format}-{precision}-{onnx_input}")
            cache[key] = export.export_generator(
                model,
                folder / FORMATS[format],
                format,
                precision=precision,
                onnx_input=onnx_input,
                card=card,
            )
        return cache[key]

    return get


def float_input(card, batch, height, width, seed=0):
    low, high = card["value_range"]
    rng = np.random.default_rng(seed)
    return rng.uniform(low, high, (batch, height, width, 3)).astype(np.float32)


@pytest.mark.parametrize("format", list(FORMATS))
@pytest.mark.parametrize("family", list(FAMILIES))
def test_float_parity_on_two_sizes(generators, exported, family, format):
    model, card = generators(family)
    result = exported(family, format)
    assert result.path.exists()
    assert result.max_abs_diff <= TOLERANCE  # the check made at export time
    for i, (batch, height, width) in enumerate(SIZES[family]):
        x = float_input(card, batch, height, width, seed=i)
        expected = np.asarray(model(x, training=False))
        got = export.run_artifact(result.path, format, x, "float")
        scale = card["scale"]
        assert got.shape == (batch, height * scale, width * scale, 3)
        assert got.dtype == np.float32
        assert np.abs(got - expected).max() <= TOLERANCE, (family, format, (height, width))
        # The outputs are not trivially flat: parity is checked on real numbers.
        assert expected.std() > 0.05


def reference_uint8(model, card, image):
    """What the uint8 entry point must compute, done in NumPy around the Keras model:
    periodic reflection padding of the bottom/right border to the stride, the card's
    value range, crop, `imageio.from_float`."""
    stride, scale = card["stride"], card["scale"]
    value_range = tuple(card["value_range"])
    _, height, width, _ = image.shape

    def indices(length):
        padded = max(-(-length // stride) * stride, export.min_side(model, stride))
        index = np.arange(padded) % max(2 * (length - 1), 1)
        return np.where(index >= length, 2 * (length - 1) - index, index)

    padded = image[:, indices(height)][:, :, indices(width)]
    y = np.asarray(model(imageio.to_float(padded, value_range), training=False))
    return imageio.from_float(y[:, : height * scale, : width * scale], np.uint8, value_range)


def assert_uint8_close(got, expected):
    assert got.dtype == np.uint8 and got.shape == expected.shape
    difference = np.abs(got.astype(int) - expected.astype(int))
    # float32 round-off may tip a value sitting on a rounding boundary by one level.
    assert difference.max() <= 1
    assert (difference > 0).mean() < 0.01


@pytest.mark.parametrize("format", ["savedmodel", "tflite"])
@pytest.mark.parametrize("family", list(FAMILIES))
def test_uint8_signature_takes_any_size(generators, exported, family, format):
    model, card = generators(family)
    path = exported(family, format).path
    rng = np.random.default_rng(7)
    for height, width in [(13, 21), (5, 3)]:  # not multiples of any stride; tiny
        image = rng.integers(0, 256, (2, height, width, 3), dtype=np.uint8)
        got = export.run_artifact(path, format, image, "uint8")
        assert_uint8_close(got, reference_uint8(model, card, image))


def test_onnx_uint8_graph_with_dynamic_axes(generators, exported):
    import onnx

    model, card = generators("resnet")
    result = exported("resnet", "onnx", onnx_input="uint8")
    assert result.entry_points == ("uint8",)
    proto = onnx.load(str(result.path))
    (graph_input,), (graph_output,) = proto.graph.input, proto.graph.output
    assert graph_input.name == "image" and graph_output.name == "output"
    assert graph_input.type.tensor_type.elem_type == onnx.TensorProto.UINT8
    dims = [d.dim_param or d.dim_value for d in graph_input.type.tensor_type.shape.dim]
    assert dims == ["batch", "height", "width", 3]
    assert [o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")] == [17]
    metadata = {p.key: p.value for p in proto.metadata_props}
    assert json.loads(metadata["i2i_card"])["stride"] == 4
    rng = np.random.default_rng(3)
    for height, width in [(13, 21), (24, 16)]:
        image = rng.integers(0, 256, (1, height, width, 3), dtype=np.uint8)
        got = export.run_artifact(result.path, "onnx", image)
        assert_uint8_close(got, reference_uint8(model, card, image))


def test_tflite_uses_only_builtin_ops_and_has_both_signatures(exported):
    path = exported("srresnet", "tflite").path
    interpreter = export.tflite_interpreter(path)
    signatures = interpreter.get_signature_list()
    assert signatures == {
        "serving_default": {"inputs": ["image"], "outputs": ["output"]},
        "serve_float": {"inputs": ["image"], "outputs": ["output"]},
    }
    assert b"Flex" not in path.read_bytes()  # no TF-Select ops


def test_savedmodel_carries_the_card(exported):
    result = exported("unet", "savedmodel")
    card = json.loads((result.path / "assets.extra" / "i2i.json").read_text())
    assert card["stride"] == 8 and card["value_range"] == [-1.0, 1.0]


@pytest.mark.parametrize("format", list(FORMATS))
def test_float16(generators, exported, format):
    model, card = generators("resnet")
    result = exported("resnet", format, precision="float16")
    x = float_input(card, 1, 16, 24)
    expected = np.asarray(model(x, training=False))
    got = export.run_artifact(result.path, format, x, "float")
    assert got.dtype == np.float32
    difference = np.abs(got - expected).max()
    assert 0 < difference <= FLOAT16_TOLERANCE  # float16 really is in use, and close
    if format == "tflite":  # the weights are stored as float16
        details = export.tflite_interpreter(result.path).get_tensor_details()
        assert any(detail["dtype"] == np.float16 for detail in details)


# --------------------------------------------------------------------------- refusals


@keras.saving.register_keras_serializable(package="i2i_tests")
class InverseErf(keras.layers.Layer):
    """A layer whose op (Erfinv) neither TFLite's built-ins nor ONNX have."""

    def call(self, x):
        return keras.ops.erfinv(keras.ops.clip(x, -0.5, 0.5))


def unrepresentable_model():
    inputs = keras.Input((None, None, 3), name="image")
    x = keras.layers.Conv2D(3, 3, padding="same", name="conv")(inputs)
    return keras.Model(inputs, InverseErf(name="inverse_erf")(x))


@pytest.mark.parametrize("format,name", [("tflite", "m.tflite"), ("onnx", "m.onnx")])
def test_unrepresentable_layer_is_named(tmp_path, format, name):
    with pytest.raises(export.UnsupportedModelError) as raised:
        export.export_generator(unrepresentable_model(), tmp_path / name, format)
    message = str(raised.value)
    assert "'inverse_erf' (InverseErf)" in message and "Erfinv" in message
    assert "\n" not in message
    assert [layer.name for layer in raised.value.layers] == ["inverse_erf"]
    assert list(tmp_path.iterdir()) == []  # nothing written, no temporary left


def test_layer_that_needs_static_sizes_is_named(tmp_path):
    inputs = keras.Input((None, None, 3), name="image")
    x = keras.layers.UpSampling2D(2, interpolation="bicubic", name="bicubic")(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(3, 3, padding="same")(x))
    card = {"task": "super-resolution", "scale": 2, "value_range": [0, 1], "stride": 1}
    with pytest.raises(export.UnsupportedModelError, match="'bicubic' \\(UpSampling2D\\)"):
        export.export_generator(model, tmp_path / "sr", "savedmodel", card=card)
    assert list(tmp_path.iterdir()) == []


def test_existing_output_is_refused_then_replaced_with_force(generators, tmp_path):
    model, card = generators("srresnet")
    out = tmp_path / "sr"
    out.mkdir()
    (out / "keep.txt").write_text("not a model")
    with pytest.raises(export.ExportError, match="exists .*--force"):
        export.export_generator(model, out, "savedmodel", card=card)
    assert (out / "keep.txt").exists()
    result = export.export_generator(model, out, "savedmodel", card=card, force=True)
    assert (result.path / "saved_model.pb").exists() and not (out / "keep.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sr"]  # no temporaries left


def test_export_that_disagrees_with_keras_is_not_written(generators, tmp_path, monkeypatch):
    from i2i.export import verify

    model, card = generators("srresnet")
    run = verify.run_artifact
    monkeypatch.setattr(verify, "run_artifact", lambda *args: run(*args) + 0.01)
    with pytest.raises(export.ExportError, match="differs from the Keras model by 0.01"):
        export.export_generator(model, tmp_path / "sr.onnx", card=card, onnx_input="float")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "out,format,message",
    [
        ("m.tflite", "onnx", "a .tflite file is tflite, not onnx"),
        ("m.bin", "onnx", r"onnx export is a \*\.onnx file"),
        ("m.onnx", "keras", "unknown format"),
    ],
)
def test_bad_format_arguments(tmp_path, out, format, message):
    with pytest.raises(export.ExportError, match=message):
        export.export_generator(unrepresentable_model(), tmp_path / out, format)


def test_format_from_suffix():
    assert export.infer_format("a/m.tflite") == "tflite"
    assert export.infer_format("m.ONNX") == "onnx"
    assert export.infer_format("exported/day2night") == "savedmodel"


def test_bad_model_path(tmp_path):
    from i2i import zoo

    with pytest.raises(zoo.ModelNotFoundError, match="no file or folder"):
        export.export_generator(str(tmp_path / "missing.keras"), tmp_path / "m.onnx")
