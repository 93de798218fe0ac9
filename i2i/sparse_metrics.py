"""Metrics for sparse targets, such as city lights at night: where, not how exactly.

A night map is ~98% black: an all-black prediction beats any real model on PSNR and SSIM
(every misplaced light costs more than a missing one), so those cannot judge day -> night.
Two scores that can, both on the BT.601 luminance of 8-bit RGB:

- `lit_auc`: the ROC-AUC of the predicted luminance as a detector of the target's lit
  pixels (target luminance above `threshold` levels): the probability that a random lit
  pixel is predicted brighter than a random dark one (ties count half). 0.5 is chance,
  also what a constant prediction (all black) scores; 1.0 ranks every lit pixel first.
  Computed exactly from ranks (the Mann-Whitney U statistic).
- `luminance_correlation`: the Pearson correlation of the two luminances after a Gaussian
  blur of `sigma` pixels: do the bright regions coincide, at the scale of a few pixels,
  forgiving small shifts. A constant prediction has no correlation: 0.

Example:

```python
from i2i import imageio, sparse_metrics

pred, night = imageio.read_image("pred.png"), imageio.read_image("night.png")
print(sparse_metrics.lit_auc(pred, night), sparse_metrics.luminance_correlation(pred, night))
```

Reference:
    Hanley and McNeil, "The meaning and use of the area under a receiver operating
    characteristic (ROC) curve", Radiology 1982 (AUC = Mann-Whitney U / (n1 n0)).
"""

from __future__ import annotations

import numpy as np

# Target luminance (8-bit levels) above which a night-map pixel counts as lit: the real
# maps' dark ocean and land sit at 0-3, city lights from ~10 up.
LIT_THRESHOLD = 8.0
# Gaussian blur of the luminance correlation, in pixels (about 100 km on the 2048 px
# Blue Marble maps).
BLUR_SIGMA = 4.0
_BT601 = np.array([0.299, 0.587, 0.114])


def luminance(image, crop_border: int = 0) -> np.ndarray:
    """BT.601 luminance in 8-bit levels (float64) of an RGB or gray uint8/uint16 image."""
    image = np.asarray(image)
    if crop_border:
        image = image[crop_border:-crop_border, crop_border:-crop_border]
    values = image.astype(np.float64)
    if image.dtype == np.uint16:
        values /= 257.0
    elif image.dtype != np.uint8:
        raise TypeError(f"expected a uint8 or uint16 image, got {image.dtype}")
    if values.ndim == 3 and values.shape[2] >= 3:
        return values[..., :3] @ _BT601
    return values.reshape(values.shape[:2])


def _check_pair(pred, target):
    if pred.shape != target.shape:
        raise ValueError(f"shapes differ: {pred.shape} vs {target.shape}")


def lit_auc(pred, target, threshold: float = LIT_THRESHOLD, crop_border: int = 0) -> float:
    """ROC-AUC of `pred`'s luminance for the pixels lit in `target` (see the module doc).

    Args:
        pred: the prediction, `(H, W[, C])` uint8 or uint16.
        target: the ground truth, same shape.
        threshold: target luminance (8-bit levels) above which a pixel is lit.
        crop_border: pixels ignored on every side.

    Raises:
        ValueError: shapes differ, or the target has no lit or no dark pixel.
    """
    from scipy.stats import rankdata

    score, truth = luminance(pred, crop_border), luminance(target, crop_border)
    _check_pair(score, truth)
    lit = (truth > threshold).ravel()
    n_lit = int(lit.sum())
    n_dark = lit.size - n_lit
    if n_lit == 0 or n_dark == 0:
        raise ValueError(
            f"the target has {n_lit} lit and {n_dark} dark pixels at threshold {threshold}"
        )
    ranks = rankdata(score.ravel())  # ties get their average rank: they count half
    return float((ranks[lit].sum() - n_lit * (n_lit + 1) / 2) / (n_lit * n_dark))


def luminance_correlation(pred, target, sigma: float = BLUR_SIGMA, crop_border: int = 0) -> float:
    """Pearson correlation of the Gaussian-blurred luminances (see the module doc).

    Args:
        pred: the prediction, `(H, W[, C])` uint8 or uint16.
        target: the ground truth, same shape.
        sigma: the blur's standard deviation in pixels (0: no blur).
        crop_border: pixels ignored on every side.

    Returns:
        The correlation in [-1, 1]; 0 when either image is constant.
    """
    import cv2

    a, b = luminance(pred, crop_border), luminance(target, crop_border)
    _check_pair(a, b)
    if sigma > 0:
        # Reflected borders: no dark frame added around the map.
        a = cv2.GaussianBlur(a, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
        b = cv2.GaussianBlur(b, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    a, b = a.ravel() - a.mean(), b.ravel() - b.mean()
    norm = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum() / norm) if norm > 0 else 0.0
