"""Losses for the GAN models; every value is a float32 scalar, even under mixed precision.

- adversarial (on discriminator logits): `adversarial_loss(mode)` for
  `"vanilla" | "lsgan" | "hinge" | "wgan-gp"` -> object with `.generator(fake_logits)`,
  `.discriminator(real_logits, fake_logits)`, `.gradient_penalty_weight`,
  `.critic_steps`; `gradient_penalty(discriminator, real, fake, seed, condition=None)`;
- pixel: `l1_loss`, `l2_loss` `(y_true, y_pred)`, `pixel_loss(name)`;
- perceptual: `PerceptualLoss(layers, weights="imagenet", input_range, criterion)`;
- patch_nce: `PatchNCE(generator, layers, num_patches)` (CUT's contrastive content loss).
"""

from i2i.losses.adversarial import (
    AdversarialLoss,
    HingeGANLoss,
    LSGANLoss,
    VanillaGANLoss,
    WGANGPLoss,
    gradient_penalty,
)
from i2i.losses.patch_nce import PatchNCE
from i2i.losses.perceptual import (
    VGG19_NOTOP_FILE,
    PerceptualLoss,
    VGGWeightsNotFoundError,
    vgg_preprocess,
)
from i2i.losses.pixel import PIXEL_LOSSES, l1_loss, l2_loss, pixel_loss


def adversarial_loss(mode: str, **kwargs) -> AdversarialLoss:
    """The adversarial loss registered as `mode` in `i2i.registry.ADVERSARIAL_LOSSES`.

    Args:
        mode: `"vanilla"`, `"lsgan"`, `"hinge"` or `"wgan-gp"`.
        **kwargs: passed to the loss class (e.g. `real_label=0.9`,
            `gradient_penalty_weight=10.0`).

    Raises:
        KeyError: an unknown mode; the message lists the known ones.
    """
    from i2i import registry

    return registry.resolve(registry.ADVERSARIAL_LOSSES, mode)(**kwargs)


__all__ = [
    "PIXEL_LOSSES",
    "VGG19_NOTOP_FILE",
    "AdversarialLoss",
    "HingeGANLoss",
    "LSGANLoss",
    "PatchNCE",
    "PerceptualLoss",
    "VGGWeightsNotFoundError",
    "VanillaGANLoss",
    "WGANGPLoss",
    "adversarial_loss",
    "gradient_penalty",
    "l1_loss",
    "l2_loss",
    "pixel_loss",
    "vgg_preprocess",
]
