"""Image quality metrics: PSNR and SSIM (BasicSR / MATLAB protocol), FID and KID.

## PSNR and SSIM

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

## FID and KID

Distribution metrics for translation without paired ground truth, on the 2048-d average
pool features of InceptionV3 (`keras.applications.InceptionV3(include_top=False,
pooling="avg")`), images resized to 299x299 (bilinear) and scaled to [-1, 1].
The weights are never downloaded: `inception_feature_model(weights)` takes a local file,
or finds Keras' own cached copy of
`inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5` (in `$KERAS_HOME/models/`, or
`~/.keras/models/` then `/tmp/.keras/models/`), and otherwise raises
`MissingWeightsError` naming the file it expected. Any `keras.Model` mapping
`(N, S, S, 3)` images in [-1, 1] to `(N, D)` features can stand in for InceptionV3.

- `frechet_distance` / `fid`: Heusel et al.'s Frechet distance between Gaussians fitted to
  two feature sets (as pytorch-fid computes it, `scipy.linalg.sqrtm`);
- `kid`: Binkowski et al.'s unbiased MMD^2 estimator with the cubic polynomial kernel
  `k(x, y) = (x.y / d + 1)^3`, averaged over random subsets (mean and standard deviation);
  unbiased, so it can be slightly negative when both sets come from one distribution.
FID is biased upwards for small sets (compare numbers only at equal set sizes); KID is
not, which makes it the better choice for the few hundred images of a test split.

```python
model = metrics.inception_feature_model("weights/inception_notop.h5")
real = metrics.image_features(real_images, model)
fake = metrics.image_features(fake_images, model)
print(metrics.fid(real, fake), metrics.kid(real, fake))
```

Reference:
    Heusel et al. "GANs Trained by a Two Time-Scale Update Rule Converge to a Local Nash
    Equilibrium", NeurIPS 2017 (FID).
    Binkowski et al. "Demystifying MMD GANs", ICLR 2018 (KID).
    Wang, Bovik, Sheikh, Simoncelli. "Image quality assessment: from error visibility to
    structural similarity", IEEE TIP 2004.
    Wang et al. BasicSR, https://github.com/XPixelGroup/BasicSR (basicsr/metrics).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from i2i.common import WeightsNotFoundError, find_weights, keras_cache_paths
from i2i.data.resize import mod_crop  # noqa: F401  (re-exported: metrics.mod_crop)

# MATLAB rgb2ycbcr, Y row (ITU-R BT.601, studio swing), for RGB in [0, 1] -> Y in [16, 235].
_Y_WEIGHTS = np.array([65.481, 128.553, 24.966], np.float64)
_INTEGER_MAX = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}
_SSIM_WINDOW_SIZE = 11
_SSIM_SIGMA = 1.5

INCEPTION_WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5"
INCEPTION_WEIGHTS_URL = (
    "https://storage.googleapis.com/tensorflow/keras-applications/inception_v3/"
    + INCEPTION_WEIGHTS_FILE
)
INCEPTION_SIZE = 299


# The one weights-not-found error (also `i2i.losses.VGGWeightsNotFoundError`).
MissingWeightsError = WeightsNotFoundError


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


# --------------------------------------------------------------------------- FID / KID


def keras_cache_weights_paths() -> list[Path]:
    """Where Keras keeps a downloaded InceptionV3 no-top weights file (see
    `i2i.common.keras_cache_paths`)."""
    return keras_cache_paths(INCEPTION_WEIGHTS_FILE)


def find_inception_weights(path=None) -> Path:
    """The InceptionV3 weights file to use: `path`, else the Keras cache.

    Raises:
        MissingWeightsError: the file is not there; nothing is downloaded.
    """
    return find_weights(
        INCEPTION_WEIGHTS_FILE,
        path,
        what="InceptionV3",
        hint=f"pass --inception-weights PATH, or copy it there from {INCEPTION_WEIGHTS_URL}",
    )


def inception_feature_model(weights=None):
    """InceptionV3 without its top, average-pooled: `(N, 299, 299, 3)` in [-1, 1] -> (N, 2048).

    Args:
        weights: path of the no-top ImageNet weights (`.h5`); `None` looks in the Keras
            cache (see `find_inception_weights`).

    Returns:
        A `keras.Model`.

    Raises:
        MissingWeightsError: no weights file; ValueError: the file does not fit the model.
    """
    path = find_inception_weights(weights)
    import keras

    model = keras.applications.InceptionV3(
        include_top=False,
        weights=None,
        pooling="avg",
        input_shape=(INCEPTION_SIZE, INCEPTION_SIZE, 3),
    )
    # A file for another model makes Keras warn once per layer before it fails; the
    # warnings are only worth showing if loading succeeds.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(str(path))
        except Exception as error:  # Keras raises several types for a file that does not fit
            raise ValueError(
                f"{path}: not InceptionV3 no-top weights ({type(error).__name__}: {error})"
            ) from None
    for warning in caught:
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    return model


def image_features(images: Iterable, feature_model, batch_size: int = 16) -> np.ndarray:
    """Features of images for FID/KID.

    Each image is resized (bilinear, no antialiasing, as the reference FID code does) to
    the model's input size (299x299 when the model accepts any size), scaled to [-1, 1]
    (Inception's preprocessing) and run through `feature_model` in batches.

    Args:
        images: `(H, W, 3)` (or gray `(H, W)`) `uint8`/`uint16` arrays, any sizes.
        feature_model: a `keras.Model` such as `inception_feature_model()`, or any model
            mapping `(N, S, S, 3)` in [-1, 1] to `(N, D)`.
        batch_size: images per forward pass.

    Returns:
        `(N, D)` float64 features.
    """
    stream = FeatureStream(feature_model, batch_size)
    for image in images:
        stream.add(image)
    return stream.result()


class FeatureStream:
    """`image_features` of images given one at a time (only a batch of them is kept):
    for scoring images that are made on the fly, such as a model's outputs."""

    def __init__(self, feature_model, batch_size: int = 16):
        self.feature_model, self.batch_size = feature_model, batch_size
        height, width = tuple(feature_model.input_shape[1:3])
        self.size = (INCEPTION_SIZE, INCEPTION_SIZE) if None in (height, width) else (width, height)
        self.pending, self.features = [], []

    def add(self, image) -> None:
        import cv2

        from i2i.data.decode import as_rgb
        from i2i.imageio import to_float

        x = to_float(as_rgb(np.asarray(image)), (-1.0, 1.0))
        self.pending.append(cv2.resize(x, self.size, interpolation=cv2.INTER_LINEAR))
        if len(self.pending) == self.batch_size:
            self._flush()

    def result(self) -> np.ndarray:
        self._flush()
        if not self.features:
            raise ValueError("no images to compute features of")
        return np.concatenate(self.features)

    def _flush(self) -> None:
        if self.pending:
            output = self.feature_model(np.stack(self.pending), training=False)
            self.features.append(np.asarray(output, np.float64).reshape(len(self.pending), -1))
            self.pending = []


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance (unbiased, N - 1) of `(N, D)` features, float64."""
    features = np.asarray(features, np.float64)
    if features.ndim != 2 or len(features) < 2:
        raise ValueError(f"need at least 2 feature vectors (N, D), got shape {features.shape}")
    return features.mean(axis=0), np.cov(features, rowvar=False)


def frechet_distance(mu1, sigma1, mu2, sigma2, eps: float = 1e-6) -> float:
    """Frechet distance between N(mu1, sigma1) and N(mu2, sigma2).

    `|mu1 - mu2|^2 + tr(sigma1 + sigma2 - 2 sqrt(sigma1 sigma2))`, computed as
    pytorch-fid does (an `eps` ridge if the square root is not finite; a negligible
    imaginary part from round-off is dropped).

    Raises:
        ValueError: the square root has a significant imaginary part (far too few samples
            for the feature dimension).
    """
    from scipy import linalg

    mu1, mu2 = np.atleast_1d(mu1).astype(np.float64), np.atleast_1d(mu2).astype(np.float64)
    sigma1, sigma2 = np.atleast_2d(sigma1), np.atleast_2d(sigma2)
    if mu1.shape != mu2.shape or sigma1.shape != sigma2.shape:
        raise ValueError(f"feature dimensions differ: {mu1.shape} vs {mu2.shape}")
    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(sigma1.shape[0]) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            largest = np.max(np.abs(covmean.imag))
            raise ValueError(
                f"FID: the covariance square root is complex (imaginary part {largest:.3g}); "
                "use more images"
            )
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * np.trace(covmean))


def fid(features_a, features_b) -> float:
    """Frechet Inception Distance between two `(N, D)` feature sets (any N >= 2 each)."""
    return frechet_distance(*feature_statistics(features_a), *feature_statistics(features_b))


def kid(
    features_a, features_b, num_subsets: int = 100, subset_size: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """Kernel Inception Distance: unbiased MMD^2 with a cubic polynomial kernel.

    Each of `num_subsets` rounds draws `m = min(subset_size, N_a, N_b)` vectors from each
    set without replacement and computes

        MMD^2 = sum_{i!=j} k(a_i, a_j) / (m(m-1)) + sum_{i!=j} k(b_i, b_j) / (m(m-1))
                - 2 sum_{i,j} k(a_i, b_j) / m^2,     k(x, y) = (x.y / d + 1)^3

    Args:
        features_a, features_b: `(N, D)` feature sets, at least 2 vectors each.
        num_subsets: number of random subsets averaged.
        subset_size: vectors per subset (capped by the set sizes).
        seed: seed of the subset draws (the result is deterministic).

    Returns:
        `(mean, std)` of MMD^2 over the subsets.
    """
    a = np.asarray(features_a, np.float64)
    b = np.asarray(features_b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(f"KID needs (N, D) features of one D, got {a.shape} and {b.shape}")
    m = min(subset_size, len(a), len(b))
    if m < 2:
        raise ValueError(f"KID needs at least 2 feature vectors per set, got {len(a)}, {len(b)}")
    dims = a.shape[1]
    rng = np.random.default_rng(seed)
    values = np.empty(num_subsets)
    for index in range(num_subsets):
        x = a[rng.choice(len(a), m, replace=False)]
        y = b[rng.choice(len(b), m, replace=False)]
        k_xx = (x @ x.T / dims + 1.0) ** 3
        k_yy = (y @ y.T / dims + 1.0) ** 3
        k_xy = (x @ y.T / dims + 1.0) ** 3
        within = (k_xx.sum() - np.trace(k_xx) + k_yy.sum() - np.trace(k_yy)) / (m * (m - 1))
        values[index] = within - 2.0 * k_xy.sum() / (m * m)
    return float(values.mean()), float(values.std())
