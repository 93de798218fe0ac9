"""Checking an export: run the artifact on one image and compare it with Keras.

`run_artifact` runs a SavedModel, TFLite or ONNX export on a batch (LiteRT for TFLite
when installed); `compare_with_keras` is the check `export_generator` makes before an
export is moved into place.
"""

from __future__ import annotations

import warnings

import numpy as np

from i2i.export.errors import ExportError
from i2i.export.graphs import INPUT_NAME, OUTPUT_NAME, SIGNATURE_FLOAT, SIGNATURE_UINT8

# An export must agree with Keras to this fraction of the value range (float16: a
# broken export, e.g. an overflow to inf, is caught; float16's own error passes).
VERIFY_TOLERANCE = {"float32": 1e-3, "float16": 5e-2}


def check_size(card: dict) -> int:
    """A side length every generator family accepts: a multiple of the stride, >= 16."""
    stride = max(1, int(card.get("stride", 1)))
    return max(stride, -(-16 // stride) * stride)


def run_artifact(path, format: str, image: np.ndarray, entry: str = "float") -> np.ndarray:
    """Run an exported model on a batch (`entry`: `"uint8"` or `"float"`); for tests
    and for the check after export."""
    path = str(path)
    if format == "savedmodel":
        import tensorflow as tf

        signature = SIGNATURE_UINT8 if entry == "uint8" else SIGNATURE_FLOAT
        loaded = tf.saved_model.load(path)
        return loaded.signatures[signature](**{INPUT_NAME: tf.constant(image)})[OUTPUT_NAME].numpy()
    if format == "tflite":
        interpreter = tflite_interpreter(path)
        signature = SIGNATURE_UINT8 if entry == "uint8" else SIGNATURE_FLOAT
        runner = interpreter.get_signature_runner(signature)
        return runner(**{INPUT_NAME: image})[OUTPUT_NAME]
    if format == "onnx":
        import onnxruntime

        session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
        return session.run([OUTPUT_NAME], {INPUT_NAME: image})[0]
    raise ExportError(f"unknown format {format!r}")


def tflite_interpreter(path):
    """A TFLite interpreter: LiteRT (`ai_edge_litert`) if installed, else TensorFlow's."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:  # TensorFlow's own is deprecated but still ships
        import tensorflow as tf

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tf.lite.Interpreter(model_path=str(path))
    return Interpreter(model_path=str(path))


def compare_with_keras(model, card, artifact, format, precision, onnx_input, side) -> float:
    """Run the artifact on one random image and compare it with Keras."""
    from i2i import imageio

    size = max(check_size(card), side)
    rng = np.random.default_rng(0)
    low, high = (float(v) for v in card["value_range"])
    entry = onnx_input if format == "onnx" else "float"
    if entry == "uint8":
        image = rng.integers(0, 256, (1, size, size, 3), dtype=np.uint8)
        reference = imageio.from_float(
            model(imageio.to_float(image, (low, high)), training=False), np.uint8, (low, high)
        )
        got = run_artifact(artifact, format, image, "uint8")
        # float32: a value on a rounding boundary may tip one level.
        limit = max(1.0, np.floor(255 * VERIFY_TOLERANCE[precision]))
    else:
        image = rng.uniform(low, high, (1, size, size, 3)).astype(np.float32)
        reference = np.asarray(model(image, training=False))
        got = run_artifact(artifact, format, image, "float")
        limit = VERIFY_TOLERANCE[precision] * (high - low)
    if got.shape != reference.shape:
        raise ExportError(
            f"{format}: the export gives shape {got.shape} where Keras gives {reference.shape}"
        )
    diff = float(np.abs(got.astype(np.float64) - reference.astype(np.float64)).max())
    if not diff <= limit:  # also catches NaN
        hint = " (try --precision float32)" if precision == "float16" else ""
        raise ExportError(
            f"{format}: the {precision} export differs from the Keras model by {diff:.3g} "
            f"(more than {limit:.3g}) on a check image; nothing was written{hint}"
        )
    return diff
