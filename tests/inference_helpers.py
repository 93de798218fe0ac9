"""Tiny random-weight generators with cards, for the zoo and inference tests."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np

from i2i import zoo

SR_CARD = {"task": "super-resolution", "value_range": [0.0, 1.0], "stride": 1}
TRANSLATION_CARD = {"task": "translation", "scale": 1, "value_range": [-1.0, 1.0], "stride": 4}


def sr_net(scale: int = 2, filters: int = 8, depth: int = 3, seed: int = 0) -> keras.Model:
    """Convs then a sub-pixel upsampler (`depth_to_space`), sigmoid head: x`scale` SR."""
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((None, None, 3))
    x = inputs
    conv = {"padding": "same", "kernel_initializer": "he_normal"}
    for _ in range(depth):
        x = keras.layers.Conv2D(filters, 3, activation="relu", **conv)(x)
    x = keras.layers.Conv2D(3 * scale * scale, 3, **conv)(x)
    x = DepthToSpace(scale)(x)
    outputs = keras.layers.Activation("sigmoid", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=f"sr_x{scale}")


def translation_net(filters: int = 8, seed: int = 0, norm: bool = False) -> keras.Model:
    """Stride-4 encoder/decoder with a residual middle, tanh head (like a ResNet generator)."""
    keras.utils.set_random_seed(seed)
    # He init keeps the random output spread over the tanh range (default init: ~0.01).
    conv = {"padding": "same", "kernel_initializer": "he_normal"}
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(filters, 3, activation="relu", **conv)(inputs)
    for _ in range(2):
        x = keras.layers.Conv2D(filters, 3, strides=2, activation="relu", **conv)(x)
        if norm:
            x = keras.layers.GroupNormalization(groups=-1)(x)
    y = keras.layers.Conv2D(filters, 3, activation="relu", **conv)(x)
    x = keras.layers.Add()([x, y])
    for _ in range(2):
        x = keras.layers.Conv2DTranspose(filters, 3, strides=2, **conv)(x)
        x = keras.layers.ReLU()(x)
    x = keras.layers.Conv2D(3, 3, **conv)(x)
    outputs = keras.layers.Activation("tanh", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="translator")


def bilinear_net(scale: int = 2) -> keras.Model:
    """A parameter-free x`scale` bilinear upsampler: mixes neighbours, like any SR net."""
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.UpSampling2D(scale, interpolation="bilinear", dtype="float32")(inputs)
    return keras.Model(inputs, outputs, name=f"bilinear_x{scale}")


def sr_card(scale: int, **extra) -> dict:
    return {**SR_CARD, "scale": scale, **extra}


def save_sr(path, scale: int = 2, **card) -> Path:
    return zoo.save_generator(sr_net(scale), path, sr_card(scale, **card))


def save_translation(path, seed: int = 0, **card) -> Path:
    return zoo.save_generator(translation_net(seed=seed), path, {**TRANSLATION_CARD, **card})


def random_image(height, width, channels=3, dtype=np.uint8, seed=0) -> np.ndarray:
    """A smooth random image (blurred noise), so upscaling looks like upscaling."""
    import cv2

    rng = np.random.default_rng(seed)
    shape = (height, width) if channels == 1 else (height, width, channels)
    noise = rng.random(shape).astype(np.float32)
    if min(height, width) > 4:
        noise = cv2.GaussianBlur(noise, (0, 0), 1.5)
        noise = (noise - noise.min()) / max(float(np.ptp(noise)), 1e-6)
    high = np.iinfo(dtype).max
    return np.round(noise * high).astype(dtype).reshape(shape)


@keras.saving.register_keras_serializable(package="i2i_tests")
class DepthToSpace(keras.layers.Layer):
    """`keras.ops.depth_to_space` as a layer (tests only; i2i.layers has the real one)."""

    def __init__(self, block: int, **kwargs):
        super().__init__(**kwargs)
        self.block = block

    def call(self, x):
        return keras.ops.depth_to_space(x, self.block)

    def get_config(self):
        return {**super().get_config(), "block": self.block}
