"""Decoding image files inside tf.data pipelines, through `i2i.imageio`.

Training works on 3-channel images: gray is replicated to RGB and an alpha channel is
dropped (training data with transparency is rare, and the colour under it is what the
networks see). 8- and 16-bit files are both scaled to floats.

Example:

```python
paths = tf.data.Dataset.from_tensor_slices(["a.png", "b.jpg"])
images = paths.map(decode_map((-1.0, 1.0)), num_parallel_calls=tf.data.AUTOTUNE)
```
"""

from __future__ import annotations

import numpy as np

from i2i import imageio


def as_rgb(image: np.ndarray) -> np.ndarray:
    """A gray, RGB or RGBA image as 3-channel RGB of the same dtype."""
    if image.ndim == 2:
        return np.repeat(image[:, :, None], 3, axis=2)
    return image[:, :, :3]


def read_rgb_float(path, value_range=(-1.0, 1.0)) -> np.ndarray:
    """Read `path` as an `(H, W, 3)` float32 array scaled to `value_range`."""
    return imageio.to_float(as_rgb(imageio.read_image(path)), value_range)


def decode_map(value_range=(-1.0, 1.0)):
    """A `tf.data` map function: file path (string tensor) -> `(H, W, 3)` float32 tensor.

    OpenCV releases the GIL while decoding, so `num_parallel_calls` runs decodes in
    parallel even through `tf.numpy_function`.
    """
    import tensorflow as tf

    low, high = float(value_range[0]), float(value_range[1])

    def read(path):
        return read_rgb_float(path.decode(), (low, high))

    def decode(path):
        image = tf.numpy_function(read, [path], tf.float32, stateful=False)
        image.set_shape([None, None, 3])
        return image

    return decode
