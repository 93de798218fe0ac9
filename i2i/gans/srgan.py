"""SRGAN: adversarial fine-tuning of a super-resolution generator (stage 2).

A generator G (SRResNet, pre-trained with a pixel loss: stage 1) maps a low-resolution
image to one `scale` times larger; a VGG-style discriminator D scores whole images as
real HR photos or super-resolved ones. The generator minimizes the perceptual loss

    l_SR = l_content + 1e-3 * l_adv
    l_content = (1 / 12.75**2) * mean((phi_54(I_HR) - phi_54(G(I_LR)))**2)   (VGG54)
    l_adv     = -log D(G(I_LR))                                  (non-saturating)

where `phi_54` is the VGG19 feature map after the 4th convolution (and ReLU) before
the 5th max-pooling; the paper rescales the feature maps by 1/12.75 so that the loss is
on the scale of the pixel MSE. The discriminator minimizes the usual cross-entropy
`-log D(I_HR) - log(1 - D(G(I_LR)))` (i2i's vanilla loss, with the reference's 0.5
factor, which Adam's updates do not see). G is updated first, then D, on each batch;
Adam with beta_1 = 0.9 and learning rate 1e-4 (the paper then lowers it to 1e-5 for the
second half of the updates: the training task does that).

VGG19 weights are never downloaded. `content="auto"` uses VGG54 when the ImageNet VGG19
file is on this machine (see `i2i.losses.perceptual`) and otherwise falls back to an L1
pixel loss with a `ContentLossFallbackWarning` saying so; `model.content` and
`model.content_note` tell which one is in use (the training task writes them to the log
and the generator card). `content="vgg54"` insists on VGG (error when it is missing).

Optional EMA of the generator weights (`ema_decay > 0`, not in the paper; ESRGAN /
BasicSR use 0.999), kept by the shared `GANModel`: `evaluation_generator()` returns a
copy of the generator holding the averaged weights, which the training task validates
and exports.

Example:

```python
from i2i import zoo
from i2i.gans.srgan import build_srgan

generator, card = zoo.load_generator("runs/sr_x4")     # stage 1
model = build_srgan(generator, ema_decay=0.999)         # VGG54 if the weights are here
model.compile()                                         # Adam(1e-4, beta_1=0.9) for G and D
model.fit(sr_batches, steps_per_epoch=1000, epochs=100) # {"lr", "hr"} dicts in [0, 1]
sharp = model.evaluation_generator()                    # EMA weights (or G itself)
```

Reference:
    Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a Generative
    Adversarial Network", CVPR 2017 (https://arxiv.org/abs/1609.04802), Section 2 and
    3.2 (equations 3-5; VGG54 rescaled by 1/12.75; adversarial weight 1e-3). EMA:
    Wang et al., "ESRGAN", ECCVW 2018 and its BasicSR code.
"""

from __future__ import annotations

import warnings

import keras

from i2i.gans.gan_model import GANModel, _Untracked
from i2i.losses import (
    PerceptualLoss,
    VGGWeightsNotFoundError,
    adversarial_loss,
    gradient_penalty,
    l1_loss,
)

CONTENT_LOSSES = ("auto", "vgg54", "l1")
VGG54_LAYER = "block5_conv4"
# The paper rescales VGG feature maps by 1/12.75 before the MSE.
VGG54_WEIGHT = 1.0 / 12.75**2
L1_WEIGHT = 1.0
ADVERSARIAL_WEIGHT = 1e-3


class ContentLossFallbackWarning(UserWarning):
    """SRGAN trains with an L1 content loss because VGG19 weights are not available."""


