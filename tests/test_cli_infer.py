"""`i2i upscale`, `i2i translate` and `i2i models` end to end, on small real photos."""

import io

import cv2
import numpy as np
import pytest
from click.testing import CliRunner
from inference_helpers import random_image, save_sr, save_translation
from PIL import Image

from i2i import imageio, zoo
from i2i.cli import cli
from i2i.common import DEFAULT_SR_MODEL


@pytest.fixture
def tree(tmp_path, photos):
    """in/ with images at three depths, one corrupt file and one non-image."""
    root = tmp_path / "in"
    imageio.write_image(root / "a.png", photos["astronaut"][100:140, 180:228])
    imageio.write_image(root / "b.jpg", photos["chelsea"][50:86, 100:140])
    imageio.write_image(root / "sub" / "c.png", photos["coffee"][:30, :44])
    imageio.write_image(root / "sub" / "deep" / "d.webp", photos["rocket"][:26, :34])
    (root / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n truncated")
    (root / "notes.txt").write_text("not an image")
    return root


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("models")
    save_sr(folder / "x2.keras", 2)
    save_sr(folder / "zoo" / "srresnet-x4.keras", 4)
    save_sr(folder / "zoo" / f"{DEFAULT_SR_MODEL}.keras", 4)
    run = folder / "cyclegan"
    save_translation(run / "generator_a2b.keras", seed=1)
    save_translation(run / "generator_b2a.keras", seed=2)
    return folder


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def images_under(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_upscale_folder_mirrors_the_tree_and_reports_bad_files(tree, models, tmp_path):
    out = tmp_path / "out"
    result = invoke("upscale", tree, out, "--model", models / "x2.keras", "--recursive", "-q")
    assert result.exit_code == 1  # the corrupt file, after doing everything else
    assert images_under(out) == ["a.png", "b.jpg", "sub/c.png", "sub/deep/d.webp"]
    assert imageio.read_image(out / "a.png").shape == (80, 96, 3)
    assert imageio.read_image(out / "sub" / "deep" / "d.webp").shape == (52, 68, 3)
    assert "Wrote 4 images to" in result.stdout and str(out) in result.stdout
    assert "1 image failed" in result.stderr and "bad.png" in result.stderr
    assert "Traceback" not in result.output

    flat = tmp_path / "flat"
    result = invoke("upscale", tree, flat, "-m", models / "x2.keras", "-q")
    assert images_under(flat) == ["a.png", "b.jpg"]
    assert "note: 2 images in sub-folders left out (--recursive includes them)" in result.stderr


def test_skip_existing_resumes_an_interrupted_job(tree, models, tmp_path):
    out = tmp_path / "out"
    args = ("upscale", tree / "a.png", tree / "b.jpg", tree / "sub", out, "-m", models / "x2.keras")
    assert invoke(*args, "-q").exit_code == 0
    assert images_under(out) == ["a.png", "b.jpg", "c.png"]
    (out / "b.jpg").unlink()
    before = {name: (out / name).stat().st_mtime_ns for name in ("a.png", "c.png")}
    result = invoke(*args, "--skip-existing", "-q")
    assert result.exit_code == 0
    assert "Wrote 1 image" in result.stdout and "Skipped 2" in result.stdout
    assert (out / "b.jpg").exists()
    assert before == {name: (out / name).stat().st_mtime_ns for name in before}


def test_skip_existing_with_nothing_left_to_do_loads_no_model(tree, models, tmp_path, monkeypatch):
    out = tmp_path / "out"
    args = ("upscale", tree / "a.png", tree / "sub", out, "-m", models / "x2.keras", "-q")
    assert invoke(*args).exit_code == 0

    def no_loading(*args, **kwargs):
        raise AssertionError("the model was loaded with nothing to do")

    monkeypatch.setattr(zoo, "load_generator", no_loading)
    result = invoke(*args, "--skip-existing")
    assert result.exit_code == 0, result.output
    assert "Wrote 0 images" in result.stdout and "Skipped 2 already in" in result.stdout


def test_output_may_not_be_the_input(tree, models):
    sources = {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}
    result = invoke("upscale", tree, tree, "-m", models / "x2.keras")
    assert result.exit_code != 0 and "the output is the input" in result.output
    result = invoke("upscale", tree / "a.png", tree / "a.png", "-m", models / "x2.keras")
    assert result.exit_code != 0 and "input" in result.output
    assert sources == {p: p.read_bytes() for p in tree.rglob("*") if p.is_file()}


def test_single_file_ext_suffix_and_globs(tree, models, tmp_path):
    target = tmp_path / "single" / "big.png"
    assert invoke("upscale", tree / "b.jpg", target, "-m", models / "x2.keras", "-q").exit_code == 0
    assert imageio.read_image(target).shape == (72, 80, 3)

    out = tmp_path / "renamed"
    result = invoke(
        "upscale", tree, out, "-m", models / "x2.keras", "--ext", "webp", "--suffix", "_x2", "-q"
    )
    assert images_under(out) == ["a_x2.webp", "b_x2.webp"]

    globbed = tmp_path / "globbed"
    result = invoke("upscale", f"{tree}/**/*.png", globbed, "-m", models / "x2.keras", "-r", "-q")
    assert result.exit_code == 1  # bad.png matches the pattern too
    assert images_under(globbed) == ["a.png", "sub/c.png"]

    result = invoke("upscale", f"{tree}/*.gif", globbed, "-m", models / "x2.keras")
    assert result.exit_code != 0 and "matches no image" in result.output


def test_two_inputs_writing_one_output_are_refused(tmp_path, models):
    imageio.write_image(tmp_path / "in" / "x.png", random_image(8, 8))
    imageio.write_image(tmp_path / "in" / "x.jpg", random_image(8, 8))
    result = invoke(
        "upscale", tmp_path / "in", tmp_path / "out", "--ext", "png", "-m", models / "x2.keras"
    )
    assert result.exit_code != 0 and "would both be written" in result.output


def test_default_model_comes_from_the_zoo(tree, models, tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ZOO_PATH_VARIABLE, str(models / "zoo"))
    result = invoke("upscale", tree / "a.png", tmp_path / "out", "-q")
    assert result.exit_code == 0, result.output
    assert imageio.read_image(tmp_path / "out" / "a.png").shape == (160, 192, 3)
    assert f"with {DEFAULT_SR_MODEL} (x4" in result.stderr

    monkeypatch.setenv(zoo.ZOO_PATH_VARIABLE, str(tmp_path))
    monkeypatch.setattr(zoo, "zoo_dirs", lambda: [tmp_path])
    result = invoke("upscale", tree / "a.png", tmp_path / "out2")
    assert result.exit_code != 0
    assert f"model '{DEFAULT_SR_MODEL}' not found" in result.output
    assert "Zoo models: none" in result.output


def test_translate_direction_and_strength(tree, models, tmp_path):
    run = models / "cyclegan"
    out = {}
    for direction in ("a2b", "b2a"):
        out[direction] = tmp_path / direction
        result = invoke(
            "translate", tree / "a.png", out[direction], "-m", run, "--direction", direction, "-q"
        )
        assert result.exit_code == 0, result.output
    a2b = imageio.read_image(out["a2b"] / "a.png")
    assert a2b.shape == (40, 48, 3)
    assert not np.array_equal(a2b, imageio.read_image(out["b2a"] / "a.png"))

    result = invoke(
        "translate", tree / "a.png", tmp_path / "s0", "-m", run, "--strength", "0", "-q"
    )
    assert result.exit_code == 0
    original = imageio.read_image(tree / "a.png").astype(int)
    assert np.abs(imageio.read_image(tmp_path / "s0" / "a.png") - original).max() <= 1


def test_models_are_checked_against_the_command(tree, models, tmp_path):
    result = invoke("upscale", tree / "a.png", tmp_path / "o", "-m", models / "cyclegan")
    assert result.exit_code != 0 and "use i2i translate" in result.output
    result = invoke("translate", tree / "a.png", tmp_path / "o", "-m", models / "x2.keras")
    assert result.exit_code != 0 and "use i2i upscale" in result.output


def test_unsafe_model_needs_the_flag(tree, tmp_path):
    import keras

    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Lambda(lambda x: -x)(inputs)
    path = zoo.save_generator(
        keras.Model(inputs, outputs), tmp_path / "neg.keras", zoo.CARD_DEFAULTS
    )
    result = invoke("translate", tree / "a.png", tmp_path / "o", "-m", path)
    assert result.exit_code != 0 and "--unsafe" in result.output
    result = invoke("translate", tree / "a.png", tmp_path / "o", "-m", path, "--unsafe", "-q")
    assert result.exit_code == 0
    negative = 255 - imageio.read_image(tree / "a.png").astype(int)
    assert np.abs(imageio.read_image(tmp_path / "o" / "a.png") - negative).max() <= 1


def test_alpha_sixteen_bit_and_gray_files(tmp_path, models):
    source = tmp_path / "in"
    imageio.write_image(source / "rgba.png", random_image(12, 14, channels=4))
    imageio.write_image(source / "deep.png", random_image(10, 9, dtype=np.uint16))
    imageio.write_image(source / "gray.png", random_image(11, 13, channels=1))
    imageio.write_image(source / "mono.jpg", random_image(11, 13, channels=1, seed=3))
    result = invoke(
        "upscale", source, tmp_path / "out", "-m", models / "x2.keras", "--ext", "jpg", "-q"
    )
    assert result.exit_code == 0, result.output
    assert images_under(tmp_path / "out") == ["deep.png", "gray.jpg", "mono.jpg", "rgba.png"]
    assert "Wrote 2 as PNG" in result.stdout
    rgba = imageio.read_image(tmp_path / "out" / "rgba.png")
    assert rgba.shape == (24, 28, 4)
    assert imageio.read_image(tmp_path / "out" / "deep.png").dtype == np.uint16
    assert imageio.read_image(tmp_path / "out" / "gray.jpg").shape == (22, 26)
    assert imageio.read_image(tmp_path / "out" / "mono.jpg").shape == (22, 26)


def test_exif_orientation_is_respected(tmp_path, models):
    upright = random_image(20, 30)
    buffer = io.BytesIO()
    exif = Image.Exif()
    exif[0x0112] = 6  # stored rotated: a viewer turns it 90 degrees clockwise
    Image.fromarray(np.rot90(upright, k=1)).save(buffer, "JPEG", exif=exif, quality=98)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "phone.jpg").write_bytes(buffer.getvalue())
    assert (
        invoke(
            "upscale", tmp_path / "in", tmp_path / "out", "-m", models / "x2.keras", "-q"
        ).exit_code
        == 0
    )
    assert imageio.read_image(tmp_path / "out" / "phone.jpg").shape == (40, 60, 3)


def test_tiling_options_give_the_untiled_result(tree, models, tmp_path):
    whole, tiled = tmp_path / "whole", tmp_path / "tiled"
    common = ("-m", models / "x2.keras", "--ext", "png")
    assert invoke("upscale", tree / "a.png", whole, "--tile", "0", "-q", *common).exit_code == 0
    # With a progress bar: one image in several tiles shows a bar of tiles.
    result = invoke(
        "upscale",
        tree / "a.png",
        tiled,
        "--tile",
        "40",
        "--tile-overlap",
        "16",
        "--batch-size",
        "3",
        *common,
    )
    assert result.exit_code == 0 and "tiles of 40 px" in result.stderr
    assert "warning: tiles of 40 px (overlap 16) compute each pixel" in result.stderr
    assert "about 2.8 times; use --tile 64 or more" in result.stderr
    quiet = invoke(
        "upscale",
        tree / "a.png",
        tmp_path / "t",
        "--tile",
        "64",
        "--tile-overlap",
        "16",
        "-q",
        *common,
    )
    assert quiet.exit_code == 0 and "warning" not in quiet.stderr  # 1.8 times: no warning
    assert "/2 [" in result.stderr and "tile/s" in result.stderr  # 40 x 48: 1 x 2 tiles
    difference = imageio.read_image(whole / "a.png").astype(int) - imageio.read_image(
        tiled / "a.png"
    )
    assert np.abs(difference).max() <= 1


def test_precision_and_outscale(tree, models, tmp_path):
    result = invoke(
        "upscale",
        tree / "a.png",
        tmp_path / "o",
        "-m",
        models / "x2.keras",
        "--precision",
        "bfloat16",
        "--outscale",
        "3",
        "-q",
    )
    assert result.exit_code == 0 and "bfloat16" in result.stderr
    assert "(model x2, output x3, " in result.stderr  # the header states both scales
    assert imageio.read_image(tmp_path / "o" / "a.png").shape == (120, 144, 3)
    invoke("upscale", tree / "a.png", tmp_path / "x2", "-m", models / "x2.keras", "-q")
    x2 = imageio.read_image(tmp_path / "x2" / "a.png")
    expected = cv2.resize(x2, (144, 120), interpolation=cv2.INTER_LANCZOS4).astype(int)
    assert np.abs(imageio.read_image(tmp_path / "o" / "a.png") - expected).mean() < 3


def test_models_list_and_info(models, monkeypatch):
    monkeypatch.setenv(zoo.ZOO_PATH_VARIABLE, str(models / "zoo"))
    result = invoke("models", "list")
    assert result.exit_code == 0
    assert "srresnet-x4" in result.stdout and "super-resolution" in result.stdout
    assert "x4" in result.stdout
    result = invoke("models", "info", "srresnet-x4")
    assert result.exit_code == 0
    assert "scale: 4" in result.stdout and "value_range: [0.0, 1.0]" in result.stdout
    assert "sha256: not recorded" in result.stdout
    result = invoke("models", "info", models / "cyclegan", "--direction", "b2a")
    assert "generator_b2a.keras" in result.stdout
    result = invoke("models", "info", "nope")
    assert result.exit_code != 0 and "not found" in result.output


def test_progress_bar_names_the_image_being_processed(tree, monkeypatch):
    """The bar's postfix is set before each image is processed, not after."""
    import tqdm

    from i2i import inference

    events = []

    class Bar(tqdm.tqdm):
        def set_postfix_str(self, s="", refresh=True):
            events.append(("postfix", s))
            return super().set_postfix_str(s, refresh)

    class Engine:
        exact_tiling = True

        def is_tiled(self, height, width):
            return False

        def process(self, image, progress=None):
            events.append(("process", image.shape[:2]))
            return image

    monkeypatch.setattr(tqdm, "tqdm", Bar)
    jobs = inference.plan_jobs([tree / "a.png", tree / "b.jpg"], tree.parent / "out")
    inference.run_jobs(Engine(), jobs, progress=True)
    shown = None
    for kind, value in events:
        if kind == "postfix":
            shown = value
        else:
            assert shown == {(40, 48): "a.png", (36, 40): "b.jpg"}[value]
