"""Normalization layers as the pix2pix / CycleGAN reference uses them.

Instance normalization is Keras' own `GroupNormalization` with one group per channel
(`groups=-1`): tensorflow-addons' `InstanceNormalization` does not import under Keras 3,
and a built-in layer means a saved model needs no custom object to load.

Example:

```python
from i2i.layers import instance_norm, norm_layer

x = instance_norm()(x)                 # CycleGAN: no affine parameters
x = norm_layer("batch", name="bn1")(x)  # pix2pix
```
"""

from __future__ import annotations

import keras

NORMS = ("batch", "instance", "none")


def instance_norm(affine: bool = False, epsilon: float = 1e-5, name: str | None = None):
    """Instance normalization: each image's channels normalized over height and width.

    Statistics always come from the instance itself (training and inference alike), as
    `torch.nn.InstanceNorm2d(track_running_stats=False)` does. Computed in float32 even
    under a mixed precision policy (GroupNormalization upcasts internally).

    Args:
        affine: learn a per-channel scale and offset. The CycleGAN reference uses
            `affine=False` (no parameters); `True` matches `InstanceNorm2d(affine=True)`.
        epsilon: added to the variance; 1e-5 as in PyTorch.
        name: layer name.

    Returns:
        A `keras.layers.GroupNormalization(groups=-1)` layer.

    Reference:
        Ulyanov et al., "Instance Normalization: The Missing Ingredient for Fast
        Stylization", 2016.
    """
    return keras.layers.GroupNormalization(
        groups=-1, epsilon=epsilon, center=affine, scale=affine, name=name
    )


def batch_norm(name: str | None = None, **kwargs):
    """Batch normalization with PyTorch's defaults (momentum 0.1 there = 0.9 here, eps 1e-5).

    Other keyword arguments (e.g. `gamma_initializer`) go to `BatchNormalization`.
    """
    return keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=name, **kwargs)


def norm_layer(kind: str, name: str | None = None):
    """The normalization layer named `kind`: `"batch"`, `"instance"` or `"none"`.

    Returns:
        A Keras layer, or `None` for `"none"`.

    Raises:
        ValueError: `kind` is not one of `NORMS`.
    """
    if kind == "batch":
        return batch_norm(name=name)
    if kind == "instance":
        return instance_norm(name=name)
    if kind == "none":
        return None
    raise ValueError(f"unknown norm {kind!r} (use one of: {', '.join(NORMS)})")
