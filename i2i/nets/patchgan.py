"""The PatchGAN discriminator shared by pix2pix and CycleGAN.

Architecture of the reference (`NLayerDiscriminator` in pytorch-CycleGAN-and-pix2pix):
C64-C128-C256-C512 for `n_layers=3` — 4x4 convolutions, `n_layers` of stride 2 then one
of stride 1, widths doubling up to 8x `filters`, LeakyReLU 0.2, normalization on all but
the first — followed by a 4x4 stride-1 convolution to one logit per patch. Every
convolution pads one pixel of zeros on each side, as the reference does. No sigmoid:
the output is logits for the losses in `i2i.losses`.

Each output logit judges one patch of the input; the receptive field is 70x70 pixels for
`n_layers=3` (16 for 1, 34 for 2, 142 for 4). An input of H x W gives logits of
`(H / 2**n_layers - 2) x (W / 2**n_layers - 2)`: 30 x 30 at 256.

Conditional (pix2pix) or not (CycleGAN): the model takes one image tensor with
`condition_channels + in_channels` channels. For a conditional discriminator the caller
concatenates the condition FIRST, `concatenate([source, image], axis=-1)`, as the
reference does (`torch.cat((real_A, fake_B), 1)`).

Stride: `2 ** n_layers` — input height and width must be multiples of it, and at least
`3 * 2 ** n_layers` (24 for the default) for a non-empty output.

Example:

```python
from i2i.nets.patchgan import patchgan

discriminator = patchgan(in_channels=3, condition_channels=3)    # pix2pix, 2.77 M
logits = discriminator(keras.ops.concatenate([source, target], axis=-1))
```

Reference:
    Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks",
    CVPR 2017 (Section 3.2.2 and Appendix 6.1.2).
"""

from __future__ import annotations

import keras

from i2i.layers import NORMS, ThinConv2D
from i2i.nets.reference_init import normal_init, reference_norm


def patchgan_receptive_field(n_layers: int = 3) -> int:
    """Side in pixels of the input patch each output logit sees (70 for 3 layers)."""
    field = 1 + 3 + 3  # the two 4x4 stride-1 convolutions, seen from one output
    for _ in range(n_layers):
        field = (field - 1) * 2 + 4
    return field


def patchgan_stride(n_layers: int = 3) -> int:
    """Input height and width must be multiples of this: `2 ** n_layers`."""
    return 2**n_layers


def patchgan(
    in_channels: int = 3,
    condition_channels: int = 0,
    filters: int = 64,
    n_layers: int = 3,
    norm: str = "batch",
    name: str = "patchgan",
) -> keras.Model:
    """Builds an n-layer PatchGAN discriminator.

    Args:
        in_channels: channels of the judged image.
        condition_channels: channels of the condition concatenated before it (pix2pix:
            3, the source image; 0 for an unconditional discriminator).
        filters: channels of the first layer (ndf, 64).
        n_layers: stride-2 convolutions (3: 70x70 patches, the reference's "basic").
        norm: `"batch"` (pix2pix), `"instance"` (CycleGAN) or `"none"` (WGAN-GP).
        name: model name.

    Returns:
        A functional `keras.Model` from `(None, None, condition_channels + in_channels)`
        images to `(None, None, 1)` float32 logits.
    """
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r} (use one of: {', '.join(NORMS)})")
    if n_layers < 1:
        raise ValueError(f"n_layers must be >= 1, got {n_layers}")
    use_bias = norm != "batch"

    inputs = keras.Input((None, None, condition_channels + in_channels), name="image")
    x = inputs
    for i in range(n_layers + 1):
        stride = 2 if i < n_layers else 1
        x = keras.layers.ZeroPadding2D(1, name=f"conv{i}_pad")(x)
        x = keras.layers.Conv2D(
            filters * min(2**i, 8), 4, strides=stride, use_bias=use_bias or i == 0,
            kernel_initializer=normal_init(), name=f"conv{i}",
        )(x)  # fmt: skip
        if i > 0 and norm != "none":
            x = reference_norm(norm, f"conv{i}_norm")(x)
        x = keras.layers.LeakyReLU(0.2, name=f"conv{i}_lrelu")(x)
    x = keras.layers.ZeroPadding2D(1, name="logits_pad")(x)
    # ThinConv2D: one filter, whose TensorFlow gradient is ~10x slower.
    outputs = ThinConv2D(1, 4, kernel_initializer=normal_init(), dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name=name)
