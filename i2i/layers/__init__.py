"""Layers shared by the i2i networks and GAN models.

All are registered with `keras.saving` (package "i2i") or are built-in Keras layers, so
models using them save and load in safe mode (no `Lambda` layers anywhere).

- `instance_norm(affine=False)`, `batch_norm()`, `norm_layer(kind)`: normalization;
- `ReflectionPadding2D(padding)`: mirror padding;
- `PixelShuffle(scale)`, `PixelUnshuffle(scale)`: depth-to-space and its inverse;
- `Upscale2D(scale, interpolation)`: integer-factor resize (bicubic), traceable for any size;
- `ImageHistory(size=50)`: the CycleGAN image pool, graph-safe and checkpointed;
- `ThinConv2D`: Conv2D with a fast CPU gradient for few output channels (image outputs,
  PatchGAN logits).
"""

from i2i.layers.image_history import ImageHistory
from i2i.layers.normalization import NORMS, batch_norm, instance_norm, norm_layer
from i2i.layers.padding import ReflectionPadding2D
from i2i.layers.pixel_shuffle import PixelShuffle, PixelUnshuffle
from i2i.layers.resize import Upscale2D
from i2i.layers.thin_conv import ThinConv2D

__all__ = [
    "NORMS",
    "ImageHistory",
    "PixelShuffle",
    "PixelUnshuffle",
    "ReflectionPadding2D",
    "ThinConv2D",
    "Upscale2D",
    "batch_norm",
    "instance_norm",
    "norm_layer",
]
