"""The README's "Evaluation and reports" examples, run as written: same command, same output."""

import json
import re
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from i2i import imageio
from i2i.cli import cli
from i2i.data import sr

README = Path(__file__).resolve().parents[1] / "README.md"


def section_blocks():
    """(bash commands, output) pairs of the section, in order."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Evaluation and reports", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w*)\n(.*?)```", section, flags=re.S)
    pairs = []
    for (kind, body), (next_kind, next_body) in zip(blocks, blocks[1:], strict=False):
        if kind == "bash" and next_kind == "":
            pairs.append((body.strip(), next_body.strip()))
    return pairs


def run(command: str):
    args = command.split()
    assert args[0] == "i2i"
    return CliRunner().invoke(cli, args[1:])


def test_evaluate_example(tmp_path, monkeypatch, photos):
    command, expected = section_blocks()[0]
    assert command.startswith("i2i evaluate bicubic_x4/ hr/")
    monkeypatch.chdir(tmp_path)
    # The example's folders: bicubic x4 of three photos, one corrupt output, one HR image
    # without output.
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        hr = photos[name]
        imageio.write_image(Path("hr") / f"{name}.png", hr)
        if name != "rocket":
            bicubic = sr.upsample_bicubic(sr.downsample(hr, 4), 4)
            imageio.write_image(Path("bicubic_x4") / f"{name}.png", bicubic)
    Path("bicubic_x4/rocket.png").write_bytes(Path("hr/rocket.png").read_bytes()[:300])
    imageio.write_image("hr/motorcycle.png", photos["coffee"])
    result = run(command)
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == expected
    scores = json.loads(Path("scores.json").read_text())
    assert np.mean([image["psnr"] for image in scores["images"]]) == pytest.approx(
        scores["mean"]["psnr"]
    )


def test_report_example(tmp_path, monkeypatch):
    command, expected = [pair for pair in section_blocks() if "i2i report" in pair[0]][0]
    monkeypatch.chdir(tmp_path)
    run_dir = Path(command.split()[-1])
    run_dir.mkdir(parents=True)
    d_loss = [0.7, 0.5, 0.2, 0.05, *np.geomspace(0.004, 0.0003, 8)]
    rows = ["epoch,d_loss,g_gan,g_l1"] + [
        f"{epoch},{d},{0.9 + 0.01 * epoch},{1.0 / (epoch + 1)}" for epoch, d in enumerate(d_loss)
    ]
    (run_dir / "log.csv").write_text("\n".join(rows) + "\n")
    result = run(command)
    assert result.exit_code == 0, result.output
    assert result.output.strip() == expected
    assert (run_dir / "report" / "report.html").exists()
