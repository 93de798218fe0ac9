"""`i2i export`: a generator as a SavedModel, TFLite or ONNX file for deployment.

The work is done by `i2i.export`; TensorFlow is imported inside the command body only.
"""

from __future__ import annotations

import click

from i2i.commands.options import direction_option, unsafe_option
from i2i.common import EXPORT_FORMATS as FORMATS
from i2i.common import EXPORT_PRECISIONS as PRECISIONS


@click.command("export")
@click.argument("model_name", metavar="MODEL")
@click.argument("out", type=click.Path())
@click.option(
    "-f",
    "--format",
    "format_",
    type=click.Choice(FORMATS),
    default=None,
    help="Export format [default: from OUT: .tflite, .onnx, else a SavedModel folder].",
)
@click.option(
    "--precision",
    type=click.Choice(PRECISIONS),
    default="float32",
    show_default=True,
    help="float16: half-size weights (TFLite: float16 weights computed in float32 on "
    "CPU; SavedModel/ONNX: float16 compute, float32 output).",
)
@direction_option
@click.option(
    "--onnx-input",
    type=click.Choice(("uint8", "float")),
    default="uint8",
    show_default=True,
    help="ONNX only: the graph's input, uint8 images of any size or the bare float model "
    "(SavedModel and TFLite carry both as signatures).",
)
@click.option(
    "--opset",
    type=click.IntRange(13, 18),
    default=17,
    show_default=True,
    help="ONNX opset.",
)
@click.option("--force", is_flag=True, help="Replace OUT if it exists.")
@unsafe_option
def export(model_name, out, format_, precision, direction, onnx_input, opset, force, unsafe):
    """Export a generator for deployment without i2i: TensorFlow SavedModel (TF Serving),
    TFLite (mobile, LiteRT) or ONNX (ONNX Runtime and others).

    MODEL is a zoo name, a .keras file or a training run directory. OUT is a folder
    (SavedModel) or a .tflite / .onnx file; it is written under a temporary name, run
    once against the Keras model, then renamed into place.

    Every export takes uint8 RGB images of any height and width and returns uint8
    images (the signature `serving_default`; the ONNX graph by default); SavedModel
    and TFLite also have `serve_float`, the bare model on floats in the model's value
    range. Inputs and outputs are batches (N, H, W, 3).

    \b
    Examples:
      i2i export runs/day2night day2night_savedmodel
      i2i export runs/day2night day2night.tflite --precision float16
      i2i export runs/day2night day2night.onnx
    """
    from i2i import export as exporting
    from i2i import zoo

    format_ = exporting.infer_format(out, format_)
    exporting.check_output(out, force)
    entry = zoo.resolve_model(model_name, direction)
    click.echo(f"export: {entry.label} -> {out} ({format_}, {precision})", err=True)
    result = exporting.export_generator(
        entry,
        out,
        format_,
        precision=precision,
        direction=direction,
        force=force,
        opset=opset,
        onnx_input=onnx_input,
        unsafe=unsafe,
    )

    card = result.card
    low, high = card["value_range"]
    details = [result.format]
    if result.opset is not None:
        details.append(f"opset {result.opset}")
    details.append(result.precision)
    entries = ", ".join(result.entry_points)
    click.echo(f"wrote {result.path} ({', '.join(details)}; entry points: {entries})")
    click.echo(
        f"model: {card['task']}, x{card['scale']}, values in [{low:g}, {high:g}], "
        f"float input sides multiples of {card['stride']}"
    )
    unit = " (uint8 levels)" if result.entry_points == ("uint8",) else ""
    click.echo(f"checked against Keras: max |difference| {result.max_abs_diff:.3g}{unit}")