@keras.saving.register_keras_serializable(package="i2i")
class SRGAN(GANModel):
    """SRGAN on the shared GAN core (see the module docstring for the objective).

    Loss terms (logged): `g_content` (the weighted content loss), `g_adv`
    (`adversarial_weight` x the generator's adversarial term), `d_adv` (the
    discriminator objective) and, for WGAN-GP, `d_gp`. Batches are `{"lr", "hr"}` dicts
    (`i2i.data.sr`), images in [0, 1].

    Args:
        generator: LR -> HR network (`i2i.nets.srresnet`), output in [0, 1].
        discriminator: HR image -> logits (`i2i.nets.sr_discriminator`).
        content: "auto" (VGG54 when VGG19 weights are found locally, else L1 with a
            warning), "vgg54" (error without the weights) or "l1".
        vgg_weights: VGG19 weights for VGG54: "imagenet" (the local Keras cache), a file
            path, or None (random VGG19: tests only).
        content_weight: weight of the content term; None: 1/12.75**2 for VGG54 (the
            paper), 1 for L1.
        adversarial_weight: weight of the generator's adversarial term (1e-3).
        gan_mode: adversarial loss, an `i2i.losses.adversarial_loss` mode ("vanilla").
        ema_decay: momentum of the generator weights' moving average; 0 disables it.
        n_critic: discriminator updates per generator update (default: the loss's).
        **kwargs: `GANModel` arguments (`seed`, `name`).

    Attributes:
        content: the content loss in use, "vgg54" or "l1" (never "auto").
        content_note: one line saying which content loss is used and why.
    """

    discriminator_first = False  # the paper's alternation: G, then D
    default_optimizer = {"learning_rate": 1e-4, "beta_1": 0.9, "beta_2": 0.999}

    def __init__(
        self,
        generator,
        discriminator,
        content: str = "auto",
        vgg_weights: str | None = "imagenet",
        content_weight: float | None = None,
        adversarial_weight: float = ADVERSARIAL_WEIGHT,
        gan_mode: str = "vanilla",
        ema_decay: float = 0.0,
        n_critic: int | None = None,
        **kwargs,
    ):
        if content not in CONTENT_LOSSES:
            raise ValueError(f"content must be one of {CONTENT_LOSSES}, got {content!r}")
        gan_loss = adversarial_loss(gan_mode)
        penalty = gan_loss.gradient_penalty_weight > 0
        self.loss_names = ("g_content", "g_adv", "d_adv") + (("d_gp",) if penalty else ())
        super().__init__(n_critic=n_critic or gan_loss.critic_steps, ema_decay=ema_decay, **kwargs)
        self.generator = generator
        self.discriminator = discriminator
        self.requested_content = content
        self.vgg_weights = None if vgg_weights is None else str(vgg_weights)
        self.content_weight = None if content_weight is None else float(content_weight)
        self.adversarial_weight = float(adversarial_weight)
        self.gan_mode = gan_mode
        self.gan_loss = gan_loss
        self._perceptual = _Untracked()
        self.content, self.content_note = self._resolve_content(content)

    # ------------------------------------------------------------------ content loss

    def _resolve_content(self, content):
        if content == "l1":
            return "l1", "content loss: L1 (requested)"
        source = "random VGG19 weights" if self.vgg_weights is None else "VGG19 weights"
        try:
            self._perceptual.value = PerceptualLoss(
                {VGG54_LAYER: 1.0}, weights=self.vgg_weights, input_range=(0.0, 1.0),
                criterion="l2",
            )  # fmt: skip
        except VGGWeightsNotFoundError as error:
            if content == "vgg54":
                raise
            note = f"content loss: L1 instead of VGG54 ({error})"
            warnings.warn(
                f"SRGAN: {note}. The generator is trained with an L1 pixel loss, which "
                "gives less sharp results than the paper's VGG54 loss.",
                ContentLossFallbackWarning,
                stacklevel=2,
            )
            return "l1", note
        return "vgg54", f"content loss: VGG54 ({VGG54_LAYER}, {source})"

    @property
    def content_term_weight(self) -> float:
        """The weight of the content term in use."""
        if self.content_weight is not None:
            return self.content_weight
        return VGG54_WEIGHT if self.content == "vgg54" else L1_WEIGHT

    def content_loss(self, hr, sr):
        """The weighted content term between HR targets and generated images."""
        vgg54 = self.content == "vgg54"
        value = self._perceptual.value(hr, sr) if vgg54 else l1_loss(hr, sr)
        return self.content_term_weight * value

    # ------------------------------------------------------------------ hooks

    def generate(self, batch, training):
        return self.generator(batch["lr"], training=training)

    def _logits(self, image):
        return self.discriminator(keras.ops.cast(image, "float32"), training=True)

    def generator_losses(self, batch, sr):
        return {
            "g_content": self.content_loss(batch["hr"], sr),
            "g_adv": self.adversarial_weight * self.gan_loss.generator(self._logits(sr)),
        }

    def discriminator_losses(self, batch, sr):
        hr = batch["hr"]
        terms = {"d_adv": self.gan_loss.discriminator(self._logits(hr), self._logits(sr))}
        if self.gan_loss.gradient_penalty_weight > 0:
            penalty = gradient_penalty(self.discriminator, hr, sr, self.seed_generator)
            terms["d_gp"] = self.gan_loss.gradient_penalty_weight * penalty
        return terms

    # ------------------------------------------------------------------ config

    def get_config(self):
        return {
            **super().get_config(),
            "content": self.requested_content,
            "vgg_weights": self.vgg_weights,
            "content_weight": self.content_weight,
            "adversarial_weight": self.adversarial_weight,
            "gan_mode": self.gan_mode,
        }


def build_srgan(
    generator,
    discriminator=None,
    content: str = "auto",
    vgg_weights: str | None = "imagenet",
    content_weight: float | None = None,
    adversarial_weight: float = ADVERSARIAL_WEIGHT,
    gan_mode: str = "vanilla",
    ema_decay: float = 0.0,
    discriminator_filters: int = 64,
    seed: int | None = None,
) -> SRGAN:
    """An `SRGAN` around `generator` with the paper's discriminator (not compiled).

    Args:
        generator: the (pre-trained) SR generator.
        discriminator: a discriminator network; default
            `i2i.nets.sr_discriminator(filters=discriminator_filters)`.
        discriminator_filters: width of the default discriminator's first stage (64).
        content, vgg_weights, content_weight, adversarial_weight, gan_mode, ema_decay:
            see `SRGAN`.
        seed: the model's random stream (WGAN-GP interpolation).

    Returns:
        The model; call `compile()` for the paper's optimizers.
    """
    if discriminator is None:
        from i2i.nets.sr_discriminator import sr_discriminator

        discriminator = sr_discriminator(filters=discriminator_filters)
    return SRGAN(
        generator,
        discriminator,
        content=content,
        vgg_weights=vgg_weights,
        content_weight=content_weight,
        adversarial_weight=adversarial_weight,
        gan_mode=gan_mode,
        ema_decay=ema_decay,
        seed=seed,
    )
