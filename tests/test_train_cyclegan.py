"""`i2i train cyclegan` end to end: dataset -> train -> resume -> translate, and refusals."""

import csv
import importlib.util
import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import real_photo
from cyclegan_helpers import A_PHOTOS, B_PHOTOS, TINY_SETS, random_crops, write_unpaired

from i2i import config, imageio, training, zoo
from i2i.cli import cli
from i2i.tasks.cyclegan import CycleGANOptions

TINY_ARGS = ["--image-size", "16"] + [arg for s in TINY_SETS for arg in ("--set", s)]


README = Path(__file__).resolve().parents[1] / "README.md"


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert result.exit_code == 0, result.output
    return result


def readme_commands(prefix: str = "i2i ") -> list[list[str]]:
    """The lines of the README's CycleGAN section starting with `prefix`, as words."""
    text = README.read_text()
    start = text.index("## CycleGAN: day")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end > 0 else len(text)]
    blocks = re.findall(r"```bash\n(.*?)```", section, flags=re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    return [shlex.split(line) for line in lines if line.startswith(prefix)]


def tiny(words: list[str]) -> list[str]:
    """A README command at test size: 1 epoch (2 on resume), the tiny networks."""
    words = list(words[1:])
    if words[:2] == ["train", "cyclegan"]:
        if "--epochs" in words:
            del words[words.index("--epochs") : words.index("--epochs") + 2]
        if "--resume" in words:
            words += ["--epochs", "2"]
        else:
            words += ["--epochs", "1", *TINY_ARGS]
    return words + (["-q"] if words[0] == "translate" else [])


def test_the_readme_workflow_dataset_train_resume_translate(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    commands = readme_commands()
    assert [w[1] for w in commands] == ["dataset", "train", "train", "translate", "translate"]
    # Loose folders of real photo crops: "day" photos and other "night" photos.
    rng = np.random.default_rng(0)
    for domain, names in (("day", A_PHOTOS), ("night", B_PHOTOS)):
        for name in names:
            for i, crop in enumerate(random_crops(real_photo(name), 4, 24, rng)):
                imageio.write_image(Path("photos", domain, f"{name}{i}.png"), crop)

    build, train, resume, to_night, to_day = (tiny(words) for words in commands)
    invoke(*build)
    data, run_dir = Path(build[4]), Path(train[train.index("--out") + 1])
    train_a = len(list((data / "trainA").iterdir()))
    assert (data / "testA").is_dir() and (data / "testB").is_dir()

    result = invoke(*train)
    assert "generator_a2b.keras" in result.output and "generator_b2a.keras" in result.output
    cfg = config.read(run_dir / "config.json", CycleGANOptions)
    # Reference defaults: batch 1, an epoch = one pass over the larger domain.
    steps = max(train_a, len(list((data / "trainB").iterdir())))
    assert (cfg.run.batch_size, cfg.run.steps_per_epoch, cfg.model.image_size) == (1, steps, 16)
    assert sorted(p.name for p in (run_dir / "samples").iterdir()) == ["epoch-0001.png"]

    # Resume: the run continues from its checkpoint; log.csv gets the second epoch.
    invoke(*resume)
    assert training.latest_checkpoint(run_dir)["step"] == 2 * steps
    with open(run_dir / "log.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    # Linear decay over the second half (1 of 2 epochs): 2e-4, then 2e-4 * (1 - 1/2).
    assert [float(row["lr"]) for row in rows] == pytest.approx([2e-4, 1e-4])
    assert {"g_cycle_a", "g_idt_b", "d_a", "d_b", "sample_diversity"} <= set(rows[0])

    # Both generators are standalone files with cards, loadable by direction.
    day = imageio.read_image(sorted((data / "testA").iterdir())[0])[:16, :16]
    for direction in ("a2b", "b2a"):
        model, card = zoo.load_generator(run_dir, direction=direction)
        assert model.name == f"generator_{direction}"
        card_file = json.loads((run_dir / f"generator_{direction}.json").read_text())
        assert card_file["task"] == card["task"] == "translation"
        assert (card["value_range"], card["stride"], card["scale"]) == ([-1.0, 1.0], 4, 1)
        assert card["architecture"]["name"] == "resnet_generator"
        assert card["steps"] == 2 * steps
        output = model.predict(day[None].astype("float32") / 127.5 - 1, verbose=0)
        assert output.shape == (1, 16, 16, 3) and np.all(np.abs(output) <= 1)

    # `i2i translate` with either direction, as the README writes it.
    for words in (to_night, to_day):
        invoke(*words)
        source, out = Path(words[1]), Path(words[2])
        names = sorted(p.name for p in source.iterdir())
        assert sorted(p.name for p in out.iterdir()) == names
        written = imageio.read_image(out / names[0])
        assert written.shape == imageio.read_image(source / names[0]).shape


def load_recipe(path: Path = README.parent / "recipes" / "day2night_cyclegan.py"):
    """A recipe script as a module (its `main(argv)` is what `python path ...` runs)."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    return recipe


def test_the_readme_recipe_command_parses():
    (words,) = readme_commands("python recipes/")
    recipe = load_recipe(README.parent / words[1])
    args = recipe.parse_args(words[2:])
    assert (args.out, args.steps, args.crop) == ("runs/day2night-cyclegan", 3000, 96)
    assert recipe.regions(2048) == {"a": (0, 768), "b": (768, 1536), "heldout": (1536, 2048)}


def test_day_tiles_need_land_and_may_leave_out_polar_ice():
    recipe = load_recipe()
    tile = np.zeros((32, 32, 3), np.uint8)
    ocean, ice, desert, forest = (10, 20, 90), (235, 240, 245), (200, 160, 110), (40, 80, 30)
    for colour, is_ice in ((ice, True), (desert, False), (forest, False)):
        tile[:] = ocean
        tile[:, :16] = colour  # half land
        assert recipe.has_land(tile, 0.25) and not recipe.has_land(tile, 0.75)
        assert recipe.has_land(tile, 0.25, max_ice=0.4) != is_ice
    tile[:] = ocean
    assert not recipe.has_land(tile, 0.25) and not recipe.earth.ice(tile).any()
    assert recipe.parse_args(["--data", "x", "--max-ice", "0.5"]).max_ice == 0.5


@pytest.mark.parametrize("problem", ["unreadable", "too small", "empty domain"])
def test_broken_data_is_refused_before_anything_is_written(tmp_path, problem):
    data = write_unpaired(tmp_path / "data", per_photo=1, size=24, test=False)
    if problem == "unreadable":
        (data / "trainB" / "broken.png").write_bytes(b"not an image")
        expected = "broken.png"
    elif problem == "too small":
        imageio.write_image(data / "trainA" / "tiny.png", np.zeros((8, 8, 3), np.uint8))
        expected = "tiny.png"
    else:
        for path in (data / "trainB").iterdir():
            path.unlink()
        expected = "trainB"
    out = tmp_path / "run"
    result = CliRunner().invoke(
        cli, ["train", "cyclegan", "--data", str(data), "--out", str(out), *TINY_ARGS]
    )
    assert result.exit_code != 0
    assert expected in result.output and "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1, result.output
    assert not out.exists()


def test_missing_data_and_bad_sizes_are_one_line_errors(tmp_path):
    runner = CliRunner()
    result = runner.invoke(cli, ["train", "cyclegan", "--out", str(tmp_path / "run")])
    assert result.exit_code != 0 and "--data" in result.output
    data = write_unpaired(tmp_path / "data", per_photo=1, size=24, test=False)
    result = runner.invoke(
        cli, ["train", "cyclegan", "--data", str(data), "--out", str(tmp_path / "run"),
              "--image-size", "20", "--set", "d_layers=3"]
    )  # fmt: skip
    assert result.exit_code != 0 and "multiple of" in result.output
    assert "Traceback" not in result.output
