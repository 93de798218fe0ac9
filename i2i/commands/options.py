"""Click options several commands share, declared once (click and i2i.common only)."""

from __future__ import annotations

import click

from i2i.common import DIRECTIONS

direction_option = click.option(
    "--direction",
    type=click.Choice(DIRECTIONS),
    default=None,
    help="Which generator of a two-way (CycleGAN) model [default: a2b].",
)

unsafe_option = click.option(
    "--unsafe",
    is_flag=True,
    help="Allow model files that contain Python code (only for files you trust).",
)
