"""Small real-photo datasets on disk for the data tests (paired, unpaired, SR layouts)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np

from i2i import imageio

NAMES = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "camera")


def small(image: np.ndarray, width: int, height: int | None = None) -> np.ndarray:
    """A real photo shrunk to `width` x `height` (area interpolation, like a thumbnail)."""
    return cv2.resize(image, (width, height or width), interpolation=cv2.INTER_AREA)


def views(photos, count: int, width: int, height: int | None = None) -> list[np.ndarray]:
    """`count` different small images cut from the real photos (crops at varied places)."""
    out = []
    for i in range(count):
        photo = photos[NAMES[i % len(NAMES)]]
        h, w = photo.shape[:2]
        step = i // len(NAMES)
        top, left = (step * 37) % (h // 3), (step * 53) % (w // 3)
        out.append(small(photo[top : top + 2 * h // 3, left : left + 2 * w // 3], width, height))
    return out


def night(image: np.ndarray) -> np.ndarray:
    """A deterministic B image for an A image (darkened, blue-shifted), as a paired target."""
    out = image.astype(np.float32) * np.float32([0.3, 0.4, 0.8])
    return np.round(out).astype(np.uint8)


def write_split(root: Path, images_a, images_b, names=None, ext_b=".png") -> list[str]:
    """`root/A/<name>.png` and `root/B/<name><ext_b>`; returns the names (stems)."""
    names = names or [f"{i:03d}" for i in range(len(images_a))]
    for name, a, b in zip(names, images_a, images_b, strict=True):
        imageio.write_image(root / "A" / f"{name}.png", a)
        imageio.write_image(root / "B" / f"{name}{ext_b}", b)
    return names


def write_combined(root: Path, images_a, images_b) -> list[str]:
    """`root/<name>.png` holding A|B side by side."""
    names = [f"{i:03d}" for i in range(len(images_a))]
    for name, a, b in zip(names, images_a, images_b, strict=True):
        imageio.write_image(root / f"{name}.png", np.concatenate([a, b], axis=1))
    return names


def write_folder(folder: Path, images, prefix: str = "img", ext: str = ".png") -> list[Path]:
    """`folder/<prefix>NNN<ext>` for each image."""
    return [
        imageio.write_image(folder / f"{prefix}{i:03d}{ext}", image)
        for i, image in enumerate(images)
    ]


def digest_tree(root: Path) -> dict[str, str]:
    """Relative path -> hash of every file under `root` (to prove sources are untouched)."""
    return {
        str(p.relative_to(root)): hashlib.sha1(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def corrupt(path: Path, source: np.ndarray) -> Path:
    """A PNG cut in half: the header reads, the pixels do not."""
    data = cv2.imencode(".png", source)[1].tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data[: len(data) // 2])
    return path


def batches(dataset, key=None) -> list:
    """All batches of a dataset as NumPy dicts (or arrays of `key`)."""
    out = [{k: v.numpy() for k, v in batch.items()} for batch in dataset]
    return [b[key] for b in out] if key else out
