"""Keras callbacks for training runs: checkpoints, non-finite guard, LR decay, samples.

The runner (`i2i.training.run`) adds `NonFiniteGuard` and `FullStateCheckpoint` to every
run, with Keras' `CSVLogger` and `TensorBoard`. Models add their own (sample grids, linear
LR decay, validation) through `TrainTask.callbacks`.

Example:

```python
class MyTask(training.TrainTask):
    def callbacks(self, cfg, run_dir, model):
        return [
            callbacks.LinearDecay(constant_epochs=100, decay_epochs=100),
            callbacks.SampleGrid(run_dir / "samples", sample_batch, value_range=(-1, 1)),
        ]
```
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from pathlib import Path

import keras
import numpy as np

from i2i import training


def _finite_scalar(value) -> float | None:
    """`value` as a float when it is a scalar number, else None."""
    try:
        array = np.asarray(value)
    except Exception:
        return None
    if array.shape != () or array.dtype.kind not in "fiu":
        return None
    return float(array)


def nonfinite_log(logs) -> tuple[str, float] | None:
    """The first `(name, value)` in Keras `logs` that is NaN or inf, or None."""
    for name, value in (logs or {}).items():
        number = _finite_scalar(value)
        if number is not None and not math.isfinite(number):
            return name, number
    return None


class NonFiniteGuard(keras.callbacks.Callback):
    """Stop training at the first step whose logged loss is NaN or inf.

    Raises `i2i.training.NonFiniteError` naming the step and the loss, from inside the
    batch, so no later checkpoint can be written with the broken weights.

    Args:
        start_step: global step the run starts at (non-zero after a resume).
    """

    def __init__(self, start_step: int = 0):
        super().__init__()
        self.step = start_step

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1
        bad = nonfinite_log(logs)
        if bad is not None:
            name, value = bad
            raise training.NonFiniteError(
                f"step {self.step}: {name} is {value}; training stopped, "
                "the last checkpoint was kept (resume from it with a lower learning rate)"
            )


class FullStateCheckpoint(keras.callbacks.Callback):
    """Write the full training state at the end of every epoch, atomically.

    A checkpoint is `checkpoints/epoch-NNNNNN/` (all weights and optimizer state via
    `save_weights`, plus the random generator states) and `checkpoints/latest.json`
    (epoch, step, the epoch's logs), which is replaced last so a crash at any moment
    leaves the previous checkpoint readable. Weights holding NaN/inf are never written:
    `NonFiniteError` is raised instead.

    Args:
        directory: the run's `checkpoints/` folder.
        start_step: global step the run starts at.
        keep: how many checkpoints to keep.
        write: False on non-chief workers of a multi-worker run: they take part in
            saving (reading synchronized variables is a collective) into a temporary
            folder that is removed again.
    """

    def __init__(self, directory, start_step: int = 0, keep: int = 2, write: bool = True):
        super().__init__()
        self.directory = Path(directory)
        self.step = start_step
        self.keep = keep
        self.write = write

    def on_train_batch_end(self, batch, logs=None):
        self.step += 1

    def on_epoch_end(self, epoch, logs=None):
        bad = training.nonfinite_weights(self.model)
        if bad is not None:
            raise training.NonFiniteError(
                f"step {self.step}: weight {bad} is not finite (logs: {_brief(logs)}); "
                "training stopped, the last checkpoint was kept"
            )
        name = f"epoch-{epoch + 1:06d}"
        parent = self.directory if self.write else None
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=".tmp-", dir=parent))
        try:
            training.save_state(self.model, temporary)
            if not self.write:
                return
            final = self.directory / name
            if final.exists():
                shutil.rmtree(final)
            os.replace(temporary, final)
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        record = {"epoch": epoch + 1, "step": self.step, "dir": name, "logs": _plain(logs)}
        _write_json_atomic(self.directory / training.LATEST, record)
        self._prune(keep_name=name)

    def _prune(self, keep_name: str) -> None:
        names = sorted(p.name for p in self.directory.glob("epoch-*") if p.is_dir())
        for old in names[: max(0, len(names) - self.keep)]:
            if old != keep_name:
                shutil.rmtree(self.directory / old, ignore_errors=True)


def _plain(logs) -> dict:
    out = {}
    for name, value in (logs or {}).items():
        number = _finite_scalar(value)
        if number is not None:
            out[name] = number
    return out


def _brief(logs) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in _plain(logs).items()) or "none"


def _write_json_atomic(path: Path, data) -> None:
    fd, temporary = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".json", dir=path.parent)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2, sort_keys=True)
    os.replace(temporary, path)
