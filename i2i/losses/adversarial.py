"""Adversarial losses on discriminator logits: vanilla, LSGAN, hinge and WGAN-GP.

Each mode is a small class with two methods, both taking raw logits (no sigmoid in the
discriminator) of any shape — a PatchGAN map or one score per image — and returning a
float32 scalar averaged over every element it is given:

    loss.generator(fake_logits)                  the generator's adversarial term
    loss.discriminator(real_logits, fake_logits)  the discriminator's objective

WGAN-GP adds `gradient_penalty(...)` (weight `loss.gradient_penalty_weight`, 10) to the
discriminator objective and trains the critic `loss.critic_steps` (5) times per generator
step; the other modes have weight 0 and 1 step. Logits are cast to float32 first, so the
terms are float32 under mixed precision.

Modes are looked up by name with `adversarial_loss("lsgan")` (the table is
`i2i.registry.ADVERSARIAL_LOSSES`).

Example:

```python
from i2i.losses import adversarial_loss

gan_loss = adversarial_loss("lsgan")
g_adv = gan_loss.generator(discriminator(fake, training=True))
d_loss = gan_loss.discriminator(discriminator(real), discriminator(fake))
```
"""

from __future__ import annotations

import keras
from keras import ops


def _float32(x):
    return ops.cast(x, "float32")


def _bce_with_logits(logits, label: float):
    """Mean binary cross-entropy of sigmoid(logits) against a constant label, stably."""
    # max(x, 0) - x * y + log(1 + exp(-|x|)): exact and overflow-free for any logit.
    return ops.mean(ops.relu(logits) - logits * label + ops.log1p(ops.exp(-ops.abs(logits))))


class AdversarialLoss:
    """Base class: the generator and discriminator terms of one adversarial objective.

    Subclasses set `name` and implement `generator` and `discriminator`.
    """

    name = ""
    #: weight of `gradient_penalty` in the discriminator objective (WGAN-GP only)
    gradient_penalty_weight = 0.0
    #: discriminator (critic) updates per generator update
    critic_steps = 1

    def generator(self, fake_logits):
        """The generator's adversarial term from the discriminator's logits on fakes."""
        raise NotImplementedError

    def discriminator(self, real_logits, fake_logits):
        """The discriminator's objective from its logits on real and on generated data."""
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}()"


class VanillaGANLoss(AdversarialLoss):
    """The original GAN loss with binary cross-entropy on logits.

    generator: `BCE(D(G(z)), real_label)` (the non-saturating form);
    discriminator: `0.5 * (BCE(D(x), real_label) + BCE(D(G(z)), fake_label))`. The 0.5
    is the pix2pix/CycleGAN reference's ("slows down D relative to G"); under Adam a
    constant factor hardly changes the update.

    Args:
        real_label: target for real data (e.g. 0.9 for one-sided label smoothing).
        fake_label: target for generated data.

    Reference:
        Goodfellow et al., "Generative Adversarial Nets", NeurIPS 2014.
    """

    name = "vanilla"

    def __init__(self, real_label: float = 1.0, fake_label: float = 0.0):
        self.real_label = float(real_label)
        self.fake_label = float(fake_label)

    def generator(self, fake_logits):
        return _bce_with_logits(_float32(fake_logits), self.real_label)

    def discriminator(self, real_logits, fake_logits):
        real = _bce_with_logits(_float32(real_logits), self.real_label)
        fake = _bce_with_logits(_float32(fake_logits), self.fake_label)
        return 0.5 * (real + fake)


class LSGANLoss(AdversarialLoss):
    """Least-squares GAN: squared distance of the logits to the labels (CycleGAN default).

    generator: `mean((D(G(z)) - real_label)^2)`;
    discriminator: `0.5 * (mean((D(x) - real_label)^2) + mean((D(G(z)) - fake_label)^2))`.

    Args:
        real_label: target for real data.
        fake_label: target for generated data.

    Reference:
        Mao et al., "Least Squares Generative Adversarial Networks", ICCV 2017.
    """

    name = "lsgan"

    def __init__(self, real_label: float = 1.0, fake_label: float = 0.0):
        self.real_label = float(real_label)
        self.fake_label = float(fake_label)

    def generator(self, fake_logits):
        return ops.mean(ops.square(_float32(fake_logits) - self.real_label))

    def discriminator(self, real_logits, fake_logits):
        real = ops.mean(ops.square(_float32(real_logits) - self.real_label))
        fake = ops.mean(ops.square(_float32(fake_logits) - self.fake_label))
        return 0.5 * (real + fake)


