"""A compact super-resolution network that computes at low resolution (SRVGGNetCompact).

Every convolution runs on the LR grid and one pixel shuffle makes the HR image, so the
cost per output pixel is the cost per LR pixel divided by `scale ** 2`, and all of it is
3x3 convolutions between equal widths: the operation CPUs and GPUs run closest to their
matmul peak. SRResNet spends about half of its time in a 9x9 convolution at HR
resolution (64 -> 3 channels: few outputs, poorly vectorised); this network has none.

    x_hr = shuffle_s(conv_out(f_N(... f_1(f_0(x_lr))))) + up_s(x_lr),
    f_i = PReLU(conv3x3(.)),  conv_out: F -> C * s^2 channels.

With `unshuffle=u` the input is first pixel-unshuffled (`(h, w, C)` -> `(h/u, w/u,
C u^2)`) and the last shuffle is by `s * u`: the body runs on a grid `u^2` times smaller,
as Real-ESRGAN's x2 RRDBNet runs its x4 body on a pixel-unshuffled input. An x2 network
with `unshuffle=2` costs what the x4 network costs per output pixel, 4x less than
without (the input sides must then be multiples of `u`).

Example:

```python
from i2i.nets.compact import compact

net = compact(scale=4)                      # 16 body convs, 64 filters: 621,344 parameters
sr = net(lr_batch)                          # (N, h, w, 3) -> (N, 4h, 4w, 3), [0, 1]
fast_x2 = compact(scale=2, unshuffle=2)     # the x2 body on an (h/2, w/2, 12) grid
```

Reference:
    Wang et al., "Real-ESRGAN: Training Real-World Blind Super-Resolution with Pure
    Synthetic Data", ICCVW 2021 (`SRVGGNetCompact`, realesr-general-x4v3); after Shi et
    al., "Real-Time Single Image and Video Super-Resolution Using an Efficient Sub-Pixel
    Convolutional Neural Network" (ESPCN), CVPR 2016.
"""

from __future__ import annotations

import keras
import numpy as np

from i2i.layers import PixelShuffle, PixelUnshuffle, Upscale2D

SCALES = (2, 3, 4)
RESIDUALS = ("bicubic", "bilinear", "nearest")


