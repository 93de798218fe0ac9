"""CycleGAN: unpaired image-to-image translation with cycle consistency.

Two generators translate between domains A and B (`generator_a2b`: G, `generator_b2a`:
F), two discriminators judge each domain (`discriminator_b` sees real B and G(a),
`discriminator_a` sees real A and F(b)). With the LSGAN objective of the reference:

```
L_G = E[(D_B(G(a)) - 1)^2] + E[(D_A(F(b)) - 1)^2]                  adversarial
    + lambda_a * E|F(G(a)) - a| + lambda_b * E|G(F(b)) - b|          cycle consistency
    + lambda_identity * (lambda_b * E|G(b) - b| + lambda_a * E|F(a) - a|)   identity
    + lambda_nce * PatchNCE_G(a, G(a)) + lambda_nce_b * PatchNCE_F(b, F(b))   content (optional)
L_D_B = 0.5 * (E[(D_B(b) - 1)^2] + E[D_B(pool_B(G(a)))^2])       (L_D_A likewise)
```

with `lambda_a = lambda_b = lambda_cycle = 10` and `lambda_identity = 0.5` (relative to
the cycle weights, as in the reference code: the identity terms weigh 5). The reference
has the two cycle weights as `--lambda_A` and `--lambda_B`; here `lambda_cycle` is
`lambda_a` and `lambda_cycle_b` (default: the same) is `lambda_b`. The discriminators
see generated images through an image history of 50 per domain
(`i2i.layers.ImageHistory`: variables, so it works in a compiled step and is saved in
checkpoints). The generators are updated first, then both discriminators (one
optimizer per side, as in the reference). The learning rate is constant for the first
half of training and decays linearly towards 0 over the second half
(`i2i.tasks.cyclegan.CycleGANTask` uses `i2i.callbacks.LinearDecay`; 100 + 100 epochs in
the paper).

Everything else (the step, both optimizers, loss scaling, distribution, logging) is the
shared `GANModel.train_step`; this class only implements its hooks.

Logged terms: `g_a2b_adv`, `g_b2a_adv`, `g_cycle_a`, `g_cycle_b`, `g_idt_a`, `g_idt_b`
(identity terms only when `lambda_identity > 0`), `g_nce_a`, `g_nce_b` (when
`lambda_nce` / `lambda_nce_b` > 0), `d_a`, `d_b` (`d_a_gp`, `d_b_gp` for
WGAN-GP), plus the sums `g_loss` and `d_loss`.

Example:

```python
from i2i.data.unpaired import unpaired_dataset
from i2i.gans.cyclegan import build_cyclegan

model = build_cyclegan(image_size=256, num_blocks=9)  # the paper's 256x256 set-up
model.compile()                                    # Adam(2e-4, beta_1=0.5) for both sides
model.fit(unpaired_dataset("data/horse2zebra", batch_size=1, seed=0), epochs=200)
zebra = model.generator_a2b.predict(horse_batch)  # `model.predict` runs generator_a2b too
```

`i2i train cyclegan --data DIR --out RUN_DIR` (`i2i.tasks.cyclegan.CycleGANTask`) trains
it with the runner and saves `RUN_DIR/generator_a2b.keras` and `RUN_DIR/generator_b2a.keras`.

Reference:
    Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
    Networks", ICCV 2017, and its code (junyanz/pytorch-CycleGAN-and-pix2pix,
    `models/cycle_gan_model.py`); Mao et al., "Least Squares Generative Adversarial
    Networks", ICCV 2017; Shrivastava et al., "Learning from Simulated and Unsupervised
    Images through Adversarial Training", CVPR 2017 (the image history).
"""

from __future__ import annotations

import keras

from i2i.common import deprecated
from i2i.gans.gan_model import GANModel
from i2i.layers import ImageHistory
from i2i.losses import PatchNCE, adversarial_loss, gradient_penalty, l1_loss


