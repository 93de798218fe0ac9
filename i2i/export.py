"""Export generators for deployment: TensorFlow SavedModel, TFLite and ONNX.

Every export holds the generator's forward pass for images of any height and width
(and any batch size), and needs neither i2i nor Keras to run. Two entry points:

- **uint8** (`serving_default`): `image` uint8 `(N, H, W, 3)` RGB, *any* H and W ->
  `output` uint8 `(N, H * scale, W * scale, 3)`. It does everything the training range
  implies, inside the graph: scales 0..255 to the card's `value_range` ([-1, 1] for
  translation, [0, 1] for super-resolution), pads the bottom/right border by reflection
  up to a multiple of the model's stride and at least the smallest side the model
  takes (`min_side`; cropped off the result), and maps the output
  back to 0..255 (clipped, rounded half to even) exactly as `i2i.imageio.from_float`
  does. A deployment only decodes and encodes images.
- **float** (`serve_float`): `image` float32 `(N, H, W, 3)` in the card's `value_range`,
  H and W multiples of the card's `stride` -> `output` float32 in that range: the bare
  model, equal to Keras up to float32 round-off (for pipelines that do their own pre-
  and post-processing, or tile large images as `i2i.inference` does).

Formats (see the README's "Export" section for running each):

- `savedmodel`: a folder written by `keras.export.ExportArchive` (Keras 3's
  `model.export()` machinery) with both entry points as signatures; the card is in
  `assets.extra/i2i.json`. `float16`: float16 weights and compute (half the size, for
  GPUs), float32 output head; inputs and outputs as for float32.
- `tflite`: one `.tflite` file from the TFLite converter, with both signatures
  (`interpreter.get_signature_runner("serving_default")`), TFLite built-in ops only (no
  Flex/TF-Select ops, so the plain LiteRT runtime runs it). `float16`: float16 weights
  (half the file), computed in float16 by GPU delegates and in float32 on CPU.
- `onnx`: one `.onnx` file converted by tf2onnx (the converter Keras' own
  `model.export(format="onnx")` uses on the TensorFlow backend), opset 17 by default
  (13-18), with one of the two entry points as the graph (`onnx_input`, default uint8),
  input `image` and output `output` with dynamic `batch`, `height`, `width` axes; the
  card is in the model's metadata (`i2i_card`). `float16`: float16 weights and compute,
  float32 output head; inputs and outputs as for float32.

A format that cannot represent a layer (an op TFLite's built-ins or ONNX lack) raises
`UnsupportedModelError` naming the layer and op, and writes nothing. Every export is
checked before it is moved into place: the artifact is run on one random image and
compared with Keras (`ExportResult.max_abs_diff`); one that disagrees by more than
`1e-3` of the value range (float16: `5e-2`) raises `ExportError`.

Example:

```python
from i2i import export

result = export.export_generator("runs/day2night", "day2night.onnx", "onnx")
print(result.path, result.max_abs_diff)
```
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FORMATS = ("savedmodel", "tflite", "onnx")
PRECISIONS = ("float32", "float16")
ONNX_INPUTS = ("uint8", "float")
SUFFIXES = {".tflite": "tflite", ".onnx": "onnx"}
DEFAULT_OPSET = 17
OPSET_RANGE = (13, 18)  # tf2onnx 1.17 converts to opsets up to 18
SIGNATURE_UINT8 = "serving_default"
SIGNATURE_FLOAT = "serve_float"
INPUT_NAME = "image"
OUTPUT_NAME = "output"
CARD_FILE = "assets.extra/i2i.json"
# An export must agree with Keras to this fraction of the value range (float16: a
# broken export, e.g. an overflow to inf, is caught; float16's own error passes).
VERIFY_TOLERANCE = {"float32": 1e-3, "float16": 5e-2}


class ExportError(Exception):
    """An export failed or was refused; `str(error)` is one line for the user."""


class UnsupportedModelError(ExportError):
    """The format has no equivalent for some layer's operations.

    Attributes:
        format: the export format.
        layers: names of the offending layers (empty if they could not be told).
        ops: the operation types the format lacks.
    """

    def __init__(self, message, format: str, layers=(), ops=()):
        super().__init__(message)
        self.format = format
        self.layers = tuple(layers)
        self.ops = tuple(ops)


@dataclass(frozen=True)
class ExportResult:
    """What `export_generator` wrote.

    Attributes:
        path: the exported file or folder.
        format: `"savedmodel"`, `"tflite"` or `"onnx"`.
        precision: `"float32"` or `"float16"`.
        entry_points: the signatures (SavedModel, TFLite) or the graph's input kind
            (ONNX: `("uint8",)` or `("float",)`).
        card: the model card (task, scale, value_range, stride, ...).
        max_abs_diff: largest difference from Keras on the check image, in the model's
            float units for a float entry point, in 0..255 levels for a uint8 one.
        opset: the ONNX opset (None for other formats).
    """

    path: Path
    format: str
    precision: str
    entry_points: tuple
    card: dict = field(compare=False)
    max_abs_diff: float = float("nan")
    opset: int | None = None


def infer_format(out, format: str | None = None) -> str:
    """The format to write: `format`, else from OUT's suffix (`.tflite`, `.onnx`, else
    a SavedModel folder). A suffix that contradicts `format` is refused."""
    suffix = Path(out).suffix.lower()
    implied = SUFFIXES.get(suffix)
    if format is None:
        return implied or "savedmodel"
    if format not in FORMATS:
        raise ExportError(f"unknown format {format!r} (use one of: {', '.join(FORMATS)})")
    if implied and implied != format:
        raise ExportError(f"{out}: a {suffix} file is {implied}, not {format} (check --format)")
    if format != "savedmodel" and not implied:
        raise ExportError(f"{out}: a {format} export is a *{_suffix(format)} file")
    return format


def check_output(out, force: bool = False) -> Path:
    """Refuse an existing OUT unless `force`, and a missing parent folder is created."""
    out = Path(out).expanduser()
    if (out.exists() or out.is_symlink()) and not force:
        raise ExportError(f"{out} exists (pass --force to replace it)")
    return out


def export_generator(
    model,
    out,
    format: str | None = None,
    *,
    precision: str = "float32",
    direction: str | None = None,
    force: bool = False,
    opset: int = DEFAULT_OPSET,
    onnx_input: str = "uint8",
    unsafe: bool = False,
    card: dict | None = None,
    verify: bool = True,
) -> ExportResult:
    """Export a generator as a SavedModel folder, a `.tflite` or an `.onnx` file.

    Args:
        model: a zoo name, a `.keras` file, a training run directory (see
            `i2i.zoo.load_generator`), or a loaded `keras.Model` (then pass `card`).
        out: the folder (SavedModel) or file to write. Written under a temporary name
            beside it, checked, then renamed into place.
        format: `"savedmodel"`, `"tflite"` or `"onnx"` (default: from OUT's suffix).
        precision: `"float32"` or `"float16"` (see the module doc for each format).
        direction: `"a2b"` or `"b2a"` for a two-way (CycleGAN) run.
        force: replace an existing OUT.
        opset: the ONNX opset (13-18).
        onnx_input: the ONNX graph's entry point, `"uint8"` or `"float"`.
        unsafe: allow model files that contain Python code (see `i2i.zoo`).
        card: the card of a `keras.Model` given directly (defaults:
            `i2i.zoo.CARD_DEFAULTS`); its `value_range`, `scale` and `stride` shape the
            uint8 entry point, so give the real ones.
        verify: run the artifact once and compare it with Keras before moving it in place.

    Returns:
        An `ExportResult`.

    Raises:
        ExportError: OUT exists, a bad argument, or the export disagrees with Keras.
        UnsupportedModelError: the format cannot represent a layer (named).
        i2i.zoo.ZooError: the model cannot be found or loaded.
    """
    format = infer_format(out, format)
    if precision not in PRECISIONS:
        raise ExportError(f"unknown precision {precision!r} (use float32 or float16)")
    if onnx_input not in ONNX_INPUTS:
        raise ExportError(f"unknown ONNX input {onnx_input!r} (use uint8 or float)")
    if not OPSET_RANGE[0] <= int(opset) <= OPSET_RANGE[1]:
        raise ExportError(f"ONNX opset must be {OPSET_RANGE[0]}..{OPSET_RANGE[1]}, got {opset}")
    out = check_output(out, force)

    from i2i import zoo

    if isinstance(model, str | os.PathLike | zoo.ModelFile):
        model, card = zoo.load_generator(model, direction, unsafe=unsafe)
    card = {**zoo.CARD_DEFAULTS, **(card or {})}
    _check_model(model)

    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        artifact = temporary / out.name
        writer = {"savedmodel": _write_savedmodel, "tflite": _write_tflite, "onnx": _write_onnx}
        side = min_side(model, max(1, int(card["stride"])))
        try:
            entry_points = writer[format](model, card, artifact, precision, opset, onnx_input, side)
        except UnsupportedModelError as error:
            if error.format != "any":
                raise
            raise UnsupportedModelError(f"{format}: {error}", format, error.layers) from None
        diff = float("nan")
        if verify:
            diff = _verify(model, card, artifact, format, precision, onnx_input, side)
        _move_into_place(artifact, out, force)
    finally:
        shutil.rmtree(temporary, ignore_errors=True)
    return ExportResult(
        path=out,
        format=format,
        precision=precision,
        entry_points=tuple(entry_points),
        card=card,
        max_abs_diff=diff,
        opset=int(opset) if format == "onnx" else None,
    )


# --------------------------------------------------------------------------- graphs


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
            layers = _layers_in(model, str(error))
            where = f"layer {_names(layers)}" if layers else "the model"
            raise UnsupportedModelError(
                f"{where} cannot be traced for images of any height and width "
                f"({_first_line(error)})",
                "any",
                layers,
            ) from None
    return functions


def min_side(model, stride: int = 1) -> int:
    """The smallest square side (a multiple of `stride`) the model runs on.

    Some layers need more pixels than the stride alone implies (the ResNet generator
    reflection-pads its quarter-size feature maps): probed once on zeros, as
    `i2i.inference` does.
    """
    import tensorflow as tf

    error = None
    for cells in (1, 2, 4, 8, 16, 32, 64):
        side = cells * stride
        try:
            model(tf.zeros((1, side, side, 3)), training=False)
            return side
        except (tf.errors.InvalidArgumentError, ValueError) as failure:
            error = failure
    raise ExportError(f"the model fails on every input up to {side} px: {_first_line(error)}")


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

    The last layer (the output head) stays float32, as i2i networks build it, so the
    output is float32. Used for SavedModel and ONNX; TFLite has its own converter option.
    """
    import keras

    config = model.get_config()
    head = model.layers[-1].name
    for layer in config["layers"]:
        if layer["class_name"] != "InputLayer" and layer["name"] != head:
            layer["config"]["dtype"] = "float16"
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    if not isinstance(copy, keras.Model):  # pragma: no cover - from_config contract
        raise ExportError("float16: could not rebuild the model in mixed precision")
    return copy


def _check_model(model) -> None:
    import keras

    if not isinstance(model, keras.Model) or len(model.inputs) != 1:
        raise ExportError("a generator is a keras.Model with one image input")
    if model.inputs[0].shape[-1] != 3:
        raise ExportError(f"the generator takes {model.inputs[0].shape[-1]} channels, not 3")


# --------------------------------------------------------------------------- writers


def _write_savedmodel(model, card, path: Path, precision, opset, onnx_input, side):
    import keras

    if precision == "float16":
        model = float16_model(model)
    functions = serving_functions(model, card, side)
    archive = keras.export.ExportArchive()
    archive.track(model)
    for name, kind in ((SIGNATURE_UINT8, "uint8"), (SIGNATURE_FLOAT, "float")):
        function = functions[kind]
        archive.add_endpoint(name, function, input_signature=function.input_signature)
    with _quiet():
        archive.write_out(str(path), verbose=False)
    extra = path / CARD_FILE
    extra.parent.mkdir(parents=True, exist_ok=True)
    extra.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")
    return (SIGNATURE_UINT8, SIGNATURE_FLOAT)


def _write_tflite(model, card, path: Path, precision, opset, onnx_input, side):
    import tensorflow as tf

    with tempfile.TemporaryDirectory(prefix=".savedmodel.", dir=path.parent) as folder:
        saved = Path(folder) / "model"
        _write_savedmodel(model, card, saved, "float32", opset, onnx_input, side)
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
            with _quiet(), _native_stderr_hidden():
                flatbuffer = converter.convert()
        except Exception as error:
            raise _tflite_error(model, error) from None
    path.write_bytes(flatbuffer)
    return (SIGNATURE_UINT8, SIGNATURE_FLOAT)


def _write_onnx(model, card, path: Path, precision, opset, onnx_input, side):
    import onnx
    import tf2onnx

    if precision == "float16":
        model = float16_model(model)
    function = serving_functions(model, card, side)[onnx_input]
    with _quiet(), _silence_logger("tf2onnx"):
        try:
            proto, _ = tf2onnx.convert.from_function(
                function, function.input_signature, opset=int(opset)
            )
        except Exception as error:
            layers = _layers_in(model, str(error))
            where = f" (layer {_names(layers)})" if layers else ""
            raise ExportError(f"onnx: tf2onnx failed{where}: {_first_line(error)}") from None
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
    layers = _layers_for_ops(model, [node.name for node in unknown])
    raise UnsupportedModelError(
        _unsupported_message("ONNX", ops, layers), "onnx", layers=layers, ops=ops
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


# --------------------------------------------------------------------------- errors


def _tflite_error(model, error) -> ExportError:
    text = str(error)
    ops = sorted(set(re.findall(r"'tf\.(\w+)' op is neither a custom op nor a flex op", text)))
    if not ops:
        return ExportError(f"tflite: conversion failed: {_first_line(error)}")
    # Locations read fused["Erfinv:", callsite("model/layer_1/erfinv/Erfinv@__inference...
    pattern = r'fused\["(\w+):", (?:callsite\()?"([^"@]+)@'
    names = [name for kind, name in re.findall(pattern, text) if kind in ops]
    layers = _layers_for_ops(model, names)
    return UnsupportedModelError(
        _unsupported_message("TFLite (built-in ops)", ops, layers), "tflite", layers, ops
    )


def _unsupported_message(format_name: str, ops, layers) -> str:
    op_text = ", ".join(ops)
    if layers:
        return (
            f"{format_name} cannot represent layer {_names(layers)}: it has no {op_text} "
            "op (export another format, or replace that layer)"
        )
    return f"{format_name} cannot represent the model: it has no {op_text} op"


def _all_layers(model):
    for layer in model.layers:
        yield layer
        if hasattr(layer, "layers"):
            yield from _all_layers(layer)


def _layers_for_ops(model, op_names) -> list:
    """The layers TensorFlow op names such as `model_1/conv_3/Conv2D` belong to."""
    known = {layer.name: layer for layer in _all_layers(model)}
    found = []
    for op_name in op_names:
        match = None
        for part in op_name.split("/")[:-1]:
            for candidate in (part, re.sub(r"_\d+$", "", part)):
                if candidate in known:
                    match = known[candidate]  # the innermost layer wins
                    break
        if match is not None and match not in found:
            found.append(match)
    return found


def _layers_in(model, text: str) -> list:
    """The layers an error message is about: Keras names the failing layer's class
    ("when calling UpSampling2D.call()"); else layer names quoted in the message."""
    layers = list(_all_layers(model))
    calling = re.findall(r"calling (\w+)\.call\(\)", text)
    if calling:
        return [layer for layer in layers if type(layer).__name__ == calling[-1]]
    return [layer for layer in layers if re.search(rf"['\"`]{re.escape(layer.name)}['\"`]", text)]


def _names(layers) -> str:
    return ", ".join(f"{layer.name!r} ({type(layer).__name__})" for layer in layers)


def _first_line(error: BaseException) -> str:
    """The line of an error message that says what went wrong (no tracebacks, no
    terminal colours); for Keras layer errors, the first sentence after the header."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if "Exception encountered when calling" in line and i + 1 < len(lines):
            return lines[i + 1].split(". ")[0].rstrip(".") + "."
    skip = ("in user code:", "File ", "raise ", "return ")
    lines = [line for line in lines if not line.startswith(skip)]
    return lines[0] if lines else type(error).__name__


# --------------------------------------------------------------------------- checks


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


def _verify(model, card, artifact, format, precision, onnx_input, side) -> float:
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


# --------------------------------------------------------------------------- files


def _move_into_place(artifact: Path, out: Path, force: bool) -> None:
    """Rename the finished artifact onto OUT; an old OUT (with `force`) goes last."""
    if not (out.exists() or out.is_symlink()):
        os.replace(artifact, out)
        return
    if not force:  # appeared while exporting
        raise ExportError(f"{out} exists (pass --force to replace it)")
    old = out.parent / f".{out.name}.old-{os.getpid()}"
    os.replace(out, old)
    try:
        os.replace(artifact, out)
    except BaseException:
        os.replace(old, out)
        raise
    if old.is_dir() and not old.is_symlink():
        shutil.rmtree(old, ignore_errors=True)
    else:
        old.unlink(missing_ok=True)


def _suffix(format: str) -> str:
    return {"tflite": ".tflite", "onnx": ".onnx"}.get(format, "")


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
def _quiet():
    """Hide converter warnings (deprecations, TFLite chatter) that users cannot act on."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield
