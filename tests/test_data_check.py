"""`i2i dataset check` / `check_dataset`: every layout, every planted problem is found."""

import json
import shutil

import pytest
from click.testing import CliRunner
from data_helpers import corrupt, night, small, views, write_combined, write_folder, write_split

from i2i import imageio
from i2i.cli import cli
from i2i.data.check import DatasetError, check_dataset
from i2i.data.layout import detect_layout


def invoke(*args):
    return CliRunner().invoke(cli, ["dataset", "check", *map(str, args)])


def kinds(problems):
    return {(p.kind, p.paths[0]) for p in problems}


@pytest.fixture()
def broken(tmp_path, photos):
    """A paired dataset with one of each problem planted in it."""
    a = views(photos, 6, 40)
    root = tmp_path / "broken"
    write_split(root / "train", a[:4], [night(x) for x in a[:4]])
    write_split(root / "test", a[4:], [night(x) for x in a[4:]])
    corrupt(root / "train" / "B" / "000.png", a[0])  # replaces a good B file
    imageio.write_image(root / "train" / "A" / "lonely.png", a[5][:, ::-1])  # no B partner
    tiny = small(photos["coffee"], 20)
    write_split(root / "train", [tiny], [night(tiny)], names=["tiny"])  # smaller than 32
    shutil.copy(root / "train" / "A" / "002.png", root / "train" / "A" / "dup.png")
    imageio.write_image(root / "train" / "B" / "dup.png", a[2][::-1])
    shutil.copy(root / "train" / "A" / "003.png", root / "test" / "A" / "leak.png")
    shutil.copy(root / "train" / "B" / "003.png", root / "test" / "B" / "leak.png")
    return root


def test_every_planted_problem_is_found(broken):
    report = check_dataset(broken, crop=32)
    assert report.layout == "paired-split"
    assert kinds(report.errors) >= {
        ("unreadable", "train/B/000.png"),
        ("unmatched", "train/A/lonely.png"),
        ("too-small", "train/A/tiny.png"),
        ("too-small", "train/B/tiny.png"),
        ("leak", "train/A/003.png"),
        ("leak", "train/B/003.png"),
    }
    assert kinds(report.warnings) == {("duplicate", "train/A/002.png")}
    assert report.splits["train"]["pairs"] == 6 and report.splits["test"]["pairs"] == 3
    with pytest.raises(DatasetError) as error:
        report.raise_for_errors()
    assert "\n" not in str(error.value) and "i2i dataset check" in str(error.value)


def test_cli_text_json_and_exit_codes(broken, tmp_path, photos):
    text = invoke(broken, "--crop", "32")
    assert text.exit_code == 1
    for needle in (
        "train/B/000.png: corrupt",
        "lonely.png: no file named lonely.*",
        "tiny.png: 20x20 is smaller than the 32x32 crop",
        "identical files: train/A/002.png = train/A/dup.png",
        "several splits",
    ):
        assert needle in text.output
    as_json = invoke(broken, "--json")
    assert as_json.exit_code == 1
    report = json.loads(as_json.output)
    assert report["layout"] == "paired-split" and not report["ok"]
    assert {p["kind"] for p in report["errors"]} == {"unreadable", "unmatched", "leak"}

    clean = tmp_path / "clean"
    write_combined(clean, views(photos, 3, 40), views(photos, 3, 40)[::-1])
    result = invoke(clean, "--crop", "32")
    assert result.exit_code == 0 and "paired-combined" in result.output
    missing = invoke(tmp_path / "nowhere")
    assert missing.exit_code == 2


def test_unpaired_layout(tmp_path, photos):
    write_folder(tmp_path / "trainA", views(photos, 3, 40))
    write_folder(tmp_path / "trainB", views(photos, 2, 48, 36), prefix="z")
    (tmp_path / "testA").mkdir()
    (tmp_path / "testB").mkdir()  # empty
    shutil.copy(tmp_path / "trainA" / "img001.png", tmp_path / "testA" / "x.png")
    report = check_dataset(tmp_path)
    assert report.layout == "unpaired"
    assert report.splits["train"]["a"] == 3 and report.splits["train"]["b"] == 2
    assert kinds(report.errors) == {("leak", "trainA/img001.png"), ("empty", "testB")}


def test_sr_layouts_and_scales(tmp_path, photos):
    hr = views(photos, 4, 48)
    write_folder(tmp_path / "flat", hr)
    assert detect_layout(tmp_path / "flat") == "sr-hr"
    report = check_dataset(tmp_path / "flat", layout="sr", crop=40)
    assert report.layout == "sr-hr" and report.ok and report.splits[""]["hr"] == 4

    pairs = tmp_path / "pairs"
    write_folder(pairs / "hr", hr)
    write_folder(pairs / "lr", [small(x, 12) for x in hr[:3]] + [small(hr[3], 16)])
    report = check_dataset(pairs)
    assert report.layout == "sr-pairs" and report.scale == 4
    assert kinds(report.errors) == {("scale", "hr/img003.png")}
    assert "x3, expected x4" in report.errors[0].message
    assert not check_dataset(pairs, scale=3).ok


def _split_root(tmp_path, images):
    root = tmp_path / "split"
    write_split(root, images, images)
    return root


def test_combined_detection_and_halves(tmp_path, photos):
    a = views(photos, 2, 30)
    write_combined(tmp_path, a, a)
    imageio.write_image(tmp_path / "odd.png", small(photos["rocket"], 61, 30))
    assert detect_layout(tmp_path) == "sr-hr"  # not all 2:1: say what it is
    report = check_dataset(tmp_path, layout="paired", crop=32)
    assert report.layout == "paired-combined"
    assert kinds(report.warnings) == {("odd-width", "odd.png")}
    assert ("too-small", "000.png") in kinds(report.errors)
    assert "each half 30x30 is smaller" in report.errors[0].message
    wrong = check_dataset(tmp_path, layout="unpaired")  # as told: says what is missing
    assert kinds(wrong.errors) == {("missing", "trainA"), ("missing", "trainB")}
    with pytest.raises(DatasetError, match="this is a paired-split dataset, not sr"):
        check_dataset(_split_root(tmp_path, a), "sr")


def test_without_crop_an_image_far_smaller_than_the_rest_is_flagged(tmp_path, photos):
    root = tmp_path / "pairs"
    a = views(photos, 4, 100)
    write_split(root, a, [night(x) for x in a])
    tiny = small(photos["coffee"], 20)
    write_split(root, [tiny], [night(tiny)], names=["tiny"])
    report = check_dataset(root)
    assert {("far-smaller", "A/tiny.png"), ("far-smaller", "B/tiny.png")} <= kinds(report.warnings)
    assert not [w for w in report.warnings if "tiny" not in w.paths[0]]
    result = invoke(root)
    assert "A/tiny.png: 20x20 is far smaller than the other images" in result.output
    assert result.exit_code == 0  # a warning: resized training may still use it