@keras.saving.register_keras_serializable(package="i2i")
class CycleGAN(GANModel):
    """CycleGAN on the shared GAN core (see the module docstring for the objective).

    Args:
        generator_a2b: network translating domain A to B (`resnet_generator`).
        generator_b2a: network translating domain B to A.
        discriminator_a: unconditional discriminator of domain A images (`patchgan`).
        discriminator_b: unconditional discriminator of domain B images.
        image_size: side of the square training crops; the image histories are sized
            for it (their variables exist from construction, so a checkpoint can be
            restored into a fresh model).
        gan_mode: adversarial loss, an `i2i.losses.adversarial_loss` mode ("lsgan").
        lambda_cycle: weight of the A -> B -> A cycle-consistency L1 term (10), and of
            the B -> A -> B one unless `lambda_cycle_b` is given.
        lambda_identity: weight of the identity terms relative to the cycle weights
            (0.5); 0 skips the identity passes.
        lambda_cycle_b: weight of the B -> A -> B cycle term (None: `lambda_cycle`).
            Where B carries much less information than A (night lights against a day
            map), the A cycle can only be met by hiding A in G(a); a weak A cycle and a
            strong B one train G mostly on what the B cycle asks: a night like `b`
            from F's day version of it.
        history_size: generated images kept per discriminator (50; 0 disables).
        cycle_noise: standard deviation (in the [-1, 1] range) of Gaussian noise added to
            each translation before it is translated back, in training only (0: none,
            the paper). A generator can meet the cycle loss by hiding its input in
            differences too small to see (Chu et al. 2017): on day -> night maps it
            hid the day map under an all-black night. Noise above that amplitude
            destroys such a hidden copy, so the cycle can only be met by what the
            translation visibly shows. Deviation, off by default.
        lambda_nce: weight of a PatchNCE content term per direction (0: none, the
            paper): each translated patch must stay recognisable, in the generator's
            own encoder features, as the input patch at the same place
            (`i2i.losses.patch_nce`, CUT's objective, Park et al. 2020). It reads the
            translation through `cycle_noise`, as the cycle does: without it, the term
            was met by invisible differences under an all-black night. Deviation.
        nce_patches: positions drawn per image and layer for it (256).
        lambda_nce_b: weight of F's PatchNCE term (None: `lambda_nce`), so that one
            direction can keep its content without the other: where B carries much
            less than A, G keeping every day patch recognisable in a night is the
            same hiding of A in G(a) as a strong A cycle.
        **kwargs: `GANModel` arguments (`n_critic`, `seed`, `name`).

    Reference (cycle_noise):
        Chu, Zhmoginov, Sandler, "CycleGAN, a Master of Steganography", NIPS 2017
        workshop.
    """

    generator_names = ("generator_a2b", "generator_b2a")
    discriminator_names = ("discriminator_a", "discriminator_b")
    discriminator_first = False  # the reference updates G, then D_A and D_B

    def __init__(
        self,
        generator_a2b,
        generator_b2a,
        discriminator_a,
        discriminator_b,
        image_size: int = 256,
        gan_mode: str = "lsgan",
        lambda_cycle: float = 10.0,
        lambda_identity: float = 0.5,
        history_size: int = 50,
        cycle_noise: float = 0.0,
        lambda_cycle_b: float | None = None,
        lambda_nce: float = 0.0,
        nce_patches: int = 256,
        lambda_nce_b: float | None = None,
        **kwargs,
    ):
        names = ["g_a2b_adv", "g_b2a_adv", "g_cycle_a", "g_cycle_b"]
        if lambda_identity > 0:
            names += ["g_idt_a", "g_idt_b"]
        nce_weights = {"a": float(lambda_nce)}
        nce_weights["b"] = nce_weights["a"] if lambda_nce_b is None else float(lambda_nce_b)
        names += [f"g_nce_{side}" for side, weight in nce_weights.items() if weight > 0]
        names += ["d_a", "d_b"]
        if gan_mode == "wgan-gp":
            names += ["d_a_gp", "d_b_gp"]
        self.loss_names = tuple(names)
        super().__init__(**kwargs)
        self.generator_a2b = generator_a2b
        self.generator_b2a = generator_b2a
        self.discriminator_a = discriminator_a
        self.discriminator_b = discriminator_b
        self.image_size = int(image_size)
        self.gan_mode = gan_mode
        self.lambda_cycle = float(lambda_cycle)
        self.lambda_identity = float(lambda_identity)
        self.lambda_cycle_b = None if lambda_cycle_b is None else float(lambda_cycle_b)
        self.history_size = int(history_size)
        self.cycle_noise = float(cycle_noise)
        self.gan_loss = adversarial_loss(gan_mode)
        seed = self.seed
        self.history_a = ImageHistory(
            self.history_size, seed=None if seed is None else seed + 1, name="history_a"
        )
        self.history_b = ImageHistory(
            self.history_size, seed=None if seed is None else seed + 2, name="history_b"
        )
        shape = (None, self.image_size, self.image_size, 3)
        self.history_a.build(shape)
        self.history_b.build(shape)
        self.lambda_nce = float(lambda_nce)
        self.lambda_nce_b = None if lambda_nce_b is None else float(lambda_nce_b)
        self.nce_patches = int(nce_patches)
        # side -> loss: one (heads, position draws) per weighted direction, on that
        # direction's generator ("a": G's term on real a, "b": F's on real b).
        self.nce_weights = nce_weights
        self.nce = {}
        for side, k, network in (("a", 3, generator_a2b), ("b", 4, generator_b2a)):
            if nce_weights[side] > 0:
                loss = PatchNCE(
                    network, num_patches=self.nce_patches, seed=None if seed is None else seed + k
                )
                loss.build()
                self.nce[side] = loss

    @property
    def generator_variables(self) -> list:
        """Both generators' variables, and the PatchNCE heads' (trained with them)."""
        heads = [v for loss in self.nce.values() for v in loss.head_variables]
        return super().generator_variables + heads

    # ------------------------------------------------------------------ hooks

    def generate(self, batch, training):
        real_a, real_b = batch["a"], batch["b"]
        fake_b = self.generator_a2b(real_a, training=training)
        fake_a = self.generator_b2a(real_b, training=training)
        # What the cycle (and the PatchNCE term) read: the translations with cycle_noise.
        seen_b, seen_a = self._noisy(fake_b, training), self._noisy(fake_a, training)
        generated = {
            "fake_b": fake_b,
            "fake_a": fake_a,
            "rec_a": self.generator_b2a(seen_b, training=training),
            "rec_b": self.generator_a2b(seen_a, training=training),
        }
        if self.nce:
            generated["seen_b"], generated["seen_a"] = seen_b, seen_a
        if self.lambda_identity > 0:
            generated["idt_b"] = self.generator_a2b(real_b, training=training)
            generated["idt_a"] = self.generator_b2a(real_a, training=training)
        return generated

    def _noisy(self, images, training):
        """`images` plus the `cycle_noise` Gaussian noise (training only)."""
        if not (training and self.cycle_noise > 0):
            return images
        noise = keras.random.normal(
            keras.ops.shape(images), stddev=self.cycle_noise, seed=self.seed_generator
        )
        return images + keras.ops.cast(noise, images.dtype)

    def generator_losses(self, batch, generated):
        real_a, real_b = batch["a"], batch["b"]
        lambda_a = self.lambda_cycle
        lambda_b = lambda_a if self.lambda_cycle_b is None else self.lambda_cycle_b
        terms = {
            "g_a2b_adv": self.gan_loss.generator(
                self.discriminator_b(generated["fake_b"], training=True)
            ),
            "g_b2a_adv": self.gan_loss.generator(
                self.discriminator_a(generated["fake_a"], training=True)
            ),
            "g_cycle_a": lambda_a * l1_loss(real_a, generated["rec_a"]),
            "g_cycle_b": lambda_b * l1_loss(real_b, generated["rec_b"]),
        }
        if self.lambda_identity > 0:
            # As the reference: G's identity term (on b) weighs with lambda_b, F's with a.
            terms["g_idt_a"] = self.lambda_identity * lambda_a * l1_loss(real_a, generated["idt_a"])
            terms["g_idt_b"] = self.lambda_identity * lambda_b * l1_loss(real_b, generated["idt_b"])
        for side, loss in self.nce.items():
            source, seen = (real_a, "seen_b") if side == "a" else (real_b, "seen_a")
            terms[f"g_nce_{side}"] = self.nce_weights[side] * loss(source, generated[seen])
        return terms

    def discriminator_losses(self, batch, generated):
        # The histories swap some of this step's fakes for older ones (and store these).
        fake_a = self.history_a(generated["fake_a"], training=True)
        fake_b = self.history_b(generated["fake_b"], training=True)
        terms = {}
        for domain, real, fake, network in (
            ("a", batch["a"], fake_a, self.discriminator_a),
            ("b", batch["b"], fake_b, self.discriminator_b),
        ):
            real_logits = network(real, training=True)
            fake_logits = network(fake, training=True)
            terms[f"d_{domain}"] = self.gan_loss.discriminator(real_logits, fake_logits)
            if self.gan_mode == "wgan-gp":
                penalty = gradient_penalty(network, real, fake, self.seed_generator)
                terms[f"d_{domain}_gp"] = self.gan_loss.gradient_penalty_weight * penalty
        return terms

    # ------------------------------------------------------------------ config

    def get_config(self):
        return {
            **super().get_config(),
            "image_size": self.image_size,
            "gan_mode": self.gan_mode,
            "lambda_cycle": self.lambda_cycle,
            "lambda_identity": self.lambda_identity,
            "history_size": self.history_size,
            "cycle_noise": self.cycle_noise,
            "lambda_cycle_b": self.lambda_cycle_b,
            "lambda_nce": self.lambda_nce,
            "nce_patches": self.nce_patches,
            "lambda_nce_b": self.lambda_nce_b,
        }


