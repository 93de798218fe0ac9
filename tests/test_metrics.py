"""PSNR / SSIM against scikit-image (an independent implementation) on real photos."""

import cv2
import numpy as np
import pytest
from skimage.color import rgb2ycbcr
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from i2i import metrics

COLOUR_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket")


def degraded(image: np.ndarray, scale: int = 4, seed: int = 0) -> np.ndarray:
    """A realistic SR-like prediction: bicubic down and up again, plus a little noise."""
    height, width = image.shape[:2]
    small = cv2.resize(image, (width // scale, height // scale), interpolation=cv2.INTER_AREA)
    up = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC).astype(np.float64)
    noise = np.random.default_rng(seed).normal(0.0, 3.0, image.shape)
    return np.clip(np.round(up + noise), 0, 255).astype(np.uint8)


def reference_ssim(pred, target, data_range, channel_axis=-1):
    return structural_similarity(
        pred,
        target,
        gaussian_weights=True,
        sigma=1.5,
        use_sample_covariance=False,
        data_range=data_range,
        channel_axis=channel_axis,
    )


def crop(image, border):
    return image[border:-border, border:-border] if border else image


@pytest.fixture(scope="module")
def pairs(photos):
    pairs = {}
    for name in COLOUR_PHOTOS:
        target = metrics.mod_crop(photos[name][:256, :300], 4)
        pairs[name] = (degraded(target), target)
    return pairs


@pytest.mark.parametrize("border", [0, 4])
def test_psnr_rgb_matches_scikit_image(pairs, border):
    for pred, target in pairs.values():
        expected = peak_signal_noise_ratio(crop(target, border), crop(pred, border), data_range=255)
        assert metrics.psnr(pred, target, crop_border=border) == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("border", [0, 4])
def test_psnr_y_channel_matches_scikit_image(pairs, border):
    for pred, target in pairs.values():
        y_pred, y_target = (rgb2ycbcr(crop(x, border))[:, :, 0] for x in (pred, target))
        expected = peak_signal_noise_ratio(y_target, y_pred, data_range=255)
        got = metrics.psnr(pred, target, crop_border=border, y_channel=True)
        assert got == pytest.approx(expected, abs=1e-3)


def test_ssim_rgb_matches_scikit_image(pairs):
    for pred, target in pairs.values():
        expected = reference_ssim(crop(pred, 4), crop(target, 4), 255)
        assert metrics.ssim(pred, target, crop_border=4) == pytest.approx(expected, abs=1e-3)


@pytest.mark.parametrize("border", [0, 4])
def test_ssim_y_channel_matches_scikit_image(pairs, border):
    for pred, target in pairs.values():
        y_pred, y_target = (rgb2ycbcr(crop(x, border))[:, :, 0] for x in (pred, target))
        expected = reference_ssim(y_pred, y_target, 255, channel_axis=None)
        got = metrics.ssim(pred, target, crop_border=border, y_channel=True)
        assert got == pytest.approx(expected, abs=1e-3)


def test_agreement_is_tight(pairs):
    """Not just within 1e-3: the two implementations agree to rounding error."""
    pred, target = pairs["astronaut"]
    ours = metrics.ssim(pred, target, y_channel=True)
    y_pred, y_target = (rgb2ycbcr(x)[:, :, 0] for x in (pred, target))
    assert abs(ours - reference_ssim(y_pred, y_target, 255, channel_axis=None)) < 1e-6
    psnr_ref = peak_signal_noise_ratio(y_target, y_pred, data_range=255)
    assert abs(metrics.psnr(pred, target, y_channel=True) - psnr_ref) < 1e-6


def test_y_channel_is_matlab_bt601():
    rgb = np.array([[[0, 0, 0], [255, 255, 255], [255, 0, 0]]], np.uint8)
    np.testing.assert_allclose(metrics.to_y(rgb)[0], [16.0, 235.0, 16 + 65.481])


def test_float_inputs_are_rounded_to_uint8_first(pairs):
    pred, target = pairs["chelsea"]
    # A float prediction in [0, 1] that is off by less than half a level scores as exact.
    pred_float = pred / 255.0 + 0.4 / 255.0
    assert metrics.psnr(pred_float, target) == pytest.approx(metrics.psnr(pred, target))
    assert metrics.ssim(pred_float, target) == pytest.approx(metrics.ssim(pred, target))
    signed = pred / 127.5 - 1.0
    got = metrics.psnr(signed, target, value_range=(-1.0, 1.0))
    assert got == pytest.approx(metrics.psnr(pred, target))


def test_uint16_uses_its_own_peak(pairs):
    pred, target = pairs["coffee"]
    pred16, target16 = (x.astype(np.uint16) * 257 for x in (pred, target))
    expected = peak_signal_noise_ratio(target16, pred16, data_range=65535)
    assert metrics.psnr(pred16, target16) == pytest.approx(expected, abs=1e-3)
    # x * 257 maps 8-bit onto 16-bit exactly, so the scores match the 8-bit ones.
    assert metrics.psnr(pred16, target16) == pytest.approx(metrics.psnr(pred, target), abs=1e-9)
    assert metrics.ssim(pred16, target16, y_channel=True) == pytest.approx(
        metrics.ssim(pred, target, y_channel=True), abs=1e-6
    )


def test_identical_and_gray_images(photos):
    image = photos["camera"][:64, :64, 0]
    assert metrics.psnr(image, image) == float("inf")
    assert metrics.ssim(image, image) == pytest.approx(1.0)
    assert metrics.ssim(image, image, y_channel=True) == pytest.approx(1.0)


def test_mod_crop():
    assert metrics.mod_crop(np.zeros((17, 23, 3)), 4).shape == (16, 20, 3)


def test_errors():
    a = np.zeros((32, 32, 3), np.uint8)
    with pytest.raises(ValueError, match="shape"):
        metrics.psnr(a, a[:16])
    with pytest.raises(TypeError, match="bit depth"):
        metrics.psnr(a, a.astype(np.uint16))
    with pytest.raises(ValueError, match="crop_border"):
        metrics.psnr(a, a, crop_border=16)
    with pytest.raises(ValueError, match="at least 11x11"):
        metrics.ssim(a[:12, :12], a[:12, :12], crop_border=1)
