"""Pixel losses: L1, L2 and Charbonnier, each a float32 mean over all elements.

Arguments follow Keras' order `(y_true, y_pred)`; inputs are cast to float32 first, so
the value is float32 under mixed precision.

Example:

```python
from i2i.losses import pixel_loss

l1 = pixel_loss("l1")
loss = l1(target, generated)
```
"""

from __future__ import annotations

from keras import ops

PIXEL_LOSSES = ("l1", "l2", "charbonnier")


def _difference(y_true, y_pred):
    return ops.cast(y_pred, "float32") - ops.cast(y_true, "float32")


def l1_loss(y_true, y_pred):
    """Mean absolute error `mean(|y_pred - y_true|)`."""
    return ops.mean(ops.abs(_difference(y_true, y_pred)))


def l2_loss(y_true, y_pred):
    """Mean squared error `mean((y_pred - y_true)^2)`."""
    return ops.mean(ops.square(_difference(y_true, y_pred)))


def charbonnier_loss(y_true, y_pred, epsilon: float = 1e-3):
    """Charbonnier (smooth L1) `mean(sqrt((y_pred - y_true)^2 + epsilon^2))`.

    Behaves like L1 for errors much larger than `epsilon` and is differentiable at 0.

    Reference:
        Lai et al., "Deep Laplacian Pyramid Networks for Fast and Accurate
        Super-Resolution", CVPR 2017 (epsilon 1e-3).
    """
    return ops.mean(ops.sqrt(ops.square(_difference(y_true, y_pred)) + epsilon * epsilon))


def pixel_loss(name: str):
    """The pixel loss function called `name`: `"l1"`, `"l2"` or `"charbonnier"`."""
    losses = {"l1": l1_loss, "l2": l2_loss, "charbonnier": charbonnier_loss}
    try:
        return losses[name]
    except KeyError:
        raise ValueError(
            f"unknown pixel loss {name!r} (use one of: {', '.join(PIXEL_LOSSES)})"
        ) from None
