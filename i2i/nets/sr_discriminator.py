"""The SRGAN discriminator: a VGG-style classifier of real and super-resolved images.

Architecture (Ledig et al. 2017, Figure 4): a 3x3 convolution with 64 filters and
LeakyReLU(0.2), then seven 3x3 conv-BN-LeakyReLU blocks alternating stride 2 and
stride 1 while the width doubles — 64 (s2), 128 (s1), 128 (s2), 256 (s1), 256 (s2),
512 (s1), 512 (s2) — so the image is reduced 16 times; then Dense(1024), LeakyReLU(0.2)
and Dense(1): one real/fake score per image.

Deviation from the paper (default): the paper flattens the 6 x 6 x 512 feature map of its
fixed 96 x 96 training crops into the dense layer, which then holds 18.9 M of the
network's ~23.6 M parameters and ties the network to one input size. Here a global
average pooling comes before the dense head, so the discriminator takes any image size
(training crops of any side, or the whole validation image) and the dense layer has
0.5 M parameters (5.2 M in all). Pass `input_size=96` for the paper's fixed-size network.

Also: the convolutions followed by batch norm have no bias (the norm's offset replaces
it); the output is the logit (no sigmoid), in float32 under mixed precision, for the
losses of `i2i.losses` (the sigmoid is inside their cross-entropy).

Example:

```python
from i2i.nets.sr_discriminator import sr_discriminator

discriminator = sr_discriminator()          # 5,213,569 trainable parameters, any size
logits = discriminator(hr_batch)            # (N, H, W, 3) in [0, 1] -> (N, 1) float32
paper = sr_discriminator(input_size=96)     # the paper's flatten head (23.6 M)
```

Reference:
    Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a Generative
    Adversarial Network", CVPR 2017 (Section 2.2, Figure 4).
"""

from __future__ import annotations

import keras

from i2i.layers import batch_norm as make_batch_norm


def sr_discriminator_stride(depth: int = 4) -> int:
    """How many times the convolutions reduce the image: `2 ** depth` (16)."""
    return 2**depth


def sr_discriminator(
    in_channels: int = 3,
    filters: int = 64,
    depth: int = 4,
    dense_units: int = 1024,
    batch_norm: bool = True,
    input_size: int | None = None,
    name: str = "sr_discriminator",
) -> keras.Model:
    """Builds the SRGAN VGG-style discriminator.

    Args:
        in_channels: channels of the judged image.
        filters: width of the first stage (64); stage `i` has `filters * 2**i`.
        depth: stages of (stride-1 conv, stride-2 conv); 4 in the paper (8 convolutions).
        dense_units: width of the hidden dense layer (1024).
        batch_norm: batch normalization after every convolution but the first (paper).
        input_size: None (default): global average pooling before the dense head, any
            input size. An int: the paper's flatten head for square inputs of that side
            only (96 in the paper; a multiple of `2 ** depth`).
        name: model name.

    Returns:
        A functional `keras.Model` from `(None, None, in_channels)` images (or
        `(input_size, input_size, in_channels)`) to `(None, 1)` float32 logits.
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    stride = sr_discriminator_stride(depth)
    if input_size is not None and (input_size < stride or input_size % stride):
        raise ValueError(f"input_size must be a positive multiple of {stride}, got {input_size}")

    side = input_size  # None: any size
    inputs = keras.Input((side, side, in_channels), name="image")
    x = inputs
    for i in range(depth):
        width = filters * 2**i
        for stride_ in (1, 2):
            first = i == 0 and stride_ == 1
            label = f"stage{i}_conv{stride_}"
            x = keras.layers.Conv2D(
                width,
                3,
                strides=stride_,
                padding="same",
                use_bias=first or not batch_norm,
                name=label,
            )(x)
            if batch_norm and not first:
                x = make_batch_norm(name=f"{label}_bn")(x)
            x = keras.layers.LeakyReLU(0.2, name=f"{label}_lrelu")(x)
    if input_size is None:
        x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    else:
        x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(dense_units, name="dense")(x)
    x = keras.layers.LeakyReLU(0.2, name="dense_lrelu")(x)
    outputs = keras.layers.Dense(1, dtype="float32", name="logits")(x)
    return keras.Model(inputs, outputs, name=name)
