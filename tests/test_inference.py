"""The inference engine: tiling plans, seamless tiled output, every image kind.

Stated tolerance: for a convolutional generator whose receptive radius fits in a quarter of
the tile overlap, the tiled output equals the whole-image output within 1e-5 (float
rounding) everywhere; with a too-small overlap the feathered difference stays small.
"""

import cv2
import numpy as np
import pytest
from inference_helpers import (
    TRANSLATION_CARD,
    bilinear_net,
    random_image,
    sr_card,
    sr_net,
    translation_net,
)

from i2i import imageio, inference
from i2i.inference import Engine, InferenceError, plan_axis, tile_weights
from i2i.inference import engine as engine_module

TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def sr2():
    return sr_net(2)


@pytest.fixture(scope="module")
def sr4():
    return sr_net(4, filters=6)


@pytest.fixture(scope="module")
def translator():
    return translation_net()


# ------------------------------------------------------------------ plans


@pytest.mark.parametrize("stride", [1, 4, 8])
@pytest.mark.parametrize("tile,overlap", [(16, 4), (64, 32), (100, 16), (256, 64)])
def test_plans_cover_every_size_with_stride_aligned_tiles(stride, tile, overlap):
    for length in [*range(1, 140), 511, 1000, 4001]:
        plan = plan_axis(length, stride, tile, overlap)
        starts, n = plan.starts, len(plan.starts)
        assert 0 <= plan.padded - length < stride
        assert starts[0] == 0 and starts[-1] + plan.size == plan.padded
        assert plan.size % stride == 0 and all(s % stride == 0 for s in starts)
        assert n == 1 or plan.size <= max(stride, tile)
        for i in range(n - 1):
            assert starts[i] < starts[i + 1]
        for i in range(n - 2):
            assert starts[i] + plan.size <= starts[i + 2], "at most two tiles per pixel"
        weights = np.zeros(plan.padded * 2)
        for i in range(n):
            weights[starts[i] * 2 : (starts[i] + plan.size) * 2] += tile_weights(plan, i, 2)
        np.testing.assert_allclose(weights, 1.0, atol=1e-6)


def test_plan_keeps_the_requested_overlap_when_the_tile_allows():
    plan = plan_axis(1000, 4, 128, 32)
    assert min(plan.overlap(i) for i in range(len(plan.starts) - 1)) >= 32
    assert plan_axis(100, 1, None, 32).starts == (0,)


# ------------------------------------------------------------------ seamless tiling


@pytest.mark.parametrize("tile,batch", [(40, 1), (48, 3)])
def test_tiled_sr_matches_whole_image(sr2, tile, batch):
    image = random_image(71, 130).astype(np.float32) / 255
    whole = Engine(sr2, sr_card(2), tile=0).process_float(image)
    np.testing.assert_allclose(whole, np.asarray(sr2(image[None]))[0], atol=1e-6)
    engine = Engine(sr2, sr_card(2), tile=tile, tile_overlap=16, batch_size=batch)
    assert engine.is_tiled(71, 130)
    tiled = engine.process_float(image)
    assert np.abs(tiled - whole).max() < TOLERANCE


def test_tiled_x4_matches_whole_image(sr4):
    image = random_image(50, 37).astype(np.float32) / 255
    whole = Engine(sr4, sr_card(4), tile=0).process_float(image)
    tiled = Engine(sr4, sr_card(4), tile=40, tile_overlap=16).process_float(image)
    assert tiled.shape == (200, 148, 3)
    assert np.abs(tiled - whole).max() < TOLERANCE


def test_tiled_stride4_translation_matches_whole_image(translator):
    image = random_image(90, 150).astype(np.float32) / 127.5 - 1
    whole = Engine(translator, TRANSLATION_CARD, tile=0).process_float(image)
    # A size that is not a multiple of the stride: reflect-padded, then cropped back.
    padded = np.pad(image, ((0, 2), (0, 2), (0, 0)), mode="reflect")
    np.testing.assert_allclose(whole, np.asarray(translator(padded[None]))[0, :90, :150], atol=1e-5)
    engine = Engine(translator, TRANSLATION_CARD, tile=128)  # default overlap 64
    assert engine.is_tiled(90, 150)
    assert np.abs(engine.process_float(image) - whole).max() < TOLERANCE
    # Overlap smaller than the receptive field: feathered, not exact, and no seam stands out.
    rough = Engine(translator, TRANSLATION_CARD, tile=64, tile_overlap=16).process_float(image)
    difference = np.abs(rough - whole)
    assert difference.max() < 0.1 and difference.mean() < 2e-3


