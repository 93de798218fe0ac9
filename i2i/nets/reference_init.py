"""Weights and normalization as the pix2pix / CycleGAN reference initializes them.

The reference (`networks.init_weights(net, "normal", 0.02)`) draws every convolution's
weights from N(0, 0.02) and every batch-norm scale from N(1, 0.02). The U-Net, the ResNet
generator and the PatchGAN use these.

Example:

```python
x = keras.layers.Conv2D(64, 4, kernel_initializer=normal_init())(x)
x = reference_norm("batch", "conv1_norm")(x)
```
"""

from __future__ import annotations

import keras

from i2i.layers import batch_norm, norm_layer


def normal_init():
    """N(0, 0.02) weights. Call it once per layer: a shared unseeded initializer would
    repeat its values."""
    return keras.initializers.RandomNormal(0.0, 0.02)


def reference_norm(kind: str, name: str):
    """The normalization layer `kind` ("batch", "instance"; not "none"), batch norm with
    the reference's N(1, 0.02) scales."""
    if kind == "batch":
        return batch_norm(name=name, gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02))
    return norm_layer(kind, name=name)
