"""Unpaired image-to-image data (CycleGAN): `{"a", "b"}` batches in [-1, 1].

The CycleGAN reference layout: `ROOT/trainA/`, `ROOT/trainB/` (and `testA/`, `testB/`),
two domains of any sizes. Each domain is shuffled independently (with its own seed
derived from `seed`) and jittered independently; an epoch is as long as the larger
domain, the smaller one repeating (reshuffled at each pass).

Example:

```python
from i2i.data.unpaired import unpaired_dataset

train = unpaired_dataset("data/horse2zebra", "train", batch_size=1, image_size=256, seed=0)
batch = next(iter(train))  # {"a": (1, 256, 256, 3), "b": (1, 256, 256, 3)}
```

Reference:
    Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
    Networks", ICCV 2017; the data layout of junyanz/pytorch-CycleGAN-and-pix2pix.
"""

from __future__ import annotations

from i2i.data.layout import require_sizes, unpaired_files


def unpaired_dataset(
    root,
    split: str = "train",
    *,
    batch_size: int = 1,
    image_size: int | None = 256,
    load_size: int | None = None,
    preprocess: str = "resize_and_crop",
    training: bool | None = None,
    flip: bool = True,
    seed: int | None = None,
    repeat: bool = False,
    drop_remainder: bool | None = None,
):
    """A `tf.data.Dataset` of unpaired batches `{"a", "b"}`, float32 in [-1, 1].

    Args:
        root: the dataset folder holding `{split}A/` and `{split}B/`.
        split: "train" or "test".
        batch_size: images per batch (CycleGAN uses 1).
        image_size: the square size of the outputs; None (evaluation only) keeps each
            image's own size (then `batch_size` must be 1 unless all sizes are equal).
        load_size: resize before the random crop; default 286 for 256 (x 286/256).
        preprocess: "resize_and_crop", "crop" or "resize"
            (see `i2i.data.augment.preprocess`).
        training: shuffle, jitter and flip; default: `split == "train"`.
        flip: random left-right mirror when training.
        seed: makes the orders and the augmentation the same on every run.
        repeat: repeat forever (pass `steps_per_epoch` to `fit`).
        drop_remainder: drop a last incomplete batch; default: `training`.

    Returns:
        The dataset; one pass holds `max(len(A), len(B))` examples.

    Raises:
        DatasetError: a missing or empty domain folder, unreadable headers, or images
            smaller than `image_size` (when training, or cropping), naming them.
    """
    import tensorflow as tf

    from i2i.data import augment
    from i2i.data.decode import decode_map

    training = split == "train" if training is None else training
    augment.check_preprocess(preprocess, image_size, load_size, training)
    drop_remainder = training if drop_remainder is None else drop_remainder
    domains = unpaired_files(root, split)
    crops = training or preprocess == "crop"
    for files in domains:
        require_sizes(files, image_size if crops else None, files[0].parent)
    decode = decode_map((-1.0, 1.0))

    def load(path, element_seed):
        (image,) = augment.preprocess(
            [decode(path)], element_seed, image_size, preprocess, training, load_size, flip
        )
        return image

    streams = []
    for index, files in enumerate(domains):
        # Independent orders and jitter per domain, all fixed by the one seed.
        shuffle_seed = None if seed is None else seed + 2 * index
        jitter_seed = None if seed is None else seed + 2 * index + 1
        stream = tf.data.Dataset.from_tensor_slices([str(p) for p in files])
        if training:
            stream = stream.shuffle(len(files), seed=shuffle_seed, reshuffle_each_iteration=True)
        stream = tf.data.Dataset.zip(stream.repeat(), augment.seed_stream(jitter_seed))
        streams.append(stream.map(load, num_parallel_calls=tf.data.AUTOTUNE))

    dataset = tf.data.Dataset.zip({"a": streams[0], "b": streams[1]})
    if not repeat:
        dataset = dataset.take(max(len(files) for files in domains))
    dataset = dataset.batch(batch_size, drop_remainder=drop_remainder)
    return dataset.prefetch(tf.data.AUTOTUNE)


def unpaired_counts(root, split: str = "train") -> tuple[int, int]:
    """`(len(A), len(B))` of a split (an epoch is the larger)."""
    a, b = unpaired_files(root, split)
    return len(a), len(b)
