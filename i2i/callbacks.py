"""Keras callbacks for training runs: checkpoints, non-finite guard, LR decay, samples.

The runner (`i2i.training.run`) adds `NonFiniteGuard` and `FullStateCheckpoint` to every
run, with `EpochLog` (log.csv) and Keras' `TensorBoard`. Models add their own (sample grids, linear
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

from i2i import checkpoint
from i2i.common import atomic_write, usual_mode


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

    Raises `i2i.checkpoint.NonFiniteError` naming the step and the loss, from inside the
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
            raise checkpoint.NonFiniteError(
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
        bad = checkpoint.nonfinite_weights(self.model)
        if bad is not None:
            raise checkpoint.NonFiniteError(
                f"step {self.step}: weight {bad} is not finite (logs: {_brief(logs)}); "
                "training stopped, the last checkpoint was kept"
            )
        name = f"epoch-{epoch + 1:06d}"
        parent = self.directory if self.write else None
        if parent is not None:
            parent.mkdir(parents=True, exist_ok=True)
        temporary = Path(tempfile.mkdtemp(prefix=".tmp-", dir=parent))
        try:
            checkpoint.save_state(self.model, temporary)
            if not self.write:
                return
            final = self.directory / name
            os.chmod(temporary, usual_mode(directory=True))  # mkdtemp made it owner-only
            if final.exists():
                shutil.rmtree(final)
            os.replace(temporary, final)
        finally:
            shutil.rmtree(temporary, ignore_errors=True)
        record = {"epoch": epoch + 1, "step": self.step, "dir": name, "logs": _plain(logs)}
        atomic_write(self.directory / checkpoint.LATEST, _json(record))
        self._prune(keep_name=name)

    def _prune(self, keep_name: str) -> None:
        names = [path.name for path in checkpoint.epoch_checkpoints(self.directory)]
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


class EpochLog(keras.callbacks.CSVLogger):
    """Keras' `CSVLogger` numbering epochs from 1, as the checkpoints (`epoch-000001`),
    the sample grids and Keras' progress bar do (Keras logs them from 0)."""

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch + 1, logs)


def _brief(logs) -> str:
    return ", ".join(f"{k}={v:.4g}" for k, v in _plain(logs).items()) or "none"


def _json(data) -> str:
    return json.dumps(data, indent=2, sort_keys=True)


class LinearDecay(keras.callbacks.Callback):
    """Constant learning rate, then linear decay towards zero (the CycleGAN schedule).

    For the 0-based epoch `e` the rate is
    `base * (1 - max(0, e + 1 - constant_epochs) / (decay_epochs + 1))`, exactly the
    reference implementation's `lambda_rule` (pix2pix/CycleGAN: 100 + 100 epochs).
    The rate is a function of the absolute epoch Keras passes (`initial_epoch` included),
    and the base rates are given, not read from the optimizers, so a resumed run
    continues on the same schedule. Each epoch's rate is logged as `lr`.

    Args:
        constant_epochs: epochs at the base rate (`n_epochs`).
        decay_epochs: epochs of linear decay after them (`n_epochs_decay`).
        base_learning_rate: the base rate of every optimizer of the model, or a
            sequence with one per optimizer (GANModel: generator, discriminator).

    Reference:
        Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent
        Adversarial Networks", ICCV 2017 (and its reference code's `get_scheduler`).
    """

    def __init__(self, constant_epochs: int, decay_epochs: int, base_learning_rate):
        super().__init__()
        self.constant_epochs = int(constant_epochs)
        self.decay_epochs = int(decay_epochs)
        self.base_learning_rate = base_learning_rate

    def factor(self, epoch: int) -> float:
        """The multiplier of the base rate during 0-based `epoch`."""
        return 1.0 - max(0, epoch + 1 - self.constant_epochs) / float(self.decay_epochs + 1)

    def _bases(self, optimizers) -> list[float]:
        bases = self.base_learning_rate
        if isinstance(bases, int | float):
            return [float(bases)] * len(optimizers)
        if len(bases) != len(optimizers):
            raise ValueError(
                f"LinearDecay: {len(bases)} base rates for {len(optimizers)} optimizers"
            )
        return [float(b) for b in bases]

    def on_epoch_begin(self, epoch, logs=None):
        optimizers = checkpoint.model_optimizers(self.model)
        self.rates = []
        for optimizer, base in zip(optimizers, self._bases(optimizers), strict=True):
            schedule = getattr(optimizer, "_learning_rate", None)
            if isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
                raise ValueError("LinearDecay needs a constant learning rate, not a schedule")
            rate = base * self.factor(epoch)
            optimizer.learning_rate = rate
            self.rates.append(rate)

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None and getattr(self, "rates", None):
            logs["lr"] = self.rates[0]


