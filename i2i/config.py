"""Run configuration: frozen dataclasses, `--set key=value` overrides, `config.json`.

A run is described by a `Config` with two sections:

- `run`: a `RunOptions` — the options every `i2i train ...` command shares (output
  directory, epochs/steps, batch size, precision, XLA, distribution strategy, seed);
- `model`: the model's own frozen dataclass of options (learning rates, loss weights,
  network sizes...), declared by each training task.

Overrides come from the command line as strings (`--set lr=2e-4`, `--set model.lr=2e-4`,
`--set run.seed=3`). They are parsed by the field's declared type — int, float, bool,
str, `Literal[...]` choices, `X | None`, tuples — never `eval`'d or `exec`'d; an unknown
key or a value of the wrong type is a `ConfigError` with one clear line.

The resolved config is written to `RUN_DIR/config.json` and read back by `--resume`.
An option that was renamed (`renamed(old="new")` on its dataclass) keeps its old name
for one release: in `--set`, in an older run's config.json and as a keyword, each with
a one-line deprecation message.

Example:

```python
from dataclasses import dataclass

from i2i import config

@dataclass(frozen=True)
class SROptions:
    lr: float = 1e-4
    blocks: int = 16

cfg = config.Config(run=config.RunOptions(out="runs/sr"), model=SROptions())
cfg = config.apply_overrides(cfg, ["lr=2e-4", "run.seed=3"])
config.write(cfg, "runs/sr/config.json")
same = config.read("runs/sr/config.json", SROptions)
```
"""

from __future__ import annotations

import dataclasses
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from i2i.common import STRATEGIES, I2IError, atomic_write, deprecated
from i2i.common import TRAINING_PRECISIONS as PRECISIONS

__all__ = ["PRECISIONS", "STRATEGIES", "Config", "ConfigError", "RunOptions", "renamed"]


class ConfigError(I2IError, ValueError):
    """A configuration value or key a user gave is wrong; the message says which and why."""


@dataclass(frozen=True)
class NoOptions:
    """The model section of a task that has no options of its own."""


