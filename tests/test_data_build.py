"""`i2i dataset paired|unpaired|sr`: folders the builders make load in the pipelines."""

import json
import re
import shlex
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from data_helpers import batches, corrupt, digest_tree, night, views, write_folder

from i2i import imageio
from i2i.cli import cli
from i2i.data.build import build_paired, split_test
from i2i.data.check import DatasetError, check_dataset
from i2i.data.paired import paired_dataset
from i2i.data.unpaired import unpaired_dataset


def invoke(*args):
    return CliRunner().invoke(cli, ["dataset", *map(str, args)])


@pytest.fixture()
def loose(tmp_path, photos):
    """Loose A and B folders: 6 matched pairs (B as JPEG), one unmatched, one corrupt."""
    a = views(photos, 6, 40)
    src = tmp_path / "src"
    for i, image in enumerate(a):
        imageio.write_image(src / "day" / f"p{i}.png", image)
        imageio.write_image(src / "night" / f"p{i}.jpg", night(image))
    imageio.write_image(src / "day" / "extra.png", a[0])
    corrupt(src / "night" / "p5.png", a[5])  # p5 now has two B files: ambiguous
    (src / "night" / "p5.jpg").unlink()  # ... so keep only the corrupt one
    return src, a


def test_paired_split_build_loads_and_leaves_sources_alone(tmp_path, loose):
    src, a = loose
    before = digest_tree(src)
    out = tmp_path / "out"
    result = invoke("paired", src / "day", src / "night", out, "--test-fraction", "0.25")
    assert result.exit_code == 0, result.output
    assert "extra.png: no file with the same name" in result.output
    assert "p5.png: corrupt" in result.output
    assert digest_tree(src) == before
    assert check_dataset(out).ok
    train = list((out / "train" / "A").iterdir())
    test = list((out / "test" / "A").iterdir())
    assert len(train) + len(test) == 5 and len(test) == 1  # round(0.25 * 5)
    assert (out / "test" / "B" / f"{test[0].stem}.jpg").read_bytes() == (
        src / "night" / f"{test[0].stem}.jpg"
    ).read_bytes()  # copied, not re-encoded
    assert len(paired_dataset(out, "train", batch_size=2, image_size=32, seed=0)) == 2
    (batch,) = batches(paired_dataset(out, "test", image_size=None))
    index = int(test[0].stem[1:])
    np.testing.assert_array_equal(batch["source"][0], imageio.to_float(a[index], (-1, 1)))


def test_paired_combined_build(tmp_path, loose):
    src, a = loose
    out = tmp_path / "facades"
    result = invoke("paired", src / "day", src / "night", out, "--combine", "--seed", "3")
    assert result.exit_code == 0, result.output
    files = imageio.list_images(out / "train")
    assert len(files) == 5 and imageio.read_image(files[0]).shape == (40, 80, 3)
    assert check_dataset(out).layout == "paired-combined"
    first = batches(paired_dataset(out, "train", image_size=None, training=False))[0]
    np.testing.assert_array_equal(first["source"][0], imageio.to_float(a[0], (-1, 1)))
    expected_b = imageio.to_float(imageio.read_image(src / "night" / "p0.jpg"), (-1, 1))
    np.testing.assert_array_equal(first["target"][0], expected_b)


def test_unpaired_build_loads(tmp_path, photos):
    src = tmp_path / "src"
    write_folder(src / "horses", views(photos, 5, 36), prefix="h")
    write_folder(src / "zebras", views(photos, 3, 40, 32), prefix="z", ext=".jpg")
    corrupt(src / "zebras" / "broken.png", views(photos, 1, 8)[0])
    out = tmp_path / "h2z"
    result = invoke("unpaired", src / "horses", src / "zebras", out, "--test-fraction", "0.2")
    assert result.exit_code == 0, result.output
    assert "broken.png" in result.output
    counts = {d.name: len(list(d.iterdir())) for d in out.iterdir()}
    assert counts == {"trainA": 4, "testA": 1, "trainB": 2, "testB": 1}
    assert check_dataset(out).layout == "unpaired"
    train = unpaired_dataset(out, batch_size=2, image_size=32, seed=0)
    assert len(train) == 2
    assert len(unpaired_dataset(out, "test", image_size=32)) == 1


def test_out_rules(tmp_path, loose):
    src, _ = loose
    inside = invoke("paired", src / "day", src / "night", src / "day" / "out")
    assert inside.exit_code != 0 and "inside the source folder" in inside.output
    out = tmp_path / "out"
    (out / "notes").mkdir(parents=True)
    refused = invoke("paired", src / "day", src / "night", out)
    assert refused.exit_code != 0 and "not empty (use --force" in refused.output
    assert invoke("paired", src / "day", src / "night", out, "--force").exit_code == 0
    assert (out / "notes").is_dir()  # --force deletes nothing
    with pytest.raises(DatasetError, match="same folder"):
        build_paired(src / "day", src / "day", tmp_path / "x")


