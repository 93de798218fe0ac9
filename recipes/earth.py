"""What the two day -> night recipes share: the Blue Marble maps, tiles, baselines, scores.

`day2night_earth.py` (pix2pix, paired) and `day2night_cyclegan.py` (CycleGAN, unpaired)
train on NASA's aligned 2048x1024 day / city-lights maps and score the easternmost
quarter, never trained on, against the real night map. PSNR and SSIM alone cannot judge
a night map (it is ~98% black: predicting black beats every model), so the scores are
also those of `i2i.sparse_metrics` (ROC-AUC of lit pixels, correlation of blurred
luminance) and the lattice check of `i2i.health`, each beside three baselines:

- black: an all-black night;
- day luminance: the day image's gray level;
- land x darkness: lights on land (not water), brighter where the day image is darker
  (vegetated lowlands, where people live, rather than deserts, mountains or ice),
  blurred over 4 px: a hand-made guess with no learning.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from i2i import imageio

DATA_LICENSE = "NASA Visible Earth (Blue Marble, city lights): public domain"
# The night map is nearly black: the held-out pictures show it brightened this much.
SHOW_GAIN = 4.0
BASELINES = ("black", "day luminance", "land x darkness")


def load_pair(folder: Path):
    """The day and night maps as uint8 RGB arrays of one size."""
    day = imageio.read_image(folder / "day.jpg")
    night = imageio.read_image(folder / "night.jpg")
    if day.shape != night.shape or day.ndim != 3:
        raise SystemExit(f"{folder}: day.jpg {day.shape} and night.jpg {night.shape} differ")
    return day[..., :3], night[..., :3]


def east_cut(width: int) -> int:
    """The first column of the held-out easternmost quarter (90E-180E)."""
    return width * 3 // 4


def tile_starts(length: int, tile: int, stride: int | None = None) -> list[int]:
    """Starts of `tile`-long windows `stride` apart covering `length` (the last one flush
    with the end)."""
    starts = list(range(0, length - tile + 1, stride or tile))
    if starts[-1] + tile < length:
        starts.append(length - tile)
    return starts


def gray3(values: np.ndarray) -> np.ndarray:
    """A float map as a uint8 gray image on three channels (rounded, clipped)."""
    gray = np.clip(np.round(values), 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=2)


def water(day: np.ndarray) -> np.ndarray:
    """Ocean and lakes of the Blue Marble map: blue above both red and green."""
    rgb = day.astype(np.float64)
    return rgb[..., 2] >= np.maximum(rgb[..., 0], rgb[..., 1]) + 10


def ice(day: np.ndarray) -> np.ndarray:
    """Polar ice and snow of the Blue Marble map: bright and nearly gray (deserts, the
    other bright land, are yellow or red)."""
    rgb = day.astype(np.float64)
    return (rgb.min(axis=2) > 150) & (np.ptp(rgb, axis=2) < 40)


def land_darkness(day: np.ndarray) -> np.ndarray:
    """The "land x darkness" baseline night (see the module doc), uint8 RGB."""
    import cv2

    from i2i.sparse_metrics import luminance

    guess = (~water(day)) * (255.0 - luminance(day))
    return gray3(cv2.GaussianBlur(guess, (0, 0), 4.0, borderType=cv2.BORDER_REFLECT))


def baselines(day: np.ndarray) -> dict[str, np.ndarray]:
    """The baseline nights of `BASELINES` for a day map."""
    from i2i.sparse_metrics import luminance

    return {
        "black": np.zeros_like(day),
        "day luminance": gray3(luminance(day)),
        "land x darkness": land_darkness(day),
    }


def scores(prediction: np.ndarray, target: np.ndarray) -> dict:
    """PSNR, SSIM (RGB), lit-pixel AUC, blurred-luminance correlation and lattice ratio."""
    from i2i import health, metrics, sparse_metrics

    return {
        "psnr": round(float(metrics.psnr(prediction, target)), 3),
        "ssim": round(float(metrics.ssim(prediction, target)), 4),
        "lit_auc": round(sparse_metrics.lit_auc(prediction, target), 4),
        "lum_corr": round(sparse_metrics.luminance_correlation(prediction, target), 4),
        "lattice": round(health.lattice_score(prediction).ratio, 1),
    }


def score_table(rows: dict[str, dict]) -> str:
    """`rows` (name -> `scores()`) as the text table the recipes print."""
    columns = ("psnr", "ssim", "lit_auc", "lum_corr", "lattice")
    lines = [f"{'':18s}" + "".join(f"{c:>10s}" for c in columns)]
    for name, row in rows.items():
        lines.append(f"{name:18s}" + "".join(f"{row[c]:10.4g}" for c in columns))
    return "\n".join(lines)


def brighten(image: np.ndarray, gain: float = SHOW_GAIN) -> np.ndarray:
    return np.clip(image.astype(np.float32) * gain, 0, 255).astype(np.uint8)


def translate(run_dir: Path, image: np.ndarray, direction: str = "a2b") -> np.ndarray:
    """`image` through the run's exported generator, whole (as `--tile 0`), float32."""
    from i2i import inference, zoo

    model, card = zoo.load_generator(run_dir, direction=direction)
    return inference.Engine(model, card, tile=0, precision="float32").process(image)