@dataclass(frozen=True)
class RunOptions:
    """Options shared by every training run.

    Attributes:
        out: the run directory (config.json, checkpoints/, generator.keras, log.csv...).
        epochs: number of epochs. With `steps` set, derived from it.
        steps: total training steps (optimizer updates); sets `epochs` to
            `steps / steps_per_epoch`, which must divide evenly.
        steps_per_epoch: steps in one epoch. Needed for infinite (repeated) datasets;
            `None` means one pass over a finite dataset. A checkpoint, a log.csv row and
            a sample grid are written at the end of each epoch, so this sets how often.
        batch_size: the GLOBAL batch size (split across replicas under a strategy).
        precision: `auto` (mixed_float16 when a GPU is visible, else float32),
            `float32`, `mixed_float16` or `mixed_bfloat16`.
        jit_compile: compile the train step with XLA. Pinned (never Keras' "auto",
            which differs between CPU and GPU).
        strategy: `default` (one device), `mirrored` (all local GPUs, or CPUs), or
            `multiworker` (MultiWorkerMirroredStrategy; reads TF_CONFIG).
        seed: seeds Python, NumPy, TensorFlow and Keras random generators.
        deterministic: enable TensorFlow op determinism (bitwise repeatable runs and
            resumes, somewhat slower).
        keep_checkpoints: how many epoch checkpoints to keep in RUN_DIR/checkpoints
            (at least `average_last`).
        average_last: export the mean of the network weights of the last N epoch
            checkpoints (checkpoint averaging, Vaswani et al. 2017: "a single model
            obtained by averaging the last 5 checkpoints"); 1 exports the last weights.
        verbose: Keras progress output: 0 silent, 1 progress bar, 2 one line per epoch.
    """

    out: str = "runs/run"
    epochs: int = 1
    steps: int | None = None
    steps_per_epoch: int | None = None
    batch_size: int = 16
    precision: Literal["auto", "float32", "mixed_float16", "mixed_bfloat16"] = "auto"
    jit_compile: bool = False
    strategy: Literal["default", "mirrored", "multiworker"] = "default"
    seed: int = 0
    deterministic: bool = False
    keep_checkpoints: int = 2
    average_last: int = 1
    verbose: int = 1

    def __post_init__(self):
        for name in ("epochs", "batch_size", "keep_checkpoints", "average_last"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be at least 1, got {getattr(self, name)}")
        for name in ("steps", "steps_per_epoch"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise ConfigError(f"{name} must be at least 1, got {value}")
        if self.steps and self.steps_per_epoch and self.steps % self.steps_per_epoch:
            raise ConfigError(
                f"steps={self.steps} is not a multiple of "
                f"steps_per_epoch={self.steps_per_epoch}; set steps_per_epoch to a divisor"
            )

    @property
    def total_epochs(self) -> int:
        """Epochs to train, from `steps` when given, else `epochs`."""
        if self.steps is None:
            return self.epochs
        return math.ceil(self.steps / (self.steps_per_epoch or self.steps))

    @property
    def epoch_steps(self) -> int | None:
        """Steps per epoch as fit() will use them (`steps` alone means one epoch)."""
        if self.steps_per_epoch is None and self.steps is not None:
            return self.steps
        return self.steps_per_epoch

    @property
    def total_steps(self) -> int | None:
        """Steps of the whole run (for LR schedules), or None for one pass per epoch."""
        steps = self.epoch_steps
        return None if steps is None else steps * self.total_epochs


@dataclass(frozen=True)
class Config:
    """A whole run: shared run options plus the model's own options.

    Attributes:
        task: the training command's name (e.g. "srresnet", "pix2pix").
        run: a `RunOptions`.
        model: the model's frozen options dataclass (`NoOptions` when it has none).
    """

    task: str = ""
    run: RunOptions = field(default_factory=RunOptions)
    model: Any = field(default_factory=NoOptions)

    def to_dict(self) -> dict:
        """Plain JSON-able dict (tuples become lists)."""
        return {
            "task": self.task,
            "run": dataclasses.asdict(self.run),
            "model": dataclasses.asdict(self.model),
        }

    @classmethod
    def from_dict(cls, data: dict, model_class: type = NoOptions) -> Config:
        """Inverse of `to_dict`; values are type-checked against the dataclasses."""
        unknown = set(data) - {"task", "run", "model"}
        if unknown:
            raise ConfigError(f"unknown config section(s): {', '.join(sorted(unknown))}")
        return cls(
            task=str(data.get("task", "")),
            run=_build(RunOptions, data.get("run", {}), "run"),
            model=_build(model_class, data.get("model", {}), "model"),
        )


def renamed(**old_to_new: str):
    """Class decorator: an options dataclass whose fields `old` were renamed to `new`.

    The old names keep working for one release, each use announced by a one-line
    `i2i.common.I2IDeprecationWarning`: as constructor keywords, in `--set old=value`,
    and in the config.json of an older run (rewritten with the new names on resume).

    Example:

    ```python
    @renamed(blocks="num_blocks")
    @dataclass(frozen=True)
    class Options:
        num_blocks: int = 9

    Options(blocks=6).num_blocks  # 6, with a deprecation warning
    ```
    """

    def decorate(cls):
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(old_to_new.values()) - names)
        if unknown:
            raise TypeError(f"{cls.__name__}: renamed to unknown fields {unknown}")
        cls.renamed_options = {**getattr(cls, "renamed_options", {}), **old_to_new}
        init = cls.__init__

        def __init__(self, *args, **kwargs):
            init(self, *args, **_new_names(cls, kwargs, cls.__name__))

        __init__.__doc__, __init__.__wrapped__ = init.__doc__, init
        cls.__init__ = __init__
        return cls

    return decorate


def _new_names(cls, values: dict, where: str) -> dict:
    """`values` with renamed option names replaced by the new ones (announced)."""
    renames = getattr(cls, "renamed_options", {})
    if not renames or not set(values) & set(renames):
        return values
    out = {}
    for name, value in values.items():
        new = renames.get(name)
        if new is None:
            out[name] = value
            continue
        if new in values:
            raise ConfigError(f"{where}: give {new} or its old name {name}, not both")
        deprecated(
            f"{where}: option {name!r} is now {new!r} (the old name works until the next release)"
        )
        out[new] = value
    return out


def replace(cfg: Config, **run_changes) -> Config:
    """A copy of `cfg` with some `run` fields changed (type-checked)."""
    return dataclasses.replace(cfg, run=_replace_checked(cfg.run, run_changes, "run"))


def replace_model(cfg: Config, **model_changes) -> Config:
    """A copy of `cfg` with some `model` fields changed (type-checked)."""
    return dataclasses.replace(cfg, model=_replace_checked(cfg.model, model_changes, "model"))


def apply_overrides(cfg: Config, assignments) -> Config:
    """Apply `key=value` strings to `cfg` and return the new config.

    A key is `section.field` (`run.seed`, `model.lr`) or a bare `field` name when only
    one section has it. Values are parsed by the field's type annotation.

    Raises:
        ConfigError: malformed assignment, unknown or ambiguous key, value of a wrong type.
    """
    changes: dict[str, dict[str, Any]] = {"run": {}, "model": {}}
    for assignment in assignments:
        key, sep, text = assignment.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"--set {assignment!r}: expected key=value")
        section, name = _locate(cfg, key)
        target = getattr(cfg, section)
        hint = _field_types(type(target))[name]
        changes[section][name] = parse_value(text.strip(), hint, f"{section}.{name}")
    run = _replace_checked(cfg.run, changes["run"], "run")
    model = _replace_checked(cfg.model, changes["model"], "model")
    return dataclasses.replace(cfg, run=run, model=model)


