"""The engine with i2i's real network families at tiny width, saved and loaded via the zoo."""

import numpy as np
import pytest
from inference_helpers import random_image

from i2i import registry, zoo
from i2i.inference import Engine

TRANSLATION = {"task": "translation", "scale": 1, "value_range": [-1.0, 1.0]}


def _round_trip(model, card, tmp_path):
    path = zoo.save_generator(model, tmp_path / f"{model.name}.keras", card)
    return zoo.load_generator(path)


def test_unet_any_size_and_seamless_tiles(tmp_path):
    from i2i.nets.unet import unet_stride

    unet = registry.resolve(registry.NETS, "unet")
    stride = unet_stride(depth=3)
    model, card = _round_trip(
        unet(filters=4, depth=3, dropout=0.0), {**TRANSLATION, "stride": stride}, tmp_path
    )
    engine = Engine(model, card, tile=0)
    assert engine.exact_tiling  # batch norm at inference is per pixel
    for height, width in ((1, 1), (3, 2), (37, 53), (5, 140)):
        out = engine.process(random_image(height, width))
        assert out.shape == (height, width, 3)
    image = random_image(70, 150).astype(np.float32) / 127.5 - 1
    whole = engine.process_float(image)
    tiled = Engine(model, card, tile=96, tile_overlap=48).process_float(image)
    # A depth-3 U-Net sees +-43 px: a 48 px overlap (12 px dead zone) is not exact, but
    # the feathered tiles stay close everywhere.
    assert np.abs(tiled - whole).max() < 0.05


def test_resnet_generator_with_instance_norm(tmp_path):
    resnet_generator = registry.resolve(registry.NETS, "resnet_generator")
    model, card = _round_trip(
        resnet_generator(filters=4, blocks=2), {**TRANSLATION, "stride": 4}, tmp_path
    )
    engine = Engine(model, card, tile=64)
    assert not engine.exact_tiling  # instance norm: statistics over the whole input
    for height, width in ((1, 1), (2, 3), (45, 31), (3, 150)):
        out = engine.process(random_image(height, width))
        assert out.shape == (height, width, 3) and out.dtype == np.uint8
    image = random_image(44, 40).astype(np.float32) / 127.5 - 1
    whole = Engine(model, card, tile=0).process_float(image)
    np.testing.assert_allclose(whole, np.asarray(model(image[None]))[0], atol=1e-5)


@pytest.mark.skipif("srresnet" not in registry.NETS, reason="SRResNet has not landed yet")
@pytest.mark.parametrize("residual", [None, "bicubic"])
def test_srresnet_tiles_match_the_whole_image(tmp_path, residual):
    srresnet = registry.resolve(registry.NETS, "srresnet")
    card = {"task": "super-resolution", "scale": 4, "value_range": [0.0, 1.0], "stride": 1}
    network = srresnet(scale=4, num_blocks=2, filters=8, residual=residual)
    model, card = _round_trip(network, card, tmp_path)
    image = random_image(70, 110).astype(np.float32) / 255
    whole = Engine(model, card, tile=0).process_float(image)
    np.testing.assert_allclose(whole, np.asarray(model(image[None]))[0], atol=1e-5)
    # Receptive radius ~11 px: a 48 px overlap (12 px dead zone) makes tiles exact.
    engine = Engine(model, card, tile=96, tile_overlap=48)
    assert engine.is_tiled(70, 110)
    tiled = engine.process_float(image)
    assert tiled.shape == (280, 440, 3)
    assert np.abs(tiled - whole).max() < 1e-4
    for height, width in ((1, 1), (2, 3), (3, 200)):
        assert engine.process(random_image(height, width)).shape == (4 * height, 4 * width, 3)
