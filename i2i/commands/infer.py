"""`i2i upscale` and `i2i translate`: run a generator over files, folders and globs.

Both share the input/output and tiling options; the engine is `i2i.inference`.
TensorFlow is imported inside the command bodies only.
"""

from __future__ import annotations

import sys

import click

from i2i.commands.options import direction_option, unsafe_option
from i2i.common import DEFAULT_SR_MODEL
from i2i.common import INFERENCE_PRECISIONS as PRECISIONS
from i2i.common import OUTPUT_EXTENSIONS as EXTENSIONS


def _io_options(function):
    """The input/output and tiling options shared by upscale and translate."""
    options = [
        click.argument("inputs", nargs=-1, required=True, metavar="INPUT..."),
        click.argument("output", type=click.Path()),
        click.option(
            "--tile",
            type=click.IntRange(min=0),
            default=None,
            help="Tile side in input pixels [default: from a 1 GiB memory budget; "
            "0: whole images].",
        ),
        click.option(
            "--tile-overlap",
            type=click.IntRange(min=0),
            default=None,
            help="Pixels shared by neighbouring tiles, blended smoothly "
            "[default: 48 for super-resolution, 64 for translation].",
        ),
        click.option(
            "--batch-size",
            type=click.IntRange(min=1),
            default=1,
            show_default=True,
            help="Tiles per model call.",
        ),
        click.option(
            "--ext",
            type=click.Choice(EXTENSIONS),
            default="same",
            show_default=True,
            help="Output format (alpha and 16-bit images that a format cannot hold are "
            "written as PNG).",
        ),
        click.option("--suffix", default="", help="Appended to output file names."),
        click.option(
            "--quality",
            type=click.IntRange(1, 100),
            default=95,
            show_default=True,
            help="JPEG/WebP quality.",
        ),
        click.option(
            "-r", "--recursive", is_flag=True, help="Include sub-folders, mirrored in OUTPUT."
        ),
        click.option(
            "--skip-existing",
            is_flag=True,
            help="Skip images whose output exists (resume an interrupted job).",
        ),
        click.option(
            "--precision",
            type=click.Choice(PRECISIONS),
            default="auto",
            show_default=True,
            help="Compute precision (float16/bfloat16: mixed; auto: float16 on GPU only).",
        ),
        unsafe_option,
        click.option("-q", "--quiet", is_flag=True, help="No progress bar."),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command()
@click.option(
    "-m",
    "--model",
    "model_name",
    default=DEFAULT_SR_MODEL,
    show_default=True,
    metavar="NAME_OR_PATH",
    help="Zoo name, .keras file or training run directory.",
)
@click.option(
    "-s",
    "--outscale",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Final scale relative to the input, if not the model's (its output is resized).",
)
@click.option(
    "--alpha",
    type=click.Choice(("bicubic", "model")),
    default="bicubic",
    show_default=True,
    help="How the alpha channel of RGBA images is upscaled.",
)
@_io_options
def upscale(model_name, outscale, alpha, **options):
    """Upscale images with a super-resolution model.

    INPUT is image files, folders or glob patterns (quote them); OUTPUT is a folder
    (or, for a single input file, an image file). Inputs are never overwritten.

    \b
    Examples:
      i2i upscale photos/ upscaled/
      i2i upscale "scans/**/*.png" big/ --recursive --model srresnet-x2 --ext png
      i2i upscale photo.jpg photo_x4.png --tile 256
    """
    _run("upscale", model_name, None, {"outscale": outscale, "alpha": alpha}, options)


@click.command()
@click.option(
    "-m",
    "--model",
    "model_name",
    required=True,
    metavar="NAME_OR_PATH",
    help="Zoo name, .keras file or training run directory.",
)
@direction_option
@click.option(
    "--strength",
    type=click.FloatRange(0.0, 1.0),
    default=1.0,
    show_default=True,
    help="Blend of the translation with the input (0: input unchanged).",
)
@_io_options
def translate(model_name, direction, strength, **options):
    """Translate images (e.g. day to night) with a translation model.

    INPUT is image files, folders or glob patterns (quote them); OUTPUT is a folder
    (or, for a single input file, an image file). Inputs are never overwritten.

    \b
    Examples:
      i2i translate photos/ night/ --model runs/day2night
      i2i translate horse.jpg zebra.jpg --model runs/horse2zebra --direction a2b
    """
    _run("translate", model_name, direction, {"strength": strength}, options)


def _run(command, model_name, direction, engine_options, options):
    from i2i import inference, zoo

    jobs = inference.plan_jobs(
        options["inputs"],
        options["output"],
        recursive=options["recursive"],
        ext=options["ext"],
        suffix=options["suffix"],
    )
    output = options["output"]
    if not options["recursive"]:
        nested = inference.images_in_subfolders(options["inputs"], output)
        if nested:
            click.echo(
                f"note: {nested} image{'s' * (nested != 1)} in sub-folders left out "
                "(--recursive includes them)",
                err=True,
            )
    entry = zoo.resolve_model(model_name, direction)
    _check_task(command, entry)
    if options["skip_existing"] and not inference.split_existing(jobs)[0]:
        # Nothing to compute: say so without starting TensorFlow or loading the model.
        summary = inference.Summary(skipped=[job.target for job in jobs])
        for line in inference.describe(summary, output):
            click.echo(line)
        return
    model, card = zoo.load_generator(entry, direction, unsafe=options["unsafe"])
    engine = inference.Engine(
        model,
        card,
        tile=options["tile"],
        tile_overlap=options["tile_overlap"],
        batch_size=options["batch_size"],
        precision=options["precision"],
        **engine_options,
    )

    tiling = (
        "whole images"
        if engine.tile is None
        else f"tiles of {engine.tile} px, overlap {engine.overlap}"
    )
    scale = f"x{engine.scale}"
    if engine.outscale is not None and engine.outscale != engine.scale:
        scale = f"model x{engine.scale}, output x{engine.outscale:g}"
    click.echo(
        f"{command}: {len(jobs)} image{'s' * (len(jobs) != 1)} with {entry.label} "
        f"({scale}, {tiling}, {engine.precision}) -> {output}",
        err=True,
    )
    overhead = engine.tile_overhead()
    if overhead > 2.0:
        click.echo(
            f"warning: tiles of {engine.tile} px (overlap {engine.overlap}) compute each "
            f"pixel of a large image about {overhead:.1f} times; use --tile "
            f"{engine.suggested_tile()} or more (or --tile 0, or a smaller --tile-overlap)",
            err=True,
        )
    summary = inference.run_jobs(
        engine,
        jobs,
        skip_existing=options["skip_existing"],
        progress=not options["quiet"],
        quality=options["quality"],
    )
    for line in inference.describe(summary, output):
        click.echo(line)
    if summary.tiled_inexact:
        click.echo(
            f"note: {entry.label} normalizes over the whole image (instance norm), so "
            f"{summary.tiled_inexact} tiled image(s) differ slightly from whole-image "
            "results; --tile 0 processes whole images",
            err=True,
        )
    if summary.failed:
        count = len(summary.failed)
        click.echo(f"{count} image{'s' * (count != 1)} failed:", err=True)
        for _, reason in summary.failed:
            click.echo(f"  {reason}", err=True)
        sys.stderr.flush()
        raise click.exceptions.Exit(1)


def _check_task(command, entry):
    """Refuse a model made for the other command (one clear line)."""
    card = entry.card
    if command == "upscale" and int(card.get("scale", 1)) == 1:
        raise click.ClickException(
            f"{entry.label} is a {card.get('task', 'translation')} model (scale 1); "
            "use i2i translate"
        )
    if command == "translate" and card.get("task") == "super-resolution":
        raise click.ClickException(f"{entry.label} is a super-resolution model; use i2i upscale")