def write(cfg: Config, path) -> Path:
    """Write `cfg` as JSON to `path`, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write(path, json.dumps(cfg.to_dict(), indent=2, sort_keys=True) + "\n")


def read(path, model_class: type = NoOptions) -> Config:
    """Read a `config.json` written by `write`.

    Raises:
        ConfigError: the file is missing, not JSON, or holds unknown keys / bad values.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except json.JSONDecodeError as error:
        raise ConfigError(f"{path}: not valid JSON ({error})") from None
    try:
        return Config.from_dict(data, model_class)
    except ConfigError as error:
        raise ConfigError(f"{path}: {error}") from None


def parse_value(text: str, hint, key: str = "value"):
    """Parse the command-line string `text` as a value of type `hint`.

    Supported: `int`, `float`, `bool` (true/false/yes/no/1/0/on/off), `str`,
    `Literal[...]`, `X | None` ("none"/"null" give None) and tuples (comma-separated:
    `tuple[int, ...]` or fixed `tuple[float, float]`).
    """
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        options = [option for option in typing.get_args(hint) if option is not type(None)]
        if type(None) in typing.get_args(hint) and text.lower() in ("none", "null", ""):
            return None
        errors = []
        for option in options:
            try:
                return parse_value(text, option, key)
            except ConfigError as error:
                errors.append(str(error))
        raise ConfigError(f"{key}: cannot parse {text!r} ({'; '.join(errors)})")
    if origin is Literal:
        choices = typing.get_args(hint)
        for choice in choices:
            if str(choice) == text:
                return choice
        raise ConfigError(f"{key}: {text!r} is not one of {', '.join(map(str, choices))}")
    if origin is tuple:
        parts = [part.strip() for part in text.split(",") if part.strip()]
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(parse_value(part, args[0], key) for part in parts)
        if len(parts) != len(args):
            raise ConfigError(f"{key}: expected {len(args)} comma-separated values, got {text!r}")
        return tuple(parse_value(part, arg, key) for part, arg in zip(parts, args, strict=True))
    if hint is bool:
        lowered = text.lower()
        if lowered in ("true", "yes", "1", "on"):
            return True
        if lowered in ("false", "no", "0", "off"):
            return False
        raise ConfigError(f"{key}: expected true or false, got {text!r}")
    if hint is int:
        try:
            return int(text)
        except ValueError:
            raise ConfigError(f"{key}: expected an integer, got {text!r}") from None
    if hint is float:
        try:
            value = float(text)
        except ValueError:
            raise ConfigError(f"{key}: expected a number, got {text!r}") from None
        if not math.isfinite(value):
            raise ConfigError(f"{key}: expected a finite number, got {text!r}")
        return value
    if hint is str:
        return text
    raise ConfigError(f"{key}: fields of type {hint} cannot be set from the command line")