class HingeGANLoss(AdversarialLoss):
    """Hinge loss.

    generator: `-mean(D(G(z)))`;
    discriminator: `mean(relu(1 - D(x))) + mean(relu(1 + D(G(z))))`.

    Reference:
        Lim & Ye, "Geometric GAN", 2017; Zhang et al., "Self-Attention GANs", ICML 2019.
    """

    name = "hinge"

    def generator(self, fake_logits):
        return -ops.mean(_float32(fake_logits))

    def discriminator(self, real_logits, fake_logits):
        real = ops.mean(ops.relu(1.0 - _float32(real_logits)))
        fake = ops.mean(ops.relu(1.0 + _float32(fake_logits)))
        return real + fake


class WGANGPLoss(AdversarialLoss):
    """Wasserstein GAN with gradient penalty (the critic's outputs are scores).

    generator: `-mean(D(G(z)))`;
    discriminator: `mean(D(G(z))) - mean(D(x))`, to which the caller adds
    `gradient_penalty_weight * gradient_penalty(critic, real, fake, seed)`; the critic is
    updated `critic_steps` times per generator step. Use no batch normalization in the
    critic (the penalty is per sample): `norm="instance"` or `"none"`.

    Args:
        gradient_penalty_weight: lambda, 10 in the paper.
        critic_steps: n_critic, 5 in the paper.

    Reference:
        Gulrajani et al., "Improved Training of Wasserstein GANs", NeurIPS 2017.
    """

    name = "wgan-gp"

    def __init__(self, gradient_penalty_weight: float = 10.0, critic_steps: int = 5):
        self.gradient_penalty_weight = float(gradient_penalty_weight)
        self.critic_steps = int(critic_steps)

    def generator(self, fake_logits):
        return -ops.mean(_float32(fake_logits))

    def discriminator(self, real_logits, fake_logits):
        return ops.mean(_float32(fake_logits)) - ops.mean(_float32(real_logits))


def gradient_penalty(discriminator, real, fake, seed=None, condition=None):
    """WGAN-GP penalty: `mean((||grad_x D(x_hat)||_2 - 1)^2)` on random interpolates.

    `x_hat = real + alpha * (fake - real)` with one `alpha ~ U[0, 1)` per sample, drawn
    with `keras.random.uniform(seed=seed)`. For a critic that outputs a map (PatchGAN)
    the gradient is that of the map's sum; the norm is taken per sample over all of
    `x_hat`. The inner gradient is recorded by any enclosing `tf.GradientTape`, so the
    penalty trains the critic when computed inside the train step's tape.

    Args:
        discriminator: callable `(inputs, training=True) -> logits`.
        real: real images `(B, H, W, C)`.
        fake: generated images, same shape (stop their gradient first if G must not
            be updated through the penalty).
        seed: a `keras.random.SeedGenerator` (graph-safe) or an int.
        condition: for a conditional discriminator, the input concatenated before
            the image on the channel axis (the PatchGAN convention); not interpolated.

    Returns:
        A float32 scalar.
    """
    import tensorflow as tf  # the toolkit's backend; GradientTape for the inner gradient

    real = _float32(real)
    fake = _float32(fake)
    batch = ops.shape(real)[0]
    alpha = keras.random.uniform((batch, 1, 1, 1), seed=seed)
    interpolated = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        inputs = interpolated
        if condition is not None:
            inputs = ops.concatenate([ops.cast(condition, "float32"), interpolated], axis=-1)
        logits = _float32(discriminator(inputs, training=True))
        total = ops.sum(logits)
    gradients = tape.gradient(total, interpolated)
    norms = ops.sqrt(ops.sum(ops.square(gradients), axis=[1, 2, 3]) + 1e-12)
    return ops.mean(ops.square(norms - 1.0))
