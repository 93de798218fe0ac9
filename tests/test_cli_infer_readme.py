"""The README's "Upscale and translate folders" section runs as written.

Its commands run in a temporary folder holding the paths they name, with tiny
random-weight stand-ins for the zoo models and training runs they name.
"""

import re
import shlex
from pathlib import Path

import pytest
from click.testing import CliRunner
from inference_helpers import random_image, save_sr, save_translation

from i2i import imageio, zoo
from i2i.cli import cli

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Upscale and translate folders"


def section_blocks(language):
    text = README.read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end > 0 else len(text)]
    return re.findall(rf"```{language}\n(.*?)```", section, flags=re.S)


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    for name in ("cat.jpg", "dog.png", "sub/bird.jpg"):
        imageio.write_image(tmp_path / "photos" / name, random_image(24, 32, seed=len(name)))
    imageio.write_image(tmp_path / "photo.png", random_image(20, 20))
    save_sr(tmp_path / "zoo" / "srresnet-x4.keras", 4)
    save_sr(tmp_path / "zoo" / "srresnet-x2.keras", 2)
    save_translation(tmp_path / "runs" / "day2night" / "generator.keras")
    save_translation(tmp_path / "runs" / "horse2zebra" / "generator_a2b.keras", seed=1)
    save_translation(tmp_path / "runs" / "horse2zebra" / "generator_b2a.keras", seed=2)
    monkeypatch.setenv(zoo.ZOO_PATH_VARIABLE, str(tmp_path / "zoo"))
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_readme_commands_run(workspace):
    commands = [
        line
        for block in section_blocks("bash")
        for line in block.splitlines()
        if line.startswith("i2i ")
    ]
    assert len(commands) >= 8
    for command in commands:
        result = CliRunner().invoke(cli, shlex.split(command)[1:], catch_exceptions=False)
        assert result.exit_code == 0, f"{command}\n{result.output}"
    assert imageio.read_image(workspace / "cat_x4.png").shape == (96, 128, 3)
    assert (workspace / "upscaled_x2" / "sub" / "bird.png").is_file()
    assert (workspace / "upscaled" / "sub" / "bird_x4.jpg").is_file()
    assert imageio.read_image(workspace / "upscaled_x3" / "dog.png").shape == (72, 96, 3)
    assert sorted(p.name for p in (workspace / "zebras").iterdir()) == ["cat.jpg", "dog.png"]


def test_the_readme_python_runs(workspace):
    (code,) = section_blocks("python")
    exec(compile(code, "README.md", "exec"), {})
    assert imageio.read_image(workspace / "photo_x4.png").shape == (80, 80, 3)
