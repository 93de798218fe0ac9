"""Tiny models and tasks used only by the tests of the training core.

- `TinyPlainTask`: a 2-layer conv generator compiled with an L1 loss (the plain
  `keras.Model` path of the runner, like SRResNet stage 1);
- `TinyGAN` / `TinyGANTask`: a tiny conditional GAN (pix2pix-like: L1 + adversarial) on
  the shared `GANModel` core (added with the GAN core);
- a command line (`python tests/tiny_gan.py plain|gan --out DIR ...`) with the shared run
  options, for the tests that need a real subprocess (kill + resume, multi-worker).

Data: fixed random 16x16 "targets" and their "sources" (a fixed colour transform of the
target plus a shift), so the L1 loss can only fall by learning the mapping.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import click  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from i2i import training  # noqa: E402
from i2i.commands.train import run_options  # noqa: E402

SIZE = 16


def tiny_arrays(count: int = 32, size: int = SIZE, seed: int = 0):
    """`(source, target)` float32 arrays in [-1, 1], shape `(count, size, size, 3)`."""
    rng = np.random.default_rng(seed)
    coarse = rng.uniform(-1, 1, (count, size // 4, size // 4, 3)).astype("float32")
    target = np.repeat(np.repeat(coarse, 4, axis=1), 4, axis=2)
    mix = np.array([[0.5, 0.2, 0.1], [0.1, 0.6, 0.2], [0.2, 0.1, 0.5]], "float32")
    source = np.tanh(target @ mix + 0.1).astype("float32")
    return source, target


def tiny_dataset(batch_size: int, paired_dict: bool, repeat: bool = True, seed: int = 0):
    """A deterministic `tf.data` pipeline of tiny batches (shuffled with a fixed seed)."""
    import tensorflow as tf

    source, target = tiny_arrays()
    if paired_dict:
        data = tf.data.Dataset.from_tensor_slices({"source": source, "target": target})
    else:
        data = tf.data.Dataset.from_tensor_slices((source, target))
    data = data.shuffle(len(source), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        data = data.repeat()
    return data.batch(batch_size, drop_remainder=True)


def tiny_generator(filters: int = 8, name: str = "generator"):
    """A 2-conv image-to-image network with a float32 tanh head."""
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(3, 3, padding="same")(x)
    outputs = keras.layers.Activation("tanh", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


@dataclass(frozen=True)
class TinyOptions:
    """Options of the tiny tasks (a model section for config tests too)."""

    lr: float = 2e-3
    filters: int = 8
    lambda_l1: float = 10.0
    nan_at_step: int = 0  # > 0: the data of that step holds NaN (non-finite tests)


class TinyPlainTask(training.TrainTask):
    """The plain-model path: generator + L1 loss, `model.compile` / `fit`."""

    name = "tiny-plain"
    options_class = TinyOptions

    def __init__(self, extra_callbacks=None):
        self.extra_callbacks = list(extra_callbacks or [])

    def build_model(self, cfg):
        model = tiny_generator(cfg.model.filters)
        model.compile(optimizer=keras.optimizers.Adam(cfg.model.lr), loss="mae")
        return model

    def train_dataset(self, cfg, start_step):
        data = tiny_dataset(cfg.run.batch_size, paired_dict=False)
        data = _poison(data, cfg.model.nan_at_step, paired_dict=False)
        return training.skip_batches(data, start_step)

    def callbacks(self, cfg, run_dir, model):
        return list(self.extra_callbacks)

    def card(self, cfg):
        return {
            "task": "translation",
            "scale": 1,
            "value_range": [-1.0, 1.0],
            "stride": 1,
            "architecture": {"name": "tiny", "filters": cfg.model.filters},
        }


def _poison(data, nan_at_step: int, paired_dict: bool):
    """Make the batch of step `nan_at_step` (1-based) all NaN."""
    if nan_at_step <= 0:
        return data
    import tensorflow as tf

    def poison(index, batch):
        bad = tf.equal(index, nan_at_step - 1)
        return tf.nest.map_structure(
            lambda x: tf.where(bad, tf.fill(tf.shape(x), float("nan")), x), batch
        )

    return data.enumerate().map(poison)


TASKS = {"plain": TinyPlainTask}


class HangAtStep(keras.callbacks.Callback):
    """Test-only: after training step `step` of this process, write `marker` and hang
    (the test then kills the process with SIGKILL)."""

    def __init__(self, step: int, marker):
        super().__init__()
        self.step, self.marker, self.count = step, Path(marker), 0

    def on_train_batch_end(self, batch, logs=None):
        self.count += 1
        if self.count == self.step:
            self.marker.write_text(str(self.count))
            while True:
                time.sleep(1)


@click.command()
@click.argument("kind", type=click.Choice(sorted(TASKS)))
@click.option("--hang-at-step", type=int, default=0, help="Hang after this global step.")
@click.option("--dump", type=click.Path(), help="Write the final weights here (.npz).")
@run_options
def main(kind, hang_at_step, dump, run):
    """Train a tiny test task with the real runner (used by subprocess tests)."""
    extra = []
    if hang_at_step:
        out = Path(run.out)
        extra.append(HangAtStep(hang_at_step, out / "hang.marker"))
    task = TASKS[kind](extra_callbacks=extra)
    result = run.execute(task)
    if dump:
        weights = {f"w{i}": np.asarray(w) for i, w in enumerate(result.model.get_weights())}
        np.savez(dump, **weights)


if __name__ == "__main__":
    main()
