"""i2i.data.decode: every stored layout becomes 3-channel float in the asked range."""

import numpy as np
import pytest

from i2i import imageio
from i2i.data.decode import as_rgb, decode_map, read_rgb_float


@pytest.mark.parametrize(
    "shape, dtype",
    [((5, 6), np.uint8), ((5, 6, 3), np.uint16), ((5, 6, 4), np.uint8)],
)
def test_read_rgb_float_any_layout(tmp_path, shape, dtype):
    high = 256 if dtype == np.uint8 else 65536
    image = np.random.default_rng(0).integers(0, high, shape).astype(dtype)
    imageio.write_image(tmp_path / "x.png", image)
    x = read_rgb_float(tmp_path / "x.png", (0.0, 1.0))
    assert x.shape == (5, 6, 3) and x.dtype == np.float32
    np.testing.assert_allclose(x, imageio.to_float(as_rgb(image), (0.0, 1.0)))


def test_decode_map_in_a_pipeline(tmp_path, photos):
    import tensorflow as tf

    imageio.write_image(tmp_path / "cat.png", photos["chelsea"])
    paths = tf.data.Dataset.from_tensor_slices([str(tmp_path / "cat.png")])
    (image,) = list(paths.map(decode_map((-1.0, 1.0))))
    assert image.shape == photos["chelsea"].shape
    np.testing.assert_allclose(image.numpy(), imageio.to_float(photos["chelsea"], (-1.0, 1.0)))
