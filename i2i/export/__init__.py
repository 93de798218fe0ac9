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

The modules: `graphs` (the two entry points), `writers` (the three formats), `verify`
(run an artifact, compare with Keras), `errors` (naming the refused layer); this package
holds `export_generator` and exports their public names.

Example:

```python
from i2i import export

result = export.export_generator("runs/day2night", "day2night.onnx", "onnx")
print(result.path, result.max_abs_diff)
```
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from i2i.common import EXPORT_FORMATS as FORMATS
from i2i.common import EXPORT_PRECISIONS as PRECISIONS
from i2i.export.errors import ExportError, UnsupportedModelError
from i2i.export.graphs import (
    INPUT_NAME,
    OUTPUT_NAME,
    SIGNATURE_FLOAT,
    SIGNATURE_UINT8,
    check_model,
    float16_model,
    min_side,
    serving_functions,
)
from i2i.export.verify import (
    VERIFY_TOLERANCE,
    check_size,
    compare_with_keras,
    run_artifact,
    tflite_interpreter,
)
from i2i.export.writers import CARD_FILE, write_onnx, write_savedmodel, write_tflite

__all__ = [
    "CARD_FILE",
    "DEFAULT_OPSET",
    "FORMATS",
    "INPUT_NAME",
    "ONNX_INPUTS",
    "OPSET_RANGE",
    "OUTPUT_NAME",
    "PRECISIONS",
    "SIGNATURE_FLOAT",
    "SIGNATURE_UINT8",
    "VERIFY_TOLERANCE",
    "ExportError",
    "ExportResult",
    "UnsupportedModelError",
    "check_output",
    "check_size",
    "export_generator",
    "float16_model",
    "infer_format",
    "min_side",
    "run_artifact",
    "serving_functions",
    "tflite_interpreter",
]

ONNX_INPUTS = ("uint8", "float")
SUFFIXES = {".tflite": "tflite", ".onnx": "onnx"}
DEFAULT_OPSET = 17
OPSET_RANGE = (13, 18)  # tf2onnx 1.17 converts to opsets up to 18


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
    check_model(model)

    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        artifact = temporary / out.name
        writer = {"savedmodel": write_savedmodel, "tflite": write_tflite, "onnx": write_onnx}
        side = min_side(model, max(1, int(card["stride"])))
        try:
            entry_points = writer[format](model, card, artifact, precision, opset, onnx_input, side)
        except UnsupportedModelError as error:
            if error.format != "any":
                raise
            raise UnsupportedModelError(f"{format}: {error}", format, error.layers) from None
        diff = float("nan")
        if verify:
            diff = compare_with_keras(model, card, artifact, format, precision, onnx_input, side)
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
