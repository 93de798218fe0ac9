"""The images of a super-resolution run: HR folders, held-out splits, pairs, validation sets.

- `hr_images` / `usable_images`: the HR files of a folder, those smaller than the patch
  reported by name and size (`SmallImage` warnings, never skipped silently);
- `split_holdout`: images set aside for validation, reproducibly;
- `check_pairs`: `hr/` + `lr/` files matched by stem, every pair checked to be exactly
  `scale` apart (from the headers);
- `validation_set` / `validation_pairs`: fixed centre crops (uint8 LR, HR) for the
  per-epoch PSNR/SSIM, the LR made with MATLAB's bicubic or a seeded realistic
  degradation, or read from stored pairs.

`i2i.data.sr` streams training patches from these files (and re-exports this module).

Example:

```python
train, held_out = split_holdout(hr_images("photos/"), 2)
val = validation_set(held_out, scale=4, size=256)     # val.lr[i] * 4 == val.hr[i] sizes
```
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from i2i import imageio
from i2i.common import I2IError
from i2i.data import degradations
from i2i.data.decode import as_rgb
from i2i.data.resize import check_scale, downsample, mod_crop


class SRDataError(I2IError):
    """A super-resolution data problem a user can fix; the message names the files."""


class SmallImage(UserWarning):
    """An image is smaller than the training patch and is left out (named in the message)."""


# ----------------------------------------------------------------------------------------
# Finding and checking images


@dataclass(frozen=True)
class ImageInfo:
    """An image file and its size from the header (upright, EXIF orientation applied)."""

    path: Path
    width: int
    height: int


def image_info(path) -> ImageInfo:
    """Width and height from the file header, without decoding the pixels.

    Raises:
        imageio.ImageReadError: not a readable image.
    """
    return ImageInfo(Path(path), *imageio.image_size(path))


def hr_images(source) -> list[Path]:
    """The image files of an HR folder (sorted), or a list of paths as given.

    Raises:
        SRDataError: the folder does not exist or holds no image.
    """
    if isinstance(source, (str, Path)):
        folder = Path(source)
        if not folder.is_dir():
            raise SRDataError(f"{folder}: not a folder")
        paths = imageio.list_images(folder)
        if not paths:
            raise SRDataError(f"{folder}: no images found")
        return paths
    paths = [Path(p) for p in source]
    if not paths:
        raise SRDataError("no HR images given")
    return paths


def usable_images(paths, min_size: int) -> list[ImageInfo]:
    """The images at least `min_size` pixels on both sides; the others are reported.

    Each image left out raises a `SmallImage` warning naming it and its size.

    Raises:
        SRDataError: an unreadable image header, or no image is large enough.
    """
    infos, small = [], []
    for path in paths:
        try:
            info = image_info(path)
        except imageio.ImageReadError as error:
            raise SRDataError(str(error)) from None
        (infos if min(info.width, info.height) >= min_size else small).append(info)
    for info in small:
        warnings.warn(
            f"{info.path}: {info.width}x{info.height} is smaller than the "
            f"{min_size}x{min_size} patch; left out of training",
            SmallImage,
            stacklevel=2,
        )
    if not infos:
        raise SRDataError(
            f"none of the {len(small)} images is at least {min_size}x{min_size} pixels "
            f"(the HR patch size); use a smaller patch or larger images"
        )
    return infos


def split_holdout(paths, count: int, seed: int = 0) -> tuple[list[Path], list[Path]]:
    """Split image paths into (train, held_out) with `count` held out, reproducibly."""
    paths = sorted(Path(p) for p in paths)
    if not 0 <= count < len(paths):
        raise SRDataError(f"cannot hold out {count} of {len(paths)} images")
    chosen = set(np.random.default_rng(seed).choice(len(paths), count, replace=False).tolist())
    train = [p for i, p in enumerate(paths) if i not in chosen]
    held = [p for i, p in enumerate(paths) if i in chosen]
    return train, held


# --- validation sets -------------------------------------------------------------------


@dataclass
class ValidationSet:
    """Fixed (LR, HR) uint8 image pairs for per-epoch PSNR/SSIM, and their names."""

    names: list[str]
    lr: list[np.ndarray]
    hr: list[np.ndarray]
    scale: int

    def __len__(self):
        return len(self.names)


def validation_set(paths, scale: int, size: int | None = 256, degradation=None) -> ValidationSet:
    """Centre crops of held-out images and their MATLAB-bicubic LR, as uint8 RGB.

    Args:
        paths: held-out HR image files.
        scale: integer factor.
        size: side of the square HR centre crop (rounded down to a multiple of `scale`;
            smaller images are used whole); `None` uses whole images.
        degradation: a `degradations.Degradation`: the LR is that realistic
            degradation of the crop instead (image i seeded with i, so fixed).

    Returns:
        A `ValidationSet`; HR is mod-cropped, so `hr.shape == lr.shape * scale`.
    """
    scale = check_scale(scale)
    names, lrs, hrs = [], [], []
    for path in paths:
        try:
            image = as_rgb(imageio.read_image(path))
        except imageio.ImageReadError as error:
            raise SRDataError(str(error)) from None
        image = _as_uint8(image)
        hr = mod_crop(_centre_crop(image, size), scale)
        if min(hr.shape[:2]) < 4 * scale:
            raise SRDataError(f"{path}: {image.shape[1]}x{image.shape[0]} is too small")
        names.append(Path(path).name)
        hrs.append(np.ascontiguousarray(hr))
        if degradation is None:
            lrs.append(downsample(hr, scale))
        else:
            lrs.append(degradations.degrade(hrs[-1], scale, seed=len(lrs), options=degradation))
    return ValidationSet(names, lrs, hrs, scale)


def validation_pairs(pairs, scale: int, size: int | None = 256) -> ValidationSet:
    """Like `validation_set`, from stored `(hr_path, lr_path)` pairs (see `check_pairs`).

    The LR centre crop is `size // scale` pixels; the HR crop is the region it covers.
    """
    scale = check_scale(scale)
    names, lrs, hrs = [], [], []
    for hr_path, lr_path in pairs:
        try:
            hr = as_rgb(imageio.read_image(hr_path))
            lr = as_rgb(imageio.read_image(lr_path))
        except imageio.ImageReadError as error:
            raise SRDataError(str(error)) from None
        if hr.shape[:2] != (lr.shape[0] * scale, lr.shape[1] * scale):
            raise SRDataError(f"{hr_path} and {lr_path} are not a x{scale} pair")
        h, w = lr.shape[:2]
        ch, cw = (h, w) if size is None else (min(size // scale, h), min(size // scale, w))
        top, left = (h - ch) // 2, (w - cw) // 2
        names.append(Path(hr_path).name)
        lrs.append(_as_uint8(lr[top : top + ch, left : left + cw]))
        hrs.append(
            _as_uint8(hr[top * scale : (top + ch) * scale, left * scale : (left + cw) * scale])
        )
    return ValidationSet(names, lrs, hrs, scale)


def _as_uint8(image: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(imageio.to_uint8(image))


def _centre_crop(image: np.ndarray, size: int | None) -> np.ndarray:
    if size is None:
        return image
    h, w = image.shape[:2]
    ch, cw = min(size, h), min(size, w)
    top, left = (h - ch) // 2, (w - cw) // 2
    return image[top : top + ch, left : left + cw]


# --- hr/ + lr/ pairs -------------------------------------------------------------------


def check_pairs(root, scale: int) -> list[tuple[Path, Path]]:
    """Match `root/hr/*` with `root/lr/*` by file stem and check the scale of each pair.

    Returns:
        `(hr_path, lr_path)` pairs, sorted by stem.

    Raises:
        SRDataError: a missing folder, an image without its partner, an unreadable
            header, or a pair whose sizes are not HR = LR x scale (named, with sizes).
    """
    from i2i.data.layout import listed, match_by_stem, name_list

    scale = check_scale(scale)
    root = Path(root)
    for side in ("hr", "lr"):
        if not (root / side).is_dir():
            raise SRDataError(f"{root / side}: missing (an SR pair folder holds hr/ and lr/)")
    matched, alone, ambiguous = match_by_stem(listed(root / "hr"), listed(root / "lr"))
    for side, others in (("hr", "lr"), ("lr", "hr")):
        missing = [p for p in alone if p.parent == root / side]
        if missing:
            names = name_list(missing, root / side)
            raise SRDataError(f"{root / side}: {names} have no match in {root / others}")
    if ambiguous:
        raise SRDataError(
            f"{root}: several files share a name (stem): {name_list(ambiguous, root)}"
        )
    if not matched:
        raise SRDataError(f"{root}: hr/ and lr/ hold no images")
    pairs = []
    for hr_path, lr_path in matched:
        try:
            hr_info, lr_info = image_info(hr_path), image_info(lr_path)
        except imageio.ImageReadError as error:
            raise SRDataError(str(error)) from None
        if (hr_info.width, hr_info.height) != (lr_info.width * scale, lr_info.height * scale):
            raise SRDataError(
                f"{hr_info.path} ({hr_info.width}x{hr_info.height}) and {lr_info.path} "
                f"({lr_info.width}x{lr_info.height}) are not a x{scale} pair "
                f"(expected HR {lr_info.width * scale}x{lr_info.height * scale})"
            )
        pairs.append((hr_info.path, lr_info.path))
    return pairs
