"""The pix2pix U-Net generator.

Architecture of the pix2pix reference (Isola et al.; `UnetGenerator` in
pytorch-CycleGAN-and-pix2pix): an encoder of `depth` 4x4 stride-2 convolutions
C64-C128-C256-C512-C512-...-C512 (LeakyReLU 0.2; normalization on all but the first and
the innermost), and a mirrored decoder of 4x4 stride-2 transposed convolutions (ReLU,
normalization) whose input is concatenated with the encoder feature of the same size;
the first decoder blocks use dropout 0.5, and the last maps to `out_channels` with tanh.
With batch normalization the convolutions have no bias (the norm's offset replaces it);
weights start from N(0, 0.02) as in the reference.

Depth and stride: the encoder halves the image `depth` times, so the input height and
width must be multiples of `2 ** depth` (the stride). `depth` defaults to how often
`image_size` can be halved — 7 for 128, 8 for 256, 9 for 512, i.e. a 1x1 bottleneck
for powers of two — and the same model then accepts any multiple of the stride.

Upsampling: `upsample="transpose"` (the paper) doubles the size with 4x4 stride-2
transposed convolutions; `"resize"` with a bilinear 2x resize followed by a 3x3
convolution (the resize-convolution of Odena et al.; bilinear rather than their nearest
neighbour, whose 2x2 blocks an adversarial loss grew into axis-aligned hatching on the
maps). A transposed convolution gives each output pixel parity its own part of the
kernel, so even a uniform input comes out with a period-2 pattern at every level: a
U-Net trained adversarially can grow that into a lattice of period `2 ** level` (the
first shipped day -> night model painted its "lights" on a 32 px grid). A
resize-convolution maps a uniform input to a uniform output.

Dropout: the paper (and the original Lua code) puts it in the first three decoder
blocks, starting at the innermost; the PyTorch port starts one block later. This
follows the paper. Keras applies it only with `training=True`.

Example:

```python
from i2i.nets.unet import unet, unet_stride

generator = unet(256)              # 54.4 M parameters, inputs 256, 512, 768...
assert unet_stride(256) == 256
```

Reference:
    Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks",
    CVPR 2017; Ronneberger et al., "U-Net", MICCAI 2015; Odena et al., "Deconvolution
    and Checkerboard Artifacts", Distill 2016.
"""

from __future__ import annotations

import keras

from i2i.layers import NORMS, Upscale2D
from i2i.nets.reference_init import normal_init, reference_norm

UPSAMPLES = ("transpose", "resize")


def unet_depth(image_size: int = 256, depth: int | None = None) -> int:
    """The encoder depth: `depth` itself, or how often `image_size` can be halved."""
    if depth is None:
        if int(image_size) != image_size or image_size < 4:
            raise ValueError(f"image_size must be an integer >= 4, got {image_size!r}")
        depth = _halvings(image_size)
    if depth < 2:
        raise ValueError(f"the U-Net needs depth >= 2 (image_size {image_size}, depth {depth})")
    return depth


def nearest_deep_size(image_size: int, bottleneck: int = 8) -> int:
    """The crop size nearest `image_size` (>= 16) that the automatic depth halves down
    to at most `bottleneck` pixels (96 for 100: depth 5, 3 px), the smaller on a tie."""
    for distance in range(int(image_size)):
        for size in (image_size - distance, image_size + distance):
            if size >= 16 and size >> _halvings(size) <= bottleneck:
                return size
    return 256


def _halvings(size: int) -> int:
    """How often `size` can be halved exactly."""
    count = 0
    while size % (2 ** (count + 1)) == 0:
        count += 1
    return count


def unet_stride(image_size: int = 256, depth: int | None = None) -> int:
    """Input height and width must be multiples of this: `2 ** depth`."""
    return 2 ** unet_depth(image_size, depth)


def unet(
    image_size: int = 256,
    in_channels: int = 3,
    out_channels: int = 3,
    filters: int = 64,
    norm: str = "batch",
    dropout: float = 0.5,
    dropout_blocks: int = 3,
    depth: int | None = None,
    upsample: str = "transpose",
    name: str = "unet",
) -> keras.Model:
    """Builds the pix2pix U-Net generator.

    Args:
        image_size: the training image size the depth is derived from (see the module
            doc); the model accepts any multiple of the stride.
        in_channels: input channels.
        out_channels: output channels; the output is tanh, in [-1, 1].
        filters: channels of the first encoder layer (ngf, 64); deeper layers use
            2x, 4x, then 8x this.
        norm: `"batch"` (the reference), `"instance"` or `"none"`.
        dropout: dropout rate of the first decoder blocks (0 disables it).
        dropout_blocks: how many decoder blocks, from the innermost, use dropout.
        depth: number of stride-2 levels; overrides the value derived from
            `image_size` (the reference's `unet_128` is 7, `unet_256` is 8).
        upsample: "transpose" (4x4 stride-2 transposed convolutions, the paper) or
            "resize" (bilinear 2x + 3x3 convolution; see the module doc).
        name: model name.

    Returns:
        A functional `keras.Model` from `(None, None, in_channels)` to
        `(None, None, out_channels)` float32 images of the same size.
    """
    if norm not in NORMS:
        raise ValueError(f"unknown norm {norm!r} (use one of: {', '.join(NORMS)})")
    if upsample not in UPSAMPLES:
        raise ValueError(f"upsample must be one of {UPSAMPLES}, got {upsample!r}")
    depth = unet_depth(image_size, depth)
    use_bias = norm != "batch"
    widths = [filters * min(2**i, 8) for i in range(depth)]

    inputs = keras.Input((None, None, in_channels), name="image")
    # Encoder: features[i] is the output of level i (before its activation).
    features = []
    x = inputs
    for i, width in enumerate(widths):
        if i > 0:
            x = keras.layers.LeakyReLU(0.2, name=f"down{i}_lrelu")(x)
        x = keras.layers.Conv2D(
            width, 4, strides=2, padding="same", use_bias=use_bias,
            kernel_initializer=normal_init(), name=f"down{i}_conv",
        )(x)  # fmt: skip
        if 0 < i < depth - 1 and norm != "none":
            x = reference_norm(norm, f"down{i}_norm")(x)
        features.append(x)

    # Decoder, innermost level first; each level's output is concatenated with the
    # encoder feature of the same size (skip first, as the reference concatenates).
    def up(x, width, i, **kwargs):
        if upsample == "transpose":
            return keras.layers.Conv2DTranspose(
                width, 4, strides=2, padding="same", kernel_initializer=normal_init(),
                name=f"up{i}_conv", **kwargs,
            )(x)  # fmt: skip
        x = Upscale2D(2, "bilinear", name=f"up{i}_resize")(x)
        return keras.layers.Conv2D(
            width, 3, padding="same", kernel_initializer=normal_init(), name=f"up{i}_conv",
            **kwargs,
        )(x)  # fmt: skip

    for i in reversed(range(depth)):
        x = keras.layers.ReLU(name=f"up{i}_relu")(x)
        if i == 0:
            x = up(x, out_channels, 0, dtype="float32")
            outputs = keras.layers.Activation("tanh", dtype="float32", name="output")(x)
            break
        x = up(x, widths[i - 1], i, use_bias=use_bias)
        if norm != "none":
            x = reference_norm(norm, f"up{i}_norm")(x)
        if dropout > 0 and i >= depth - dropout_blocks:
            x = keras.layers.Dropout(dropout, name=f"up{i}_dropout")(x)
        x = keras.layers.Concatenate(name=f"up{i}_skip")([features[i - 1], x])
    return keras.Model(inputs, outputs, name=name)
