"""`i2i train srgan`: SRGAN stage 2, adversarial fine-tuning of a stage-1 generator.

```bash
i2i train srresnet --data photos/ --scale 4 --out runs/sr_x4 --steps 20000     # stage 1
i2i train srgan --data photos/ --init runs/sr_x4 --out runs/srgan_x4 --steps 20000 \\
    --set steps_per_epoch=500
i2i train srgan --out runs/srgan_x4 --resume                # continue where it stopped
```

`--init` is what `i2i.zoo.load_generator` accepts: a stage-1 run directory, a generator
`.keras` file or a zoo name; the scale comes from its card. A copy of it is kept in
RUN_DIR/init/ (so `--resume` does not need the original). The discriminator starts
fresh (`i2i.nets.sr_discriminator`); the model is `i2i.gans.srgan.SRGAN` (VGG54 content
loss when the VGG19 weights are on this machine, else L1 with a warning; adversarial
weight 1e-3; Adam 1e-4, divided by 10 for the second half of the run as in the paper).

Training data, held-out images and the per-epoch validation are stage 1's
(`i2i.commands.sr`): PSNR/SSIM on the Y channel beside bicubic, logged as `val_psnr`,
`val_ssim`, `val_psnr_bicubic`, `val_ssim_bicubic`, computed on the generator that gets
exported (the EMA copy with `--set ema_decay=0.999`). RUN_DIR/generator.keras is the
generator at the end of the run (a GAN's PSNR falls as its images get sharper, so
"best PSNR" is not the goal here); the best-PSNR one is kept in RUN_DIR/best_psnr/.
Their cards say which content loss was used.

TensorFlow is imported inside functions only (`i2i --help` stays instant).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import click

from i2i import training
from i2i.commands.sr import SRResNetTask, SRValidationFactory
from i2i.commands.train import run_options

INIT_DIR = "init"
BEST_PSNR_DIR = "best_psnr"
CARD_KEYS = ("task", "scale", "value_range", "stride", "architecture")


@dataclass(frozen=True)
class SRGANOptions:
    """Model options of `i2i train srgan` (each settable with `--set name=value`).

    Attributes:
        data, val_data, holdout, val_size, patch_size, degradation, degradation_options,
            patches_per_image: the training and validation data, as in
            `i2i train srresnet` (`i2i.commands.sr.SRResNetOptions`).
        init: the stage-1 generator: a run directory, a `.keras` file or a zoo name.
        scale: the generator's scale (read from the init model's card).
        content: "auto" (VGG54 when the VGG19 ImageNet weights are on this machine, else
            L1 with a warning), "vgg54" (error without them) or "l1".
        vgg_weights: "imagenet" (the local Keras cache, see `i2i.losses.perceptual`) or a
            path to the VGG19 notop weights file.
        content_weight: weight of the content term (default: 1/12.75**2 for VGG54, 1 for L1).
        adversarial_weight: weight of the generator's adversarial term (1e-3, the paper).
        gan_mode: adversarial loss ("vanilla", the paper; "lsgan", "hinge", "wgan-gp").
        discriminator_filters: width of the discriminator's first stage (64).
        lr: Adam learning rate of both networks (1e-4).
        beta_1: Adam beta_1 (0.9).
        lr_drop: fraction of the run after which the learning rate is divided by 10
            (0.5: the paper's 1e-4 then 1e-5); 1 keeps it constant.
        ema_decay: momentum of the moving average of the generator weights that is
            validated and exported (0: off, the paper; 0.999: ESRGAN / BasicSR).
    """

    data: str = ""
    init: str = ""
    val_data: str = ""
    holdout: int = 1
    val_size: int | None = 256
    scale: int = 4
    patch_size: int = 96
    degradation: Literal["bicubic", "realistic"] = "bicubic"
    degradation_options: str = ""
    patches_per_image: int = 16
    content: Literal["auto", "vgg54", "l1"] = "auto"
    vgg_weights: str = "imagenet"
    content_weight: float | None = None
    adversarial_weight: float = 1e-3
    gan_mode: Literal["vanilla", "lsgan", "hinge", "wgan-gp"] = "vanilla"
    discriminator_filters: int = 64
    lr: float = 1e-4
    beta_1: float = 0.9
    lr_drop: float = 0.5
    ema_decay: float = 0.0


class SRGANTask(SRResNetTask):
    """The `training.TrainTask` of `i2i train srgan` (stage 1's data and validation)."""

    name = "srgan"
    options_class = SRGANOptions

    def __init__(self):
        super().__init__()
        self.init_card = None
        self.content_note = None
        self.content = None
        self.validation_logs = None

    # --------------------------------------------------------------- data

    def train_dataset(self, cfg, start_step):
        # Stage 1's patches, as the {"lr", "hr"} dicts GANModel steps take.
        pairs = super().train_dataset(cfg, start_step)
        return pairs.map(lambda lr, hr: {"lr": lr, "hr": hr})

    # --------------------------------------------------------------- model

    def _init_generator(self, cfg):
        """The stage-1 generator (loaded from RUN_DIR/init when resuming) and its card."""
        import tensorflow as tf

        from i2i import zoo

        copy = Path(cfg.run.out) / INIT_DIR / "generator.keras"
        source = copy if copy.exists() else cfg.model.init
        if not source:
            raise training.TrainingError("no initial generator: give --init RUN_DIR_OR_MODEL")
        try:
            loaded, card = zoo.load_generator(source)
        except zoo.ZooError as error:
            raise training.TrainingError(f"--init: {error}") from None
        if card.get("task") != "super-resolution" or int(card.get("scale", 0)) != cfg.model.scale:
            raise training.TrainingError(
                f"{source}: not a x{cfg.model.scale} super-resolution generator "
                f"(its card says task {card.get('task')!r}, scale {card.get('scale')})"
            )
        if not copy.exists() and training.is_chief(tf.distribute.get_strategy()):
            zoo.save_generator(loaded, copy, {**card, "source": cfg.model.init})
        training.log(f"generator initialized from {source}")
        return self._rebuilt(loaded, card), card

    @staticmethod
    def _rebuilt(loaded, card):
        """The generator rebuilt from its card's architecture under the run's precision
        policy (loaded weights copied in); the loaded network itself when the card names
        no registered builder."""
        from i2i import registry

        architecture = dict(card.get("architecture") or {})
        name = architecture.pop("name", None)
        try:
            builder = registry.resolve(registry.NETS, name)
            network = builder(**architecture)
            network.set_weights(loaded.get_weights())
        except (KeyError, TypeError, ValueError):
            training.log(f"training the saved network as is (its card names {name!r})")
            return loaded
        return network

    def build_model(self, cfg):
        import keras

        from i2i.gans.srgan import ContentLossFallbackWarning, build_srgan
        from i2i.losses import VGGWeightsNotFoundError

        m = cfg.model
        generator, self.init_card = self._init_generator(cfg)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ContentLossFallbackWarning)
            try:
                model = build_srgan(
                    generator,
                    content=m.content,
                    vgg_weights=m.vgg_weights,
                    content_weight=m.content_weight,
                    adversarial_weight=m.adversarial_weight,
                    gan_mode=m.gan_mode,
                    ema_decay=m.ema_decay,
                    discriminator_filters=m.discriminator_filters,
                    seed=cfg.run.seed,
                )
            except (VGGWeightsNotFoundError, ValueError) as error:
                raise training.TrainingError(str(error)) from None
        for warning in caught:
            if not issubclass(warning.category, ContentLossFallbackWarning):
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )
        self.content, self.content_note = model.content, model.content_note
        if model.content == "l1" and m.content == "auto":
            training.log(f"WARNING: {model.content_note}; sharper results need VGG54")
        else:
            training.log(model.content_note)

        def adam(**ema):
            return keras.optimizers.Adam(self._learning_rate(cfg), beta_1=m.beta_1, **ema)

        ema = {"use_ema": True, "ema_momentum": m.ema_decay} if m.ema_decay else {}
        model.compile(generator_optimizer=adam(**ema), discriminator_optimizer=adam())
        return model

    @staticmethod
    def _learning_rate(cfg):
        """`lr`, divided by 10 after `lr_drop` of the run's steps (the paper's schedule)."""
        import keras

        m = cfg.model
        steps = cfg.run.epoch_steps
        total = None if steps is None else steps * cfg.run.total_epochs
        if not total or not 0.0 < m.lr_drop < 1.0:
            return m.lr
        boundary = max(1, int(round(total * m.lr_drop)))
        return keras.optimizers.schedules.PiecewiseConstantDecay([boundary], [m.lr, m.lr / 10])

    # --------------------------------------------------------------- callbacks

    def callbacks(self, cfg, run_dir, model):
        _, _, validation = self._splits(cfg)
        card = self.card(cfg)
        inner = SRValidationFactory.make(
            validation, Path(run_dir) / BEST_PSNR_DIR, card, cfg.run.epoch_steps
        )
        self.validation = inner
        return [
            _EvaluationGeneratorCallbacks.make(inner, self),
            *self._sample_grid(validation, run_dir),
        ]

    @staticmethod
    def _sample_grid(validation, run_dir) -> list:
        """LR (enlarged) | evaluation generator | HR grids of up to 3 validation images."""
        import numpy as np

        from i2i.callbacks import SampleGrid

        same = [i for i, lr in enumerate(validation.lr) if lr.shape == validation.lr[0].shape]
        if not same:
            return []
        lr = np.stack([validation.lr[i] for i in same[:3]]).astype(np.float32) / 255.0
        hr = np.stack([validation.hr[i] for i in same[:3]]).astype(np.float32) / 255.0

        def generate(model, inputs):
            return model.evaluation_generator().predict(inputs, verbose=0)

        return [
            SampleGrid(
                Path(run_dir) / "samples",
                lr,
                hr,
                value_range=(0.0, 1.0),
                generate=generate,
                tensorboard_dir=Path(run_dir) / "tensorboard" / "samples",
            )
        ]

    def generators(self, model) -> dict:
        """The generator validated each epoch: the EMA copy when EMA is on."""
        return {"generator": model.evaluation_generator()}

    def card(self, cfg) -> dict:
        m = cfg.model
        init = self.init_card or {}
        card = {key: init[key] for key in CARD_KEYS if key in init}
        card.setdefault("task", "super-resolution")
        card.setdefault("scale", m.scale)
        card.setdefault("value_range", [0.0, 1.0])
        card.setdefault("stride", 1)
        card["training"] = {
            "stage": "srgan (adversarial fine-tuning)",
            "init": m.init,
            "data": m.data,
            "content_loss": self.content or m.content,
            "content_note": self.content_note,
            "adversarial_weight": m.adversarial_weight,
            "gan_mode": m.gan_mode,
            "ema_decay": m.ema_decay,
            "weights": "EMA of the generator" if m.ema_decay else "final generator",
            "patch_size": m.patch_size,
            "degradation": m.degradation,
            "batch_size": cfg.run.batch_size,
            "lr": m.lr,
        }
        if self.validation_logs:
            card["validation"] = dict(self.validation_logs)
        return card


