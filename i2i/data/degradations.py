"""The Real-ESRGAN high-order degradation model: realistic LR images from HR photos.

Phones and the web deliver photos that were blurred by a lens, resized, noisy, JPEG
compressed, and often processed again (resized, re-compressed) on the way. A model
trained on clean bicubic LR sharpens all of that; this module synthesises it, so a
model learns to remove it. One round of degradation is

    x -> blur (k) -> resize (random factor, area / bilinear / bicubic)
      -> noise (Gaussian or Poisson, colour or grey) -> JPEG (random quality),

and the model applies two rounds (the second blur with probability 0.8), then resizes
to the LR size with a 2-D sinc filter (ringing and overshoot artefacts, p = 0.8) and a
last JPEG in random order. Blur kernels are drawn from six families (isotropic and
anisotropic Gaussian, generalized Gaussian, plateau) or a sinc, of 7 to 21 pixels.

Every probability and range is an option (`Degradation`, `DegradationRound`), with the
paper's defaults (`train_realesrgan_x4plus.yml` of Real-ESRGAN / BasicSR); a JSON file
of overrides is read by `load_options` (`i2i dataset sr --degrade-options FILE`,
`--set degradation_options=FILE` in training). Randomness comes from one
`np.random.Generator` seeded per sample: the same seed gives the same LR image.

`phone` is a different, simpler degradation for evaluation (bicubic, mild Gaussian noise,
JPEG at quality 50-75): a model trained on `degrade` is tested on LR it was not trained
to undo (`i2i evaluate --model M --hr-dir DIR --degrade phone`).

Why this is written here rather than taken from a library: the pixel work is OpenCV's
(`cv2.filter2D`, `cv2.resize`, `cv2.imencode`/`imdecode` for JPEG), but no maintained
package provides the paper's kernel families, its sinc filter and its two-round
schedule: albumentations' `AdvancedBlur` multiplies noise into its generalized-Gaussian
kernels and has no plateau kernels, its `RingingOvershoot` draws other cutoffs, and
BasicSR (where the reference code lives) needs PyTorch. The kernels are 21x21 arrays
computed with NumPy (and `scipy.special.j1` for the sinc), as in BasicSR. Left out: the
unsharp masking Real-ESRGAN applies to its training targets (a choice of target, not
of degradation) and its pool of training pairs shuffled across batches.

Example:

```python
from i2i.data import degradations

lr = degradations.degrade(hr_uint8, scale=4, seed=7)       # (H/4, W/4, 3) uint8
milder = degradations.Degradation(final_sinc_prob=0.0)
lr = degradations.degrade(hr_uint8, 4, seed=7, options=milder)
test_lr = degradations.phone(hr_uint8, 4, seed=0)           # evaluation: noise + JPEG
```

Reference:
    Wang et al., "Real-ESRGAN: Training Real-World Blind Super-Resolution with Pure
    Synthetic Data", ICCVW 2021 (section 3, the high-order degradation model).
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

KERNEL_TYPES = (
    "iso",
    "aniso",
    "generalized_iso",
    "generalized_aniso",
    "plateau_iso",
    "plateau_aniso",
)
RESIZE_MODES = ("area", "bilinear", "bicubic")
# The largest kernel size. BasicSR pads every kernel to it to batch them on a GPU; here
# each is applied at its own size (the same result: the padding is zeros), 2-4x faster.
MAX_KERNEL = 21


@dataclass(frozen=True)
class DegradationRound:
    """One round of the high-order model: blur, resize, noise, JPEG.

    Attributes:
        blur_prob: probability that this round blurs at all (1.0 in the first round).
        kernel_probs: probabilities of the kernel families `KERNEL_TYPES`.
        sinc_prob: probability of a sinc kernel instead of one of those families.
        blur_sigma: range of the Gaussian sigmas (HR pixels at the round's scale).
        betag_range: shape parameter range of the generalized Gaussian kernels.
        betap_range: shape parameter range of the plateau kernels.
        resize_prob: probabilities of (up, down, keep).
        resize_range: range of the resize factor (below 1 shrinks).
        resize_modes: weights of the interpolations `RESIZE_MODES` (area, bilinear,
            bicubic; the paper: equal). OpenCV's bilinear and bicubic do not
            antialias when they shrink, area does.
        gaussian_noise_prob: probability of Gaussian noise; Poisson noise otherwise.
        noise_range: Gaussian noise sigma range, in 8-bit levels.
        poisson_scale_range: Poisson noise scale range.
        gray_noise_prob: probability that the noise is the same on all channels.
        jpeg_range: JPEG quality range.
    """

    blur_prob: float = 1.0
    kernel_probs: tuple[float, ...] = (0.45, 0.25, 0.12, 0.03, 0.12, 0.03)
    sinc_prob: float = 0.1
    blur_sigma: tuple[float, float] = (0.2, 3.0)
    betag_range: tuple[float, float] = (0.5, 4.0)
    betap_range: tuple[float, float] = (1.0, 2.0)
    resize_prob: tuple[float, float, float] = (0.2, 0.7, 0.1)
    resize_range: tuple[float, float] = (0.15, 1.5)
    resize_modes: tuple[float, float, float] = (1.0, 1.0, 1.0)
    gaussian_noise_prob: float = 0.5
    noise_range: tuple[float, float] = (1.0, 30.0)
    poisson_scale_range: tuple[float, float] = (0.05, 3.0)
    gray_noise_prob: float = 0.4
    jpeg_range: tuple[float, float] = (30.0, 95.0)


SECOND_ROUND = DegradationRound(
    blur_prob=0.8,
    blur_sigma=(0.2, 1.5),
    resize_prob=(0.3, 0.4, 0.3),
    resize_range=(0.3, 1.2),
    noise_range=(1.0, 25.0),
    poisson_scale_range=(0.05, 2.5),
)


@dataclass(frozen=True)
class Degradation:
    """The options of the high-order degradation model (the paper's defaults).

    Attributes:
        first: the first round.
        second: the second round (its resize is relative to the LR size).
        final_sinc_prob: probability of the final sinc filter (identity otherwise).
        final_resize_modes: weights of `RESIZE_MODES` for the last resize, to
            the LR size.
        kernel_sizes: odd kernel sizes to draw from (7 to 21).
    """

    first: DegradationRound = DegradationRound()
    second: DegradationRound = SECOND_ROUND
    final_sinc_prob: float = 0.8
    final_resize_modes: tuple[float, float, float] = (1.0, 1.0, 1.0)
    kernel_sizes: tuple[int, ...] = (7, 9, 11, 13, 15, 17, 19, 21)


def load_options(source=None) -> Degradation:
    """Options from a JSON file (or a dict): top-level keys of `Degradation`, and
    `first` / `second` dicts of `DegradationRound` keys; the rest keeps the defaults.

    Raises:
        ValueError: an unknown key, a file that cannot be read, or bad values; the
            message names the file and the key.
    """
    if source is None or source == "":
        return Degradation()
    where = "degradation options"
    if isinstance(source, (str, Path)):
        where = str(source)
        try:
            source = json.loads(Path(source).read_text())
        except (OSError, ValueError) as error:
            raise ValueError(f"{where}: cannot read degradation options ({error})") from None
    if not isinstance(source, dict):
        raise ValueError(f"{where}: degradation options must be a JSON object")

    def build(cls, values, prefix, defaults):
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"{where}: unknown option {prefix}{unknown[0]} (known: {', '.join(sorted(known))})"
            )
        changes = {}
        for key, value in values.items():
            default = getattr(defaults, key)
            if isinstance(default, DegradationRound):
                if not isinstance(value, dict):
                    raise ValueError(f"{where}: {prefix}{key} must be an object")
                value = build(DegradationRound, value, f"{prefix}{key}.", default)
            elif isinstance(default, tuple):
                value = tuple(value)
            changes[key] = value
        return dataclasses.replace(defaults, **changes)

    options = build(Degradation, source, "", Degradation())
    _check(options, where)
    return options


def _check(options: Degradation, where: str) -> None:
    for name in ("first", "second"):
        r = getattr(options, name)
        if len(r.kernel_probs) != len(KERNEL_TYPES) or len(r.resize_prob) != 3:
            raise ValueError(
                f"{where}: {name}.kernel_probs needs {len(KERNEL_TYPES)} values and "
                f"{name}.resize_prob 3 (up, down, keep)"
            )
        _check_modes(r.resize_modes, f"{where}: {name}.resize_modes")
        if r.resize_range[0] <= 0 or r.resize_range[0] > 1 or r.resize_range[1] < 1:
            raise ValueError(f"{where}: {name}.resize_range must be (low <= 1, high >= 1)")
    _check_modes(options.final_resize_modes, f"{where}: final_resize_modes")
    if not options.kernel_sizes or any(k % 2 == 0 or k > MAX_KERNEL for k in options.kernel_sizes):
        raise ValueError(f"{where}: kernel_sizes must be odd and at most {MAX_KERNEL}")


def _check_modes(weights, label: str) -> None:
    if len(weights) != len(RESIZE_MODES) or min(weights) < 0 or not sum(weights):
        raise ValueError(f"{label} needs 3 weights >= 0 (area, bilinear, bicubic)")


# ----------------------------------------------------------------------------------------
# Kernels


def _grid(size: int) -> np.ndarray:
    """(size, size, 2) pixel offsets from the kernel centre, as (x, y)."""
    ax = np.arange(size, dtype=np.float64) - (size - 1) / 2
    xx, yy = np.meshgrid(ax, ax)
    return np.stack([xx, yy], axis=-1)


def _quadratic_form(size: int, sigma_x: float, sigma_y: float, theta: float) -> np.ndarray:
    """x^T Sigma^-1 x over the grid, Sigma = R diag(sx^2, sy^2) R^T."""
    rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
    sigma = rotation @ np.diag([sigma_x**2, sigma_y**2]) @ rotation.T
    grid = _grid(size)
    return np.einsum("hwi,ij,hwj->hw", grid, np.linalg.inv(sigma), grid)


def gaussian_kernel(size, sigma_x, sigma_y=None, theta=0.0, beta=1.0, plateau=False):
    """A normalized 2-D blur kernel.

    Gaussian and generalized Gaussian: `exp(-0.5 * (x^T S^-1 x) ** beta)` (beta = 1 is
    the Gaussian); plateau: `1 / (1 + (x^T S^-1 x) ** beta)`. `sigma_y=None` is
    isotropic.
    """
    q = _quadratic_form(size, sigma_x, sigma_x if sigma_y is None else sigma_y, theta)
    kernel = 1.0 / (1.0 + q**beta) if plateau else np.exp(-0.5 * q**beta)
    return kernel / kernel.sum()


def sinc_kernel(size: int, cutoff: float) -> np.ndarray:
    """The circular low-pass (2-D sinc) filter with cutoff frequency `cutoff` (radians).

    `cutoff * J1(cutoff * r) / (2 pi r)`, normalized; pi keeps every frequency.
    """
    from scipy import special

    r = np.hypot(*np.moveaxis(_grid(size), -1, 0))
    with np.errstate(divide="ignore", invalid="ignore"):
        kernel = cutoff * special.j1(cutoff * r) / (2 * np.pi * r)
    kernel[size // 2, size // 2] = cutoff**2 / (4 * np.pi)
    return kernel / kernel.sum()


def _f32(kernel: np.ndarray) -> np.ndarray:
    return kernel.astype(np.float32)


def _split_range(rng, low, high):
    """A shape parameter: below or above 1 with equal odds (BasicSR's draw)."""
    return rng.uniform(low, 1.0) if rng.uniform() < 0.5 else rng.uniform(1.0, high)


def random_kernel(rng: np.random.Generator, round_: DegradationRound, sizes) -> np.ndarray:
    """A random blur kernel of one round (family, size, sigmas, angle, shape)."""
    size = int(rng.choice(sizes))
    if rng.uniform() < round_.sinc_prob:
        # Wider kernels may cut lower: the paper's settings for 7..21 px kernels.
        low = math.pi / 3 if size < 13 else math.pi / 5
        return _f32(sinc_kernel(size, rng.uniform(low, math.pi)))
    probs = np.asarray(round_.kernel_probs, np.float64)
    kind = KERNEL_TYPES[int(rng.choice(len(KERNEL_TYPES), p=probs / probs.sum()))]
    sigma_x = rng.uniform(*round_.blur_sigma)
    sigma_y, theta = None, 0.0
    if kind.endswith("aniso"):
        sigma_y = rng.uniform(*round_.blur_sigma)
        theta = rng.uniform(-math.pi, math.pi)
    if kind.startswith("generalized"):
        beta = _split_range(rng, *round_.betag_range)
        return _f32(gaussian_kernel(size, sigma_x, sigma_y, theta, beta))
    if kind.startswith("plateau"):
        beta = _split_range(rng, *round_.betap_range)
        return _f32(gaussian_kernel(size, sigma_x, sigma_y, theta, beta, plateau=True))
    return _f32(gaussian_kernel(size, sigma_x, sigma_y, theta))


# ----------------------------------------------------------------------------------------
# Pixel operations (float32 images in [0, 1], RGB)


def _filter(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    import cv2

    # Every kernel here is point-symmetric, so correlation (filter2D) = convolution;
    # reflection without repeating the edge pixel, as BasicSR's filter2D pads.
    return cv2.filter2D(image, -1, kernel, borderType=cv2.BORDER_REFLECT_101)


def _resize(image: np.ndarray, height: int, width: int, mode: str) -> np.ndarray:
    import cv2

    flags = {"area": cv2.INTER_AREA, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}
    out = cv2.resize(image, (max(1, width), max(1, height)), interpolation=flags[mode])
    return out if out.ndim == 3 else out[..., None]


def _noise(rng, image: np.ndarray, round_: DegradationRound) -> np.ndarray:
    """Gaussian (sigma in levels) or Poisson (shot) noise, colour or grey; clipped."""
    gray = rng.uniform() < round_.gray_noise_prob
    if rng.uniform() < round_.gaussian_noise_prob:
        sigma = rng.uniform(*round_.noise_range) / 255.0
        shape = image.shape[:2] + ((1,) if gray else (image.shape[2],))
        noise = rng.standard_normal(shape, dtype=np.float32) * np.float32(sigma)
    else:
        scale = rng.uniform(*round_.poisson_scale_range)
        source = image.mean(axis=2, keepdims=True) if gray else image
        # Photon counts: as many levels as the image has distinct values, rounded up to
        # a power of two (skimage's random_noise "poisson", as BasicSR does).
        levels8 = np.clip(np.round(source * 255.0), 0, 255) / 255.0
        vals = 2.0 ** math.ceil(math.log2(max(len(np.unique(levels8)), 2)))
        noise = (rng.poisson(levels8 * vals) / vals - levels8).astype(np.float32) * scale
    return np.clip(image + noise, 0.0, 1.0)


def _jpeg(rng, image: np.ndarray, quality_range) -> np.ndarray:
    import cv2

    quality = int(round(rng.uniform(*quality_range)))
    pixels = np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)
    # OpenCV's codec reads BGR: flip, so the luma weights fall on the right channels.
    ok, data = cv2.imencode(".jpg", pixels[..., ::-1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a valid uint8 array
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(data, cv2.IMREAD_COLOR)[..., ::-1]
    return decoded.astype(np.float32) / 255.0


def _random_resize(rng, image, round_: DegradationRound, base_h: float, base_w: float):
    """Resize to (base_h, base_w) times a random up / down / keep factor."""
    kind = rng.choice(3, p=np.asarray(round_.resize_prob) / sum(round_.resize_prob))
    low, high = round_.resize_range
    factor = (rng.uniform(1.0, high), rng.uniform(low, 1.0), 1.0)[int(kind)]
    mode = _resize_mode(rng, round_.resize_modes)
    return _resize(image, int(base_h * factor), int(base_w * factor), mode)


def _resize_mode(rng, weights) -> str:
    """One of `RESIZE_MODES`, drawn with these weights."""
    if len(set(weights)) == 1:
        # The paper's equal odds, drawn as before the weights existed: a seed gives the
        # same LR image as it did (datasets made with `i2i dataset sr --degrade`).
        return RESIZE_MODES[int(rng.integers(len(RESIZE_MODES)))]
    weights = np.asarray(weights, dtype=np.float64)
    return RESIZE_MODES[int(rng.choice(len(RESIZE_MODES), p=weights / weights.sum()))]


def degrade(image: np.ndarray, scale: int, seed=None, options: Degradation | None = None):
    """A realistic LR version of an HR image (the Real-ESRGAN high-order model).

    Args:
        image: `(H, W, 3)` uint8 RGB HR image (H and W multiples of `scale`).
        scale: integer factor; the output is exactly `(H // scale, W // scale, 3)`.
        seed: the random draw (an int or a sequence of non-negative ints, as
            `np.random.default_rng` takes): the same seed gives the same image.
        options: a `Degradation` (default: the paper's).

    Returns:
        The LR image, uint8, `(H // scale, W // scale, 3)`.
    """
    image = np.asarray(image)
    if image.dtype != np.uint8 or image.ndim != 3 or image.shape[2] != 3:
        raise TypeError(f"degrade takes (H, W, 3) uint8 images, got {image.shape} {image.dtype}")
    options = options or Degradation()
    rng = np.random.default_rng(seed)
    height, width = image.shape[0] // scale, image.shape[1] // scale
    # Every draw that shapes the result comes from `rng` in a fixed order, so a seed
    # fixes the image; the kernels are drawn first, as Real-ESRGAN's dataset does.
    kernel1 = random_kernel(rng, options.first, options.kernel_sizes)
    kernel2 = random_kernel(rng, options.second, options.kernel_sizes)
    final_sinc = None
    if rng.uniform() < options.final_sinc_prob:
        size = int(rng.choice(options.kernel_sizes))
        final_sinc = _f32(sinc_kernel(size, rng.uniform(math.pi / 3, math.pi)))

    x = image.astype(np.float32) / np.float32(255.0)
    # Round 1, at HR size.
    if rng.uniform() < options.first.blur_prob:
        x = _filter(x, kernel1)
    x = _random_resize(rng, x, options.first, *x.shape[:2])
    x = _jpeg(rng, _noise(rng, x, options.first), options.first.jpeg_range)
    # Round 2, relative to the LR size.
    if rng.uniform() < options.second.blur_prob:
        x = _filter(x, kernel2)
    x = _random_resize(rng, x, options.second, height, width)
    x = _noise(rng, x, options.second)

    def resize_and_sinc(x):
        x = _resize(x, height, width, _resize_mode(rng, options.final_resize_modes))
        return x if final_sinc is None else _filter(x, final_sinc)

    # The last resize (to the LR size) + sinc, and the last JPEG, in random order: the
    # paper found other orders draw twisted lines.
    if rng.uniform() < 0.5:
        x = _jpeg(rng, np.clip(resize_and_sinc(x), 0.0, 1.0), options.second.jpeg_range)
    else:
        x = resize_and_sinc(_jpeg(rng, x, options.second.jpeg_range))
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------------------
# A test degradation that is NOT the training one


PHONE_NOISE = (2.0, 5.0)  # Gaussian noise sigma, 8-bit levels
PHONE_JPEG = (50, 75)  # JPEG quality


def phone(image: np.ndarray, scale: int, seed=None) -> np.ndarray:
    """LR like a phone or web photo: MATLAB bicubic, mild noise, JPEG (for evaluation).

    The LR of the SR literature (`i2i.data.resize.downsample`), then colour Gaussian
    noise of sigma in `PHONE_NOISE` levels and JPEG compression at a quality in
    `PHONE_JPEG`, drawn from `seed`. Simpler and milder than `degrade` and outside its
    draws (no blur kernel, no resize chain, one JPEG): a way to test whether a model
    trained on `degrade` generalises, rather than whether it learnt its own recipe.

    Args:
        image: `(H, W, 3)` uint8 RGB HR image.
        scale: integer factor (HR is mod-cropped to it).
        seed: the noise level, quality and noise draw.

    Returns:
        `(H // scale, W // scale, 3)` uint8.
    """
    from i2i.data.resize import downsample

    rng = np.random.default_rng(seed)
    lr = downsample(np.asarray(image), scale).astype(np.float32) / np.float32(255.0)
    sigma = rng.uniform(*PHONE_NOISE) / 255.0
    noisy = np.clip(lr + rng.standard_normal(lr.shape, dtype=np.float32) * np.float32(sigma), 0, 1)
    out = _jpeg(rng, noisy, PHONE_JPEG)
    return np.clip(np.round(out * 255.0), 0, 255).astype(np.uint8)
