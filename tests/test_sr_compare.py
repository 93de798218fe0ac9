"""recipes/sr_compare.py: the README's side-by-side crop of the x4 models."""

import importlib.util
from pathlib import Path

from i2i import imageio

REPO = Path(__file__).resolve().parents[1]


def _sr_compare():
    spec = importlib.util.spec_from_file_location("sr_compare", REPO / "recipes" / "sr_compare.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_side_by_side_crop_has_a_panel_per_model_and_measures_roughness(tmp_path):
    module = _sr_compare()
    out = tmp_path / "cmp.png"
    args = ["--models", "srresnet-x4", "--crop", "10,20,24", "--zoom", "1", "--out", str(out)]
    roughness = module.main(args)
    assert list(roughness) == ["bicubic", "srresnet-x4"]
    # The model restores detail bicubic smooths away: more high-frequency energy.
    assert roughness["srresnet-x4"] > roughness["bicubic"] > 0
    grid = imageio.read_image(out)
    assert grid.shape == (22 + 4 * 24, 3 * 4 * 24, 3)  # label band + input, bicubic, model


def test_readme_crop_is_the_one_sr_compare_makes(tmp_path):
    import re

    text = (REPO / "README.md").read_text()
    assert "](docs/upscale-comparison.png)" in text
    module = _sr_compare()
    roughness = module.main(["--out", str(tmp_path / "cmp.png")])  # the README's command
    committed = imageio.read_image(REPO / "docs" / "upscale-comparison.png")
    assert committed.shape == imageio.read_image(tmp_path / "cmp.png").shape
    # The figures quoted beside the crop are the ones it prints.
    quoted = re.search(r"crop \(bicubic ([\d.]+), srresnet-x4 ([\d.]+), compact-x4 ([\d.]+)", text)
    assert quoted, "the README quotes the mean |Laplacian| of each panel"
    measured = [roughness[name] for name in ("bicubic", "srresnet-x4", "compact-x4")]
    assert [float(v) for v in quoted.groups()] == [round(v, 2) for v in measured]
