"""`i2i models list` and `i2i models info`: the model zoo and model cards.

Reads cards only (no TensorFlow), so both answer instantly.
"""

from __future__ import annotations

import json

import click

from i2i.commands.options import direction_option


@click.group()
def models():
    """The model zoo: shipped generators and their cards."""


@models.command("list")
def list_models():
    """List the zoo's models (names usable as --model)."""
    from i2i import zoo

    entries = zoo.list_models()
    if not entries:
        folders = ", ".join(str(f) for f in zoo.zoo_dirs()) or "no zoo folder"
        click.echo(f"No models in the zoo ({folders}).")
        return
    rows = [("NAME", "TASK", "SCALE", "SIZE", "DESCRIPTION")]
    for entry in entries:
        card = entry.card
        rows.append(
            (
                entry.name,
                str(card.get("task", "")),
                f"x{card.get('scale', 1)}",
                _megabytes(entry.path.stat().st_size),
                _one_line(card.get("description") or card.get("summary") or ""),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True)]
        click.echo("  ".join([*cells, row[-1]]).rstrip())


@models.command("info")
@click.argument("name_or_path")
@direction_option
def info(name_or_path, direction):
    """Show a model's card: NAME_OR_PATH is a zoo name, .keras file or run directory."""
    from i2i import zoo

    try:
        entry = zoo.resolve_model(name_or_path, direction)
    except (zoo.ZooError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"name: {entry.label}")
    click.echo(f"path: {entry.path}")
    click.echo(f"file size: {_megabytes(entry.path.stat().st_size)}")
    try:
        checked = zoo.verify_checksum(entry)
    except zoo.ChecksumError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"sha256: {'matches the card' if checked else 'not recorded in the card'}")
    for key in sorted(entry.card):
        _echo_field(key, entry.card[key], 0)


def _echo_field(key, value, depth):
    indent = "  " * depth
    if isinstance(value, dict) and value:
        click.echo(f"{indent}{key}:")
        for inner in value:
            _echo_field(inner, value[inner], depth + 1)
    elif isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        click.echo(f"{indent}{key}:")
        for item in value:
            click.echo(f"{indent}  - {json.dumps(item)}")
    else:
        text = value if isinstance(value, str) else json.dumps(value)
        click.echo(f"{indent}{key}: {text}")


def _megabytes(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.1f} kB"


def _one_line(text: str, width: int = 60) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 3] + "..."
