"""Image quality metrics: PSNR and SSIM (BasicSR / MATLAB protocol), FID and KID.

PSNR and SSIM follow the protocol super-resolution papers report (BasicSR's
`calculate_psnr` / `calculate_ssim`, themselves a port of the MATLAB evaluation scripts),
so numbers are comparable with published tables:

1. both images are integer images, `uint8` (or `uint16`); a float image is first
   clipped to `value_range` and rounded to the integer type, exactly as BasicSR's
   `tensor2img` does to a network output before scoring it;
2. `crop_border` pixels are removed on every side (SR uses `crop_border=scale`);
3. with `y_channel=True`, RGB is converted to the luma of ITU-R BT.601 with MATLAB's
   `rgb2ycbcr` coefficients (studio swing, Y in [16, 235] for 8 bit), kept as unrounded
   float64 as BasicSR does;
4. PSNR: `10 log10(MAX^2 / MSE)` with the MSE in float64 over all pixels and channels
   (`inf` for identical images); SSIM: Wang et al.'s SSIM with an 11x11 Gaussian window,
   sigma 1.5, K1 = 0.01, K2 = 0.03, averaged over the "valid" part of the map (5 pixels
   trimmed on each side), computed per channel and averaged over channels.

It agrees with scikit-image's `peak_signal_noise_ratio(..., data_range=255)` and
`structural_similarity(..., gaussian_weights=True, sigma=1.5,
use_sample_covariance=False, data_range=255, channel_axis=-1)` (tested on real photos).

The SR protocol also mod-crops the HR image to a multiple of the scale before making the
LR input (`mod_crop`).

Example:

```python
from i2i import imageio, metrics

sr, hr = imageio.read_image("sr/baby.png"), imageio.read_image("hr/baby.png")
hr = metrics.mod_crop(hr, 4)
print(metrics.psnr(sr, hr, crop_border=4, y_channel=True))
print(metrics.ssim(sr, hr, crop_border=4, y_channel=True))
```

Reference:
    Wang, Bovik, Sheikh, Simoncelli. "Image quality assessment: from error visibility to
    structural similarity", IEEE TIP 2004.
    Wang et al. BasicSR, https://github.com/XPixelGroup/BasicSR (basicsr/metrics).
"""

from __future__ import annotations

import numpy as np

# MATLAB rgb2ycbcr, Y row (ITU-R BT.601, studio swing), for RGB in [0, 1] -> Y in [16, 235].
_Y_WEIGHTS = np.array([65.481, 128.553, 24.966], np.float64)
_INTEGER_MAX = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}
_SSIM_WINDOW_SIZE = 11
_SSIM_SIGMA = 1.5


def mod_crop(image, scale: int) -> np.ndarray:
    """Crop the bottom/right of `image` so height and width are multiples of `scale`."""
    image = np.asarray(image)
    height, width = image.shape[:2]
    return image[: height - height % scale, : width - width % scale]


def psnr(pred, target, crop_border: int = 0, y_channel: bool = False, value_range=(0.0, 1.0)):
    """Peak signal-to-noise ratio in dB, BasicSR / MATLAB protocol (see the module doc).

    Args:
        pred: the image to score, `(H, W, C)` or `(H, W)`, `uint8`/`uint16`, or float in
            `value_range` (clipped and rounded to the integer type first).
        target: the reference image, same shape.
        crop_border: pixels removed from every side before scoring (SR: the scale).
        y_channel: score the BT.601 luma (Y of MATLAB's `rgb2ycbcr`) of RGB images.
        value_range: the range of float inputs (ignored for integer images).

    Returns:
        PSNR as a Python float; `inf` when the images are identical.

    Example:
        `psnr(sr, hr, crop_border=4, y_channel=True)`
    """
    pred, target, max_value = _prepare(pred, target, crop_border, y_channel, value_range)
    mse = np.mean((pred - target) ** 2, dtype=np.float64)
    if mse == 0:
        return float("inf")
    return float(10.0 * np.log10(max_value**2 / mse))


