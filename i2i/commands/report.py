"""`i2i report`: an HTML page with a run's curves, health warnings, samples and config."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("report")
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for report.html and its images [default: RUN_DIR/report].",
)
@click.option(
    "--samples",
    "max_samples",
    type=click.IntRange(min=0),
    default=4,
    show_default=True,
    help="How many of the latest sample grids to show.",
)
def report(run_dir, out_dir, max_samples):
    """Write RUN_DIR/report/report.html: loss curves, training-health warnings, the
    latest sample grids and the run config (self-contained: copy the folder anywhere).

    \b
    Example:
      i2i report runs/pix2pix_facades
    """
    from i2i import report as report_lib

    try:
        result = report_lib.build_report(run_dir, out_dir, max_samples=max_samples)
    except (report_lib.ReportError, OSError) as error:
        raise click.ClickException(str(error)) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning.message}", err=True)
    click.echo(f"wrote {result.page}")