@pytest.mark.parametrize("size", [(1, 1), (2, 3), (3, 1), (1, 301), (257, 2)])
def test_tiny_and_elongated_images(sr2, translator, size):
    height, width = size
    image = random_image(height, width)
    for net, card in ((sr2, sr_card(2)), (translator, TRANSLATION_CARD)):
        engine = Engine(net, card, tile=128)
        out = engine.process(image)
        s = card["scale"]
        assert out.shape == (height * s, width * s, 3) and out.dtype == np.uint8
        whole = Engine(net, card, tile=0).process(image)
        assert np.abs(out.astype(int) - whole.astype(int)).max() <= 1


# ------------------------------------------------------------------ image kinds


def test_gray_stays_gray(sr2):
    gray = random_image(20, 30, channels=1)
    engine = Engine(sr2, sr_card(2))
    out = engine.process(gray)
    assert out.shape == (40, 60) and out.dtype == np.uint8
    rgb = engine.process(np.repeat(gray[:, :, None], 3, axis=2))
    expected = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    assert np.abs(out.astype(int) - expected.astype(int)).max() <= 1


def test_sixteen_bit_stays_sixteen_bit():
    image = random_image(24, 20, dtype=np.uint16)
    out = Engine(bilinear_net(2), sr_card(2)).process(image)
    assert out.dtype == np.uint16 and out.shape == (48, 40, 3)
    # Full 16-bit precision survives (not 8-bit values scaled up).
    assert np.any(out % 257 != 0)
    expected = cv2.resize(image, (40, 48), interpolation=cv2.INTER_LINEAR)
    assert np.abs(out.astype(int) - expected.astype(int))[2:-2, 2:-2].max() <= 2


def test_rgba_keeps_alpha_without_dark_fringe():
    # A red disc on transparent black: the black must not bleed into the disc's edge.
    image = np.zeros((40, 40, 4), np.uint8)
    cv2.circle(image, (20, 20), 12, (255, 0, 0, 255), -1)
    image[:, :, 3] = cv2.GaussianBlur(image[:, :, 3], (0, 0), 1.0)
    image[image[:, :, 3] == 0, :3] = 0
    image[image[:, :, 3] > 0, :3] = (255, 0, 0)
    out = Engine(bilinear_net(2), sr_card(2)).process(image)
    assert out.shape == (80, 80, 4) and out.dtype == np.uint8
    expected_alpha = cv2.resize(image[:, :, 3], (80, 80), interpolation=cv2.INTER_CUBIC)
    np.testing.assert_array_equal(out[:, :, 3], expected_alpha)
    visible = out[:, :, 3] > 0
    assert visible.sum() > 400
    assert out[visible, 0].min() >= 250, "dark fringe: transparent black mixed into the edge"
    assert out[visible, 1:3].max() <= 5
    # The naive way does fringe: same model on the stored colours.
    naive = Engine(bilinear_net(2), sr_card(2)).process(np.ascontiguousarray(image[:, :, :3]))
    assert naive[visible, 0].min() < 200


def test_rgba_alpha_through_the_model():
    image = random_image(16, 18, channels=4)
    out = Engine(bilinear_net(2), sr_card(2), alpha="model").process(image)
    expected = cv2.resize(image[:, :, 3], (36, 32), interpolation=cv2.INTER_LINEAR)
    assert np.abs(out[:, :, 3].astype(int) - expected.astype(int))[1:-1, 1:-1].max() <= 1


def test_rgba_translation_keeps_alpha_as_is(translator):
    image = random_image(21, 19, channels=4)
    out = Engine(translator, TRANSLATION_CARD).process(image)
    np.testing.assert_array_equal(out[:, :, 3], image[:, :, 3])


def test_fill_transparent_takes_the_surrounding_colour():
    image = np.zeros((9, 9, 4), np.uint8)
    image[:, :3] = (0, 0, 255, 255)
    image[:, 6:] = (0, 255, 0, 255)
    filled = inference.fill_transparent(image)
    np.testing.assert_array_equal(filled[:, :3], image[:, :3, :3])
    np.testing.assert_array_equal(filled[:, 6:], image[:, 6:, :3])
    assert filled[4, 3, 2] > filled[4, 3, 1] and filled[4, 5, 1] > filled[4, 5, 2]
    assert filled[:, 3:6, 0].max() == 0 and (filled[:, 3:6, 1:].sum(axis=-1) >= 250).all()
    one = np.zeros((9, 9, 4), np.uint8)
    one[2, 2] = (10, 200, 30, 128)
    expected = np.tile(np.uint8([10, 200, 30]), (9, 9, 1))
    np.testing.assert_array_equal(inference.fill_transparent(one), expected)


# ------------------------------------------------------------------ options


