"""Reflection padding: the border mode of the CycleGAN ResNet generator."""

from __future__ import annotations

import keras
from keras import ops


def _normalize_padding(padding) -> tuple[tuple[int, int], tuple[int, int]]:
    """`p`, `(ph, pw)` or `((top, bottom), (left, right))` -> the last form, as ints."""
    if isinstance(padding, int):
        return (padding, padding), (padding, padding)
    if len(padding) != 2:
        raise ValueError(f"padding must be an int or a pair, got {padding!r}")
    rows, cols = padding
    rows = (rows, rows) if isinstance(rows, int) else tuple(rows)
    cols = (cols, cols) if isinstance(cols, int) else tuple(cols)
    result = (int(rows[0]), int(rows[1])), (int(cols[0]), int(cols[1]))
    if min(*result[0], *result[1]) < 0:
        raise ValueError(f"padding must be non-negative, got {padding!r}")
    return result


@keras.saving.register_keras_serializable(package="i2i")
class ReflectionPadding2D(keras.layers.Layer):
    """Pads height and width by mirroring the image at its border (edge not repeated).

    `torch.nn.ReflectionPad2d` in Keras: `[1, 2, 3]` padded by 2 is `[3, 2, 1, 2, 3, 2, 1]`.
    Each side's padding must be smaller than that dimension of the input. Channels-last
    `(batch, height, width, channels)` input.

    Args:
        padding: `p` (all sides), `(p_rows, p_cols)` or `((top, bottom), (left, right))`.

    Example:

    ```python
    x = ReflectionPadding2D(3)(x)
    x = keras.layers.Conv2D(64, 7, padding="valid")(x)   # same size as before the pad
    ```
    """

    def __init__(self, padding=1, **kwargs):
        super().__init__(**kwargs)
        self.padding = _normalize_padding(padding)

    def call(self, inputs):
        (top, bottom), (left, right) = self.padding
        return ops.pad(inputs, [[0, 0], [top, bottom], [left, right], [0, 0]], mode="reflect")

    def compute_output_shape(self, input_shape):
        (top, bottom), (left, right) = self.padding
        batch, height, width, channels = input_shape
        height = None if height is None else height + top + bottom
        width = None if width is None else width + left + right
        return batch, height, width, channels

    def get_config(self):
        return {**super().get_config(), "padding": [list(side) for side in self.padding]}
