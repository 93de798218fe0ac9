"""A run's full training state on disk, and the errors of a run.

A checkpoint is `RUN_DIR/checkpoints/epoch-NNNNNN/`: `state.weights.h5` (every network,
every optimizer slot and loss scale, the step counter: `model.save_weights`) and
`rng.npz` (the states of the model's `keras.random.SeedGenerator`s, which
`save_weights` does not store). `checkpoints/latest.json` names the newest one with its
epoch, step and logs. `i2i.callbacks.FullStateCheckpoint` writes them atomically at the
end of every epoch; `i2i.training.run(..., resume=True)` restores the newest.

Only the chief worker of a multi-worker run writes files (`is_chief`).

Example:

```python
from i2i import checkpoint

record = checkpoint.latest_checkpoint("runs/facades")   # {"epoch", "step", "dir", "logs"}
checkpoint.load_state(model, f"runs/facades/checkpoints/{record['dir']}")
```
"""

from __future__ import annotations

import json
from pathlib import Path

from i2i.common import I2IError

CHECKPOINT_DIR = "checkpoints"
LATEST = "latest.json"


class TrainingError(I2IError):
    """A run cannot start or continue; the message says why in one line."""


class NonFiniteError(TrainingError):
    """A loss or a weight became NaN/inf; raised before any checkpoint is overwritten."""


def is_chief(strategy) -> bool:
    """True on the worker that writes the run directory (always, without multiworker)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(strategy.extended, "_in_multi_worker_mode", lambda: False)():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type in (None, "chief") or (task_type == "worker" and task_id == 0)


def seed_generators(model) -> list:
    """Every `keras.random.SeedGenerator` of `model` and its layers, in a stable order.

    Their states are part of a full checkpoint: `save_weights` does not store them.
    """
    import keras

    found, seen = [], set()
    for layer in model._flatten_layers(include_self=True, recursive=True):
        generators = list(getattr(layer, "_seed_generators", []))
        generators += [
            value for value in vars(layer).values() if isinstance(value, keras.random.SeedGenerator)
        ]
        for generator in generators:
            if id(generator) not in seen:
                seen.add(id(generator))
                found.append(generator)
    return found


def model_optimizers(model) -> list:
    """The optimizers a compiled model trains with (GANModel: both)."""
    optimizers = getattr(model, "optimizers", None)
    if optimizers:
        return list(optimizers)
    return [model.optimizer] if getattr(model, "optimizer", None) is not None else []


def build_optimizers(model) -> None:
    """Create optimizer slots now, so `load_weights` can restore them."""
    if hasattr(model, "build_optimizers"):
        model.build_optimizers()
        return
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        optimizer.build(model.trainable_variables)


def epoch_checkpoints(directory) -> list[Path]:
    """The epoch checkpoint folders in `directory` (`RUN_DIR/checkpoints`), oldest first."""
    return sorted(p for p in Path(directory).glob("epoch-*") if p.is_dir())


def latest_checkpoint(run_dir) -> dict | None:
    """The `checkpoints/latest.json` record (epoch, step, dir, logs) or None."""
    path = Path(run_dir) / CHECKPOINT_DIR / LATEST
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except json.JSONDecodeError as error:
        raise TrainingError(f"{path}: unreadable checkpoint record ({error})") from None
    if not (path.parent / record["dir"]).is_dir():
        raise TrainingError(f"{path}: names missing checkpoint {record['dir']}")
    return record


def save_state(model, directory) -> None:
    """Write the full training state of `model` into `directory` (created)."""
    import numpy as np

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save_weights(str(directory / "state.weights.h5"))
    states = {f"seed_{i}": np.asarray(g.state.value) for i, g in enumerate(seed_generators(model))}
    np.savez(directory / "rng.npz", **states)


def load_state(model, directory) -> None:
    """Restore what `save_state` wrote (the model must be built and compiled)."""
    import numpy as np

    directory = Path(directory)
    build_optimizers(model)
    load_weights(model, directory / "state.weights.h5")
    with np.load(directory / "rng.npz") as saved:
        generators = seed_generators(model)
        if len(saved.files) != len(generators):
            raise TrainingError(
                f"{directory}: checkpoint holds {len(saved.files)} random generator states, "
                f"the model has {len(generators)} (was the model changed?)"
            )
        for i, generator in enumerate(generators):
            generator.state.assign(saved[f"seed_{i}"])


def load_weights(model, path) -> None:
    """`model.load_weights(path)`, also for files written before a layer became thin.

    Keras addresses a layer in a weights file by its class and its rank among the layers
    of that class in its model (`conv2d_7`, not the layer's name `up0_conv`), so a file
    written when a network's image output was a plain `Conv2D` holds it where a
    `ThinConv2D` (a Conv2D with another gradient, the same variables) does not look.
    When the first load fails, the model's ThinConv2D layers pose as Conv2D for a second.
    """
    import keras

    from i2i.layers.thin_conv import ThinConv2D

    try:
        model.load_weights(str(path))
        return
    except ValueError as error:
        layers = model._flatten_layers(include_self=False, recursive=True)
        thin = [layer for layer in layers if type(layer) is ThinConv2D]
        if not thin:
            raise
        first = error
    for layer in thin:
        layer.__class__ = keras.layers.Conv2D
    try:
        model.load_weights(str(path))
    except ValueError:
        raise first from None  # neither layout: the error of the current one
    finally:
        for layer in thin:
            layer.__class__ = ThinConv2D


def average_states(model, directories) -> None:
    """Set `model`'s floating-point weights to their mean over the checkpoints in
    `directories` (checkpoint averaging, Vaswani et al., "Attention Is All You Need",
    2017, Sec. 6.1).

    Every network's weights are averaged, batch-norm statistics included: the mean
    statistics go with the mean weights, as an EMA of a whole state does (a network's
    averaged convolutions run with one checkpoint's statistics scored worse). The rest of
    the state (optimizer slots, step, random streams) is that of the last directory.

    Args:
        directories: checkpoint directories (`RUN_DIR/checkpoints/epoch-NNNNNN`).

    Example:

    ```python
    last = checkpoint.epoch_checkpoints("runs/facades/checkpoints")[-4:]
    checkpoint.average_states(model, last)   # then export model.generator
    ```
    """
    import numpy as np

    directories = list(directories)
    if not directories:
        raise ValueError("average_states needs at least one checkpoint")
    sums = None
    for directory in directories:
        load_state(model, directory)
        values = [np.asarray(variable.numpy()) for variable in model.weights]
        if sums is None:
            sums = [value.astype(np.float64) for value in values]
        else:
            sums = [total + value for total, value in zip(sums, values, strict=True)]
    for variable, total in zip(model.weights, sums, strict=True):
        if np.dtype(variable.dtype).kind == "f":
            variable.assign((total / len(directories)).astype(variable.dtype))


def nonfinite_weights(model) -> str | None:
    """Name of the first variable of `model` holding NaN/inf, or None."""
    import numpy as np

    for variable in model.weights:
        value = np.asarray(variable.value if hasattr(variable, "value") else variable)
        if value.dtype.kind == "f" and not np.isfinite(value).all():
            return variable.path
    return None