def check_value(value, hint, key: str = "value"):
    """Return `value` converted to `hint` if it already is (or losslessly can be) one.

    Used for JSON values and keyword changes: ints are accepted for floats, lists for
    tuples; anything else of the wrong type is a `ConfigError`.
    """
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(hint):
            return None
        for option in typing.get_args(hint):
            if option is type(None):
                continue
            try:
                return check_value(value, option, key)
            except ConfigError:
                pass
        raise ConfigError(f"{key}: {value!r} is not a {_type_name(hint)}")
    if origin is Literal:
        if any(value == c and type(value) is type(c) for c in typing.get_args(hint)):
            return value
        choices = ", ".join(map(str, typing.get_args(hint)))
        raise ConfigError(f"{key}: {value!r} is not one of {choices}")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ConfigError(f"{key}: {value!r} is not a list")
        args = typing.get_args(hint)
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(check_value(item, args[0], key) for item in value)
        if len(value) != len(args):
            raise ConfigError(f"{key}: expected {len(args)} values, got {len(value)}")
        return tuple(check_value(item, arg, key) for item, arg in zip(value, args, strict=True))
    if hint is bool:
        if isinstance(value, bool):
            return value
    elif hint is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif hint is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
    elif hint is str:
        if isinstance(value, str):
            return value
    elif hint is Any:
        return value
    else:
        raise ConfigError(f"{key}: unsupported field type {hint}")
    raise ConfigError(f"{key}: {value!r} is not a {_type_name(hint)}")


def _type_name(hint) -> str:
    return getattr(hint, "__name__", str(hint))


def _field_types(cls) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def _build(cls, data: dict, section: str):
    if not isinstance(data, dict):
        raise ConfigError(f"{section}: expected an object, got {data!r}")
    data = _new_names(cls, data, section)
    types_ = _field_types(cls)
    unknown = sorted(set(data) - set(types_))
    if unknown:
        raise ConfigError(
            f"unknown key(s) {', '.join(f'{section}.{k}' for k in unknown)} "
            f"(known: {', '.join(sorted(types_)) or 'none'})"
        )
    values = {
        name: check_value(value, types_[name], f"{section}.{name}") for name, value in data.items()
    }
    return cls(**values)


def _replace_checked(instance, changes: dict, section: str):
    if not changes:
        return instance
    changes = _new_names(type(instance), changes, section)
    types_ = _field_types(type(instance))
    unknown = sorted(set(changes) - set(types_))
    if unknown:
        raise ConfigError(f"unknown key(s) {', '.join(f'{section}.{k}' for k in unknown)}")
    checked = {k: check_value(v, types_[k], f"{section}.{k}") for k, v in changes.items()}
    return dataclasses.replace(instance, **checked)


def _locate(cfg: Config, key: str) -> tuple[str, str]:
    sections = {"run": _field_types(RunOptions), "model": _field_types(type(cfg.model))}
    renames = getattr(type(cfg.model), "renamed_options", {})
    if "." in key:
        section, _, name = key.partition(".")
        if section not in sections:
            raise ConfigError(f"--set {key}: unknown section {section!r} (use run. or model.)")
        if section == "model" and name in renames:
            return section, _new_name(key, name, renames[name])
        if name not in sections[section]:
            known = ", ".join(sorted(sections[section])) or "none"
            raise ConfigError(f"--set {key}: unknown key (known {section} keys: {known})")
        return section, name
    if key in renames and key not in sections["run"]:
        return "model", _new_name(key, key, renames[key])
    found = [section for section, names in sections.items() if key in names]
    if not found:
        known = ", ".join(sorted(set(sections["run"]) | set(sections["model"])))
        raise ConfigError(f"--set {key}: unknown key (known: {known})")
    if len(found) > 1:
        raise ConfigError(f"--set {key}: ambiguous, write run.{key} or model.{key}")
    return found[0], key


def _new_name(key: str, old: str, new: str) -> str:
    deprecated(
        f"--set {key}: {old!r} is now {new!r} (the old name works until the next release)", 4
    )
    return new