def ssim(pred, target, crop_border: int = 0, y_channel: bool = False, value_range=(0.0, 1.0)):
    """Structural similarity, BasicSR / MATLAB protocol (see the module doc).

    Args: as for `psnr`. Both images must be at least 11x11 after cropping.

    Returns:
        Mean SSIM over the valid part of the map and over channels, a Python float.

    Example:
        `ssim(sr, hr, crop_border=4, y_channel=True)`
    """
    import cv2

    pred, target, max_value = _prepare(pred, target, crop_border, y_channel, value_range)
    if min(pred.shape[:2]) < _SSIM_WINDOW_SIZE:
        raise ValueError(
            f"SSIM needs images of at least {_SSIM_WINDOW_SIZE}x{_SSIM_WINDOW_SIZE} pixels "
            f"after cropping, got {pred.shape[0]}x{pred.shape[1]}"
        )
    c1 = (0.01 * max_value) ** 2
    c2 = (0.03 * max_value) ** 2
    kernel = cv2.getGaussianKernel(_SSIM_WINDOW_SIZE, _SSIM_SIGMA).astype(np.float64)
    trim = _SSIM_WINDOW_SIZE // 2

    def blur(x):
        # Separable Gaussian; only the "valid" part (untouched by the border rule) is kept.
        out = cv2.sepFilter2D(x, cv2.CV_64F, kernel, kernel, borderType=cv2.BORDER_REFLECT)
        return out[trim:-trim, trim:-trim]

    values = []
    for channel in range(pred.shape[2]):
        x, y = pred[:, :, channel], target[:, :, channel]
        mu_x, mu_y = blur(x), blur(y)
        var_x = blur(x * x) - mu_x**2
        var_y = blur(y * y) - mu_y**2
        cov = blur(x * y) - mu_x * mu_y
        ssim_map = ((2 * mu_x * mu_y + c1) * (2 * cov + c2)) / (
            (mu_x**2 + mu_y**2 + c1) * (var_x + var_y + c2)
        )
        values.append(ssim_map.mean(dtype=np.float64))
    return float(np.mean(values))


def to_y(image, max_value: float = 255.0) -> np.ndarray:
    """BT.601 luma of an RGB image as float64, MATLAB `rgb2ycbcr` (Y in [16, 235] for 8 bit).

    Args:
        image: `(H, W, 3)` RGB with samples in [0, max_value].
        max_value: 255 for 8-bit images, 65535 for 16-bit ones (Y scales with it).

    Returns:
        `(H, W)` float64, not rounded (as BasicSR scores it).
    """
    unit = np.asarray(image, np.float64) / max_value
    return (unit @ _Y_WEIGHTS + 16.0) * (max_value / 255.0)


def _as_integer(image, dtype, value_range) -> np.ndarray:
    """An integer image as it is; a float image clipped and rounded to `dtype`."""
    image = np.asarray(image)
    if image.dtype in _INTEGER_MAX:
        return image
    if not np.issubdtype(image.dtype, np.floating):
        raise TypeError(f"expected a uint8, uint16 or float image, got {image.dtype}")
    from i2i.imageio import from_float

    return from_float(image, dtype, value_range)


def _prepare(pred, target, crop_border, y_channel, value_range):
    """Both images as float64 `(H, W, C)`, cropped (and luma) + the peak value."""
    pred, target = np.asarray(pred), np.asarray(target)
    if pred.shape != target.shape:
        raise ValueError(f"images differ in shape: {pred.shape} vs {target.shape}")
    integer = [x.dtype for x in (pred, target) if x.dtype in _INTEGER_MAX]
    if len(set(integer)) > 1:
        raise TypeError(f"images differ in bit depth: {pred.dtype} vs {target.dtype}")
    dtype = integer[0] if integer else np.dtype(np.uint8)
    max_value = _INTEGER_MAX[dtype]
    pred = _as_integer(pred, dtype, value_range)
    target = _as_integer(target, dtype, value_range)
    if pred.ndim == 2:
        pred, target = pred[:, :, None], target[:, :, None]
    if pred.ndim != 3:
        raise ValueError(f"expected (H, W) or (H, W, C) images, got shape {pred.shape}")
    if crop_border:
        if 2 * crop_border >= min(pred.shape[:2]):
            raise ValueError(f"crop_border={crop_border} leaves nothing of a {pred.shape} image")
        pred = pred[crop_border:-crop_border, crop_border:-crop_border]
        target = target[crop_border:-crop_border, crop_border:-crop_border]
    if y_channel and pred.shape[2] == 3:
        return to_y(pred, max_value)[:, :, None], to_y(target, max_value)[:, :, None], max_value
    return pred.astype(np.float64), target.astype(np.float64), max_value
