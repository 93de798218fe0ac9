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
update order; this file holds the three loss hooks and `build_pix2pix`. The run options
and the training task behind `i2i train pix2pix` and `i2i finetune` are in
`i2i.tasks.pix2pix`.

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

import keras
import numpy as np

from i2i.gans.gan_model import GANModel
from i2i.losses import adversarial_loss, gradient_penalty, l1_loss, l2_loss


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
        **kwargs: `GANModel` arguments (`seed`, `name`, `ema_decay`: export a moving
            average of the generator weights; deviation, off by default).

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
    ema_decay: float = 0.0,
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
        ema_decay: momentum of the generator weights' moving average (0: none, the
            paper; see `i2i.gans.gan_model`).

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
        ema_decay=ema_decay,
    )
