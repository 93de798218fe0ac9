"""The CycleGAN ResNet generator.

Architecture of the CycleGAN reference (Zhu et al.; `ResnetGenerator` in
pytorch-CycleGAN-and-pix2pix, after Johnson et al.): c7s1-64, d128, d256, `blocks`
residual blocks R256, u128, u64, c7s1-3 with tanh — 7x7 convolutions on reflection-padded
input, two 3x3 stride-2 convolutions down, residual blocks of two reflection-padded 3x3
convolutions, two 3x3 stride-2 transposed convolutions up. Normalization (instance norm
without affine parameters by default) and ReLU after every convolution but the last
and the second one of each residual block. Convolutions have biases unless the norm is
batch normalization; weights start from N(0, 0.02) as in the reference.

Padding matches the reference exactly: the down-sampling convolutions see one pixel of
zeros on every side (PyTorch `padding=1`), and each transposed convolution keeps the
rows and columns PyTorch's `padding=1, output_padding=1` keep (its full output without
the first row and column).

`upsample="resize"` replaces each transposed convolution by a bilinear 2x resize and a
reflection-padded 3x3 convolution (Odena et al.'s resize-convolution): no period-2
pattern from the kernel's parities (see `i2i.nets.unet`).

Stride: 4 — input height and width must be multiples of 4, and at least 8 (the residual
blocks reflect-pad a map of a quarter of the size).

Example:

```python
from i2i.nets.resnet_generator import resnet_generator

generator = resnet_generator(blocks=9)     # resnet_9blocks, 11.38 M parameters
```

Reference:
    Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent
    Adversarial Networks", ICCV 2017; Johnson et al., "Perceptual Losses for Real-Time
    Style Transfer and Super-Resolution", ECCV 2016; Odena et al., "Deconvolution and
    Checkerboard Artifacts", Distill 2016.
"""

from __future__ import annotations

import keras

from i2i.layers import NORMS, ReflectionPadding2D, ThinConv2D, Upscale2D
from i2i.nets.reference_init import normal_init, reference_norm

STRIDE = 4
UPSAMPLES = ("transpose", "resize")


def _conv_norm_relu(x, width, kernel, stride, norm, use_bias, name, relu=True):
    """Convolution (reflection padding for stride 1, zeros for stride 2), norm, ReLU."""
    if stride == 1:
        x = ReflectionPadding2D(kernel // 2, name=f"{name}_pad")(x)
    else:
        x = keras.layers.ZeroPadding2D(1, name=f"{name}_pad")(x)
    x = keras.layers.Conv2D(
        width, kernel, strides=stride, use_bias=use_bias, kernel_initializer=normal_init(),
        name=f"{name}_conv",
    )(x)  # fmt: skip
    if norm != "none":
        x = reference_norm(norm, f"{name}_norm")(x)
    if relu:
        x = keras.layers.ReLU(name=f"{name}_relu")(x)
    return x


def resnet_generator(
    in_channels: int = 3,
    out_channels: int = 3,
    filters: int = 64,
    blocks: int = 9,
    norm: str = "instance",
    dropout: float = 0.0,
    upsample: str = "transpose",
    name: str = "resnet_generator",
) -> keras.Model:
    """Builds the CycleGAN ResNet generator (`resnet_9blocks` / `resnet_6blocks`).

    Args:
        in_channels: input channels.
        out_channels: output channels; the output is tanh, in [-1, 1].
        filters: channels of the first layer (ngf, 64); 4x this in the residual blocks.
        blocks: residual blocks: 9 (the reference for 256x256 images) or 6 (128x128).
        norm: `"instance"` (the reference), `"batch"` or `"none"`.
        dropout: dropout rate between the two convolutions of each residual block
            (the reference's `--no_dropout` default is 0).
        upsample: "transpose" (3x3 stride-2 transposed convolutions, the paper) or
            "resize" (bilinear 2x + 3x3 convolution).
        name: model name.

    Returns:
        A functional `keras.Model` from `(None, None, in_channels)` to
        `(None, None, out_channels)` float32 images of the same size (a multiple of 4).
    """
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r} (use one of: {', '.join(NORMS)})")
    if blocks < 0:
        raise ValueError(f"blocks must be >= 0, got {blocks}")
    if upsample not in UPSAMPLES:
        raise ValueError(f"upsample must be one of {UPSAMPLES}, got {upsample!r}")
    use_bias = norm != "batch"

    inputs = keras.Input((None, None, in_channels), name="image")
    x = _conv_norm_relu(inputs, filters, 7, 1, norm, use_bias, "c7s1")
    x = _conv_norm_relu(x, filters * 2, 3, 2, norm, use_bias, "down1")
    x = _conv_norm_relu(x, filters * 4, 3, 2, norm, use_bias, "down2")

    for b in range(blocks):
        y = _conv_norm_relu(x, filters * 4, 3, 1, norm, use_bias, f"res{b}a")
        if dropout > 0:
            y = keras.layers.Dropout(dropout, name=f"res{b}_dropout")(y)
        y = _conv_norm_relu(y, filters * 4, 3, 1, norm, use_bias, f"res{b}b", relu=False)
        x = keras.layers.Add(name=f"res{b}_add")([x, y])

    for i, width in enumerate((filters * 2, filters), start=1):
        if upsample == "resize":
            x = Upscale2D(2, "bilinear", name=f"up{i}_resize")(x)
            x = _conv_norm_relu(x, width, 3, 1, norm, use_bias, f"up{i}")
            continue
        x = keras.layers.Conv2DTranspose(
            width, 3, strides=2, padding="valid", use_bias=use_bias,
            kernel_initializer=normal_init(), name=f"up{i}_conv",
        )(x)  # fmt: skip
        # The full output is 2H + 1 long; PyTorch's padding=1, output_padding=1 drop row 0.
        x = keras.layers.Cropping2D(((1, 0), (1, 0)), name=f"up{i}_crop")(x)
        if norm != "none":
            x = reference_norm(norm, f"up{i}_norm")(x)
        x = keras.layers.ReLU(name=f"up{i}_relu")(x)

    x = ReflectionPadding2D(3, name="output_pad")(x)
    # ThinConv2D: TensorFlow's own gradient of this 7x7 64 -> 3 layer is ~10x slower.
    x = ThinConv2D(
        out_channels, 7, kernel_initializer=normal_init(), dtype="float32", name="output_conv"
    )(x)
    outputs = keras.layers.Activation("tanh", dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs, name=name)
