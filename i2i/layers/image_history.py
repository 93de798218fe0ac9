"""The CycleGAN image pool: a history of generated images for the discriminator.

Shrivastava et al. update the discriminator with a history of generated images rather
than only the latest ones, which damps oscillation; CycleGAN keeps 50. The reference
(`util/image_pool.py`) stores them in a Python list, which a `tf.function` would freeze
at trace time. Here the history lives in Keras variables and the coin flips come from
`keras.random` with the layer's own `SeedGenerator`, so the layer

- works inside a compiled `train_step` (graph mode, XLA);
- is saved by checkpoints: the stored images, the fill count and the RNG state are
  tracked non-trainable weights (`layer.weights`), saved by `tf.train.Checkpoint`,
  `save_weights` and `.keras` files alike, so a resumed run continues exactly;
- works under `tf.distribute`: the image and count variables are synchronized on read,
  so each replica keeps its own history of the images it generated (a checkpoint holds
  the first replica's, which every replica gets back on restore).
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="i2i")
class ImageHistory(keras.layers.Layer):
    """Returns a batch of images in which some are swapped for older generated ones.

    For each image of the batch, in order: while fewer than `size` images are stored,
    store it and return it; afterwards, with probability `probability` return a random
    stored image and store the new one in its place, otherwise return the new image.
    This is `ImagePool.query` of the pytorch-CycleGAN-and-pix2pix reference.

    The variables are created by `build` from the image shape, which must be fully
    known apart from the batch (train on fixed-size crops). Build the layer before a
    checkpoint is restored, e.g. `history.build((None, 256, 256, 3))`. Images are stored
    and returned as float32 (the layer's dtype policy defaults to float32, so it stays
    exact under mixed precision). Call with `training=False` to pass images through.

    Args:
        size: how many images to keep; 0 turns the layer into the identity.
        probability: chance of returning a stored image once the history is full.
        seed: int seed of the layer's `keras.random.SeedGenerator` (None: random).

    Example:

    ```python
    history = ImageHistory(50, seed=0)
    fake_for_d = history(fake_b)          # inside train_step, before the D loss
    ```

    Reference:
        Shrivastava et al., "Learning from Simulated and Unsupervised Images through
        Adversarial Training", CVPR 2017; Zhu et al., "Unpaired Image-to-Image
        Translation using Cycle-Consistent Adversarial Networks", ICCV 2017.
    """

    def __init__(self, size: int = 50, probability: float = 0.5, seed: int | None = None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if int(size) != size or size < 0:
            raise ValueError(f"size must be a non-negative integer, got {size!r}")
        if not 0.0 <= probability <= 1.0:
            raise ValueError(f"probability must be in [0, 1], got {probability!r}")
        self.size = int(size)
        self.probability = float(probability)
        self.seed = seed
        # Keras saves layer weights but not SeedGenerator states, and tf.train.Checkpoint
        # does not see SeedGenerators either. The generator is therefore kept out of
        # Keras' tracking and its state variable is tracked as a weight instead, so
        # `model.save_weights`, `.keras` files and `tf.train.Checkpoint` all hold it
        # (listed once in `layer.variables`).
        seed_generator = keras.random.SeedGenerator(seed, name=f"{self.name}_seed")
        object.__setattr__(self, "seed_generator", seed_generator)
        self.rng_state = seed_generator.state

    def build(self, input_shape):
        image_shape = tuple(input_shape[1:])
        if len(image_shape) != 3 or any(d is None for d in image_shape):
            raise ValueError(
                "ImageHistory needs a fully known (height, width, channels) image shape, "
                f"got {tuple(input_shape)}; train on fixed-size crops or build it first"
            )
        with keras.name_scope(self.name, caller=self):
            # Synchronized on read: per-replica state, assignable in replica context.
            self.images = keras.Variable(
                initializer="zeros",
                shape=(self.size, *image_shape),
                dtype="float32",
                trainable=False,
                synchronization="on_read",
                aggregation="only_first_replica",
                name="images",
            )
            self.count = keras.Variable(
                initializer="zeros",
                shape=(),
                dtype="int32",
                trainable=False,
                synchronization="on_read",
                aggregation="only_first_replica",
                name="count",
            )

    def call(self, images, training=True):
        if not training or self.size == 0:
            return images
        images = ops.cast(images, "float32")

        def query_one(i, outputs):
            image = outputs[i]
            count = ops.convert_to_tensor(self.count)
            # Both draws happen for every image so the RNG advances the same way
            # whatever the coin says (resumed runs replay exactly).
            coin = keras.random.uniform((), seed=self.seed_generator)
            slot = keras.random.randint((), 0, self.size, dtype="int32", seed=self.seed_generator)
            filling = count < self.size
            swap = ops.logical_and(ops.logical_not(filling), coin < self.probability)
            slot = ops.where(filling, count, slot)
            stored = ops.take(ops.convert_to_tensor(self.images), slot, axis=0)
            keep = ops.where(ops.logical_or(filling, swap), image, stored)
            zero = ops.zeros((), "int32")
            start = ops.stack([slot, zero, zero, zero])
            self.images.assign(
                ops.slice_update(ops.convert_to_tensor(self.images), start, keep[None])
            )
            self.count.assign(count + ops.cast(filling, "int32"))
            returned = ops.where(swap, stored, image)
            index = ops.stack([ops.cast(i, "int32"), zero, zero, zero])
            return ops.slice_update(outputs, index, returned[None])

        return ops.fori_loop(0, ops.shape(images)[0], query_one, images)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {
            **super().get_config(),
            "size": self.size,
            "probability": self.probability,
            "seed": self.seed,
        }
