"""Geometric augmentation shared by the translation pipelines: resize, crop, flip.

Every op takes a LIST of images and applies the SAME transform to each of them, so a
source and its target (or an LR patch and its HR patch, at one scale) stay aligned. The
images are `(H, W, C)` float tensors of one spatial size (channel counts may differ).

Randomness is stateless: each op takes a `seed`, an int tensor of shape `(2,)`, so a
pipeline that derives one seed per element (from `tf.data.Dataset.random(seed)`) gives
the same augmentation on every run, whatever the number of parallel calls.

The pix2pix / CycleGAN "random jitter" is `random_jitter`: resize to `load_size`
(286 for 256 crops), random crop back to `size`, random horizontal flip.

Example:

```python
seed = tf.constant([1, 2], tf.int64)
source, target = random_jitter([source, target], size=256, seed=seed)
```

Reference:
    Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks",
    CVPR 2017 (section 6.2: resize 256 -> 286, random crop back to 256, mirroring).
"""

from __future__ import annotations

import tensorflow as tf

# pix2pix / CycleGAN: 256 px crops from images resized to 286 px.
JITTER_RATIO = 286 / 256


def jitter_load_size(size: int) -> int:
    """The resize target before a random crop of `size` (286 for 256, scaled for others).

    Example: `jitter_load_size(256)` is 286, `jitter_load_size(64)` is 72.
    """
    return int(round(size * JITTER_RATIO))


def _pair(size):
    if isinstance(size, int):
        return size, size
    height, width = size
    return int(height), int(width)


def resize(images, size):
    """Resize every image to `size` (int for square, or `(height, width)`).

    Shrinking averages areas (no aliasing, like OpenCV's INTER_AREA), enlarging is
    bilinear, and a mix of both is antialiased bilinear. Same-size images are unchanged.
    (TensorFlow's antialiased bilinear does all three but is about 5x slower, which
    halves a pipeline's throughput.)
    """
    height, width = _pair(size)
    target = tf.constant([height, width])
    resized = []
    for image in images:
        shape = tf.shape(image)[:2]

        def shrink(x=image):
            return tf.image.resize(x, (height, width), method="area")

        def enlarge(x=image):
            return tf.image.resize(x, (height, width), method="bilinear")

        def mixed(x=image):
            return tf.image.resize(x, (height, width), method="bilinear", antialias=True)

        out = tf.case(
            [(tf.reduce_all(shape >= target), shrink), (tf.reduce_all(shape <= target), enlarge)],
            default=mixed,
        )
        resized.append(tf.ensure_shape(tf.cast(out, image.dtype), [height, width, None]))
    return resized


def random_crop(images, size, seed):
    """Crop the same random `size` window (int or `(h, w)`) out of every image.

    All images must have the same height and width, at least `size`.
    """
    height, width = _pair(size)
    shape = tf.shape(images[0])
    seeds = tf.random.experimental.stateless_split(seed, num=2)
    top = tf.random.stateless_uniform([], seeds[0], 0, shape[0] - height + 1, dtype=tf.int32)
    left = tf.random.stateless_uniform([], seeds[1], 0, shape[1] - width + 1, dtype=tf.int32)
    return _crop_at(images, top, left, height, width)


def center_crop(images, size):
    """Crop the central `size` window (int or `(h, w)`) out of every image."""
    height, width = _pair(size)
    shape = tf.shape(images[0])
    return _crop_at(images, (shape[0] - height) // 2, (shape[1] - width) // 2, height, width)


def _crop_at(images, top, left, height, width):
    shape = tf.shape(images[0])
    tf.debugging.assert_greater_equal(
        shape[:2],
        tf.constant([height, width]),
        message=f"image smaller than the crop {height}x{width}",
    )
    cropped = []
    for image in images:
        out = image[top : top + height, left : left + width]
        cropped.append(tf.ensure_shape(out, [height, width, None]))
    return cropped


def random_flip(images, seed):
    """Mirror all images left-right together, with probability 1/2."""
    flip = tf.random.stateless_uniform([], seed) < 0.5
    return [
        tf.cond(flip, lambda x=image: tf.reverse(x, axis=[1]), lambda x=image: x)
        for image in images
    ]


def random_jitter(images, size: int, seed, load_size: int | None = None, flip: bool = True):
    """pix2pix random jitter: resize to `load_size`, random crop `size`, random mirror.

    Args:
        images: list of `(H, W, C)` float tensors; each may have its own size (they are
            all resized to `load_size` first).
        size: the square crop.
        seed: int tensor of shape `(2,)`.
        load_size: the resize before the crop; default `jitter_load_size(size)`
            (286 for 256). Equal to `size` means resize without crop.
        flip: also mirror left-right with probability 1/2.

    Returns:
        The list of `(size, size, C)` tensors, transformed identically.
    """
    load_size = jitter_load_size(size) if load_size is None else load_size
    if load_size < size:
        raise ValueError(f"load_size {load_size} is smaller than the crop size {size}")
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
    images = resize(images, load_size)
    if load_size > size:
        images = random_crop(images, size, crop_seed)
    if flip:
        images = random_flip(images, flip_seed)
    return images


PREPROCESS = ("resize_and_crop", "crop", "resize")


def check_preprocess(
    mode: str, size: int | None, load_size: int | None = None, training: bool = True
) -> None:
    """Raise `ValueError` for an unknown `mode` or inconsistent sizes (before any work)."""
    if mode not in PREPROCESS:
        raise ValueError(f"unknown preprocess {mode!r} (use one of {', '.join(PREPROCESS)})")
    if size is None and training:
        raise ValueError("training needs an image size (None keeps sizes: evaluation only)")
    if size is not None and load_size is not None and load_size < size:
        raise ValueError(f"load_size {load_size} is smaller than the image size {size}")


def preprocess(
    images, seed, size, mode="resize_and_crop", training=True, load_size=None, flip=True
):
    """The geometric preprocessing of the translation pipelines, identical on all images.

    Args:
        images: list of `(H, W, C)` float tensors.
        seed: int tensor of shape `(2,)` (unused when not training).
        size: output size (square); None keeps the images as they are (evaluation).
        mode: training transform: "resize_and_crop" (pix2pix / CycleGAN jitter: resize to
            `load_size`, random crop `size`), "crop" (random crop `size` at full
            resolution, for large images such as maps), "resize" (resize to `size`).
        training: False gives the deterministic evaluation transform: resize to `size`
            ("crop" mode: the central `size` crop), no flip.
        load_size: resize before the crop ("resize_and_crop"); default
            `jitter_load_size(size)`.
        flip: random left-right mirror when training.
    """
    if size is None:
        return list(images)
    if not training:
        return center_crop(images, size) if mode == "crop" else resize(images, size)
    crop_seed, flip_seed = tf.unstack(tf.random.experimental.stateless_split(seed, num=2))
    if mode == "resize_and_crop":
        return random_jitter(images, size, crop_seed, load_size=load_size, flip=flip)
    images = random_crop(images, size, crop_seed) if mode == "crop" else resize(images, size)
    return random_flip(images, flip_seed) if flip else images


def seed_stream(seed: int | None):
    """An endless `tf.data.Dataset` of `(2,)` int64 seeds for the stateless ops.

    The same `seed` gives the same stream on every run; each new iteration over the
    dataset (each epoch) continues with fresh seeds. None: non-deterministic.
    """
    return tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
