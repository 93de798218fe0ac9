"""SRResNet: the SRGAN generator (residual blocks + sub-pixel upsampling).

Example:

```python
from i2i.nets.srresnet import srresnet

net = srresnet(scale=4)                            # the paper's: 16 blocks, 64 filters
sr = net(lr_batch)                                 # (N, h, w, 3) -> (N, 4h, 4w, 3), [0, 1]
small = srresnet(scale=4, num_blocks=8, batch_norm=False, residual="bicubic")
```

Reference:
    Ledig et al., "Photo-Realistic Single Image Super-Resolution Using a Generative
    Adversarial Network", CVPR 2017 (SRResNet / SRGAN). Batch norm removal as an option:
    Lim et al., "Enhanced Deep Residual Networks for Single Image Super-Resolution"
    (EDSR), CVPRW 2017.
"""

from __future__ import annotations

import keras

from i2i.layers import PixelShuffle, ThinConv2D, Upscale2D

SCALES = (2, 3, 4, 8)


def srresnet(
    scale: int = 4,
    num_blocks: int = 16,
    filters: int = 64,
    batch_norm: bool = True,
    residual: str | None = None,
    output_kernel: int = 9,
    channels: int = 3,
    name: str = "srresnet",
) -> keras.Model:
    """The SRResNet generator: LR image in [0, 1] -> `scale` times larger image in [0, 1].

    9x9 conv + PReLU, `num_blocks` residual blocks (conv-BN-PReLU-conv-BN + skip), conv-BN
    + a long skip, then sub-pixel upsampling stages (conv to 4F channels, pixel shuffle x2,
    PReLU; x3 in one stage with 9F channels) and a 9x9 conv to `channels`. PReLU slopes
    are shared over space (`shared_axes=[1, 2]`) so any input size works. The output is
    linear (not clipped): clip or round it when making an image.

    With `residual="bicubic"` the network predicts the difference to a bicubic upscale of
    its input (the output conv starts at zero, so an untrained network is bicubic): the
    network only has to learn the missing detail, which trains much faster (VDSR, Kim et
    al. 2016). Deviation from the paper, off by default.

    Args:
        scale: upscaling factor, 2, 3, 4 or 8.
        num_blocks: residual blocks B (paper: 16).
        filters: feature width F (paper: 64).
        batch_norm: batch normalization in the blocks (paper: yes; EDSR drops it, which
            is faster and scores higher with small batches).
        residual: None (paper) or "bicubic".
        output_kernel: side of the output convolution (paper: 9). That convolution runs
            at HR resolution with F inputs and only `channels` outputs, which CPUs run
            far below their matmul peak: at x4 it is about half of the network's time.
            3 makes it 9x cheaper (`benchmarks/inference.py` measures both).
        channels: image channels in and out.
        name: model name.

    Returns:
        A functional `keras.Model`, input `(None, None, channels)`, float32 output
        `(None, None, channels)`. The paper's configuration has 1,554,883 parameters at
        x4 (BN moving statistics included).
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {SCALES}, got {scale}")
    if residual not in (None, "bicubic"):
        raise ValueError(f"residual must be None or 'bicubic', got {residual!r}")
    if output_kernel < 1 or output_kernel % 2 == 0:
        raise ValueError(f"output_kernel must be a positive odd size, got {output_kernel}")

    def conv(width, size, label, **kwargs):
        return keras.layers.Conv2D(width, size, padding="same", name=label, **kwargs)

    def prelu(label):
        return keras.layers.PReLU(
            alpha_initializer=keras.initializers.Constant(0.25), shared_axes=[1, 2], name=label
        )

    def norm(x, label):
        return keras.layers.BatchNormalization(name=label)(x) if batch_norm else x

    inputs = keras.Input((None, None, channels), name="lr")
    x = prelu("head_prelu")(conv(filters, 9, "head_conv")(inputs))
    skip = x
    for i in range(num_blocks):
        y = norm(conv(filters, 3, f"block{i}_conv1")(x), f"block{i}_bn1")
        y = prelu(f"block{i}_prelu")(y)
        y = norm(conv(filters, 3, f"block{i}_conv2")(y), f"block{i}_bn2")
        x = keras.layers.Add(name=f"block{i}_add")([x, y])
    x = norm(conv(filters, 3, "body_conv")(x), "body_bn")
    x = keras.layers.Add(name="body_add")([skip, x])

    factors = [3] if scale == 3 else [2] * {2: 1, 4: 2, 8: 3}[scale]
    for i, factor in enumerate(factors):
        x = conv(filters * factor * factor, 3, f"up{i}_conv")(x)
        x = PixelShuffle(factor, name=f"up{i}_shuffle")(x)
        x = prelu(f"up{i}_prelu")(x)

    # ThinConv2D: TensorFlow's own gradient of this 64 -> 3 layer is 4-10x slower.
    def tail(**kwargs):
        return ThinConv2D(channels, output_kernel, padding="same", name="tail_conv", **kwargs)

    if residual is None:
        outputs = tail(dtype="float32")(x)
    else:
        detail = tail(kernel_initializer="zeros", dtype="float32")(x)
        # Upscale2D = UpSampling2D(interpolation="bicubic") bit for bit, but traceable for
        # any input size (exports); no weights, so trained weights load either way.
        base = Upscale2D(scale, "bicubic", dtype="float32", name="bicubic")(inputs)
        outputs = keras.layers.Add(dtype="float32", name="residual_add")([base, detail])
    return keras.Model(inputs, outputs, name=name)
