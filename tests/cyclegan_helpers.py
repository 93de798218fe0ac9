"""Test helpers of the CycleGAN area: tiny models, tiny unpaired datasets on disk.

Real photos only (scikit-image's, via conftest's `real_photo`): domain A = crops of
some photos, domain B = crops of other photos, so no pairs exist.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from conftest import real_photo

from i2i import imageio

# The smallest CycleGAN the networks allow: 16 px crops, a 1-layer PatchGAN.
TINY_OPTIONS = {
    "image_size": 16,
    "filters": 4,
    "num_blocks": 1,
    "discriminator_filters": 4,
    "d_layers": 1,
    "history_size": 3,
}
TINY_SETS = [f"{key}={value}" for key, value in TINY_OPTIONS.items() if key != "image_size"]

A_PHOTOS = ("astronaut", "coffee")
B_PHOTOS = ("chelsea", "rocket")


def random_crops(image: np.ndarray, count: int, size: int, rng, x_range=None) -> np.ndarray:
    """`count` random `size`-pixel crops of `image` (columns limited to `x_range`)."""
    height, width = image.shape[:2]
    x0, x1 = x_range or (0, width)
    ys = rng.integers(0, height - size + 1, count)
    xs = rng.integers(x0, x1 - size + 1, count)
    return np.stack([image[y : y + size, x : x + size] for y, x in zip(ys, xs, strict=True)])


def write_unpaired(root, per_photo: int = 2, size: int = 24, test: bool = True, seed: int = 0):
    """An unpaired dataset `root/trainA, trainB[, testA, testB]` of real photo crops."""
    rng = np.random.default_rng(seed)
    root = Path(root)
    splits = [("train", per_photo)] + ([("test", 1)] if test else [])
    for split, count in splits:
        for domain, names in (("A", A_PHOTOS), ("B", B_PHOTOS)):
            folder = root / f"{split}{domain}"
            folder.mkdir(parents=True, exist_ok=True)
            for name in names:
                for i, crop in enumerate(random_crops(real_photo(name), count, size, rng)):
                    imageio.write_image(folder / f"{name}_{split}_{i}.png", crop)
    return root
