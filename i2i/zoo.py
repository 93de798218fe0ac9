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
quality, file size and sha256. A card with a `sha256` is checked on every load.

`--model` everywhere accepts a zoo name, a `.keras` path or a run directory (which holds
`generator.keras`, or `generator_a2b.keras` and `generator_b2a.keras` for CycleGAN).

Where the zoo lives, searched in this order (the first folder holding a name wins):
    1. the folders in the `I2I_ZOO_PATH` environment variable (`os.pathsep`-separated),
       for private models;
    2. `i2i/_zoo/` inside an installed wheel: setup.py maps the top-level `models/`
       folder to the package data of `i2i._zoo` (a data folder, never a top-level
       Python package named `models`);
    3. `models/` beside the `i2i` package in a source checkout (and editable installs).

Example:

```python
from i2i import zoo

model, card = zoo.load_generator("srresnet-x4")         # zoo name
model, card = zoo.load_generator("runs/cyclegan", direction="b2a")   # run directory
zoo.save_generator(model, "exported/sr.keras", card)    # atomic, card beside it
for entry in zoo.list_models():
    print(entry.name, entry.card["scale"])
```
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from i2i.common import DIRECTIONS, I2IError, atomic_write, first_line

CARD_DEFAULTS = {"task": "translation", "scale": 1, "value_range": [-1.0, 1.0], "stride": 1}
ZOO_PATH_VARIABLE = "I2I_ZOO_PATH"
RUN_GENERATOR = "generator.keras"


class ZooError(I2IError):
    """A model could not be found or loaded; `str(error)` is one line for the user."""


class ModelNotFoundError(ZooError):
    """`--model` named nothing loadable; the message says what was tried."""


class UnsafeModelError(ZooError):
    """The file needs unsafe deserialization (Python code, e.g. a `Lambda` layer)."""


class ChecksumError(ZooError):
    """The file's sha256 differs from the one its card records."""


class ModelLoadError(ZooError):
    """The file exists but is not a loadable Keras generator."""


@dataclass(frozen=True)
class ModelFile:
    """A generator file found on disk, before loading.

    Attributes:
        path: the `.keras` file.
        card: its card (defaults filled in for missing fields).
        name: the zoo name, or `None` for a file or run directory given by path.
        kind: `"zoo"`, `"file"` or `"run"`.
    """

    path: Path
    card: dict = field(compare=False)
    name: str | None = None
    kind: str = "file"

    @property
    def label(self) -> str:
        """How to name the model to a user: its zoo name, else its path."""
        return self.name or str(self.path)


def card_path(model_path) -> Path:
    """The card file that belongs to a `.keras` file."""
    return Path(model_path).with_suffix(".json")


def save_generator(model, path, card: dict) -> Path:
    """Save `model` to `path` (`.keras`) and `card` beside it, both atomically.

    Only the network is saved (architecture and weights): a compiled model is saved
    through an uncompiled copy, so no optimizer state goes into the file (it would be
    about twice the weights again, and inference never needs it; training checkpoints
    keep it for resuming).

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
    weights_only = _uncompiled(model)
    atomic_write(path, weights_only.save)
    atomic_write(card_path(path), json.dumps(card, indent=2, sort_keys=True) + "\n")
    return path


def read_card(model_path) -> dict:
    """The card of a `.keras` file, with defaults for fields it lacks (or for no card)."""
    path = card_path(model_path)
    card = dict(CARD_DEFAULTS)
    if path.exists():
        try:
            card.update(json.loads(path.read_text()))
        except (ValueError, OSError) as error:
            raise ModelLoadError(f"{path}: unreadable model card ({error})") from None
    return card


def zoo_dirs() -> list[Path]:
    """The folders searched for zoo names, in order (only those that exist)."""
    package = Path(__file__).resolve().parent
    candidates = [Path(p) for p in os.environ.get(ZOO_PATH_VARIABLE, "").split(os.pathsep) if p]
    candidates.append(package / "_zoo")
    # A source checkout: models/ beside the package, recognised by setup.py beside it
    # (so an unrelated site-packages/models folder is never taken for the zoo).
    if (package.parent / "setup.py").is_file():
        candidates.append(package.parent / "models")
    seen, found = set(), []
    for folder in candidates:
        if folder.is_dir() and folder.resolve() not in seen:
            seen.add(folder.resolve())
            found.append(folder)
    return found


def list_models() -> list[ModelFile]:
    """The zoo: one `ModelFile` per name, sorted by name (earlier folders shadow later)."""
    entries: dict[str, ModelFile] = {}
    for folder in zoo_dirs():
        for path in sorted(folder.glob("*.keras")):
            if path.stem not in entries and not path.name.startswith("."):
                entries[path.stem] = ModelFile(path, read_card(path), path.stem, "zoo")
    return [entries[name] for name in sorted(entries)]


def resolve_model(name_or_path, direction: str | None = None) -> ModelFile:
    """Find the generator file `--model` names, without loading it (no TensorFlow).

    Args:
        name_or_path: a zoo name, a `.keras` file or a run directory (or a `ModelFile`).
        direction: `"a2b"` or `"b2a"` for a CycleGAN run directory (default `"a2b"`);
            a run or zoo entry with a single generator only serves `"a2b"`.

    Returns:
        The `ModelFile`.

    Raises:
        ModelNotFoundError: nothing loadable; the message lists what was tried and the
            zoo names available.
        ModelLoadError: the file found is not a `.keras` archive (`check_archive`).
    """
    entry = _find(name_or_path, direction)
    check_archive(entry.path)
    return entry


def check_archive(path) -> None:
    """Refuse a file that cannot be a `.keras` model, before anything believes its card
    (a missing card gives defaults: a garbage file would pass for a translation model).

    Only the zip directory is read (no TensorFlow).

    Raises:
        ModelLoadError: not a zip archive, or a zip without a Keras `config.json`.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        raise ModelLoadError(
            f"{path}: not a loadable Keras model (not a .keras zip archive)"
        ) from None
    if "config.json" not in names:
        raise ModelLoadError(f"{path}: not a loadable Keras model (no config.json in the archive)")