def compact(
    scale: int = 4,
    num_conv: int = 16,
    filters: int = 64,
    residual: str = "bilinear",
    channels: int = 3,
    unshuffle: int = 1,
    name: str = "compact",
) -> keras.Model:
    """The compact SR generator: LR image in [0, 1] -> `scale` times larger image.

    A 3x3 conv + PReLU stem, `num_conv` 3x3 conv + PReLU layers of `filters` channels,
    a 3x3 conv to `channels * scale ** 2` and one pixel shuffle, added to an
    interpolated copy of the input. The last conv starts at zero, so an untrained
    network is exactly the `residual` interpolation and learns only the missing detail.
    Real-ESRGAN adds a nearest-neighbour copy; bilinear (the default here) starts the
    training closer to the target, and unlike bicubic it is a TFLite built-in op, so
    the network exports to every format `i2i export` writes. PReLU slopes are shared
    over space (`shared_axes=[1, 2]`), so any input size works (any multiple of
    `unshuffle`); the receptive field is `2 * (num_conv + 2) + 1` cells of the grid the
    body runs on (LR pixels, or `unshuffle`-pixel blocks).

    Args:
        scale: upscaling factor, 2, 3 or 4.
        num_conv: body convolutions N (Real-ESRGAN: 16 for x4v3's "general" model, 32
            for its anime model).
        filters: feature width F (64).
        residual: interpolation of the added input copy: "bilinear", "bicubic" (no
            TFLite export) or "nearest".
        channels: image channels in and out.
        unshuffle: pixel-unshuffle the input by this factor first (1: no); the input
            height and width must be multiples of it.
        name: model name.

    Returns:
        A functional `keras.Model`, input `(None, None, channels)`, float32 output
        `(None, None, channels)` (linear: clip or round it when making an image).
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale}")
    if residual not in RESIDUALS:
        raise ValueError(f"residual must be one of {RESIDUALS}, got {residual!r}")
    if num_conv < 0 or filters < 1:
        raise ValueError(f"num_conv >= 0 and filters >= 1, got {num_conv} and {filters}")
    if int(unshuffle) != unshuffle or unshuffle < 1:
        raise ValueError(f"unshuffle must be a positive integer, got {unshuffle!r}")
    shuffle = scale * unshuffle

    def conv_prelu(x, width, label):
        # He initialization (made for PReLU nets): with Keras' default Glorot the
        # activations of a plain 18-layer stack shrink ~0.5x per layer and it barely
        # trains (tested: no PSNR gain over bicubic after 600 steps).
        x = keras.layers.Conv2D(
            width, 3, padding="same", kernel_initializer="he_normal", name=f"{label}_conv"
        )(x)
        return keras.layers.PReLU(
            alpha_initializer=keras.initializers.Constant(0.25),
            shared_axes=[1, 2],
            name=f"{label}_prelu",
        )(x)

    inputs = keras.Input((None, None, channels), name="lr")
    x = inputs if unshuffle == 1 else PixelUnshuffle(unshuffle, name="unshuffle")(inputs)
    x = conv_prelu(x, filters, "stem")
    for i in range(num_conv):
        x = conv_prelu(x, filters, f"body{i}")
    # float32 from here on: the detail is added to the base image in full precision.
    x = keras.layers.Conv2D(
        channels * shuffle * shuffle, 3, padding="same", kernel_initializer="zeros",
        dtype="float32", name="tail_conv",
    )(x)  # fmt: skip
    detail = PixelShuffle(shuffle, dtype="float32", name="shuffle")(x)
    base = Upscale2D(scale, residual, dtype="float32", name="upsample")(inputs)
    outputs = keras.layers.Add(dtype="float32", name="residual_add")([base, detail])
    return keras.Model(inputs, outputs, name=name)


def inflate_unshuffled(weights: list, unshuffle: int) -> list:
    """An x(s u) network's weights for the x s network with `unshuffle=u` (same body).

    Both nets have the same body and tail shapes (the tail makes `C (s u)^2` channels
    either way); only the stem differs, `(3, 3, C, F)` against `(3, 3, C u^2, F)`. The
    stem kernel is copied to each of the `u^2` sub-pixels of an unshuffled cell, divided
    by `u^2`, so the new net computes the old one on the `u x u` box average of its
    input, added to its own finer interpolation: a trained start instead of the long
    plateau of a zero-tail start (kernel inflation, as Carreira and Zisserman 2017 grow
    3-D convolutions from 2-D ones).

    Args:
        weights: `get_weights()` of `compact(scale=s * u, ...)` (the stem first).
        unshuffle: `u`.

    Returns:
        The weights for `compact(scale=s, unshuffle=u, ...)` of the same width and depth.

    Example:

    ```python
    x2 = compact(scale=2, unshuffle=2)
    x2.set_weights(inflate_unshuffled(compact_x4.get_weights(), 2))
    ```
    """
    stem, *rest = weights
    cells = unshuffle * unshuffle
    # `space_to_depth` orders the channels (dy * u + dx) * C + c.
    return [np.concatenate([stem / np.float32(cells)] * cells, axis=2), *rest]


def deepen(weights: list, num_conv: int) -> list:
    """A compact network's weights for a deeper one that computes the same function.

    The new body layers are identities: a 3x3 kernel that passes each channel through
    its centre tap, zero bias, and a PReLU slope of 1 (a linear unit), so the deeper
    net starts as the trained shallow one and training adapts the added layers from
    there (Net2DeeperNet: Chen, Goodfellow and Shlens, "Net2Net: Accelerating Learning
    via Knowledge Transfer", ICLR 2016). They are spread evenly between the old ones.

    Args:
        weights: `get_weights()` of `compact(num_conv=n, ...)` (stem, body, tail).
        num_conv: the deeper network's body convolutions, at least `n`.

    Returns:
        The weights for `compact(num_conv=num_conv, ...)` of the same scale, width,
        residual and unshuffle.

    Example:

    ```python
    deep = compact(scale=4, num_conv=32)
    deep.set_weights(deepen(compact_x4.get_weights(), 32))  # same outputs
    ```
    """
    stem, body, tail = weights[:3], weights[3:-2], weights[-2:]
    if len(body) % 3:
        raise ValueError("not a compact network's weights (stem, body, tail)")
    layers = [body[i : i + 3] for i in range(0, len(body), 3)]
    old = len(layers)
    if num_conv < old:
        raise ValueError(f"num_conv {num_conv} is fewer than the {old} body convolutions")
    filters = stem[1].shape[0]
    kernel = np.zeros((3, 3, filters, filters), np.float32)
    kernel[1, 1] = np.eye(filters, dtype=np.float32)
    identity = [kernel, np.zeros(filters, np.float32), np.ones_like(stem[2])]
    # Slot i of the new body holds old layer k where floor(k * num_conv / old) == i.
    placed = {k * num_conv // old: layer for k, layer in enumerate(layers)}
    new_body = [w for i in range(num_conv) for w in placed.get(i, identity)]
    return [*stem, *new_body, *tail]