def build_cyclegan(
    image_size: int = 256,
    filters: int = 64,
    num_blocks: int = 9,
    discriminator_filters: int = 64,
    d_layers: int = 3,
    norm: str = "instance",
    gan_mode: str = "lsgan",
    lambda_cycle: float = 10.0,
    lambda_identity: float = 0.5,
    history_size: int = 50,
    n_critic: int | None = None,
    seed: int | None = None,
    upsample: str = "transpose",
    cycle_noise: float = 0.0,
    lambda_cycle_b: float | None = None,
    lambda_nce: float = 0.0,
    nce_patches: int = 256,
    lambda_nce_b: float | None = None,
) -> CycleGAN:
    """A `CycleGAN` with the reference networks (not compiled).

    Args:
        image_size: training crop side (a multiple of 4 and of `2 ** d_layers`).
        filters: generator width (ngf, 64).
        num_blocks: residual blocks (9 at 256, 6 at 128).
        discriminator_filters: discriminator width (ndf, 64).
        d_layers: PatchGAN depth (3: 70x70).
        norm: "instance" (reference), "batch" or "none".
        gan_mode, lambda_cycle, lambda_identity, history_size: see `CycleGAN`.
        n_critic: discriminator steps per generator step (default: the loss's, 5 for
            WGAN-GP, else 1).
        seed: seed of the model's random streams (image histories).
        upsample: the generators' "transpose" convolutions (the paper) or "resize" +
            convolution (`i2i.nets.resnet_generator`).
        cycle_noise, lambda_cycle_b, lambda_nce, nce_patches, lambda_nce_b: see `CycleGAN`.

    Returns:
        The `CycleGAN`; call `compile()` (paper defaults) before `fit`.
    """
    from i2i.nets.patchgan import patchgan, patchgan_stride
    from i2i.nets.resnet_generator import STRIDE, resnet_generator

    multiple = max(STRIDE, patchgan_stride(d_layers))
    if image_size % multiple or image_size < 3 * patchgan_stride(d_layers):
        raise ValueError(
            f"image_size {image_size} must be a multiple of {multiple} and at least "
            f"{3 * patchgan_stride(d_layers)} for d_layers={d_layers}"
        )

    def generator(name):
        return resnet_generator(
            filters=filters, blocks=num_blocks, norm=norm, upsample=upsample, name=name
        )

    def discriminator(name):
        return patchgan(filters=discriminator_filters, n_layers=d_layers, norm=norm, name=name)

    if n_critic is None:
        n_critic = adversarial_loss(gan_mode).critic_steps
    return CycleGAN(
        generator("generator_a2b"),
        generator("generator_b2a"),
        discriminator("discriminator_a"),
        discriminator("discriminator_b"),
        image_size=image_size,
        gan_mode=gan_mode,
        lambda_cycle=lambda_cycle,
        lambda_identity=lambda_identity,
        history_size=history_size,
        n_critic=n_critic,
        seed=seed,
        cycle_noise=cycle_noise,
        lambda_cycle_b=lambda_cycle_b,
        lambda_nce=lambda_nce,
        nce_patches=nce_patches,
        lambda_nce_b=lambda_nce_b,
    )


def make_cyclegan(*args, blocks: int | None = None, d_filters: int | None = None, **kwargs):
    """Deprecated name of `build_cyclegan` (`blocks` is `num_blocks`, `d_filters` is
    `discriminator_filters`); works until the next release."""
    deprecated(
        "make_cyclegan is now build_cyclegan (blocks: num_blocks, d_filters: discriminator_filters)"
    )
    if blocks is not None:
        kwargs["num_blocks"] = blocks
    if d_filters is not None:
        kwargs["discriminator_filters"] = d_filters
    return build_cyclegan(*args, **kwargs)
