"""The CycleGAN training task: `i2i train cyclegan` on an unpaired dataset.

`CycleGANOptions` are a run's model options (`cfg.model`, each settable with `--set`);
`CycleGANTask` trains `i2i.gans.cyclegan.CycleGAN` on `trainA/ trainB/`
(`i2i.data.unpaired`). The data is checked first; an epoch is one pass over the larger
domain unless `steps_per_epoch` says otherwise (pinned in config.json, so a resume keeps
the same epochs and schedule); the learning rate is constant, then decays linearly over
the second half of the run (the reference's 100 + 100 epochs). Every epoch ends with a
checkpoint, a log.csv row and a sample grid; both generators are exported with a card.

Example:

```python
from i2i import config, training
from i2i.tasks.cyclegan import CycleGANOptions, CycleGANTask

options = CycleGANOptions(data="data/day2night", image_size=128, num_blocks=6, filters=32)
cfg = config.Config(task="cyclegan", run=config.RunOptions(out="runs/d2n", epochs=200,
                    batch_size=1), model=options)
training.run(CycleGANTask(), cfg)
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from i2i import config as config_lib
from i2i import training
from i2i.gans.cyclegan import build_cyclegan
from i2i.optimizers import Adam
from i2i.tasks import translation


@config_lib.renamed(blocks="num_blocks", d_filters="discriminator_filters")
@dataclass(frozen=True)
class CycleGANOptions(translation.TranslationDataOptions):
    """Options of `i2i train cyclegan` (`cfg.model`; each settable with `--set`).

    The data options (`data`: an unpaired dataset, `trainA/ trainB/ [testA/ testB/]`,
    `image_size`, `load_size`, `preprocess`, `flip`) are
    `i2i.tasks.translation.TranslationDataOptions`; with them:

    Attributes:
        filters, num_blocks: generator width (ngf) and residual blocks (formerly
            `blocks`, still accepted until the next release).
        discriminator_filters, d_layers: discriminator width (ndf; formerly
            `d_filters`) and PatchGAN depth.
        norm: "instance", "batch" or "none".
        gan_mode: "lsgan" (reference), "vanilla", "hinge" or "wgan-gp".
        lambda_cycle: cycle-consistency weight (10; of the A -> B -> A cycle when
            `lambda_cycle_b` is set).
        lambda_cycle_b: weight of the B -> A -> B cycle (None: `lambda_cycle`; the
            reference's `--lambda_B`; see `i2i.gans.cyclegan.CycleGAN`).
        lambda_identity: identity weight relative to the cycle weights (0.5).
        lambda_nce, nce_patches: a PatchNCE content term per direction (0: none) and
            the positions it draws (256; see `i2i.gans.cyclegan.CycleGAN`).
        lambda_nce_b: the weight of F's (B -> A) PatchNCE term alone (None:
            `lambda_nce`; `lambda_nce` then weighs only G's).
        history_size: image history per discriminator (50).
        upsample: the generators' "transpose" convolutions (the paper) or "resize"
            (bilinear 2x + 3x3 convolution: no checkerboard lattice).
        cycle_noise: Gaussian noise std added before translating back (0; see
            `i2i.gans.cyclegan.CycleGAN`).
        lr, beta_1: Adam of both sides (2e-4, 0.5).
        decay_epochs: the last epochs, over which the learning rate decays linearly
            towards 0 (`i2i.callbacks.LinearDecay`); None: the second half of the run,
            as the paper's 100 + 100 epochs; 0: constant.
    """

    filters: int = 64
    num_blocks: int = 9
    discriminator_filters: int = 64
    d_layers: int = 3
    norm: Literal["instance", "batch", "none"] = "instance"
    gan_mode: Literal["lsgan", "vanilla", "hinge", "wgan-gp"] = "lsgan"
    lambda_cycle: float = 10.0
    lambda_cycle_b: float | None = None
    lambda_identity: float = 0.5
    lambda_nce: float = 0.0
    nce_patches: int = 256
    lambda_nce_b: float | None = None
    history_size: int = 50
    upsample: Literal["transpose", "resize"] = "transpose"
    cycle_noise: float = 0.0
    lr: float = 2e-4
    beta_1: float = 0.5
    decay_epochs: int | None = None


class CycleGANTask(translation.TranslationTask):
    """`i2i train cyclegan`: a CycleGAN on an unpaired dataset, through the runner.

    Per epoch: a checkpoint, a log.csv row (with `lr` and `sample_diversity`) and a
    sample grid `RUN_DIR/samples/epoch-NNNN.png` (rows a | G(a) for A images, then
    b | F(b) for B images, from testA/testB when present). Exports
    `generator_a2b.keras` and `generator_b2a.keras` (+ cards) into the run directory;
    `i2i translate --model RUN_DIR --direction a2b|b2a` uses either.
    """

    name = "cyclegan"
    options_class = CycleGANOptions
    data_family = "unpaired"

    # ------------------------------------------------------------------ data

    def prepare(self, cfg):
        """The dataset check, and the reference's epoch when none is set: one pass over
        the larger domain (pinned in config.json, so a resume keeps the same epochs)."""
        self.check_data(cfg)
        if cfg.run.steps is None and cfg.run.steps_per_epoch is None:
            steps = self.steps_per_epoch(cfg.model.data, cfg.run.batch_size)
            cfg = config_lib.replace(cfg, steps_per_epoch=steps)
        return cfg

    def check_data(self, cfg) -> None:
        """The dataset check; images only need to reach the crop when cropping."""
        crop = cfg.model.image_size if cfg.model.preprocess != "resize" else None
        translation.check_training_data(cfg.model.data, self.data_family, crop)

    def steps_per_epoch(self, data: str, batch_size: int) -> int:
        """One pass over the larger domain (the reference's epoch), in batches."""
        from i2i.data.unpaired import unpaired_counts

        return max(1, max(unpaired_counts(data, "train")) // batch_size)

    def train_dataset(self, cfg, start_step):
        from i2i.data.layout import DatasetError
        from i2i.data.unpaired import unpaired_dataset

        options = cfg.model
        try:
            data = unpaired_dataset(
                options.data,
                "train",
                batch_size=cfg.run.batch_size,
                image_size=options.image_size,
                load_size=options.load_size,
                preprocess=options.preprocess,
                flip=options.flip,
                seed=cfg.run.seed,
                repeat=True,
            )
        except DatasetError as error:
            raise training.TrainingError(str(error)) from None
        return training.skip_batches(data, start_step)

    def sample_batch(self, cfg) -> dict:
        """Fixed `{"a", "b"}` sample images (testA/testB when both hold 2+, else train)."""
        from i2i.data.layout import unpaired_files
        from i2i.data.unpaired import unpaired_dataset

        options = cfg.model
        try:
            split = "test" if min(map(len, unpaired_files(options.data, "test"))) >= 2 else "train"
        except Exception:  # no (complete) test split: show training images
            split = "train"
        data = unpaired_dataset(
            options.data,
            split,
            batch_size=self.sample_count,
            image_size=options.image_size,
            load_size=options.load_size,
            preprocess="crop" if options.preprocess == "crop" else "resize",
            training=False,
            drop_remainder=False,
        )
        batch = next(iter(data))
        return {key: np.asarray(value) for key, value in batch.items()}

    # ------------------------------------------------------------------ model

    def build_model(self, cfg):
        options = cfg.model
        try:
            model = build_cyclegan(
                image_size=options.image_size,
                filters=options.filters,
                num_blocks=options.num_blocks,
                discriminator_filters=options.discriminator_filters,
                d_layers=options.d_layers,
                norm=options.norm,
                gan_mode=options.gan_mode,
                lambda_cycle=options.lambda_cycle,
                lambda_identity=options.lambda_identity,
                history_size=options.history_size,
                seed=cfg.run.seed,
                upsample=options.upsample,
                cycle_noise=options.cycle_noise,
                lambda_cycle_b=options.lambda_cycle_b,
                lambda_nce=options.lambda_nce,
                nce_patches=options.nce_patches,
                lambda_nce_b=options.lambda_nce_b,
            )
        except ValueError as error:
            raise training.TrainingError(str(error)) from None

        def adam(name):
            return Adam(options.lr, beta_1=options.beta_1, beta_2=0.999, name=name)

        model.compile(
            generator_optimizer=adam("generator_optimizer"),
            discriminator_optimizer=adam("discriminator_optimizer"),
        )
        return model

    def callbacks(self, cfg, run_dir: Path, model) -> list:
        from i2i.callbacks import LinearDecay, SampleGrid
        from i2i.health import TrainingHealth

        epochs = cfg.run.total_epochs
        decay = cfg.model.decay_epochs
        decay = epochs // 2 if decay is None else min(max(decay, 0), epochs)
        samples = self.sample_batch(cfg)
        count = min(len(samples["a"]), len(samples["b"]))
        both = np.concatenate([samples["a"][:count], samples["b"][:count]])

        def translate_both(model, images):
            # Rows 0..count-1 are A images (-> B), the rest B images (-> A).
            fake_b = model.generator_a2b.predict(images[:count], verbose=0)
            fake_a = model.generator_b2a.predict(images[count:], verbose=0)
            return np.concatenate([fake_b, fake_a])

        return [
            LinearDecay(epochs - decay, decay, cfg.model.lr),
            TrainingHealth(
                sample_inputs=samples["a"] if len(samples["a"]) >= 2 else None,
                generator=model.generator_a2b,
                value_range=translation.VALUE_RANGE,
            ),
            SampleGrid(
                run_dir / "samples",
                both,
                value_range=translation.VALUE_RANGE,
                generate=translate_both,
                tensorboard_dir=run_dir / "tensorboard" / "samples",
            ),
        ]

    # ------------------------------------------------------------------ export

    def card(self, cfg) -> dict:
        from i2i.nets.resnet_generator import STRIDE

        options = cfg.model
        architecture = {
            "name": "resnet_generator",
            "filters": options.filters,
            "blocks": options.num_blocks,  # resnet_generator's argument
            "norm": options.norm,
            "upsample": options.upsample,
        }
        return translation.translation_card(
            STRIDE,
            architecture,
            model="cyclegan",
            data=options.data,
            image_size=options.image_size,
            directions={"a2b": "trainA -> trainB", "b2a": "trainB -> trainA"},
        )
