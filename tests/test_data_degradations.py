"""The Real-ESRGAN high-order degradation: kernels, options, seeds, what it does to photos."""

import dataclasses
import json

import numpy as np
import pytest

from i2i import metrics
from i2i.data import degradations, resize
from i2i.data.degradations import Degradation, DegradationRound


def test_gaussian_and_plateau_kernels():
    iso = degradations.gaussian_kernel(21, 2.0)
    assert iso.shape == (21, 21) and iso.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(iso, iso.T)  # isotropic
    np.testing.assert_allclose(iso, iso[::-1, ::-1])  # point-symmetric: filter2D = convolution
    # Its second moment along x is sigma^2 (the kernel is wide enough not to cut it).
    offsets = np.arange(21) - 10
    assert (iso.sum(axis=0) * offsets**2).sum() == pytest.approx(4.0, rel=0.01)
    # Anisotropic, rotated 90 degrees: the transpose of the unrotated one.
    wide = degradations.gaussian_kernel(21, 2.0, 1.0)
    turned = degradations.gaussian_kernel(21, 2.0, 1.0, theta=np.pi / 2)
    np.testing.assert_allclose(turned, wide.T, atol=1e-12)
    along_x, along_y = (wide.sum(axis=0) * offsets**2).sum(), (wide.sum(axis=1) * offsets**2).sum()
    assert along_x == pytest.approx(4.0, rel=0.01) and along_y == pytest.approx(1.0, rel=0.01)
    # Generalized Gaussian beta > 1 has lighter tails; plateau kernels a flat top.
    light = degradations.gaussian_kernel(21, 2.0, beta=4.0)
    assert light[10, 0] < iso[10, 0]
    plateau = degradations.gaussian_kernel(21, 2.0, beta=2.0, plateau=True)
    assert plateau[10, 10] - plateau[10, 11] < iso[10, 10] - iso[10, 11]


def test_sinc_kernel_is_a_low_pass_with_its_cutoff():
    kernel = degradations.sinc_kernel(21, np.pi / 3)
    assert kernel.sum() == pytest.approx(1.0)
    response = np.abs(np.fft.fftshift(np.fft.fft2(kernel, (128, 128))))
    freq = np.hypot(*np.meshgrid(*(2 * [np.fft.fftshift(np.fft.fftfreq(128)) * 2 * np.pi])))
    assert response[freq < np.pi / 6].min() > 0.8  # passes below the cutoff
    assert response[freq > np.pi / 2].max() < 0.2  # stops above it
    # Ringing: a sinc has negative lobes, a Gaussian none.
    assert kernel.min() < 0 <= degradations.gaussian_kernel(21, 2.0).min()


def test_same_seed_same_image_other_seed_other_image(photos):
    hr = photos["astronaut"][100:228, 120:216]
    a = degradations.degrade(hr, 4, seed=3)
    assert a.shape == (32, 24, 3) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, degradations.degrade(hr, 4, seed=3))
    assert not np.array_equal(a, degradations.degrade(hr, 4, seed=4))
    np.testing.assert_array_equal(
        degradations.degrade(hr, 4, seed=[7, 1]), degradations.degrade(hr, 4, seed=[7, 1])
    )


def test_degraded_photos_are_blurred_noisy_and_far_from_bicubic(photos):
    hr = resize.mod_crop(photos["coffee"][:256, :256], 4)
    bicubic = resize.downsample(hr, 4)
    lrs = [degradations.degrade(hr, 4, seed=s) for s in range(12)]
    psnrs = [metrics.psnr(lr, bicubic) for lr in lrs]
    # Far from clean bicubic LR on average, and a varied family of degradations.
    assert np.mean(psnrs) < 30 and np.std(psnrs) > 1.5, psnrs

    # Every draw adds noise (Gaussian or Poisson, in both rounds): a flat grey image,
    # exactly flat in bicubic LR, is not after the degradation.
    flat = np.full((96, 96, 3), 128, np.uint8)
    assert resize.downsample(flat, 4).std() == 0
    assert min(degradations.degrade(flat, 4, seed=s).std() for s in range(12)) > 0.2
    # Blur: a vertical edge is softer on average than in bicubic LR.
    edge = np.zeros((96, 96, 3), np.uint8)
    edge[:, 48:] = 255

    def sharpness(lr):
        return np.abs(np.diff(lr[:, :, 1].astype(float), axis=1)).max(axis=1).mean()

    blurred = np.mean([sharpness(degradations.degrade(edge, 4, seed=s)) for s in range(12)])
    assert blurred < 0.8 * sharpness(resize.downsample(edge, 4))


