"""`i2i dataset ...`: build datasets from loose folders, and check them before training.

Only click and the standard library are imported here; the builders (OpenCV, NumPy)
load inside the command bodies.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from i2i.common import SET_DEGRADATIONS

_FOLDER = click.Path(exists=True, file_okay=False, path_type=Path)
_OUT = click.Path(file_okay=False, path_type=Path)
_FRACTION = click.FloatRange(0.0, 1.0, max_open=True)
_FORCE_HELP = "Write into OUT even if it is not empty (replaces same-named files, deletes nothing)."


@click.group()
def dataset():
    """Build datasets in the layouts i2i trains on, and check them.

    \b
    Layouts (each directly in a folder or in train/ test/ val/ sub-folders):
      paired, combined  <name>.png holding A|B side by side (pix2pix format)
      paired, split     A/ + B/ (or input/ + target/), files matched by name
      unpaired          trainA/ trainB/ [testA/ testB/] (CycleGAN format)
      super-resolution  a folder of HR images, or hr/ + lr/ pairs
    """


def _fail(error: Exception):
    raise click.ClickException(str(error)) from None


@dataset.command()
@click.argument("a_dir", type=_FOLDER)
@click.argument("b_dir", type=_FOLDER)
@click.argument("out", type=_OUT)
@click.option("--combine", is_flag=True, help="Write A|B side by side in one PNG per pair.")
@click.option(
    "--test-fraction",
    type=_FRACTION,
    default=0.0,
    show_default=True,
    help="Fraction of the pairs put in OUT/test/.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the train/test split."
)
@click.option("--force", is_flag=True, help=_FORCE_HELP)
def paired(a_dir, b_dir, out, combine, test_fraction, seed, force):
    """Paired dataset from A_DIR and B_DIR (files matched by name) into OUT.

    Writes OUT/train/A/ + OUT/train/B/ (copies), or with --combine OUT/train/<name>.png
    holding A|B side by side; --test-fraction moves a seeded share to OUT/test/.
    Unmatched and unreadable files are listed and skipped.
    """
    from i2i.data.build import build_paired
    from i2i.data.check import DatasetError
    from i2i.imageio import ImageWriteError

    try:
        result = build_paired(
            a_dir, b_dir, out, combine=combine, test_fraction=test_fraction, seed=seed, force=force
        )
    except (DatasetError, ImageWriteError, OSError) as error:
        _fail(error)
    click.echo(result.format())


@dataset.command()
@click.argument("a_dir", type=_FOLDER)
@click.argument("b_dir", type=_FOLDER)
@click.argument("out", type=_OUT)
@click.option(
    "--test-fraction",
    type=_FRACTION,
    default=0.0,
    show_default=True,
    help="Fraction of each domain put in OUT/testA/, OUT/testB/.",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the train/test split."
)
@click.option("--force", is_flag=True, help=_FORCE_HELP)
def unpaired(a_dir, b_dir, out, test_fraction, seed, force):
    """Unpaired dataset from A_DIR and B_DIR into OUT/trainA/, OUT/trainB/ (+ testA/, testB/).

    Unreadable files are listed and skipped.
    """
    from i2i.data.build import build_unpaired
    from i2i.data.check import DatasetError
    from i2i.imageio import ImageWriteError

    try:
        result = build_unpaired(
            a_dir, b_dir, out, test_fraction=test_fraction, seed=seed, force=force
        )
    except (DatasetError, ImageWriteError, OSError) as error:
        _fail(error)
    click.echo(result.format())


@dataset.command()
@click.argument("hr_dir", type=_FOLDER)
@click.argument("out", type=_OUT)
@click.option("--scale", type=click.IntRange(min=2), required=True, help="Integer SR factor.")
@click.option(
    "--patch",
    type=click.IntRange(min=2),
    help="HR side of one central square crop per image (default: whole images).",
)
@click.option(
    "--degrade",
    type=click.Choice(SET_DEGRADATIONS),
    default="bicubic",
    show_default=True,
    help="LR by MATLAB bicubic, the Real-ESRGAN high-order degradation (blur, resize, "
    "noise, JPEG, twice; sinc filter), or phone (bicubic + mild noise + JPEG 50-75).",
)
@click.option(
    "--degrade-options",
    type=click.Path(exists=True, dir_okay=False),
    help="JSON file overriding the realistic degradation's probabilities and ranges "
    "(keys of i2i.data.degradations.Degradation; first/second: DegradationRound).",
)
@click.option(
    "--seed", type=int, default=0, show_default=True, help="Seed of the realistic degradation."
)
@click.option("--force", is_flag=True, help=_FORCE_HELP)
def sr(hr_dir, out, scale, patch, degrade, degrade_options, seed, force):
    """HR/LR pairs OUT/hr/ + OUT/lr/ (PNG) from the HR images in HR_DIR.

    For looking at what a model is trained on, or a fixed validation set. HR is cropped
    to a multiple of --scale; images smaller than --patch are listed and skipped.
    """
    from i2i.data.build import build_sr
    from i2i.data.check import DatasetError
    from i2i.imageio import ImageWriteError

    try:
        result = build_sr(
            hr_dir,
            out,
            scale=scale,
            patch=patch,
            degrade=degrade,
            seed=seed,
            force=force,
            degrade_options=degrade_options,
        )
    except (DatasetError, ImageWriteError, OSError) as error:
        _fail(error)
    click.echo(result.format())


@dataset.command("check")
@click.argument("directory", type=_FOLDER)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--crop", type=click.IntRange(min=1), help="Report images smaller than this crop.")
@click.option("--layout", help="paired, unpaired, sr, or an exact layout (default: detected).")
@click.option("--scale", type=click.IntRange(min=2), help="Expected HR/LR scale (sr hr/ + lr/).")
def check_command(directory, as_json, crop, layout, scale):
    """Check a dataset: layout, counts, unreadable files, unmatched pairs, images too
    small for --crop, duplicates, HR/LR scale. Exit code 1 when there are errors."""
    from i2i.data.check import DatasetError, check_dataset

    try:
        report = check_dataset(directory, layout=layout, crop=crop, scale=scale)
    except DatasetError as error:
        _fail(error)
    click.echo(json.dumps(report.to_dict(), indent=2) if as_json else report.format())
    if not report.ok:
        raise SystemExit(1)
