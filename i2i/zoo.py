"""Saving and finding generators: zoo names, `.keras` files and run directories.

A saved generator is a `.keras` file (a functional Keras model, loadable in safe mode)
with a *card* beside it: `<stem>.json`, the facts inference needs and a user wants to see.

Card fields written by training (`save_generator`):
    task         "super-resolution" or "translation"
    scale        output size / input size (1 for translation)
    value_range  [low, high] of the model's input and output floats ([0, 1] for SR,
                 [-1, 1] for translation)
    stride       input height and width must be multiples of this (inference pads)
    architecture network builder name and its arguments
Zoo cards (models/<name>.json) add: recipe, command, data and licenses, steps, measured
quality, file size and sha256.

`--model` everywhere accepts a zoo name, a `.keras` path or a run directory (which holds
`generator.keras`, or `generator_a2b.keras` and `generator_b2a.keras` for CycleGAN).

Example:

```python
from i2i import zoo

model, card = zoo.load_generator("runs/sr_x4")          # run directory
zoo.save_generator(model, "exported/sr.keras", card)    # atomic, card beside it
```
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

CARD_DEFAULTS = {"task": "translation", "scale": 1, "value_range": [-1.0, 1.0], "stride": 1}


class ModelNotFoundError(Exception):
    """`--model` named nothing loadable; the message says what was looked for."""


def card_path(model_path) -> Path:
    """The card file that belongs to a `.keras` file."""
    return Path(model_path).with_suffix(".json")


def save_generator(model, path, card: dict) -> Path:
    """Save `model` to `path` (`.keras`) and `card` beside it, both atomically.

    Args:
        model: the generator, a functional `keras.Model`.
        path: target `.keras` file; parent folders are created.
        card: at least `task`, `scale`, `value_range`, `stride` (see the module doc).

    Returns:
        The `.keras` path.
    """
    path = Path(path)
    if path.suffix != ".keras":
        raise ValueError(f"{path}: a generator is saved as a .keras file")
    missing = sorted(set(CARD_DEFAULTS) - set(card))
    if missing:
        raise ValueError(f"{path}: card is missing {', '.join(missing)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic(path, lambda temporary: model.save(temporary))
    text = json.dumps(card, indent=2, sort_keys=True) + "\n"
    _atomic(card_path(path), lambda temporary: Path(temporary).write_text(text))
    return path


def read_card(model_path) -> dict:
    """The card of a `.keras` file, with defaults for fields it lacks (or for no card)."""
    path = card_path(model_path)
    card = dict(CARD_DEFAULTS)
    if path.exists():
        card.update(json.loads(path.read_text()))
    return card


def _atomic(path: Path, write) -> None:
    """Call `write(temporary_path)` then rename the temporary file onto `path`."""
    fd, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
