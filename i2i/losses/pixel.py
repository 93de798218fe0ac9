"""Pixel losses: L1 and L2, each a float32 mean over all elements.

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

PIXEL_LOSSES = ("l1", "l2")


def _difference(y_true, y_pred):
    return ops.cast(y_pred, "float32") - ops.cast(y_true, "float32")


def l1_loss(y_true, y_pred):
    """Mean absolute error `mean(|y_pred - y_true|)`."""
    return ops.mean(ops.abs(_difference(y_true, y_pred)))


def l2_loss(y_true, y_pred):
    """Mean squared error `mean((y_pred - y_true)^2)`."""
    return ops.mean(ops.square(_difference(y_true, y_pred)))


def pixel_loss(name: str):
    """The pixel loss function called `name`: `"l1"` or `"l2"`."""
    losses = {"l1": l1_loss, "l2": l2_loss}
    try:
        return losses[name]
    except KeyError:
        raise ValueError(
            f"unknown pixel loss {name!r} (use one of: {', '.join(PIXEL_LOSSES)})"
        ) from None