# A round that changes nothing but keeps every step in the draw: no blur, no resize, noise
# of sigma 0 and JPEG at quality 100.
QUIET = DegradationRound(
    blur_prob=0.0,
    resize_prob=(0.0, 0.0, 1.0),
    gaussian_noise_prob=1.0,
    noise_range=(0.0, 0.0),
    jpeg_range=(100.0, 100.0),
)


def test_every_step_off_is_a_plain_resize(photos):
    hr = resize.mod_crop(photos["chelsea"][:200, :240], 4)
    options = Degradation(first=QUIET, second=QUIET, final_sinc_prob=0.0)
    lr = degradations.degrade(hr, 4, seed=0, options=options)
    assert lr.shape == (50, 60, 3)
    # Only the final resize (area, bilinear or bicubic) and two JPEGs at quality 100 remain.
    assert metrics.psnr(lr, resize.downsample(hr, 4)) > 30


def test_resize_mode_weights_choose_the_interpolation(photos):
    import cv2

    hr = resize.mod_crop(photos["astronaut"][:256, :256], 4)
    plain = {
        mode: cv2.resize(hr, (64, 64), interpolation=flag)
        for mode, flag in (("area", cv2.INTER_AREA), ("bilinear", cv2.INTER_LINEAR))
    }
    for mode, weights in (("area", (1, 0, 0)), ("bilinear", (0, 1, 0))):
        # The second round's resize takes HR to the LR size; the last one keeps it.
        second = dataclasses.replace(QUIET, resize_modes=weights)
        options = Degradation(
            first=QUIET, second=second, final_sinc_prob=0.0, final_resize_modes=weights
        )
        for seed in range(3):
            lr = degradations.degrade(hr, 4, seed=seed, options=options)
            other = plain["bilinear" if mode == "area" else "area"]
            # Two JPEGs at quality 100 remain: close to the chosen resize, far from the other.
            assert metrics.psnr(lr, plain[mode]) > metrics.psnr(lr, other) + 3
    with pytest.raises(ValueError, match="final_resize_modes"):
        degradations.load_options({"final_resize_modes": [0, 0, 0]})
    with pytest.raises(ValueError, match=r"second\.resize_modes"):
        degradations.load_options({"second": {"resize_modes": [1, 1]}})


def test_tiny_images_work(photos):
    for shape in ((4, 4), (8, 20), (20, 8)):
        hr = np.ascontiguousarray(photos["rocket"][: shape[0], : shape[1]])
        for seed in range(8):
            lr = degradations.degrade(hr, 4, seed=seed)
            assert lr.shape == (shape[0] // 4, shape[1] // 4, 3)


def test_options_from_a_json_file(tmp_path):
    path = tmp_path / "mild.json"
    path.write_text(json.dumps({"final_sinc_prob": 0.5, "second": {"noise_range": [1, 5]}}))
    options = degradations.load_options(path)
    assert options.final_sinc_prob == 0.5
    assert options.second.noise_range == (1, 5) and options.second.blur_prob == 0.8
    assert options.first == DegradationRound()
    assert degradations.load_options("") == Degradation()
    path.write_text(json.dumps({"second": {"nosie_range": [1, 5]}}))
    with pytest.raises(ValueError, match=r"mild\.json: unknown option second\.nosie_range"):
        degradations.load_options(path)
    path.write_text("{not json")
    with pytest.raises(ValueError, match=r"mild\.json: cannot read"):
        degradations.load_options(path)
    with pytest.raises(ValueError, match="resize_prob"):
        degradations.load_options({"first": {"resize_prob": [1.0]}})


def test_refuses_what_it_cannot_degrade():
    with pytest.raises(TypeError, match="uint8"):
        degradations.degrade(np.zeros((8, 8, 3), np.float32), 2)


def test_phone_degradation_is_mild_noise_and_jpeg_on_bicubic(photos):
    hr = resize.mod_crop(photos["coffee"][:200, :300], 4)
    bicubic = resize.downsample(hr, 4)
    lr = degradations.phone(hr, 4, seed=0)
    assert lr.shape == bicubic.shape and lr.dtype == np.uint8
    np.testing.assert_array_equal(lr, degradations.phone(hr, 4, seed=0))
    assert not np.array_equal(lr, degradations.phone(hr, 4, seed=1))
    # Mild: within a few levels of clean bicubic LR, unlike the training degradation.
    assert 28 < metrics.psnr(lr, bicubic) < 42