class SampleGrid(keras.callbacks.Callback):
    """Save a grid of fixed samples after every `every` epochs: input | output | target.

    One row per sample. Inputs smaller than the outputs (super-resolution) are shown
    enlarged with nearest-neighbour pixels. Files: `directory/epoch-NNNN.png`; with
    `tensorboard_dir`, the grid is also logged as a TensorBoard image. Only the chief
    worker writes (every worker computes the prediction, which is collective).

    Args:
        directory: where the PNG files go (`RUN_DIR/samples`).
        inputs: a fixed batch of generator inputs (array `(N, H, W, 3)`).
        targets: the matching ground truth, or None (no third column).
        value_range: the float range of inputs/outputs (`(-1, 1)` translation,
            `(0, 1)` super-resolution).
        every: epochs between grids.
        generate: optional `generate(model, inputs) -> images`; default `model.predict`.
        tensorboard_dir: optional TensorBoard log folder for the images.
    """

    def __init__(
        self,
        directory,
        inputs,
        targets=None,
        value_range=(-1.0, 1.0),
        every: int = 1,
        generate=None,
        tensorboard_dir=None,
    ):
        super().__init__()
        self.directory = Path(directory)
        self.inputs = np.asarray(inputs, np.float32)
        self.targets = None if targets is None else np.asarray(targets, np.float32)
        self.value_range = tuple(value_range)
        self.every = max(1, int(every))
        self.generate = generate
        self.tensorboard_dir = tensorboard_dir
        self._writer = None

    def grid(self) -> np.ndarray:
        """The current grid as a uint8 `(rows * H, columns * W, 3)` image."""
        from i2i import imageio

        if self.generate is not None:
            outputs = self.generate(self.model, self.inputs)
        else:
            outputs = self.model.predict(self.inputs, verbose=0)
        outputs = np.asarray(outputs, np.float32)
        height, width = outputs.shape[1:3]
        columns = [_enlarge(self.inputs, height, width), outputs]
        if self.targets is not None:
            columns.append(_enlarge(self.targets, height, width))
        rows = [
            np.concatenate([column[i] for column in columns], axis=1) for i in range(len(outputs))
        ]
        return imageio.from_float(np.concatenate(rows, axis=0), np.uint8, self.value_range)

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        image = self.grid()
        if not checkpoint.is_chief(self.model.distribute_strategy):
            return
        from i2i import imageio

        imageio.write_image(self.directory / f"epoch-{epoch + 1:04d}.png", image)
        if self.tensorboard_dir is not None:
            import tensorflow as tf

            if self._writer is None:
                self._writer = tf.summary.create_file_writer(str(self.tensorboard_dir))
            with self._writer.as_default():
                tf.summary.image("samples", image[None], step=epoch + 1)
            self._writer.flush()

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _enlarge(images: np.ndarray, height: int, width: int) -> np.ndarray:
    """Nearest-neighbour enlarge by integer factors (or leave as is when sizes match)."""
    factor_h, factor_w = height // images.shape[1], width // images.shape[2]
    if (factor_h, factor_w) == (1, 1) or factor_h < 1 or factor_w < 1:
        return images[:, :height, :width]
    return np.repeat(np.repeat(images, factor_h, axis=1), factor_w, axis=2)[:, :height, :width]
