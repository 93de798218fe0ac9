"""The three writers: a SavedModel folder, a `.tflite` file, an `.onnx` file.

Each writes one artifact holding `i2i.export.graphs.serving_functions` (SavedModel and
TFLite: both entry points as signatures; ONNX: one of them as the graph) with the card
inside (`assets.extra/i2i.json`; ONNX metadata `i2i_card`), and refuses a model the
format cannot represent with an `UnsupportedModelError` naming the layer.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
from contextlib import contextmanager
from pathlib import Path

from i2i.common import first_line
from i2i.export.errors import (
    ExportError,
    UnsupportedModelError,
    layer_names,
    layers_for_ops,
    layers_in,
    tflite_error,
    unsupported_message,
)
from i2i.export.graphs import SIGNATURE_FLOAT, SIGNATURE_UINT8, float16_model, serving_functions

CARD_FILE = "assets.extra/i2i.json"


def write_savedmodel(model, card, path: Path, precision, opset, onnx_input, side):
    import keras

    if precision == "float16":
        model = float16_model(model)
    functions = serving_functions(model, card, side)
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, kind in ((SIGNATURE_UINT8, "uint8"), (SIGNATURE_FLOAT, "float")):
        function = functions[kind]
        archive.add_endpoint(name, function, input_signature=function.input_signature)
    with quiet():
        archive.write_out(str(path), verbose=False)
    extra = path / CARD_FILE
    extra.parent.mkdir(parents=True, exist_ok=True)
    extra.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return (SIGNATURE_UINT8, SIGNATURE_FLOAT)


def write_tflite(model, card, path: Path, precision, opset, onnx_input, side):
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix=".savedmodel.", dir=path.parent) as folder:
        saved = Path(folder) / "model"
        write_savedmodel(model, card, saved, "float32", opset, onnx_input, side)
        converter = tf.lite.TFLiteConverter.from_saved_model(
            str(saved), signature_keys=[SIGNATURE_UINT8, SIGNATURE_FLOAT]
        )
        # Built-in ops only: a model that needs TF-Select (Flex) ops would not run on
        # the plain LiteRT runtime, so it is refused instead, naming the layer.
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
        if precision == "float16":
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
            converter.target_spec.supported_types = [tf.float16]
        try:
            with quiet(), _native_stderr_hidden():
                flatbuffer = converter.convert()
        except Exception as error:
            raise tflite_error(model, error) from None
    path.write_bytes(flatbuffer)
    return (SIGNATURE_UINT8, SIGNATURE_FLOAT)


def write_onnx(model, card, path: Path, precision, opset, onnx_input, side):
    import onnx
    import tf2onnx

    if precision == "float16":
        model = float16_model(model)
    function = serving_functions(model, card, side)[onnx_input]
    with quiet(), _silence_logger("tf2onnx"):
        try:
            proto, _ = tf2onnx.convert.from_function(
                function, function.input_signature, opset=int(opset)
            )
        except Exception as error:
            layers = layers_in(model, str(error))
            where = f" (layer {layer_names(layers)})" if layers else ""
            raise ExportError(f"onnx: tf2onnx failed{where}: {first_line(error)}") from None
    _check_onnx_ops(model, proto)
    _name_dynamic_axes(proto)
    proto.producer_name = "i2i (tf2onnx)"
    for key, value in {
        "i2i_card": json.dumps(card, sort_keys=True),
        "i2i_input": onnx_input,
        "i2i_precision": precision,
    }.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value
    onnx.save(proto, str(path))
    return (onnx_input,)


def _check_onnx_ops(model, proto) -> None:
    """tf2onnx leaves ops it cannot convert in the graph as they were: refuse them."""
    import onnx

    unknown = [
        node
        for node in proto.graph.node
        if node.domain not in ("", "ai.onnx") or not onnx.defs.has(node.op_type, node.domain)
    ]
    if not unknown:
        return
    ops = sorted({node.op_type for node in unknown})
    layers = layers_for_ops(model, [node.name for node in unknown])
    raise UnsupportedModelError(
        unsupported_message("ONNX", ops, layers), "onnx", layers=layers, ops=ops
    )


def _name_dynamic_axes(proto) -> None:
    """Readable names for the dynamic axes tf2onnx calls `unk__N`."""
    for value, names in (
        (proto.graph.input[0], ("batch", "height", "width")),
        (proto.graph.output[0], ("batch", "out_height", "out_width")),
    ):
        dims = value.type.tensor_type.shape.dim
        for dim, name in zip(dims, names, strict=False):
            if not dim.HasField("dim_value"):
                dim.dim_param = name


@contextmanager
def _silence_logger(name: str):
    logger = logging.getLogger(name)
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


@contextmanager
def _native_stderr_hidden():
    """Hide what native code prints to file descriptor 2 (the TFLite converter's MLIR
    diagnostics, which its exception repeats) so a refused model gives one line."""
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (embedded interpreters)
        yield
        return
    try:
        with open(os.devnull, "wb") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


@contextmanager
def quiet():
    """Hide converter warnings (deprecations, TFLite chatter) that users cannot act on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
