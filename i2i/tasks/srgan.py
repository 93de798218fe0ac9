"""The SRGAN training task: `i2i train srgan`, stage 2, adversarial fine-tuning.

`SRGANOptions` are a run's model options (`cfg.model`, each settable with `--set`);
`SRGANTask` fine-tunes a stage-1 generator (`init_from`: a run directory, a `.keras`
file or a zoo name; the scale comes from its card; a copy is kept in RUN_DIR/init/ so a
resume does not need the original) against a fresh discriminator
(`i2i.nets.sr_discriminator`) as `i2i.gans.srgan.SRGAN`: VGG54 content loss when the
VGG19 weights are on this machine, else L1 with a warning; adversarial weight 1e-3; Adam
1e-4, divided by 10 after `lr_drop` of the run, as in the paper.

Training data, held-out images and the per-epoch validation are stage 1's
(`i2i.tasks.srresnet`), computed on the generator that gets exported (the EMA copy with
`ema_decay`). RUN_DIR/generator.keras is the generator at the end of the run (a GAN's
PSNR falls as its images get sharper, so "best PSNR" is not the goal here); the best-PSNR
one is kept in RUN_DIR/best_psnr/. Their cards say which content loss was used.

Example:

```python
from i2i import config, training
from i2i.tasks.srgan import SRGANOptions, SRGANTask

options = SRGANOptions(data="photos/", init_from="runs/sr_x4", scale=4, ema_decay=0.999)
run = config.RunOptions(out="runs/srgan_x4", steps=20000, steps_per_epoch=500)
training.run(SRGANTask(), config.Config(task="srgan", run=run, model=options))
```
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from i2i import config as config_lib
from i2i import training
from i2i.tasks.sr_validation import GeneratorValidation, SRValidation
from i2i.tasks.srresnet import SRDataOptions, SRResNetTask, build_generator

INIT_DIR = "init"
BEST_PSNR_DIR = "best_psnr"
CARD_KEYS = ("task", "scale", "value_range", "stride", "architecture")


@config_lib.renamed(init="init_from")
@dataclass(frozen=True)
class SRGANOptions(SRDataOptions):
    """Model options of `i2i train srgan` (each settable with `--set name=value`).

    The training and validation data are stage 1's, `SRDataOptions`; with them:

    Attributes:
        init_from: the stage-1 generator: a run directory, a `.keras` file or a zoo name
            (`--init`; the option was called `init`, still accepted until the next
            release).
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
        self.generator_validation = None  # the GeneratorValidation of the current run

    # --------------------------------------------------------------- data

    def train_dataset(self, cfg, start_step):
        # Stage 1's patches: the {"lr", "hr"} dicts GANModel steps take.
        return self.patches(cfg, start_step)

    def stride(self, cfg) -> int:
        # The generator is stage 1's (built before the data): its card says.
        return int((self.init_card or {}).get("stride", 1))

    # --------------------------------------------------------------- model

    def _init_generator(self, cfg):
        """The stage-1 generator (loaded from RUN_DIR/init when resuming) and its card."""
        import tensorflow as tf

        from i2i import zoo

        copy = Path(cfg.run.out) / INIT_DIR / "generator.keras"
        source = copy if copy.exists() else cfg.model.init_from
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
            zoo.save_generator(loaded, copy, {**card, "source": cfg.model.init_from})
        training.log(f"generator initialized from {source}")
        return self._rebuilt(loaded, card), card

    @staticmethod
    def _rebuilt(loaded, card):
        """The generator rebuilt from its card's architecture under the run's precision
        policy (loaded weights copied in); the loaded network itself when the card names
        no registered builder."""
        architecture = card.get("architecture") or {}
        try:
            network = build_generator(architecture)
            network.set_weights(loaded.get_weights())
        except (KeyError, TypeError, ValueError):
            name = architecture.get("name")
            training.log(f"training the saved network as is (its card names {name!r})")
            return loaded
        return network

    def build_model(self, cfg):
        from i2i.gans.gan_model import ema_arguments
        from i2i.gans.srgan import ContentLossFallbackWarning, build_srgan
        from i2i.losses import VGGWeightsNotFoundError
        from i2i.optimizers import Adam

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
            return Adam(self._learning_rate(cfg), beta_1=m.beta_1, **ema)

        model.compile(
            generator_optimizer=adam(**ema_arguments(m.ema_decay)), discriminator_optimizer=adam()
        )
        return model

    @staticmethod
    def _learning_rate(cfg):
        """`lr`, divided by 10 after `lr_drop` of the run's steps (the paper's schedule)."""
        import keras

        m = cfg.model
        total = cfg.run.total_steps
        if not total or not 0.0 < m.lr_drop < 1.0:
            return m.lr
        boundary = max(1, int(round(total * m.lr_drop)))
        return keras.optimizers.schedules.PiecewiseConstantDecay([boundary], [m.lr, m.lr / 10])

    # --------------------------------------------------------------- callbacks

    def callbacks(self, cfg, run_dir, model):
        _, _, validation = self._splits(cfg)
        best = Path(run_dir) / BEST_PSNR_DIR / "generator.keras"
        self.validation = SRValidation(validation, best, self.card(cfg), cfg.run.epoch_steps)
        self.generator_validation = GeneratorValidation(self.validation)
        return [self.generator_validation, *self._sample_grid(validation, run_dir)]

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
            "init": m.init_from,
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
        record = getattr(self.generator_validation, "record", None)
        if record:
            card["validation"] = dict(record)
        return card
