"""Paired image-to-image data (pix2pix): `{"source", "target"}` batches in [-1, 1].

Two layouts on disk, each directly in ROOT or in split folders `ROOT/train/`,
`ROOT/test/`, `ROOT/val/` (the pix2pix reference layout):

- combined: every file holds A|B side by side (A left, B right), like the reference's
  facades, maps, edges2shoes;
- split: `A/` + `B/` (or `input/` + `target/`) with files matched by stem.

Training applies the pix2pix random jitter (resize to 286, random 256 crop, mirror;
scaled for other sizes) identically to both sides of a pair. Files are decoded in
parallel, the order is shuffled with `seed`, and a `seed` makes the whole stream
(order and jitter) the same on every run.

Example:

```python
from i2i.data.paired import paired_dataset

train = paired_dataset("data/facades", "train", batch_size=1, image_size=256, seed=0)
test = paired_dataset("data/facades", "test", image_size=256)
batch = next(iter(train))  # {"source": (1, 256, 256, 3), "target": (1, 256, 256, 3)}
```

Reference:
    Isola et al., "Image-to-Image Translation with Conditional Adversarial Networks",
    CVPR 2017; the data layout of junyanz/pytorch-CycleGAN-and-pix2pix.
"""

from __future__ import annotations

from i2i.data.layout import paired_files, require_sizes, split_folder

DIRECTIONS = ("a2b", "b2a")


def paired_dataset(
    root,
    split: str = "train",
    *,
    batch_size: int = 1,
    image_size: int | None = 256,
    load_size: int | None = None,
    preprocess: str = "resize_and_crop",
    direction: str = "a2b",
    training: bool | None = None,
    flip: bool = True,
    seed: int | None = None,
    repeat: bool = False,
    drop_remainder: bool | None = None,
    layout: str | None = None,
):
    """A `tf.data.Dataset` of paired batches `{"source", "target"}`, float32 in [-1, 1].

    Args:
        root: the dataset folder (with or without split folders).
        split: "train", "test" or "val"; ignored when ROOT has no split folders.
        batch_size: images per batch (pix2pix uses 1).
        image_size: the square size of the outputs. None (evaluation only) keeps each
            image's own size, which needs `batch_size=1` unless all sizes are equal.
        load_size: resize before the random crop; default 286 for 256 (x 286/256).
        preprocess: training transform: "resize_and_crop" (the pix2pix jitter), "crop"
            (random crop at full resolution, both sides must have equal sizes) or
            "resize". See `i2i.data.augment.preprocess`.
        direction: "a2b" (source = A, the left half / `A/`) or "b2a".
        training: shuffle, jitter and flip; default: `split == "train"`. Otherwise the
            order is the files' order and images are resized (or centre-cropped).
        flip: random left-right mirror when training.
        seed: makes the order and the augmentation the same on every run.
        repeat: repeat forever (pass `steps_per_epoch` to `fit`); each pass is reshuffled.
        drop_remainder: drop a last incomplete batch; default: `training`.
        layout: "paired-combined" or "paired-split" when detection guesses wrong.

    Returns:
        The dataset; `len(dataset)` is the number of batches when `repeat` is False.

    Raises:
        DatasetError: not a paired dataset, unmatched files, unreadable headers, or
            images smaller than `image_size` (when training, or cropping), naming them.
    """
    import tensorflow as tf

    from i2i.data import augment
    from i2i.data.decode import decode_map

    if direction not in DIRECTIONS:
        raise ValueError(f"unknown direction {direction!r} (use a2b or b2a)")
    training = split == "train" if training is None else training
    augment.check_preprocess(preprocess, image_size, load_size, training)
    drop_remainder = training if drop_remainder is None else drop_remainder
    folder = split_folder(root, split)
    layout, items = paired_files(root, split, layout)
    combined = layout == "paired-combined"
    crops = training or preprocess == "crop"
    require_sizes(
        items,
        image_size if crops else None,
        folder,
        combined=combined,
        same_size=preprocess == "crop" and not combined,
    )

    if combined:
        files = tf.data.Dataset.from_tensor_slices([str(p) for p in items])
    else:
        files = tf.data.Dataset.from_tensor_slices([[str(a), str(b)] for a, b in items])
    if training:
        files = files.shuffle(len(items), seed=seed, reshuffle_each_iteration=True)
    if repeat:
        files = files.repeat()
    decode = decode_map((-1.0, 1.0))

    def load(item, element_seed):
        if combined:
            image = decode(item)
            half = tf.shape(image)[1] // 2
            a, b = image[:, :half], image[:, half : 2 * half]
        else:
            a, b = decode(item[0]), decode(item[1])
        a, b = augment.preprocess(
            [a, b], element_seed, image_size, preprocess, training, load_size, flip
        )
        source, target = (a, b) if direction == "a2b" else (b, a)
        return {"source": source, "target": target}

    dataset = tf.data.Dataset.zip(files, augment.seed_stream(seed))
    dataset = dataset.map(load, num_parallel_calls=tf.data.AUTOTUNE)
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def paired_count(root, split: str = "train", layout: str | None = None) -> int:
    """How many pairs a split holds (without building a pipeline)."""
    return len(paired_files(root, split, layout)[1])
