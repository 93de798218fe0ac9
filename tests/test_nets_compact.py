"""The compact SR network: size, shapes, starts as its interpolation, safe mode, precision,
exact tiles (the export parity is in test_export.py)."""

import keras
import numpy as np
import pytest
from blocks_helpers import assert_float32_head_under_mixed_precision, assert_safe_mode_round_trip
from inference_helpers import random_image

from i2i import registry, zoo
from i2i.inference import Engine
from i2i.nets.compact import compact

SR_CARD = {"task": "super-resolution", "value_range": [0.0, 1.0], "stride": 1}


def randomized(net, seed=0):
    """Non-zero weights everywhere (the tail starts at zero), of a realistic scale."""
    rng = np.random.default_rng(seed)
    net.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype) for w in net.get_weights()])
    return net


def test_real_esrgan_general_configuration_size():
    # realesr-general-x4v3: 16 body convs of 64 filters (621,424 weights with PReLU).
    net = compact(scale=4)
    assert net.count_params() == 621_424
    assert registry.resolve(registry.NETS, "compact") is compact
    # All convolutions at LR: every Conv2D's output is as large as the input.
    x = np.zeros((1, 10, 12, 3), np.float32)
    sizes = keras.Model(net.input, [layer.output for layer in net.layers if "conv" in layer.name])
    assert {tuple(y.shape[1:3]) for y in sizes(x)} == {(10, 12)}


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_any_input_size_is_upscaled_by_the_scale(scale):
    net = compact(scale=scale, num_conv=2, filters=8)
    for h, w in ((1, 1), (7, 9), (16, 12)):
        y = net(np.random.default_rng(0).random((2, h, w, 3), np.float32))
        assert tuple(y.shape) == (2, h * scale, w * scale, 3) and y.dtype == "float32"


@pytest.mark.parametrize("residual", ["bilinear", "bicubic", "nearest"])
def test_untrained_network_is_its_interpolation(residual):
    net = compact(scale=2, num_conv=1, filters=8, residual=residual)
    x = np.random.default_rng(1).random((1, 10, 12, 3), np.float32)
    expected = keras.layers.UpSampling2D(2, interpolation=residual)(x)
    np.testing.assert_allclose(net(x), expected, atol=1e-6)


@pytest.mark.parametrize("unshuffle", [1, 2])
def test_safe_mode_round_trip(tmp_path, unshuffle):
    net = randomized(compact(scale=2, num_conv=2, filters=8, unshuffle=unshuffle))
    side = (9, 11) if unshuffle == 1 else (10, 12)
    x = np.random.default_rng(2).random((1, *side, 3), np.float32)
    assert_safe_mode_round_trip(net, x, tmp_path)


def test_mixed_float16_agrees_with_float32():
    x = np.random.default_rng(3).random((1, 16, 16, 3), np.float32)
    reference = randomized(compact(scale=4, num_conv=4, filters=16), seed=4)
    y32 = np.asarray(reference(x))

    def build():
        net = compact(scale=4, num_conv=4, filters=16)
        net.set_weights(reference.get_weights())
        return net

    y16 = np.asarray(assert_float32_head_under_mixed_precision(build, x))
    assert y16.shape == (1, 64, 64, 3)
    # float16 keeps ~3 significant digits: within 1/255 of the float32 result.
    assert np.abs(y16 - y32).max() < 1 / 255, np.abs(y16 - y32).max()


def test_tiles_match_the_whole_image(tmp_path):
    network = randomized(compact(scale=4, num_conv=4, filters=8), seed=5)
    path = zoo.save_generator(network, tmp_path / "compact.keras", {**SR_CARD, "scale": 4})
    model, card = zoo.load_generator(path)
    image = random_image(70, 110).astype(np.float32) / 255
    whole = Engine(model, card, tile=0).process_float(image)
    np.testing.assert_allclose(whole, np.asarray(model(image[None]))[0], atol=1e-5)
    # Receptive radius 6 LR px: a 48 px overlap makes tiles exact.
    engine = Engine(model, card, tile=96, tile_overlap=48)
    assert engine.is_tiled(70, 110)
    tiled = engine.process_float(image)
    assert tiled.shape == (280, 440, 3)
    assert np.abs(tiled - whole).max() < 1e-4