class _EvaluationGeneratorCallbacks:
    """Builds the wrapper lazily (Keras is imported only when training)."""

    @staticmethod
    def make(inner, task):
        import keras

        class EvaluationGeneratorValidation(keras.callbacks.Callback):
            """Runs stage 1's validation callback on the SRGAN's evaluation generator.

            Before each epoch's validation the inner callback's model is set to
            `SRGAN.evaluation_generator()` (the EMA copy when EMA is on), so it scores,
            and keeps as best-PSNR, a generator rather than the whole GAN. The epoch's
            scores go into the task's card.
            """

            def on_epoch_end(self, epoch, logs=None):
                inner.set_model(self.model.evaluation_generator())
                inner.on_epoch_end(epoch, logs)
                names = ("val_psnr", "val_ssim", "val_psnr_bicubic", "val_ssim_bicubic")
                if logs is not None and "val_psnr" in logs:
                    record = {name[4:]: round(float(logs[name]), 4) for name in names}
                    task.validation_logs = {**record, "epoch": epoch + 1}

        return EvaluationGeneratorValidation()


def _init_argument(init: str) -> str:
    """An existing path made absolute (so `--resume` works from anywhere), else a name."""
    path = Path(init).expanduser()
    return str(path.resolve()) if path.exists() else init