def _find(name_or_path, direction: str | None) -> ModelFile:
    """`resolve_model` without the check of the file."""
    if isinstance(name_or_path, ModelFile):
        return name_or_path
    if direction is not None and direction not in DIRECTIONS:
        raise ValueError(f"direction must be one of {', '.join(DIRECTIONS)}, got {direction!r}")
    text = str(name_or_path)
    path = Path(text).expanduser()
    tried = []
    if path.is_dir():
        return _resolve_run(path, direction)
    if path.is_file():
        if path.suffix != ".keras":
            raise ModelNotFoundError(f"{path}: not a .keras file (a generator is saved as .keras)")
        return ModelFile(path, read_card(path), None, "file")
    tried.append(f"no file or folder {text}")

    looks_like_name = os.sep not in text and "/" not in text and path.suffix != ".keras"
    available = list_models()
    if looks_like_name:
        by_name = {entry.name: entry for entry in available}
        # A two-way translation model ships as <name>_a2b and <name>_b2a.
        directional = f"{text}_{direction or 'a2b'}"
        if directional in by_name:
            return by_name[directional]
        if text in by_name:
            if direction == "b2a":
                raise ModelNotFoundError(
                    f"zoo model {text} translates one way (a2b); there is no {directional}"
                )
            return by_name[text]
        folders = ", ".join(str(f) for f in zoo_dirs()) or "no zoo folder found"
        tried.append(f"no zoo model {text} (in {folders})")
    known = ", ".join(entry.name for entry in available) or "none installed"
    raise ModelNotFoundError(
        f"model {text!r} not found: {'; '.join(tried)}. Zoo models: {known}. "
        "--model takes a zoo name, a .keras file or a training run directory"
    )


def absolute_reference(name_or_path) -> str:
    """What a run records for `--model`-like arguments: an existing path made absolute
    (so `--resume` works from any directory), else the zoo name as given."""
    path = Path(str(name_or_path)).expanduser()
    return str(path.resolve()) if path.exists() else str(name_or_path)


