"""What every layer of i2i shares, without TensorFlow, Keras or OpenCV.

- `I2IError`: the base of every error i2i raises for a user (a bad option, a missing
  file, broken data...). Its message is one line; the command line prints it as
  `Error: <message>` and exits with status 1 (`i2i.cli`).
- `I2IDeprecationWarning` and `deprecated(message)`: a renamed option or function that
  still works for one release, announced in one line.
- The choices several modules offer (`DIRECTIONS`, the precisions, formats and
  extensions), declared once.
- `atomic_write(path, data)`: a file replaced in one rename (a hidden temporary file in
  the target folder first), so an interrupted write never leaves half a file;
  `usual_mode()` the mode it gets (folders renamed into place use it too).
- `find_weights(filename, path, ...)`: a pretrained weights file from a given path or the
  Keras cache; nothing is ever downloaded.

Image headers are probed by `i2i.imageio` (`imageio.probe`), the one door to image files.

Example:

```python
from i2i.common import I2IError, atomic_write

atomic_write("runs/x/notes.json", '{"ok": true}\\n')
try:
    ...
except I2IError as error:
    print(f"i2i: {error}")
```
"""

from __future__ import annotations

import os
import re
import tempfile
import typing
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Literal

# --------------------------------------------------------------------------- errors


class I2IError(Exception):
    """Something a user can fix went wrong; `str(error)` is one line saying what."""


class I2IDeprecationWarning(FutureWarning):
    """A renamed option or function was used; it still works for one release.

    A `FutureWarning`, so Python shows it by default (the CLI prints it as one line).
    """


def first_line(error: BaseException) -> str:
    """The line of an error message that says what went wrong: no tracebacks, no
    terminal colours; for Keras layer errors, the first sentence after the header."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for i, line in enumerate(lines):
        if "Exception encountered when calling" in line and i + 1 < len(lines):
            return lines[i + 1].split(". ")[0].rstrip(".") + "."
    skip = ("in user code:", "File ", "raise ", "return ")
    lines = [line for line in lines if not line.startswith(skip)]
    return lines[0] if lines else type(error).__name__


def deprecated(message: str, stacklevel: int = 3) -> None:
    """Warn once per call site that something renamed was used (`I2IDeprecationWarning`)."""
    warnings.warn(message, I2IDeprecationWarning, stacklevel=stacklevel)


def moved(old: str, new: str, names) -> Callable[[str], object]:
    """A module `__getattr__` for `names` that moved from module `old` to module `new`:
    still importable from `old` for one release, each use announced."""

    def __getattr__(name):
        if name in names:
            import importlib

            deprecated(f"{old}.{name} is now {new}.{name}")
            return getattr(importlib.import_module(new), name)
        raise AttributeError(f"module {old!r} has no attribute {name!r}")

    return __getattr__


# --------------------------------------------------------------------------- choices

Direction = Literal["a2b", "b2a"]
# Translation directions: a2b translates domain A (left half, A/, trainA/) into B.
DIRECTIONS: tuple[str, ...] = typing.get_args(Direction)
# Dtype policies of a training run (`--precision`; auto: mixed_float16 on a GPU).
TRAINING_PRECISIONS = ("auto", "float32", "mixed_float16", "mixed_bfloat16")
# Distribution strategies of a training run (`--strategy`).
STRATEGIES = ("default", "mirrored", "multiworker")
# Compute precisions of inference (`i2i upscale/translate --precision`; mixed for 16 bit).
INFERENCE_PRECISIONS = ("auto", "float32", "float16", "bfloat16")
# Output formats of `i2i upscale/translate --ext`.
OUTPUT_EXTENSIONS = ("same", "png", "jpg", "webp")
# `i2i export`: formats and weight precisions.
EXPORT_FORMATS = ("savedmodel", "tflite", "onnx")
EXPORT_PRECISIONS = ("float32", "float16")
# How super-resolution LR images are made from HR ones.
Degradation = Literal["bicubic", "realistic"]
DEGRADATIONS: tuple[str, ...] = typing.get_args(Degradation)
# ... and for fixed sets and evaluation also `phone` (i2i.data.degradations.phone: an LR
# unlike the training degradations, to test how a model generalises).
SET_DEGRADATIONS = (*DEGRADATIONS, "phone")
# What `i2i train srresnet` trains: its scales and generator architectures.
SR_SCALES = (2, 3, 4)
SRArchitecture = Literal["srresnet", "compact"]
SR_ARCHITECTURES: tuple[str, ...] = typing.get_args(SRArchitecture)
# The zoo model `i2i upscale` uses when no --model is given.
DEFAULT_SR_MODEL = "compact-x4"


# --------------------------------------------------------------------------- files

# mkstemp / mkdtemp create owner-only files and folders; what i2i writes gets the mode a
# plain open() or mkdir() gives.
_UMASK = os.umask(0)
os.umask(_UMASK)


def usual_mode(directory: bool = False) -> int:
    """The mode a new file (or folder) gets from the umask: for temporary files and
    folders renamed into place, which Python creates owner-only."""
    return (0o777 if directory else 0o666) & ~_UMASK


def atomic_write(path, data: bytes | str | Callable[[str], object]) -> Path:
    """Replace `path` atomically: write a hidden temporary file beside it, then rename.

    The parent folder must exist. The file gets the usual umask mode. On any failure
    the temporary file is removed and `path` is left as it was.

    Args:
        path: the file to write.
        data: the bytes or text (UTF-8) to write, or `data(temporary_path)`, a function
            that writes the temporary file itself (e.g. `model.save`).

    Returns:
        `path` as a `Path`.

    Raises:
        OSError: the folder cannot be written (callers turn it into their own error).
    """
    path = Path(path)
    fd, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    try:
        if callable(data):
            os.close(fd)
            data(temporary)
        else:
            with os.fdopen(fd, "wb") as file:
                file.write(data.encode() if isinstance(data, str) else data)
        os.chmod(temporary, usual_mode())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


# --------------------------------------------------------------------------- weights


class WeightsNotFoundError(I2IError, FileNotFoundError):
    """A pretrained weights file (VGG19, InceptionV3) is not on this machine."""


def keras_cache_paths(filename: str) -> list[Path]:
    """Where Keras keeps a downloaded weights file, in lookup order: `$KERAS_HOME/models`
    when KERAS_HOME is set, else `~/.keras/models` then `/tmp/.keras/models` (Keras'
    fallback when the home folder is not writable)."""
    if os.environ.get("KERAS_HOME"):
        homes = [Path(os.environ["KERAS_HOME"]).expanduser()]
    else:
        homes = [Path(os.path.expanduser("~")) / ".keras", Path("/tmp") / ".keras"]
    return [home / "models" / filename for home in homes]


def find_weights(filename: str, path=None, *, what: str, hint: str) -> Path:
    """The weights file to load: `path` when given, else `filename` in the Keras cache.

    Args:
        filename: the file's name in the Keras cache (Keras' own download name).
        path: an explicit file, or None to search the cache.
        what: the network, for messages ("VGG19", "InceptionV3").
        hint: how to provide the file, appended to the not-found message.

    Raises:
        WeightsNotFoundError: one line naming what was looked for and where.
    """
    if path is not None:
        path = Path(path).expanduser()
        if not path.is_file():
            raise WeightsNotFoundError(f"{path}: {what} weights file not found")
        return path
    candidates = keras_cache_paths(filename)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    expected = " or ".join(str(c) for c in candidates)
    raise WeightsNotFoundError(
        f"{what} weights not found: expected {expected} (the Keras cache); {hint}; "
        "i2i downloads nothing"
    )
