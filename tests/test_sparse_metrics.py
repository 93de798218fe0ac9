"""Lit-pixel ROC-AUC and blurred-luminance correlation (i2i.sparse_metrics), and
`i2i evaluate --metrics lit_auc,lum_corr`."""

from itertools import product
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from i2i import imageio, sparse_metrics
from i2i.cli import cli

DATA = Path(__file__).parent / "data"


def gray(values) -> np.ndarray:
    values = np.asarray(values, np.uint8)
    return np.repeat(values[..., None], 3, axis=-1)


def test_auc_equals_the_pairwise_definition():
    rng = np.random.default_rng(0)
    target = gray(rng.choice([0, 2, 30, 200], (12, 9), p=[0.6, 0.2, 0.1, 0.1]))
    pred = gray(rng.integers(0, 6, (12, 9)) * 40)  # many ties
    lit = sparse_metrics.luminance(target).ravel() > sparse_metrics.LIT_THRESHOLD
    score = sparse_metrics.luminance(pred).ravel()
    pairs = [1.0 if a > b else 0.5 if a == b else 0.0 for a, b in product(score[lit], score[~lit])]
    assert sparse_metrics.lit_auc(pred, target) == pytest.approx(np.mean(pairs))


def test_auc_extremes_and_refusals():
    target = gray([[0, 0, 100], [0, 50, 0]])
    assert sparse_metrics.lit_auc(target, target) == 1.0
    assert sparse_metrics.lit_auc(255 - target, target) == 0.0
    assert sparse_metrics.lit_auc(np.zeros_like(target), target) == 0.5  # all black: chance
    with pytest.raises(ValueError, match="0 lit"):
        sparse_metrics.lit_auc(target, np.zeros_like(target))
    with pytest.raises(ValueError, match="shapes differ"):
        sparse_metrics.lit_auc(target[:1], target)


def test_correlation_forgives_small_shifts_and_is_zero_for_black():
    night = imageio.read_image(DATA / "night_lights_east.png")
    shifted = np.roll(night, 2, axis=1)
    assert sparse_metrics.luminance_correlation(night, night) == pytest.approx(1.0)
    blurred = sparse_metrics.luminance_correlation(shifted, night)
    sharp = sparse_metrics.luminance_correlation(shifted, night, sigma=0)
    assert blurred > 0.8 > sharp  # a 2 px shift: forgiven by the 4 px blur, not without it
    assert sparse_metrics.luminance_correlation(np.zeros_like(night), night) == 0.0


def test_evaluate_command_reports_them(tmp_path):
    night = imageio.read_image(DATA / "night_lights_east.png")
    lattice = imageio.read_image(DATA / "lattice_day2night_v0.png")
    for folder, image in (("pred", lattice), ("real", night), ("black", np.zeros_like(night))):
        imageio.write_image(tmp_path / folder / "east.png", image)
    args = ["evaluate", str(tmp_path / "pred"), str(tmp_path / "real")]
    args += ["--metrics", "psnr,lit_auc,lum_corr", "--json", str(tmp_path / "r.json")]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert "lit_auc" in result.output and "lum_corr" in result.output
    import json

    mean = json.loads((tmp_path / "r.json").read_text())["mean"]
    assert mean["lit_auc"] == pytest.approx(sparse_metrics.lit_auc(lattice, night))
    assert 0.5 < mean["lit_auc"] < 1.0 and 0 < mean["lum_corr"] < 1
    args = ["evaluate", str(tmp_path / "black"), str(tmp_path / "real"), "--metrics", "lit_auc"]
    result = CliRunner().invoke(cli, [*args, "--lit-threshold", "300"])
    assert result.exit_code == 1 and "0 lit" in result.output  # nothing lit: said, not scored
