"""Super-resolution data: the (LR, HR) patch pipelines, with the SR image helpers.

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
never skipped silently; a folder with no usable image is an `SRDataError`. Finding and
checking the images, held-out splits and validation sets are `i2i.data.sr_images`, which
this module re-exports.

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

import numpy as np

from i2i import imageio
from i2i.common import DEGRADATIONS
from i2i.data import degradations
from i2i.data.resize import (  # noqa: F401  (re-exported)
    BICUBIC_MARGIN,
    check_scale,
    downsample,
    imresize,
    mod_crop,
    resize_matrix,
    upsample_bicubic,
)
from i2i.data.sr_images import (  # noqa: F401  (re-exported)
    ImageInfo,
    SmallImage,
    SRDataError,
    ValidationSet,
    check_pairs,
    hr_images,
    image_info,
    split_holdout,
    usable_images,
    validation_pairs,
    validation_set,
)

# LR pixels of real content around a realistically degraded patch: the 21 px blur
# kernels reach 10 HR pixels, and the random resizes move content by a pixel or two.
REALISTIC_MARGIN = 4


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


def _stream_seed(seed) -> int:
    """The pipeline's own seed, derived from the user's (None: a random one)."""
    return int(np.random.default_rng(seed).integers(2**31 - 1))


def _decoded_with_seeds(files, count: int, seed: int, repeat: bool, load):
    """`files` reshuffled every pass (repeated forever if `repeat`), decoded by `load` in
    parallel, each element zipped with its own stateless seed."""
    import tensorflow as tf

    files = files.shuffle(count, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        files = files.repeat()
    images = files.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    return tf.data.Dataset.zip((images, tf.data.Dataset.random(seed=seed).batch(2)))


def _interleaved(images, patches):
    """The patches of two decoded images at a time, in a deterministic order."""
    import tensorflow as tf

    return images.interleave(
        patches, cycle_length=2, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True
    )


def _batched(ds, batch_size: int, shuffle_buffer: int, seed: int, repeat: bool):
    """Patches mixed across images in a shuffle buffer, batched and prefetched."""
    import tensorflow as tf

    if shuffle_buffer:
        ds = ds.shuffle(shuffle_buffer, seed=seed)
    return ds.batch(batch_size, drop_remainder=repeat).prefetch(tf.data.AUTOTUNE)


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
    seed = _stream_seed(seed)
    paths = tf.data.Dataset.from_tensor_slices([str(info.path) for info in infos])
    images = _decoded_with_seeds(paths, len(infos), seed, repeat, decode_map((0.0, 1.0)))

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

    ds = _interleaved(images, patches)
    # Making the LR is the costly part (a realistic degradation is NumPy / OpenCV work
    # per patch): it runs in parallel calls, in a deterministic order.
    ds = ds.map(pair, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
    return _batched(ds, batch_size, shuffle_buffer, seed, repeat)


# --- hr/ + lr/ pairs -------------------------------------------------------------------


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
    seed = _stream_seed(seed)
    lr_size = patch_size // scale
    files = tf.data.Dataset.from_tensor_slices(([hr for hr, _ in pairs], [lr for _, lr in pairs]))
    decode = decode_map((0.0, 1.0))
    images = _decoded_with_seeds(
        files, len(pairs), seed, repeat, lambda h, lo: (decode(h), decode(lo))
    )

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

    return _batched(_interleaved(images, patches), batch_size, shuffle_buffer, seed, repeat)
