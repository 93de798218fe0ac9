"""Super-resolution data: (LR, HR) patch pipelines, validation sets, SR folders.

Values are floats in [0, 1] (the SR convention; translation uses [-1, 1]). Batches are
dicts `{"lr": (N, P/s, P/s, 3), "hr": (N, P, P, 3)}` float32.

LR images are made the way the SR literature makes them, MATLAB's antialiased bicubic
(`i2i.data.resize`, whose `downsample`, `upsample_bicubic` and `mod_crop` this module
re-exports), or with the Real-ESRGAN high-order degradation (`i2i.data.degradations`).
Training patches are cut with a margin of a few LR pixels of real image content around
them (mirrored at the image border, as MATLAB does), so a bicubic patch's LR is exactly
the crop of the whole image's LR: the network never learns patch-edge artefacts.

Sources of training data:
- a folder of HR images (`sr_dataset`): LR made on the fly, bicubic or realistic;
- a folder with `hr/` and `lr/` sub-folders matched by file stem (`paired_sr_dataset`),
  checked for scale consistency before training (`check_pairs`).
Images smaller than the patch are reported by name and size (`SmallImage` warnings),
never skipped silently; a folder with no usable image is an `SRDataError`.

Example:

```python
from i2i.data import sr

train = sr.sr_dataset("photos/", scale=4, patch_size=96, batch_size=16, seed=0)
batch = next(iter(train))                      # {"lr": (16, 24, 24, 3), "hr": (16, 96, 96, 3)}
real = sr.sr_dataset("photos/", scale=4, patch_size=128, degradation="realistic")
val = sr.validation_set(held_out_paths, scale=4, size=256)
```
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from i2i import imageio
from i2i.data import degradations
from i2i.data.decode import as_rgb
from i2i.data.resize import (  # noqa: F401  (re-exported)
    BICUBIC_MARGIN,
    check_scale,
    downsample,
    imresize,
    mod_crop,
    resize_matrix,
    upsample_bicubic,
)

DEGRADATIONS = ("bicubic", "realistic")
# LR pixels of real content around a realistically degraded patch: the 21 px blur
# kernels reach 10 HR pixels, and the random resizes move content by a pixel or two.
REALISTIC_MARGIN = 4


class SRDataError(Exception):
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
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    try:
        with Image.open(path) as probe:
            width, height = probe.size
            # EXIF orientations 5..8 rotate by 90 degrees: the array is height x width.
            if probe.format != "PNG" and probe.getexif().get(0x0112, 1) in (5, 6, 7, 8):
                width, height = height, width
    except FileNotFoundError:
        raise imageio.ImageReadError(path, "file not found") from None
    except UnidentifiedImageError:
        raise imageio.ImageReadError(path, "not an image (unrecognised file format)") from None
    except (OSError, SyntaxError, ValueError) as error:
        raise imageio.ImageReadError(path, f"corrupt image header ({error})") from None
    return ImageInfo(path, width, height)


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


# ----------------------------------------------------------------------------------------
# Validation set


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
    if image.dtype != np.uint8:
        image = np.round(image / 257.0).astype(np.uint8)
    return np.ascontiguousarray(image)


def _centre_crop(image: np.ndarray, size: int | None) -> np.ndarray:
    if size is None:
        return image
    h, w = image.shape[:2]
    ch, cw = min(size, h), min(size, w)
    top, left = (h - ch) // 2, (w - cw) // 2
    return image[top : top + ch, left : left + cw]


# ----------------------------------------------------------------------------------------
# tf.data pipelines


def _stateless_int(seed, maxval):
    import tensorflow as tf

    return tf.random.stateless_uniform([], seed, minval=0, maxval=maxval, dtype=tf.int32)


def _symmetric(indices, length):
    """Mirror indices into [0, length) the MATLAB way (-1 -> 0, length -> length - 1)."""
    import tensorflow as tf

    indices = tf.math.floormod(indices, 2 * length)
    return tf.where(indices >= length, 2 * length - 1 - indices, indices)


def _crop_with_margin(image, seed, patch_size, scale, margin):
    """A random (patch + 2 * margin * scale)^2 region, patch aligned to the LR grid."""
    import tensorflow as tf

    shape = tf.shape(image)
    h, w = shape[0], shape[1]
    seeds = tf.random.experimental.stateless_split(seed, 2)
    top = scale * _stateless_int(seeds[0], (h - patch_size) // scale + 1)
    left = scale * _stateless_int(seeds[1], (w - patch_size) // scale + 1)
    span = tf.range(patch_size + 2 * margin * scale) - margin * scale
    image = tf.gather(image, _symmetric(top + span, h), axis=0)
    return tf.gather(image, _symmetric(left + span, w), axis=1)


def _augment(images, seed):
    """The same random flip / 90-degree rotation on every image of a tuple."""
    import tensorflow as tf

    seeds = tf.random.experimental.stateless_split(seed, 2)
    flip = _stateless_int(seeds[0], 2)
    turns = _stateless_int(seeds[1], 4)
    out = []
    for image in images:
        image = tf.cond(flip > 0, lambda im=image: tf.reverse(im, [1]), lambda im=image: im)
        out.append(tf.image.rot90(image, turns))
    return out


def _bicubic_lr_map(patch_size, scale, margin):
    """region (P + 2ms)^2 float -> LR (P/s)^2 float, exactly the whole image's LR crop."""
    import tensorflow as tf

    region = patch_size + 2 * margin * scale
    full = resize_matrix(region, region // scale, 1.0 / scale)
    kept = tf.constant(full[margin : margin + patch_size // scale], tf.float32)

    def make_lr(region_image, seed):
        del seed  # deterministic
        rows = tf.einsum("ih,hwc->iwc", kept, region_image)
        return tf.einsum("jw,iwc->ijc", kept, rows)

    return make_lr


def _realistic_lr_map(patch_size, scale, margin, options):
    """region float -> LR float by `degradations.degrade` (NumPy and OpenCV, per sample)."""
    import tensorflow as tf

    lr_size = patch_size // scale

    def run(region_image, seed):
        region_uint8 = imageio.from_float(region_image, np.uint8, (0.0, 1.0))
        seed = [int(s) & 0xFFFFFFFF for s in seed]
        lr = degradations.degrade(region_uint8, scale, seed=seed, options=options)
        lr = lr[margin : margin + lr_size, margin : margin + lr_size]
        return imageio.to_float(lr, (0.0, 1.0))

    def make_lr(region_image, seed):
        lr = tf.numpy_function(run, [region_image, seed], tf.float32, stateful=False)
        lr.set_shape([lr_size, lr_size, 3])
        return lr

    return make_lr


def _quantize(x):
    """Round to 8-bit levels: LR images are stored (and met at test time) as uint8."""
    import tensorflow as tf

    return tf.round(tf.clip_by_value(x, 0.0, 1.0) * 255.0) / 255.0


def _check_patch(patch_size, scale):
    scale = check_scale(scale)
    if patch_size % scale:
        raise ValueError(f"patch_size {patch_size} is not a multiple of the scale {scale}")
    return scale


def sr_dataset(
    hr,
    scale: int,
    patch_size: int = 96,
    batch_size: int = 16,
    degradation: str = "bicubic",
    augment: bool = True,
    patches_per_image: int = 16,
    shuffle_buffer: int = 256,
    seed: int | None = None,
    repeat: bool = True,
    degradation_options: degradations.Degradation | None = None,
):
    """Random (LR, HR) training patches from a folder of HR images, LR made on the fly.

    Each decoded image gives `patches_per_image` random patches (decoding a large photo
    costs far more than cutting a patch), which a shuffle buffer mixes across images.

    Args:
        hr: folder of HR images, or a list of image paths.
        scale: integer factor; LR patches are `patch_size // scale` pixels.
        patch_size: HR patch side (a multiple of `scale`).
        batch_size: patches per batch.
        degradation: "bicubic" (MATLAB imresize, antialiased; LR rounded to 8 bit like a
            stored LR image) or "realistic" (`i2i.data.degradations.degrade`, seeded per
            patch; its work runs in parallel tf.data calls, as OpenCV releases the GIL).
        augment: random horizontal flips and 90-degree rotations.
        patches_per_image: patches cut from each decoded image.
        shuffle_buffer: patches in the shuffle buffer.
        seed: makes the stream of patches reproducible.
        repeat: cycle forever (training) or stop after one pass over the images.
        degradation_options: the realistic degradation's options (default: the
            paper's, `degradations.Degradation()`).

    Returns:
        A `tf.data.Dataset` of `{"lr": (B, p, p, 3), "hr": (B, P, P, 3)}` float32 in
        [0, 1], where `p = patch_size // scale`.

    Raises:
        SRDataError: no images, unreadable headers, or no image as large as the patch.
    """
    import tensorflow as tf

    from i2i.data.decode import decode_map

    scale = _check_patch(patch_size, scale)
    if degradation not in DEGRADATIONS:
        raise ValueError(f"degradation must be 'bicubic' or 'realistic', got {degradation!r}")
    infos = usable_images(hr_images(hr), patch_size)
    margin = BICUBIC_MARGIN if degradation == "bicubic" else REALISTIC_MARGIN
    seed = int(np.random.default_rng(seed).integers(2**31 - 1))

    paths = tf.data.Dataset.from_tensor_slices([str(info.path) for info in infos])
    paths = paths.shuffle(len(infos), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        paths = paths.repeat()
    images = paths.map(decode_map((0.0, 1.0)), num_parallel_calls=tf.data.AUTOTUNE)
    seeds = tf.data.Dataset.random(seed=seed).batch(2)
    images = tf.data.Dataset.zip((images, seeds))

    if degradation == "bicubic":
        lr_map = _bicubic_lr_map(patch_size, scale, margin)
    else:
        lr_map = _realistic_lr_map(patch_size, scale, margin, degradation_options)
    hr_cut = slice(margin * scale, margin * scale + patch_size)

    def patches(image, image_seed):
        crop_seeds = tf.random.experimental.stateless_split(image_seed, patches_per_image)

        def one(crop_seed):
            seeds = tf.random.experimental.stateless_split(crop_seed, 3)
            region = _crop_with_margin(image, seeds[0], patch_size, scale, margin)
            if augment:
                (region,) = _augment([region], seeds[1])
            return region, seeds[2]

        return tf.data.Dataset.from_tensor_slices(crop_seeds).map(one)

    def pair(region, lr_seed):
        return {"lr": _quantize(lr_map(region, lr_seed)), "hr": region[hr_cut, hr_cut]}

    ds = images.interleave(
        patches, cycle_length=2, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    # Making the LR is the costly part (a realistic degradation is NumPy / OpenCV work
    # per patch): it runs in parallel calls, in a deterministic order.
    ds = ds.map(pair, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed)
    return ds.batch(batch_size, drop_remainder=repeat).prefetch(tf.data.AUTOTUNE)


# ----------------------------------------------------------------------------------------
# Explicit hr/ + lr/ pairs


def check_pairs(root, scale: int) -> list[tuple[Path, Path]]:
    """Match `root/hr/*` with `root/lr/*` by file stem and check the scale of each pair.

    Returns:
        `(hr_path, lr_path)` pairs, sorted by stem.

    Raises:
        SRDataError: a missing folder, an image without its partner, an unreadable
            header, or a pair whose sizes are not HR = LR x scale (named, with sizes).
    """
    scale = check_scale(scale)
    root = Path(root)
    folders = {}
    for side in ("hr", "lr"):
        folder = root / side
        if not folder.is_dir():
            raise SRDataError(f"{folder}: missing (an SR pair folder holds hr/ and lr/)")
        folders[side] = {p.stem: p for p in imageio.list_images(folder)}
    hr_stems, lr_stems = set(folders["hr"]), set(folders["lr"])
    for side, others, missing in (
        ("hr", "lr", hr_stems - lr_stems),
        ("lr", "hr", lr_stems - hr_stems),
    ):
        if missing:
            names = ", ".join(folders[side][s].name for s in sorted(missing)[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise SRDataError(f"{root / side}: {names}{more} have no match in {root / others}")
    if not hr_stems:
        raise SRDataError(f"{root}: hr/ and lr/ hold no images")
    pairs = []
    for stem in sorted(hr_stems):
        try:
            hr_info, lr_info = image_info(folders["hr"][stem]), image_info(folders["lr"][stem])
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


def paired_sr_dataset(
    root,
    scale: int,
    patch_size: int = 96,
    batch_size: int = 16,
    augment: bool = True,
    patches_per_image: int = 16,
    shuffle_buffer: int = 256,
    seed: int | None = None,
    repeat: bool = True,
):
    """Random aligned (LR, HR) patches from `root/hr/` + `root/lr/` pairs.

    Pairs are checked first (`check_pairs`); pairs whose HR is smaller than the patch are
    reported (`SmallImage`) and left out. Arguments and batches as in `sr_dataset`.
    """
    import tensorflow as tf

    from i2i.data.decode import decode_map

    scale = _check_patch(patch_size, scale)
    pairs = check_pairs(root, scale)
    usable = {info.path for info in usable_images([hr for hr, _ in pairs], patch_size)}
    pairs = [(str(hr), str(lr)) for hr, lr in pairs if hr in usable]
    seed = int(np.random.default_rng(seed).integers(2**31 - 1))
    lr_size = patch_size // scale

    files = tf.data.Dataset.from_tensor_slices(([hr for hr, _ in pairs], [lr for _, lr in pairs]))
    files = files.shuffle(len(pairs), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        files = files.repeat()
    decode = decode_map((0.0, 1.0))
    images = files.map(lambda h, lo: (decode(h), decode(lo)), num_parallel_calls=tf.data.AUTOTUNE)
    images = tf.data.Dataset.zip((images, tf.data.Dataset.random(seed=seed).batch(2)))

    def patches(pair, image_seed):
        hr_image, lr_image = pair
        crop_seeds = tf.random.experimental.stateless_split(image_seed, patches_per_image)

        def one(crop_seed):
            seeds = tf.random.experimental.stateless_split(crop_seed, 3)
            shape = tf.shape(lr_image)
            top = _stateless_int(seeds[0], shape[0] - lr_size + 1)
            left = _stateless_int(seeds[1], shape[1] - lr_size + 1)
            lr = lr_image[top : top + lr_size, left : left + lr_size]
            hr = hr_image[
                top * scale : (top + lr_size) * scale, left * scale : (left + lr_size) * scale
            ]
            if augment:
                lr, hr = _augment([lr, hr], seeds[2])
            lr.set_shape([lr_size, lr_size, 3])
            hr.set_shape([patch_size, patch_size, 3])
            return {"lr": lr, "hr": hr}

        return tf.data.Dataset.from_tensor_slices(crop_seeds).map(one)

    ds = images.interleave(
        patches, cycle_length=2, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )
    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed)
    return ds.batch(batch_size, drop_remainder=repeat).prefetch(tf.data.AUTOTUNE)