def test_split_is_seeded():
    items = list(range(20))
    assert split_test(items, 0.3, 1) == split_test(items, 0.3, 1)
    assert split_test(items, 0.3, 1) != split_test(items, 0.3, 2)
    train, test = split_test(items, 0.3, 1)
    assert len(test) == 6 and sorted(train + test) == items
    assert split_test([1, 2], 0.01, 0)[1]  # a positive fraction puts at least one in test


@pytest.fixture()
def hr_folder(tmp_path, photos):
    src = tmp_path / "hr_src"
    write_folder(src, views(photos, 4, 50, 44), prefix="photo")
    write_folder(src, [views(photos, 1, 20)[0]], prefix="tiny")
    corrupt(src / "broken.png", views(photos, 1, 30)[0])
    return src


def test_sr_pairs_build_checks_and_loads(tmp_path, hr_folder):
    from i2i.data import sr

    out = tmp_path / "val_x4"
    result = invoke("sr", hr_folder, out, "--scale", "4", "--patch", "32")
    assert result.exit_code == 0, result.output
    assert "tiny000.png: 20x20 is smaller than the 32x32 patch" in result.output
    assert "broken.png: corrupt" in result.output
    report = check_dataset(out)
    assert report.ok and report.layout == "sr-pairs" and report.scale == 4
    assert report.splits[""]["pairs"] == 4
    hr = imageio.read_image(out / "hr" / "photo000.png")
    lr = imageio.read_image(out / "lr" / "photo000.png")
    source = imageio.read_image(hr_folder / "photo000.png")
    np.testing.assert_array_equal(hr, source[6:38, 9:41])  # the central 32x32
    np.testing.assert_array_equal(lr, sr.downsample(hr, 4))  # MATLAB bicubic
    batch = next(iter(sr.paired_sr_dataset(out, scale=4, patch_size=16, batch_size=2, seed=0)))
    assert batch["lr"].shape == (2, 4, 4, 3) and batch["hr"].shape == (2, 16, 16, 3)


def test_sr_whole_images_and_realistic_degradation(tmp_path, hr_folder):
    runs = []
    for name in ("a", "b"):
        out = tmp_path / name
        result = invoke("sr", hr_folder, out, "--scale", "4", "--degrade", "realistic")
        assert result.exit_code == 0, result.output
        runs.append(out)
    hr = imageio.read_image(runs[0] / "hr" / "photo001.png")
    lr = imageio.read_image(runs[0] / "lr" / "photo001.png")
    assert hr.shape == (44, 48, 3) and lr.shape == (11, 12, 3)  # HR cropped to x4
    same = imageio.read_image(runs[1] / "lr" / "photo001.png")
    np.testing.assert_array_equal(lr, same)  # seeded
    report = check_dataset(runs[0], crop=40)  # without --patch the small image is kept
    assert [(p.kind, p.paths) for p in report.errors] == [("too-small", ("hr/tiny000.png",))]
    bad = invoke("sr", hr_folder, tmp_path / "c", "--scale", "4", "--patch", "30")
    assert bad.exit_code != 0 and "not a multiple of the scale 4" in bad.output


def _readme_section(title: str) -> str:
    text = (Path(__file__).parent.parent / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def test_readme_datasets_section_runs_as_written(tmp_path, monkeypatch, photos):
    section = _readme_section("Datasets")
    monkeypatch.chdir(tmp_path)
    day = views(photos, 5, 260)
    write_folder(Path("photos/day"), day, prefix="x")
    write_folder(Path("photos/night"), [night(x) for x in day], prefix="x", ext=".jpg")
    write_folder(Path("photos/horses"), views(photos, 4, 280, 260), prefix="h")
    write_folder(Path("photos/zebras"), views(photos, 3, 300, 270)[::-1], prefix="z")
    write_folder(Path("photos/val"), views(photos, 2, 200, 150), prefix="v")

    # The options file of the --degrade-options example: the one the README's SR section shows.
    (example,) = re.findall(
        r"e\.g\.\s+`(\{.*?\})`", _readme_section("Super-resolution training"), re.S
    )
    Path("mild.json").write_text(" ".join(example.split()))

    blocks = re.findall(r"```bash\n(.*?)```", section, re.S)
    commands = [line for block in blocks for line in block.splitlines() if line.startswith("i2i ")]
    assert len(commands) == 9
    for command in commands:
        result = CliRunner().invoke(cli, shlex.split(command)[1:])
        assert result.exit_code == 0, (command, result.output)
    assert check_dataset("data/day2night").splits["test"]["pairs"] == 1
    assert json.loads(result.output)["layout"] == "paired-split"  # the last: --json

    (code,) = re.findall(r"```python\n(.*?)```", section, re.S)
    namespace = {}
    exec(code, namespace)  # noqa: S102 - the README's own example
    assert len(namespace["test"]) == 1 and len(namespace["horses_zebras"]) == 3
