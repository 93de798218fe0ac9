"""recipes/day2night_earth.py end to end, at a tiny setting, on a small made-up map pair."""

import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np

from i2i import imageio, metrics

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "day2night_earth.py"


def load_recipe():
    """The recipe script as a module (its `main(argv)` is what `python RECIPE ...` runs)."""
    spec = importlib.util.spec_from_file_location("day2night_earth", RECIPE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_maps(folder: Path, photo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A 128x64 'day' map from a real photo and its 'night': black with lights where
    the day is bright (both saved as JPEG, as the real maps are)."""
    day = cv2.resize(photo, (128, 64), interpolation=cv2.INTER_AREA)
    bright = day.mean(axis=2) > 170
    night = np.zeros_like(day)
    night[bright] = (230, 200, 90)
    imageio.write_image(folder / "day.jpg", day)
    imageio.write_image(folder / "night.jpg", night)
    return imageio.read_image(folder / "day.jpg"), imageio.read_image(folder / "night.jpg")


def test_recipe_trains_scores_the_held_out_quarter_and_fills_the_card(tmp_path, photos, capsys):
    data = tmp_path / "earth"
    _, night = write_maps(data, photos["astronaut"])
    out = tmp_path / "run"
    tiny = [
        "--steps", "2", "--steps-per-epoch", "1", "--batch-size", "2", "--crop", "16",
        "--tile", "32", "--filters", "4", "--discriminator-filters", "4", "--n-layers", "1",
        "--average-last", "2", "--verbose", "0",
    ]  # fmt: skip
    results = load_recipe().main(["--data", str(data), "--out", str(out), *tiny])
    assert "held-out quarter" in capsys.readouterr().out

    # Training saw only the western three quarters: 3 x 2 tiles of 32 px.
    assert len(list((out / "dataset" / "A").glob("*.png"))) == 6
    assert results == json.loads((out / "results.json").read_text())
    east = night[:, 96:]
    rows = results["scores"]
    assert rows["black"]["psnr"] == round(metrics.psnr(np.zeros_like(east), east), 3)
    assert rows["black"]["lit_auc"] == 0.5 and rows["black"]["lum_corr"] == 0.0
    for name in ("pix2pix", "black", "day luminance", "land x darkness"):
        row = rows[name]
        assert np.isfinite(row["psnr"]) and -1 <= row["ssim"] <= 1 and 0 <= row["lit_auc"] <= 1
        assert -1 <= row["lum_corr"] <= 1 and row["lattice"] >= 1
    assert results["generator_bytes"] == (out / "generator.keras").stat().st_size

    panel = imageio.read_image(out / "heldout.png")
    assert panel.shape == (64, 3 * 32, 3)
    card = json.loads((out / "generator.json").read_text())
    assert card["recipe"] == "recipes/day2night_earth.py" and card["task"] == "translation"
    assert card["quality"]["pix2pix"] == rows["pix2pix"] and "license" in card
    assert card["checkpoint_average"] == {"epochs": [1, 2]}  # the exported mean
    # The card's command is the one that ran, every option included.
    assert card["command"] == "python recipes/day2night_earth.py " + " ".join(
        ["--data", str(data), "--out", str(out), *tiny]
    )