def test_strength_blends_translation_with_the_input(translator):
    image = random_image(16, 16)
    full = Engine(translator, TRANSLATION_CARD).process(image).astype(int)
    none = Engine(translator, TRANSLATION_CARD, strength=0.0).process(image).astype(int)
    half = Engine(translator, TRANSLATION_CARD, strength=0.5).process(image).astype(int)
    assert np.abs(none - image).max() <= 1
    assert np.abs(half - (full + image) / 2).max() <= 1.5
    with pytest.raises(InferenceError, match="translation models only"):
        Engine(sr_net(2), sr_card(2), strength=0.5)


def test_outscale_resizes_the_model_output(sr4):
    image = random_image(30, 20)
    engine = Engine(sr4, sr_card(4), outscale=2)
    out = engine.process(image)
    assert out.shape == (60, 40, 3) == (*engine.output_size(30, 20), 3)
    full = Engine(sr4, sr_card(4)).process(image)
    expected = cv2.resize(full, (40, 60), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(out, expected)
    assert Engine(sr4, sr_card(4), outscale=3.5).process(image).shape == (105, 70, 3)


@pytest.mark.parametrize("precision", ["bfloat16", "float16"])
def test_reduced_precision_is_close_to_float32(sr2, precision):
    image = random_image(24, 24)
    reference = Engine(sr2, sr_card(2), precision="float32").process(image).astype(int)
    engine = Engine(sr2, sr_card(2), precision=precision)
    assert engine.model.layers[1].dtype_policy.name == f"mixed_{precision}"
    assert engine.model.layers[-1].dtype_policy.name == "float32"
    assert np.abs(engine.process(image).astype(int) - reference).mean() < 3


def test_auto_tile_follows_the_memory_budget(sr2):
    small = Engine(sr2, sr_card(2), memory_budget=4 << 20)
    large = Engine(sr2, sr_card(2), memory_budget=256 << 20)
    assert inference.MIN_TILE <= small.tile < large.tile <= inference.MAX_TILE
    batched = Engine(sr2, sr_card(2), memory_budget=64 << 20, batch_size=4)
    assert batched.tile < Engine(sr2, sr_card(2), memory_budget=64 << 20).tile
    # sr_net(2): the widest activation is 12 channels at input size, plus input and output.
    assert 4 * (3 * 12 + 3 + 12) == pytest.approx(small.bytes_per_pixel)
    # The budget also holds two float output blocks of the batch (2 x 4 B x 3 x scale^2).
    medium = Engine(sr2, sr_card(2), memory_budget=16 << 20)
    per_pixel = medium.bytes_per_pixel + 2 * 4 * 3 * 4
    assert (medium.tile + 1) ** 2 * per_pixel > 16 << 20 >= medium.tile**2 * per_pixel


def test_in_place_quantization_matches_imageio():
    rng = np.random.default_rng(0)
    x = rng.normal(0.2, 0.7, (50, 40, 3)).astype(np.float32)
    x[0, :4, 0] = [0.5 / 255, 1.5 / 255, -1e-9, 1.0]  # rounding ties and the ends
    for dtype, value_range in ((np.uint8, (0.0, 1.0)), (np.uint16, (-1.0, 1.0))):
        target = np.zeros(x.shape, dtype)
        engine_module._quantize_into(target, x.copy(), value_range)
        np.testing.assert_array_equal(target, imageio.from_float(x, dtype, value_range))


def test_the_device_only_sees_tiles(sr2):
    engine = Engine(sr2, sr_card(2), tile=64, tile_overlap=16, batch_size=2)
    shapes = []
    predict = engine._predict

    def spy(x):
        shapes.append(x.shape)
        return predict(x)

    engine._predict = spy
    calls = []
    engine.process(random_image(150, 200), progress=calls.append)
    rows, cols = engine.plan(150, 200)
    assert all(s[0] <= 2 and s[1] <= 64 and s[2] <= 64 for s in shapes)
    assert calls[-1] == len(rows.starts) * len(cols.starts) == sum(s[0] for s in shapes)


def test_instance_norm_models_are_flagged_inexact(translator):
    assert Engine(translator, TRANSLATION_CARD).exact_tiling
    assert not Engine(translation_net(norm=True), TRANSLATION_CARD).exact_tiling


def test_a_card_that_lies_about_the_scale_is_caught(sr2):
    with pytest.raises(InferenceError, match="card says scale 4"):
        Engine(sr2, sr_card(4)).process(random_image(8, 8))


@pytest.mark.parametrize(
    "kwargs",
    [{"tile": -1}, {"batch_size": 0}, {"precision": "int8"}, {"alpha": "x"}, {"outscale": 0}],
)
def test_bad_options_are_refused(sr2, kwargs):
    with pytest.raises(InferenceError):
        Engine(sr2, sr_card(2), **kwargs)
