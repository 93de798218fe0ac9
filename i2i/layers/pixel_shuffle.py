"""Pixel shuffle (sub-pixel convolution upsampling) and its inverse, as serializable layers."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="i2i")
class PixelShuffle(keras.layers.Layer):
    """Rearranges `(B, H, W, C * r^2)` into `(B, H * r, W * r, C)`.

    `keras.ops.depth_to_space` (TensorFlow's DCR channel order, which differs from
    `torch.nn.PixelShuffle`'s CRD order: weights ported from PyTorch need their
    channels permuted; networks trained here do not care). Channels-last input.

    Args:
        scale: the upscaling factor `r` (an int >= 1); the input channels must be a
            multiple of `r * r`.

    Example:

    ```python
    x = keras.layers.Conv2D(64 * 4, 3, padding="same")(x)
    x = PixelShuffle(2)(x)          # twice the size, 64 channels
    ```

    Reference:
        Shi et al., "Real-Time Single Image and Video Super-Resolution Using an
        Efficient Sub-Pixel Convolutional Neural Network", CVPR 2016.
    """

    def __init__(self, scale: int = 2, **kwargs):
        super().__init__(**kwargs)
        if int(scale) != scale or scale < 1:
            raise ValueError(f"scale must be a positive integer, got {scale!r}")
        self.scale = int(scale)

    def build(self, input_shape):
        channels = input_shape[-1]
        if channels is not None and channels % (self.scale * self.scale):
            raise ValueError(
                f"PixelShuffle({self.scale}) needs channels divisible by {self.scale**2}, "
                f"got {channels}"
            )

    def call(self, inputs):
        if self.scale == 1:
            return inputs
        return ops.depth_to_space(inputs, self.scale, data_format="channels_last")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        r = self.scale
        return (
            batch,
            None if height is None else height * r,
            None if width is None else width * r,
            None if channels is None else channels // (r * r),
        )

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


@keras.saving.register_keras_serializable(package="i2i")
class PixelUnshuffle(keras.layers.Layer):
    """Rearranges `(B, H * r, W * r, C)` into `(B, H, W, C * r^2)`: the inverse shuffle.

    `keras.ops.space_to_depth` (the same DCR order as `PixelShuffle`, so the two undo
    each other). A network that unshuffles its input runs on an `r` times coarser grid
    at `r^2` times the channels: Real-ESRGAN's x2 RRDBNet unshuffles by 2 and runs its
    x4 body. The input sides must be multiples of `r`.

    Args:
        scale: the factor `r` (an int >= 1).

    Example:

    ```python
    x = PixelUnshuffle(2)(images)        # (B, 64, 64, 3) -> (B, 32, 32, 12)
    ```
    """

    def __init__(self, scale: int = 2, **kwargs):
        super().__init__(**kwargs)
        if int(scale) != scale or scale < 1:
            raise ValueError(f"scale must be a positive integer, got {scale!r}")
        self.scale = int(scale)

    def call(self, inputs):
        if self.scale == 1:
            return inputs
        return ops.space_to_depth(inputs, self.scale, data_format="channels_last")

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        r = self.scale
        return (
            batch,
            None if height is None else height // r,
            None if width is None else width // r,
            None if channels is None else channels * r * r,
        )

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}
