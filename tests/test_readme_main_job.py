"""The README's first command, as written (minus the install): `i2i upscale examples/ upscaled/`
with the shipped default model, in a fresh folder holding a copy of examples/."""

import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from i2i import imageio, zoo
from i2i.common import DEFAULT_SR_MODEL

REPO = Path(__file__).resolve().parents[1]
README = REPO / "README.md"


def first_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## ")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def main_job() -> list[str]:
    """The i2i part of the first bash block: `.venv/bin/i2i upscale ...` as words."""
    block = re.search(r"```bash\n(.*?)```", first_section(), flags=re.S).group(1).strip()
    parts = [part.strip() for part in block.split("&&")]
    assert parts[0] == "python3 -m venv .venv" and parts[1] == ".venv/bin/pip install ."
    words = shlex.split(parts[2])
    assert words[0] == ".venv/bin/i2i"
    return words[1:]


def test_first_section_is_install_and_run_then_the_test_command():
    section = first_section()
    assert section.startswith("\n## Quick start")
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    assert len(blocks) == 2 and blocks[1].strip() == "bash .ci/run"
    assert (REPO / ".ci" / "run").is_file()
    assert main_job()[:3] == ["upscale", "examples/", "upscaled/"]


def test_the_main_job_upscales_the_examples_4x_with_the_shipped_model(tmp_path):
    args = main_job()
    assert not any(a.startswith(("-m", "--model")) for a in args)  # the default model
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    # The console script installed beside this Python, run as a user would (no zoo override).
    script = Path(sys.executable).with_name("i2i")
    environment = {k: v for k, v in os.environ.items() if k != zoo.ZOO_PATH_VARIABLE}
    done = subprocess.run(
        [str(script), *args],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**environment, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    inputs = sorted(p for p in (tmp_path / "examples").iterdir() if imageio.is_image_file(p))
    assert 3 <= len(inputs) <= 5
    assert f"with {DEFAULT_SR_MODEL} (x4" in done.stderr
    assert f"Wrote {len(inputs)} images to upscaled/" in done.stdout  # where the results went
    for path in inputs:
        source = imageio.read_image(path)
        result = imageio.read_image(tmp_path / "upscaled" / path.name)
        assert result.shape == (source.shape[0] * 4, source.shape[1] * 4, 3), path.name
        assert result.dtype == source.dtype and result.std() > 10  # a real picture, not flat


def test_the_examples_are_small_and_their_licenses_noted():
    files = [p for p in (REPO / "examples").iterdir() if imageio.is_image_file(p)]
    assert sum(p.stat().st_size for p in files) <= 1_000_000
    notes = (REPO / "examples" / "README.md").read_text(encoding="utf-8")
    for path in files:
        row = next(line for line in notes.splitlines() if line.startswith(f"| `{path.name}`"))
        assert re.search(r"CC0|public domain|LGPLv3|CC-BY-SA", row), row


def test_no_zoo_model_was_trained_on_an_example():
    """An example cut from a training photo would flatter the first command's output."""
    import json

    notes = (REPO / "examples" / "README.md").read_text(encoding="utf-8")
    sources = set(re.findall(r"`(\w+\.(?:jpg|png))` by ", notes))
    assert sources, "the examples README names the photos the examples come from"
    for card_file in (REPO / "models").glob("*.json"):
        trained = json.loads(card_file.read_text()).get("data", {}).get("trained_on", {})
        assert not sources & set(trained), (card_file.name, sources & set(trained))
