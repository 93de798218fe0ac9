"""The `i2i` command line.

Commands import TensorFlow inside their bodies, never at module level, so `i2i --help`
and `i2i --version` answer instantly. Any `i2i.common.I2IError` a command raises (a bad
option, a missing file, broken data...) ends it with one line, `Error: <message>`, and
exit status 1; a deprecation (`I2IDeprecationWarning`) is one line on stderr.
"""

from __future__ import annotations

import warnings

import click

from i2i import __version__
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
def cli():
    """i2i: GAN image-to-image translation and super-resolution (Keras 3)."""
    warnings.formatwarning = _format_warning


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
    cli()
