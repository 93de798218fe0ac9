"""Tiny models and tasks used only by the tests of the training core.

- `TinyPlainTask`: a 2-layer conv generator compiled with an L1 loss (the plain
  `keras.Model` path of the runner, like SRResNet stage 1);
- `TinyGAN` / `TinyGANTask`: a tiny conditional GAN (pix2pix-like: L1 + adversarial) on
  the shared `GANModel` core;
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
from i2i.gans.gan_model import GANModel  # noqa: E402
from i2i.losses import adversarial_loss, gradient_penalty, l1_loss  # noqa: E402

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
    # Repeat, then shuffle with a fixed order: every iterator of this dataset yields the
    # same stream (a reshuffling shuffle gives each new iterator a new order, and
    # tf.distribute may create more than one).
    if repeat:
        data = data.repeat()
    data = data.shuffle(len(source), seed=seed, reshuffle_each_iteration=False)
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
    gan_mode: str = "lsgan"
    n_critic: int = 1
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


def tiny_discriminator(filters: int = 8, name: str = "discriminator"):
    """A PatchGAN-like critic on `concat(source, image)` with float32 logits."""
    inputs = keras.Input((None, None, 6))
    x = keras.layers.Conv2D(filters, 4, strides=2, padding="same")(inputs)
    x = keras.layers.LeakyReLU(0.2)(x)
    outputs = keras.layers.Conv2D(1, 3, padding="same", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=name)


@keras.saving.register_keras_serializable(package="i2i_tests")
class TinyGAN(GANModel):
    """A tiny conditional GAN (pix2pix-like: adversarial + L1) on the shared core.

    Args:
        generator, discriminator: the networks (`tiny_generator`, `tiny_discriminator`).
        gan_mode: an `i2i.losses.adversarial_loss` mode; "wgan-gp" adds the penalty term.
        lambda_l1: weight of the L1 term.
    """

    discriminator_first = True

    def __init__(self, generator, discriminator, gan_mode="lsgan", lambda_l1=10.0, **kwargs):
        self.loss_names = ("g_gan", "g_l1", "d_adv") + (("d_gp",) if gan_mode == "wgan-gp" else ())
        super().__init__(**kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.gan_mode = gan_mode
        self.lambda_l1 = float(lambda_l1)
        self.gan_loss = adversarial_loss(gan_mode)

    def generate(self, batch, training):
        return self.generator(batch["source"], training=training)

    def _logits(self, batch, image):
        both = keras.ops.concatenate([batch["source"], keras.ops.cast(image, "float32")], -1)
        return self.discriminator(both, training=True)

    def generator_losses(self, batch, fake):
        return {
            "g_gan": self.gan_loss.generator(self._logits(batch, fake)),
            "g_l1": self.lambda_l1 * l1_loss(batch["target"], fake),
        }

    def discriminator_losses(self, batch, fake):
        real_logits = self._logits(batch, batch["target"])
        terms = {"d_adv": self.gan_loss.discriminator(real_logits, self._logits(batch, fake))}
        if self.gan_mode == "wgan-gp":
            penalty = gradient_penalty(
                self.discriminator, batch["target"], fake, self.seed_generator, batch["source"]
            )
            terms["d_gp"] = self.gan_loss.gradient_penalty_weight * penalty
        return terms

    def get_config(self):
        return {**super().get_config(), "gan_mode": self.gan_mode, "lambda_l1": self.lambda_l1}


def make_tiny_gan(options: TinyOptions | None = None, compile: bool = True, seed: int = 0):
    """A `TinyGAN` built from `options` (compiled with Adam(lr, beta_1=0.5) for both)."""
    options = options or TinyOptions()
    model = TinyGAN(
        tiny_generator(options.filters),
        tiny_discriminator(options.filters),
        gan_mode=options.gan_mode,
        lambda_l1=options.lambda_l1,
        n_critic=options.n_critic,
        seed=seed,
    )
    if compile:
        model.compile(
            generator_optimizer=keras.optimizers.Adam(options.lr, beta_1=0.5),
            discriminator_optimizer=keras.optimizers.Adam(options.lr, beta_1=0.5),
        )
    return model


class TinyGANTask(TinyPlainTask):
    """The GANModel path of the runner, on the tiny conditional GAN."""

    name = "tiny-gan"

    def build_model(self, cfg):
        return make_tiny_gan(cfg.model, seed=cfg.run.seed)

    def train_dataset(self, cfg, start_step):
        data = tiny_dataset(cfg.run.batch_size, paired_dict=True)
        data = _poison(data, cfg.model.nan_at_step, paired_dict=True)
        return training.skip_batches(data, start_step)


TASKS = {"plain": TinyPlainTask, "gan": TinyGANTask}


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
