"""The graph every export holds: the generator's uint8 and float entry points.

- **uint8** (`SIGNATURE_UINT8`): `image` uint8 `(N, H, W, 3)` of any H and W -> `output`
  uint8 `(N, H * scale, W * scale, 3)`: 0..255 scaled to the card's `value_range`, the
  bottom/right border reflect-padded to a multiple of the stride (and at least
  `min_side`), the model, the padding cropped off, and back to 0..255 (clipped, rounded
  half to even) exactly as `i2i.imageio.from_float` does.
- **float** (`SIGNATURE_FLOAT`): the bare model on float32 in the card's `value_range`.

`float16_model` is the float16 copy SavedModel and ONNX exports compute in.
"""

from __future__ import annotations

from i2i.common import first_line
from i2i.export.errors import ExportError, UnsupportedModelError, layer_names, layers_in

SIGNATURE_UINT8 = "serving_default"
SIGNATURE_FLOAT = "serve_float"
INPUT_NAME = "image"
OUTPUT_NAME = "output"


def serving_functions(model, card: dict, min_side: int = 1) -> dict:
    """The two entry points as traced `tf.function`s: `{"uint8": fn, "float": fn}`.

    Each takes `image` (`(None, None, None, 3)`, uint8 or float32) and returns
    `{"output": ...}`; see the module doc for what they compute. The uint8 one pads
    images up to a multiple of the stride and at least `min_side` (see `min_side`).

    Raises:
        UnsupportedModelError: a layer cannot run on images of unknown size.
    """
    import tensorflow as tf

    low, high = (float(v) for v in card["value_range"])
    stride = max(1, int(card.get("stride", 1)))
    scale = int(card.get("scale", 1))

    def float_entry(image):
        return {OUTPUT_NAME: model(image, training=False)}

    def uint8_entry(image):
        shape = tf.shape(image)
        height, width = shape[1], shape[2]
        # The same float32 arithmetic as i2i.imageio.to_float / from_float.
        x = tf.cast(image, tf.float32) / 255.0 * (high - low) + low
        if stride > 1 or min_side > 1:
            x = tf.gather(x, _reflect_indices(height, stride, min_side), axis=1)
            x = tf.gather(x, _reflect_indices(width, stride, min_side), axis=2)
        y = model(x, training=False)[:, : height * scale, : width * scale]
        y = tf.clip_by_value((y - low) / (high - low), 0.0, 1.0)
        return {OUTPUT_NAME: tf.cast(tf.round(y * 255.0), tf.uint8)}

    def spec(dtype):
        return [tf.TensorSpec([None, None, None, 3], dtype, name=INPUT_NAME)]

    functions = {
        "uint8": tf.function(uint8_entry, input_signature=spec(tf.uint8)),
        "float": tf.function(float_entry, input_signature=spec(tf.float32)),
    }
    for function in functions.values():
        try:
            function.get_concrete_function()
        except Exception as error:  # tracing runs the layers' Python code
            layers = layers_in(model, str(error))
            where = f"layer {layer_names(layers)}" if layers else "the model"
            raise UnsupportedModelError(
                f"{where} cannot be traced for images of any height and width "
                f"({first_line(error)})",
                "any",
                layers,
            ) from None
    return functions


def min_side(model, stride: int = 1) -> int:
    """The smallest square side (a multiple of `stride`) the model runs on.

    Some layers need more pixels than the stride alone implies (the ResNet generator
    reflection-pads its quarter-size feature maps): probed once on zeros, as
    `i2i.inference` does (`i2i.inference.probe_min_side`).
    """
    from i2i.inference import InferenceError, probe_min_side

    try:
        return probe_min_side(lambda x: model(x, training=False), stride)
    except InferenceError as error:
        raise ExportError(str(error)) from None


def _reflect_indices(length, stride: int, minimum: int = 1):
    """Row (column) indices padding `length` by reflection up to a multiple of `stride`
    that is at least `minimum`.

    Periodic reflection (`i2i.inference` pads the same way), so any padding works, even
    more than the image is long; a length of 1 repeats its only pixel.
    """
    import tensorflow as tf

    padded = tf.maximum((length + stride - 1) // stride * stride, minimum)
    index = tf.range(padded)
    period = tf.maximum(2 * (length - 1), 1)
    index = index % period
    return tf.where(index >= length, period - index, index)


def float16_model(model):
    """A float16 copy of a float32 generator: float16 weights and compute.

    The output head stays float32, as i2i networks build it, so the output is float32.
    Used for SavedModel and ONNX; TFLite has its own converter option.
    """
    from i2i.precision import with_policy

    return with_policy(model, "float16")


def check_model(model) -> None:
    import keras

    if not isinstance(model, keras.Model) or len(model.inputs) != 1:
        raise ExportError("a generator is a keras.Model with one image input")
    if model.inputs[0].shape[-1] != 3:
        raise ExportError(f"the generator takes {model.inputs[0].shape[-1]} channels, not 3")
