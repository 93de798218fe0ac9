"""pix2pix: paired image-to-image translation with a conditional GAN.

A U-Net generator G maps a source image x to an image G(x); a conditional PatchGAN
discriminator D judges (source, image) pairs patch by patch, and the generator is also
pulled towards the paired target y by an L1 term:

    G* = arg min_G max_D  L_cGAN(G, D) + lambda * L_L1(G)
    L_cGAN(G, D) = E[log D(x, y)] + E[log(1 - D(x, G(x)))]
    L_L1(G)      = E[ ||y - G(x)||_1 ],   lambda = 100

As in the paper and its reference code: D is updated first on each batch (with the
reference's 0.5 factor on its loss), then G with the non-saturating adversarial term
(`log D(x, G(x))` maximized) plus the weighted L1; Adam with learning rate 2e-4 and
beta_1 = 0.5 for both; no noise input (dropout in the U-Net decoder plays that part).
Other adversarial losses of `i2i.losses` ("lsgan", "hinge", "wgan-gp") can replace the
vanilla one.

The model is a thin `i2i.gans.gan_model.GANModel`: the shared `train_step` runs the
update order; this file holds the three loss hooks, the run options (`Pix2PixOptions`)
and the training task behind `i2i train pix2pix` and `i2i finetune` (`Pix2PixTask`).

Example:

```python
from i2i.data.paired import paired_dataset
from i2i.gans.pix2pix import build_pix2pix

model = build_pix2pix(image_size=256)      # U-Net 256 + 70x70 PatchGAN, lambda 100
model.compile()                            # Adam(2e-4, beta_1=0.5) for G and D
model.fit(paired_dataset("data/facades", batch_size=1, image_size=256), epochs=200)
fake = model.predict(sources)              # the generator, in [-1, 1]
```

Reference:
    Isola, Zhu, Zhou, Efros, "Image-to-Image Translation with Conditional Adversarial
    Networks", CVPR 2017 (https://arxiv.org/abs/1611.07004), and its reference code
    junyanz/pytorch-CycleGAN-and-pix2pix (`pix2pix_model.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import keras
import numpy as np

from i2i import training
from i2i.gans import translation
from i2i.gans.gan_model import GANModel
from i2i.losses import adversarial_loss, gradient_penalty, l1_loss, l2_loss

# The learning rate `i2i finetune` starts from: a tenth of the paper's 2e-4, so the
# pretrained generator is adjusted, not retrained.
FINETUNE_LEARNING_RATE = 2e-5
# Model options that describe the networks (copied from a source run when fine-tuning).
NETWORK_OPTIONS = (
    "image_size",
    "filters",
    "depth",
    "dropout",
    "norm",
    "upsample",
    "discriminator_filters",
    "n_layers",
    "gan_mode",
    "l1_weight",
    "pixel_loss",
    "pixel_blur",
)


@keras.saving.register_keras_serializable(package="i2i")
class Pix2Pix(GANModel):
    """pix2pix: a generator trained against a conditional discriminator, plus L1.

    Loss terms (logged): `g_gan` (adversarial), `g_l1` (`l1_weight` x L1 to the target;
    `g_l2` with `pixel_loss="l2"`),
    `d_adv` (the discriminator objective on real and generated pairs) and, for WGAN-GP,
    `d_gp` (the weighted gradient penalty). Batches are `{"source", "target"}` dicts
    (`i2i.data.paired`), images in [-1, 1].

    Args:
        generator: image-to-image network (`i2i.nets.unet`), tanh output.
        discriminator: a discriminator on `concatenate([source, image], -1)` (6 channels
            in: the condition first, as `i2i.nets.patchgan(3, condition_channels=3)`),
            returning logits.
        l1_weight: lambda, the weight of the L1 term (100 in the paper).
        pixel_loss: "l1" (the paper: the conditional median, sharp but black wherever
            a light is less likely than not) or "l2" (the conditional mean: a glow
            where lights are likely, which ranks and correlates with the real lights
            better on sparse targets such as night maps). Deviation, off by default.
        pixel_blur: Gaussian sigma (pixels) by which both images are blurred before the
            pixel term (0: none, the paper). The pixel term then asks for the right
            brightness at a coarse scale and leaves the fine texture to the adversarial
            term (the frequency separation of Fritsche et al. 2019): on a sparse target,
            an unblurred L1 is met best by black wherever a light is not certain, a
            blurred one only by lights of the right density. Deviation, off by default.
        gan_mode: adversarial loss: "vanilla" (the paper), "lsgan", "hinge", "wgan-gp".
        n_critic: discriminator updates per generator update; default from the loss
            (5 for "wgan-gp", else 1).
        **kwargs: `GANModel` arguments (`seed`, `name`).

    Reference:
        Isola et al., "Image-to-Image Translation with Conditional Adversarial
        Networks", CVPR 2017, equations (1)-(4).
    """

    discriminator_first = True  # the reference updates D, then G, on each batch
    default_optimizer = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999}

    def __init__(
        self,
        generator,
        discriminator,
        l1_weight: float = 100.0,
        gan_mode: str = "vanilla",
        n_critic: int | None = None,
        pixel_loss: str = "l1",
        pixel_blur: float = 0.0,
        **kwargs,
    ):
        if pixel_loss not in ("l1", "l2"):
            raise ValueError(f"pixel_loss must be 'l1' or 'l2', got {pixel_loss!r}")
        gan_loss = adversarial_loss(gan_mode)
        penalty = gan_loss.gradient_penalty_weight > 0
        self.pixel_term = f"g_{pixel_loss}"
        self.loss_names = ("g_gan", self.pixel_term, "d_adv") + (("d_gp",) if penalty else ())
        super().__init__(n_critic=n_critic or gan_loss.critic_steps, **kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.l1_weight = float(l1_weight)
        self.pixel_loss = pixel_loss
        self._pixel = {"l1": l1_loss, "l2": l2_loss}[pixel_loss]
        self.pixel_blur = float(pixel_blur)
        self._blur_kernel = _gaussian_kernel(self.pixel_blur) if self.pixel_blur > 0 else None
        self.gan_mode = gan_mode
        self.gan_loss = gan_loss

    def generate(self, batch, training):
        return self.generator(batch["source"], training=training)

    def _logits(self, source, image):
        # The condition goes first, as in the reference (torch.cat((real_A, fake_B), 1)).
        pair = keras.ops.concatenate([source, keras.ops.cast(image, source.dtype)], axis=-1)
        return self.discriminator(pair, training=True)

    def generator_losses(self, batch, fake):
        return {
            "g_gan": self.gan_loss.generator(self._logits(batch["source"], fake)),
            self.pixel_term: self.l1_weight
            * self._pixel(self._blurred(batch["target"]), self._blurred(fake)),
        }

    def _blurred(self, images):
        if self._blur_kernel is None:
            return images
        images = keras.ops.cast(images, "float32")
        channels = images.shape[-1]
        kernel = keras.ops.tile(self._blur_kernel, (1, 1, channels, 1))
        return keras.ops.depthwise_conv(images, kernel, padding="same")

    def discriminator_losses(self, batch, fake):
        source, target = batch["source"], batch["target"]
        real_logits = self._logits(source, target)
        fake_logits = self._logits(source, fake)
        terms = {"d_adv": self.gan_loss.discriminator(real_logits, fake_logits)}
        if self.gan_loss.gradient_penalty_weight > 0:
            penalty = gradient_penalty(
                self.discriminator, target, fake, self.seed_generator, condition=source
            )
            terms["d_gp"] = self.gan_loss.gradient_penalty_weight * penalty
        return terms

    def get_config(self):
        return {
            **super().get_config(),
            "l1_weight": self.l1_weight,
            "gan_mode": self.gan_mode,
            "pixel_loss": self.pixel_loss,
            "pixel_blur": self.pixel_blur,
        }


def _gaussian_kernel(sigma: float):
    """A normalized `(k, k, 1, 1)` float32 Gaussian, k = 2 * ceil(3 sigma) + 1."""
    radius = int(np.ceil(3 * sigma))
    taps = np.exp(-0.5 * (np.arange(-radius, radius + 1) / sigma) ** 2)
    kernel = np.outer(taps, taps)
    return (kernel / kernel.sum()).astype("float32")[:, :, None, None]


def build_pix2pix(
    image_size: int = 256,
    filters: int = 64,
    depth: int | None = None,
    dropout: float = 0.5,
    norm: str = "batch",
    discriminator_filters: int = 64,
    n_layers: int = 3,
    l1_weight: float = 100.0,
    gan_mode: str = "vanilla",
    seed: int | None = None,
    generator=None,
    upsample: str = "transpose",
    pixel_loss: str = "l1",
    pixel_blur: float = 0.0,
) -> Pix2Pix:
    """A `Pix2Pix` with the reference networks (not compiled).

    Args:
        image_size: training size; sets the U-Net depth (see `i2i.nets.unet`).
        filters: U-Net width (ngf, 64).
        depth: U-Net depth; default from `image_size`.
        dropout: U-Net decoder dropout (0.5).
        norm: "batch" (the reference), "instance" or "none", for G and D.
        discriminator_filters: PatchGAN width (ndf, 64).
        n_layers: PatchGAN stride-2 layers (3: 70x70 patches).
        l1_weight: lambda of the L1 term (100).
        gan_mode: adversarial loss ("vanilla" in the paper).
        seed: the model's random stream (WGAN-GP interpolation).
        generator: use this network instead of building a U-Net.
        upsample: the U-Net decoder's "transpose" convolutions (the paper) or "resize"
            + convolution (`i2i.nets.unet`).
        pixel_loss: "l1" (the paper) or "l2" (see `Pix2Pix`).
        pixel_blur: blur of the pixel term (see `Pix2Pix`).

    Returns:
        The model; call `compile()` for the paper's optimizers.
    """
    from i2i.nets.patchgan import patchgan
    from i2i.nets.unet import unet

    if generator is None:
        generator = unet(
            image_size, filters=filters, norm=norm, dropout=dropout, depth=depth, upsample=upsample
        )
    discriminator = patchgan(
        3, condition_channels=3, filters=discriminator_filters, n_layers=n_layers, norm=norm
    )
    return Pix2Pix(
        generator,
        discriminator,
        l1_weight=l1_weight,
        gan_mode=gan_mode,
        seed=seed,
        pixel_loss=pixel_loss,
        pixel_blur=pixel_blur,
    )


@dataclass(frozen=True)
class Pix2PixOptions:
    """The model options of a pix2pix run (`cfg.model`; each can be `--set`).

    Attributes:
        data: the paired dataset folder (`i2i.data.paired` layouts).
        direction: "a2b" (translate A into B) or "b2a".
        image_size: training crop size; a multiple of the U-Net stride.
        load_size: resize before the random crop (default 286/256 x image_size).
        preprocess: "resize_and_crop" (the pix2pix jitter), "crop" (random crops of
            large images at full resolution) or "resize".
        flip: random left-right mirroring.
        filters: U-Net width (ngf).
        depth: U-Net depth (default: from image_size; fine-tuning pins it).
        dropout: U-Net decoder dropout.
        norm: normalization of G and D: "batch", "instance" or "none".
        upsample: the U-Net decoder: "transpose" (4x4 transposed convolutions, the
            paper) or "resize" (bilinear 2x + 3x3 convolution: no checkerboard lattice).
        discriminator_filters: PatchGAN width (ndf).
        n_layers: PatchGAN stride-2 layers (3: 70x70 patches).
        gan_mode: "vanilla", "lsgan", "hinge" or "wgan-gp".
        l1_weight: lambda of the pixel term (L1 in the paper).
        pixel_loss: "l1" (the paper) or "l2" (the conditional mean: better on sparse
            targets such as night lights, see `Pix2Pix`).
        pixel_blur: Gaussian sigma (pixels) of both images in the pixel term (0: none;
            see `Pix2Pix`).
        lr: Adam learning rate of G and D.
        beta_1: Adam beta_1.
        decay_epochs: the last epochs of the run, over which the learning rate decays
            linearly towards 0 (`i2i.callbacks.LinearDecay`; the reference trains
            100 + 100 epochs); 0 keeps it constant.
        validate: score the generator losses on a test/ (or val/) split each epoch.
        init_from: start from this generator (a run directory, .keras file or zoo
            name); a run directory's checkpoint also gives the discriminator.
    """

    data: str = ""
    direction: Literal["a2b", "b2a"] = "a2b"
    image_size: int = 256
    load_size: int | None = None
    preprocess: Literal["resize_and_crop", "crop", "resize"] = "resize_and_crop"
    flip: bool = True
    filters: int = 64
    depth: int | None = None
    dropout: float = 0.5
    norm: Literal["batch", "instance", "none"] = "batch"
    upsample: Literal["transpose", "resize"] = "transpose"
    discriminator_filters: int = 64
    n_layers: int = 3
    gan_mode: Literal["vanilla", "lsgan", "hinge", "wgan-gp"] = "vanilla"
    l1_weight: float = 100.0
    pixel_loss: Literal["l1", "l2"] = "l1"
    pixel_blur: float = 0.0
    lr: float = 2e-4
    beta_1: float = 0.5
    decay_epochs: int = 0
    validate: bool = True
    init_from: str = ""


def _unet_card_architecture(card: dict) -> dict | None:
    architecture = card.get("architecture") or {}
    return architecture if architecture.get("name") == "unet" else None


def finetune_options(source, **changes) -> Pix2PixOptions:
    """Options to fine-tune the generator `source` (without loading it).

    The network options come from the source run's config.json when `source` is a
    pix2pix run directory, else from the U-Net architecture in its card; the learning
    rate defaults to `FINETUNE_LEARNING_RATE`.

    Args:
        source: a run directory, a `.keras` file or a zoo name.
        **changes: option values that take precedence (data, direction, image_size...).

    Raises:
        i2i.training.TrainingError: `source` names no generator.
    """
    from i2i import config as config_lib
    from i2i import zoo

    try:
        entry = zoo.resolve_model(source)
    except zoo.ZooError as error:
        raise training.TrainingError(str(error)) from None
    values = {"lr": FINETUNE_LEARNING_RATE}
    source_config = _source_run_config(entry)
    if source_config is not None:
        values.update({k: getattr(source_config.model, k) for k in NETWORK_OPTIONS})
    elif (architecture := _unet_card_architecture(entry.card)) is not None:
        for key in ("image_size", "filters", "dropout", "norm", "depth", "upsample"):
            if key in architecture:
                values[key] = architecture[key]
    if values.get("depth") is None and "image_size" in values:
        from i2i.nets.unet import unet_depth

        # Pin the depth: fine-tuning crops may differ from the source's training size.
        values["depth"] = unet_depth(values["image_size"])
    path = Path(str(source)).expanduser()
    values["init_from"] = str(path.resolve()) if path.exists() else str(source)
    values.update({k: v for k, v in changes.items() if v is not None})
    try:
        return config_lib.replace_model(config_lib.Config(model=Pix2PixOptions()), **values).model
    except config_lib.ConfigError as error:
        raise training.TrainingError(str(error)) from None


def _source_run_config(entry):
    """The `Config` of the pix2pix run `entry` comes from, or None."""
    from i2i import config as config_lib

    if entry.kind != "run":
        return None
    path = entry.path.parent / "config.json"
    if not path.exists():
        return None
    try:
        cfg = config_lib.read(path, Pix2PixOptions)
    except config_lib.ConfigError:
        return None  # another model's run: its generator alone is used
    return cfg if cfg.task == Pix2PixTask.name else None


class Pix2PixTask(translation.TranslationTask):
    """`i2i train pix2pix` and `i2i finetune`: pix2pix on a paired dataset.

    With `init_from` set the generator starts from that model (rebuilt from its card's
    U-Net architecture under the run's precision, or used as it is when the card has
    none), and the discriminator from the source run's last checkpoint when there is
    one (a fresh discriminator otherwise).
    """

    name = "pix2pix"
    options_class = Pix2PixOptions
    data_family = "paired"

    # ------------------------------------------------------------------ checks

    def stride(self, cfg) -> int:
        """The multiple input sizes must be (the U-Net's, or the source card's)."""
        from i2i.nets.unet import unet_stride

        m = cfg.model
        source = self._source_entry(m)
        if source is not None and _unet_card_architecture(source.card) is None:
            return int(source.card.get("stride", 1))
        return unet_stride(m.image_size, m.depth)

    def check_data(self, cfg) -> None:
        stride = self.stride(cfg)
        if cfg.model.image_size % stride:
            nearest = stride * max(1, round(cfg.model.image_size / stride))
            raise training.TrainingError(
                f"image_size {cfg.model.image_size} is not a multiple of the generator's "
                f"stride {stride} (use --image-size {nearest})"
            )
        smallest = 3 * 2**cfg.model.n_layers  # the PatchGAN's smallest input
        if cfg.model.image_size < smallest:
            raise training.TrainingError(
                f"image_size {cfg.model.image_size} is too small for a PatchGAN with "
                f"n_layers={cfg.model.n_layers} (needs >= {smallest}; lower n_layers)"
            )
        super().check_data(cfg)

    # ------------------------------------------------------------------ model

    def build_model(self, cfg):
        m = cfg.model
        generator, discriminator_weights = None, None
        source = self._source_entry(m)
        if source is not None:
            generator, discriminator_weights = self._source_networks(source, m)
        model = build_pix2pix(
            image_size=m.image_size,
            filters=m.filters,
            depth=m.depth,
            dropout=m.dropout,
            norm=m.norm,
            discriminator_filters=m.discriminator_filters,
            n_layers=m.n_layers,
            l1_weight=m.l1_weight,
            gan_mode=m.gan_mode,
            seed=cfg.run.seed,
            generator=generator,
            upsample=m.upsample,
            pixel_loss=m.pixel_loss,
            pixel_blur=m.pixel_blur,
        )
        if discriminator_weights is not None:
            try:
                model.discriminator.set_weights(discriminator_weights)
            except ValueError:
                raise training.TrainingError(
                    f"{m.init_from}: its discriminator does not fit the options "
                    "discriminator_filters / n_layers / norm of this run"
                ) from None
        model.compile(
            generator_optimizer=keras.optimizers.Adam(m.lr, beta_1=m.beta_1),
            discriminator_optimizer=keras.optimizers.Adam(m.lr, beta_1=m.beta_1),
        )
        return model

    @staticmethod
    def _source_entry(m):
        if not m.init_from:
            return None
        from i2i import zoo

        try:
            return zoo.resolve_model(m.init_from)
        except zoo.ZooError as error:
            raise training.TrainingError(f"init_from: {error}") from None

    def _source_networks(self, entry, m):
        """(generator to train, discriminator weights or None) from the source model."""
        from i2i import zoo
        from i2i.nets.unet import unet

        try:
            loaded, card = zoo.load_generator(entry)
        except zoo.ZooError as error:
            raise training.TrainingError(str(error)) from None
        if _unet_card_architecture(card) is None:
            # No recipe to rebuild it: train the file's own network (float32 layers).
            training.log(f"fine-tuning {entry.label} as saved (its card names no U-Net)")
            generator = loaded
        else:
            generator = unet(
                m.image_size,
                filters=m.filters,
                norm=m.norm,
                dropout=m.dropout,
                depth=m.depth,
                upsample=m.upsample,
            )
            try:
                generator.set_weights(loaded.get_weights())
            except ValueError:
                raise training.TrainingError(
                    f"{entry.label}: its U-Net does not fit the options filters / depth / "
                    "norm of this run (i2i finetune copies them from the source)"
                ) from None
        training.log(f"generator initialized from {entry.label}")
        return generator, self._source_discriminator_weights(entry)

    @staticmethod
    def _source_discriminator_weights(entry):
        """The discriminator of the source run's last checkpoint, or None."""
        source_config = _source_run_config(entry)
        run_dir = entry.path.parent
        record = training.latest_checkpoint(run_dir) if source_config is not None else None
        if record is None:
            training.log("discriminator: a fresh one (the source has no pix2pix checkpoint)")
            return None
        s = source_config.model
        source_model = build_pix2pix(
            image_size=s.image_size,
            filters=s.filters,
            depth=s.depth,
            dropout=s.dropout,
            norm=s.norm,
            discriminator_filters=s.discriminator_filters,
            n_layers=s.n_layers,
            l1_weight=s.l1_weight,
            gan_mode=s.gan_mode,
            upsample=s.upsample,
            pixel_loss=s.pixel_loss,
            pixel_blur=s.pixel_blur,
        )
        source_model.compile()
        checkpoint = run_dir / training.CHECKPOINT_DIR / record["dir"]
        training.load_state(source_model, checkpoint)
        training.log(f"discriminator initialized from {checkpoint}")
        return source_model.discriminator.get_weights()

    # ------------------------------------------------------------------ data

    def _dataset(self, cfg, split, training_mode, batch_size, repeat=False):
        from i2i.data.paired import paired_dataset

        m = cfg.model
        return paired_dataset(
            m.data,
            split,
            batch_size=batch_size,
            image_size=m.image_size,
            load_size=m.load_size,
            preprocess=m.preprocess,
            direction=m.direction,
            training=training_mode,
            flip=m.flip,
            seed=cfg.run.seed,
            repeat=repeat,
        )

    def train_dataset(self, cfg, start_step):
        from i2i.data.check import DatasetError
        from i2i.data.paired import paired_count

        repeat = cfg.run.epoch_steps is not None
        try:
            if not repeat and paired_count(cfg.model.data, "train") < cfg.run.batch_size:
                raise training.TrainingError(
                    f"{cfg.model.data}: fewer training pairs than one batch "
                    f"({cfg.run.batch_size}); lower --batch-size"
                )
            data = self._dataset(cfg, "train", True, cfg.run.batch_size, repeat=repeat)
        except DatasetError as error:
            raise training.TrainingError(str(error)) from None
        # A repeated stream is positioned exactly; one pass per epoch restarts anyway.
        return training.skip_batches(data, start_step) if repeat else data

    @staticmethod
    def _held_out_split(root) -> str | None:
        for split in ("test", "val"):
            if (Path(root) / split).is_dir():
                return split
        return None

    def validation_dataset(self, cfg):
        split = self._held_out_split(cfg.model.data)
        if not cfg.model.validate or split is None:
            return None
        return self._dataset(cfg, split, False, cfg.run.batch_size)

    def callbacks(self, cfg, run_dir, model) -> list:
        """The sample grids, plus the linear learning-rate decay when `decay_epochs`."""
        from i2i.callbacks import LinearDecay

        callbacks = super().callbacks(cfg, run_dir, model)
        epochs = cfg.run.total_epochs
        decay = min(max(cfg.model.decay_epochs, 0), epochs)
        if decay:
            callbacks.append(LinearDecay(epochs - decay, decay, cfg.model.lr))
        return callbacks

    def sample_batch(self, cfg):
        split = self._held_out_split(cfg.model.data) or "train"
        batch = next(iter(self._dataset(cfg, split, False, self.sample_count)))
        return batch["source"].numpy(), batch["target"].numpy()

    # ------------------------------------------------------------------ export

    def card(self, cfg):
        from i2i.nets.unet import unet_depth

        m = cfg.model
        extra = {"model": "pix2pix", "direction": m.direction, "data": m.data}
        source = self._source_entry(m)
        if source is not None:
            extra["finetuned_from"] = m.init_from
            if _unet_card_architecture(source.card) is None:
                architecture = source.card.get("architecture") or {"name": "unknown"}
                return translation.translation_card(self.stride(cfg), architecture, **extra)
        architecture = {
            "name": "unet",
            "image_size": m.image_size,
            "filters": m.filters,
            "norm": m.norm,
            "dropout": m.dropout,
            "depth": unet_depth(m.image_size, m.depth),
            "upsample": m.upsample,
        }
        return translation.translation_card(self.stride(cfg), architecture, **extra)
