"""The `i2i` command line.

Commands import TensorFlow inside their bodies, never at module level, so `i2i --help`
and `i2i --version` answer instantly, and a command that has nothing to compute never
imports it. The group starts TensorFlow quietly (`i2i.runtime`: its start-up log lines
hidden unless `--verbose` or TF_CPP_MIN_LOG_LEVEL is set, the device stated once).
Any `i2i.common.I2IError` a command raises (a bad option, a missing file, broken
data...) ends it with one line, `Error: <message>`, and exit status 1; a deprecation
(`I2IDeprecationWarning`) is one line on stderr.
"""

from __future__ import annotations

import gc
import warnings

import click

from i2i import __version__, runtime
from i2i.commands.cyclegan import cyclegan
from i2i.commands.dataset import dataset
from i2i.commands.evaluate import evaluate
from i2i.commands.export import export
from i2i.commands.infer import translate, upscale
from i2i.commands.models import models
from i2i.commands.pix2pix import finetune, pix2pix
from i2i.commands.report import report
from i2i.commands.sr import srresnet
from i2i.commands.srgan import srgan
from i2i.commands.train import train
from i2i.common import I2IDeprecationWarning, I2IError


class I2IGroup(click.Group):
    """The root group: `I2IError`s of any subcommand become one-line click errors."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except I2IError as error:
            raise click.ClickException(str(error)) from None


def _format_warning(message, category, filename, lineno, line=None):
    """Deprecations as one line (`i2i: deprecated: ...`); other warnings as Python does."""
    if issubclass(category, I2IDeprecationWarning):
        return f"i2i: deprecated: {message}\n"
    return _FORMAT_WARNING(message, category, filename, lineno, line)


_FORMAT_WARNING = warnings.formatwarning


@click.group(cls=I2IGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="i2i")
@click.option(
    "-v",
    "--verbose",
    is_flag=True,
    help="Show TensorFlow's own log lines (hidden unless TF_CPP_MIN_LOG_LEVEL is set).",
)
def cli(verbose):
    """i2i: GAN image-to-image translation and super-resolution (Keras 3)."""
    warnings.formatwarning = _format_warning
    runtime.start(verbose)


cli.add_command(train)
cli.add_command(evaluate)
cli.add_command(report)
cli.add_command(dataset)
cli.add_command(upscale)
cli.add_command(translate)
cli.add_command(models)
train.add_command(cyclegan)
cli.add_command(export)
train.add_command(pix2pix)
cli.add_command(finetune)
train.add_command(srresnet)
train.add_command(srgan)


def main():
    """Console-script entry point."""
    try:
        cli()
    finally:
        # The exit's last garbage collection would walk every object TensorFlow made
        # (about a second); the process is ending, so nothing needs collecting.
        gc.freeze()