def load_generator(name_or_path, direction: str | None = None, unsafe: bool = False):
    """Load a generator and its card.

    Args:
        name_or_path: a zoo name (`models/<name>.keras`), a `.keras` file, a run
            directory (`generator.keras`, or `generator_a2b.keras` /
            `generator_b2a.keras` chosen by `direction`), or a `ModelFile`.
        direction: `"a2b"` or `"b2a"`, for CycleGAN runs (default `"a2b"`).
        unsafe: allow files that need unsafe deserialization (Python bytecode such as a
            `Lambda` layer). Only for files you trust: loading runs their code.

    Returns:
        `(keras.Model, card)`.

    Raises:
        ModelNotFoundError: nothing found (the message lists what was tried).
        UnsafeModelError: the file needs `unsafe=True` (`--unsafe`).
        ChecksumError: the file's sha256 differs from its card's.
        ModelLoadError: the file is not a loadable Keras generator.

    Example:

    ```python
    model, card = load_generator("srresnet-x4")
    sr = model(lr[None])[0]  # lr: float32 (H, W, 3) in card["value_range"]
    ```
    """
    entry = resolve_model(name_or_path, direction)
    verify_checksum(entry)
    _import_i2i_modules(entry.path)

    import keras

    try:
        model = keras.saving.load_model(entry.path, compile=False, safe_mode=not unsafe)
    except ValueError as error:
        if "safe_mode=False" in str(error):
            raise UnsafeModelError(
                f"{entry.path}: refusing to load a model that contains Python code "
                "(e.g. a Lambda layer), which could run anything; if you trust this file, "
                "pass --unsafe (unsafe=True)"
            ) from None
        raise ModelLoadError(f"{entry.path}: cannot load ({first_line(error)})") from None
    except Exception as error:  # zip, HDF5 and config errors all mean "not loadable"
        reason = f"{type(error).__name__}: {first_line(error)}"
        raise ModelLoadError(f"{entry.path}: not a loadable Keras model ({reason})") from None
    if not isinstance(model, keras.Model) or len(model.inputs) != 1:
        raise ModelLoadError(f"{entry.path}: a generator is a keras.Model with one image input")
    channels = model.inputs[0].shape[-1]
    if channels != 3:
        raise ModelLoadError(f"{entry.path}: the generator takes {channels} channels, not 3")
    return model, dict(entry.card)


def sha256(path, chunk: int = 1 << 20) -> str:
    """The hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def verify_checksum(entry: ModelFile) -> bool:
    """Check the file against its card's `sha256`, if it has one.

    Returns:
        `True` if checked and matching, `False` if the card records no sha256.

    Raises:
        ChecksumError: the file differs from the one the card describes.
    """
    expected = entry.card.get("sha256")
    if not expected:
        return False
    actual = sha256(entry.path)
    if actual != str(expected).lower():
        raise ChecksumError(
            f"{entry.path}: sha256 {actual[:12]}... does not match its card "
            f"({str(expected)[:12]}...): the file is corrupt or was replaced"
        )
    return True


def _resolve_run(run_dir: Path, direction: str | None) -> ModelFile:
    """The generator of a training run directory."""
    single = run_dir / RUN_GENERATOR
    directional = run_dir / f"generator_{direction or 'a2b'}.keras"
    if directional.is_file():
        candidates = [directional]
    elif direction == "b2a":
        candidates = []
    else:
        candidates = [single] if single.is_file() else []
    if not candidates:
        wanted = directional.name if direction == "b2a" else f"{single.name} or {directional.name}"
        present = sorted(p.name for p in run_dir.glob("*.keras")) or ["no .keras file"]
        raise ModelNotFoundError(
            f"{run_dir}: no {wanted} in this run directory (it holds {', '.join(present)}); "
            "is training finished?"
        )
    return ModelFile(candidates[0], read_card(candidates[0]), None, "run")


def _import_i2i_modules(path: Path) -> None:
    """Import the i2i modules a `.keras` file's layers come from, so Keras finds them.

    Keras only imports `keras.*` modules by itself; custom layers must be registered
    (imported) before loading. Only modules of the i2i package are imported. A custom
    class that is still unregistered afterwards is named in a clear error.
    """
    import keras

    try:
        with zipfile.ZipFile(path) as archive:
            config = json.loads(archive.read("config.json"))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        return  # Keras reports the problem with the file itself
    modules, custom = set(), set()

    def walk(node):
        if isinstance(node, dict):
            module = node.get("module")
            if isinstance(module, str) and (module == "i2i" or module.startswith("i2i.")):
                modules.add(module)
            registered = node.get("registered_name")
            if isinstance(registered, str) and ">" in registered:
                custom.add(registered)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    for module in sorted(modules):
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ModelLoadError(
                f"{path}: needs {module}, which this version of i2i lacks ({error})"
            ) from None
    missing = sorted(name for name in custom if keras.saving.get_registered_object(name) is None)
    if missing:
        raise ModelLoadError(
            f"{path}: uses custom classes that are not registered here ({', '.join(missing)}); "
            "import the code that defines them before loading"
        )


def _uncompiled(model):
    """`model` itself if it was never compiled, else an uncompiled copy (same weights)."""
    if not getattr(model, "compiled", False) and getattr(model, "optimizer", None) is None:
        return model
    # from_config, not keras.models.clone_model: clone_model compiles the clone too.
    copy = model.__class__.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy
