"""Integer-factor image upscaling that traces for inputs of any size (export-friendly)."""

from __future__ import annotations

import keras
from keras import ops

INTERPOLATIONS = ("nearest", "bilinear", "bicubic")


@keras.saving.register_keras_serializable(package="i2i")
class Upscale2D(keras.layers.Layer):
    """Resizes `(B, H, W, C)` to `(B, H * scale, W * scale, C)` by interpolation.

    The same computation as `keras.layers.UpSampling2D(scale, interpolation=...)` (on the
    TensorFlow backend both call `tf.image.resize` with half-pixel centres and no
    antialiasing; bicubic is Keys' cubic with a = -0.5, edges clamped), bit for bit, but
    the output size is computed from the input's dynamic shape without any Python-side
    check on it. `UpSampling2D` goes through `keras.ops.image.resize`, whose
    `size[0] <= 0` check needs a concrete size, so a model using it cannot be traced for
    images of unknown height and width (`i2i export` to SavedModel/ONNX). No weights, so
    swapping one layer for the other keeps a model's weight list unchanged.

    TFLite's built-in ops have no bicubic resize: a model with
    `interpolation="bicubic"` exports to SavedModel and ONNX, not to TFLite.

    Args:
        scale: the integer upscaling factor (>= 1), the same for height and width.
        interpolation: `"bicubic"`, `"bilinear"` or `"nearest"`.

    Example:

    ```python
    inputs = keras.Input((None, None, 3))
    base = Upscale2D(4, "bicubic", name="bicubic")(inputs)   # (None, None, None, 3)
    ```
    """

    def __init__(self, scale: int = 2, interpolation: str = "bicubic", **kwargs):
        super().__init__(**kwargs)
        if int(scale) != scale or scale < 1:
            raise ValueError(f"scale must be a positive integer, got {scale!r}")
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"interpolation must be one of {', '.join(INTERPOLATIONS)}, got {interpolation!r}"
            )
        self.scale = int(scale)
        self.interpolation = interpolation

    def call(self, inputs):
        if self.scale == 1:
            return inputs
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            size = tf.shape(inputs)[1:3] * self.scale
            # What keras.ops.image.resize runs on this backend, minus its Python checks.
            outputs = tf.image.resize(inputs, size, method=self.interpolation)
        else:  # JAX / PyTorch: shapes are concrete when the layer runs
            shape = ops.shape(inputs)
            size = (shape[1] * self.scale, shape[2] * self.scale)
            outputs = ops.image.resize(
                inputs, size, interpolation=self.interpolation, data_format="channels_last"
            )
        if outputs.dtype != inputs.dtype:  # tf.image.resize computes in float32
            outputs = ops.cast(outputs, inputs.dtype)
        return outputs

    def compute_output_shape(self, input_shape):
        batch, height, width, channels = input_shape
        return (
            batch,
            None if height is None else height * self.scale,
            None if width is None else width * self.scale,
            channels,
        )

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "interpolation": self.interpolation}