@click.command("srgan")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False),
    help="HR training images, as for `i2i train srresnet`. Not needed with --resume.",
)
@click.option(
    "--init",
    "init",
    metavar="RUN_DIR_OR_MODEL",
    help="The stage-1 generator: an `i2i train srresnet` run directory, a .keras file or a "
    "zoo name. Not needed with --resume.",
)
@click.option(
    "--val-data",
    type=click.Path(exists=True, file_okay=False),
    help="Held-out HR images for validation (default: DATA/test, else --set holdout=N "
    "images of DATA).",
)
@run_options
def srgan(data, init, val_data, run):
    """Fine-tune a super-resolution generator adversarially: SRGAN stage 2.

    Content loss VGG54 (L1 with a warning when the VGG19 weights are not on this
    machine) + 1e-3 x adversarial, against a fresh VGG-style discriminator; validation
    PSNR/SSIM (Y channel) beside bicubic every epoch. Writes RUN_DIR/generator.keras (+
    card). Options: `--set ema_decay=0.999`, `--set content=l1`, `--set lr=1e-4`,
    `--set patch_size=96`... (see `i2i.commands.srgan.SRGANOptions`). With --steps, set
    the epoch (validation, checkpoint) length with --set steps_per_epoch=N.
    """
    scale = None
    if not run.resume:
        if data is None or init is None:
            raise click.UsageError("--data and --init are required (except with --resume)")
        from i2i import zoo

        try:
            entry = zoo.resolve_model(init)
        except zoo.ZooError as error:
            raise click.ClickException(f"--init: {error}") from None
        if entry.card.get("task") != "super-resolution":
            raise click.ClickException(
                f"--init {init}: not a super-resolution generator "
                f"(its card says task {entry.card.get('task')!r})"
            )
        scale = int(entry.card["scale"])
        init = _init_argument(init)
    # Absolute paths in config.json: `--resume` works from any directory.
    data, val_data = (None if p is None else str(Path(p).resolve()) for p in (data, val_data))
    model = {"data": data, "init": init, "scale": scale, "val_data": val_data}
    run.execute(SRGANTask(), model=model)