def test_unshuffle_runs_the_body_on_a_coarser_grid():
    net = compact(scale=2, num_conv=2, filters=8, unshuffle=2)
    x = np.random.default_rng(6).random((1, 12, 16, 3), np.float32)
    convs = [layer.output for layer in net.layers if layer.name.endswith("_conv")]
    assert {tuple(y.shape[1:3]) for y in keras.Model(net.input, convs)(x)} == {(6, 8)}
    # Untrained it is still exactly its interpolation.
    np.testing.assert_allclose(
        net(x), keras.layers.UpSampling2D(2, interpolation="bilinear")(x), atol=1e-6
    )


def test_unshuffled_network_is_exact_under_tiles_and_odd_sizes(tmp_path):
    network = randomized(compact(scale=2, num_conv=1, filters=8, unshuffle=2), seed=8)
    card = {**SR_CARD, "scale": 2, "stride": 2}
    model, card = zoo.load_generator(zoo.save_generator(network, tmp_path / "c.keras", card))
    image = random_image(71, 109).astype(np.float32) / 255  # odd sides: padded to even
    whole = Engine(model, card, tile=0).process_float(image)
    assert whole.shape == (142, 218, 3)
    padded = np.pad(image, ((0, 1), (0, 1), (0, 0)), mode="reflect")
    np.testing.assert_allclose(whole, np.asarray(model(padded[None]))[0, :142, :218], atol=1e-5)
    # Receptive radius 3 cells of 2 LR px (+1 for the bilinear copy) = 7 px: inside the
    # 8 px dead zone of a 32 px overlap band, so tiles are exact.
    engine = Engine(model, card, tile=64, tile_overlap=32)
    assert engine.is_tiled(71, 109)
    assert np.abs(engine.process_float(image) - whole).max() < 1e-4


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="scale"):
        compact(scale=8)
    with pytest.raises(ValueError, match="residual"):
        compact(residual="lanczos")
    with pytest.raises(ValueError, match="unshuffle"):
        compact(unshuffle=0)


def test_inflated_x4_weights_make_the_unshuffled_x2_net_the_x4_net_on_box_averages():
    from i2i.nets.compact import inflate_unshuffled

    x4 = randomized(compact(scale=4, num_conv=2, filters=8), seed=9)
    x2 = compact(scale=2, num_conv=2, filters=8, unshuffle=2)
    x2.set_weights(inflate_unshuffled(x4.get_weights(), 2))
    x = np.random.default_rng(10).random((1, 12, 16, 3), np.float32)
    box = x.reshape(1, 6, 2, 8, 2, 3).mean(axis=(2, 4))

    def detail(net, image, scale):
        return np.asarray(net(image)) - keras.layers.UpSampling2D(scale, interpolation="bilinear")(
            image
        )

    np.testing.assert_allclose(detail(x2, x, 2), detail(x4, box, 4), atol=1e-5)


def test_deepened_weights_compute_the_shallow_network_and_keep_its_layers():
    from i2i.nets.compact import deepen

    shallow = randomized(compact(scale=4, num_conv=3, filters=8), seed=11)
    deep = compact(scale=4, num_conv=7, filters=8)
    weights = deepen(shallow.get_weights(), 7)
    deep.set_weights(weights)
    x = np.random.default_rng(12).random((2, 10, 12, 3), np.float32)
    np.testing.assert_allclose(np.asarray(deep(x)), np.asarray(shallow(x)), atol=1e-5)
    # The trained layers are kept, in order; the added ones are identities.
    old = shallow.get_weights()
    assert [w.shape for w in weights] == [w.shape for w in deep.get_weights()]
    body = [weights[i : i + 3] for i in range(3, len(weights) - 2, 3)]
    kept = [layer for layer in body if not np.all(layer[2] == 1)]
    for layer, original in zip(kept, [old[i : i + 3] for i in range(3, 12, 3)], strict=True):
        for mine, theirs in zip(layer, original, strict=True):
            np.testing.assert_array_equal(mine, theirs)
    with pytest.raises(ValueError, match="fewer"):
        deepen(old, 2)
