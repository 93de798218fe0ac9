"""`i2i export` on the command line, and the README's "Export" section run as written.

The README test builds tiny random-weight run directories under the names the README
uses, runs every `i2i export` command of the section, then every Python block (each
format run by its own runtime), and checks the three runtimes agree.
"""

import re
import shlex
from pathlib import Path

import keras
import numpy as np
import pytest
from click.testing import CliRunner

from i2i import zoo
from i2i.cli import cli

README = Path(__file__).resolve().parent.parent / "README.md"
TRANSLATION_CARD = {"task": "translation", "scale": 1, "value_range": [-1.0, 1.0], "stride": 4}


def tiny_generator(seed):
    from i2i.nets.resnet_generator import resnet_generator

    keras.utils.set_random_seed(seed)
    model = resnet_generator(filters=4, blocks=1)
    rng = np.random.default_rng(seed)
    # Weights large enough that the output depends visibly on the input.
    model.set_weights([rng.normal(0, 0.3, w.shape).astype("float32") for w in model.weights])
    return model


def invoke(*args):
    return CliRunner().invoke(cli, ["export", *args], catch_exceptions=False)


def assert_one_line_error(result, *fragments):
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(lines) == 1, result.output
    assert "Traceback" not in result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_bad_model_path(tmp_path):
    result = invoke(str(tmp_path / "runs" / "missing"), str(tmp_path / "m.onnx"))
    assert_one_line_error(result, "not found", "runs/missing")
    assert not (tmp_path / "m.onnx").exists()


def test_existing_output_is_refused(tmp_path):
    zoo.save_generator(tiny_generator(0), tmp_path / "g.keras", TRANSLATION_CARD)
    (tmp_path / "m.onnx").write_bytes(b"an older export")
    result = invoke(str(tmp_path / "g.keras"), str(tmp_path / "m.onnx"))
    assert_one_line_error(result, "m.onnx exists", "--force")
    assert (tmp_path / "m.onnx").read_bytes() == b"an older export"


def test_format_contradicting_the_suffix(tmp_path):
    result = invoke("anything", str(tmp_path / "m.tflite"), "--format", "onnx")
    assert_one_line_error(result, "a .tflite file is tflite, not onnx")


@keras.saving.register_keras_serializable(package="i2i_tests")
class InverseErf(keras.layers.Layer):
    """A layer whose op (Erfinv) TFLite's built-in ops lack."""

    def call(self, x):
        return keras.ops.erfinv(keras.ops.clip(x, -0.5, 0.5))


def test_unrepresentable_layer_is_one_line_naming_it(tmp_path):
    inputs = keras.Input((None, None, 3), name="image")
    x = keras.layers.Conv2D(3, 3, padding="same", name="conv")(inputs)
    model = keras.Model(inputs, InverseErf(name="inverse_erf")(x))
    zoo.save_generator(model, tmp_path / "odd.keras", {**TRANSLATION_CARD, "stride": 1})
    result = invoke(str(tmp_path / "odd.keras"), str(tmp_path / "odd.tflite"))
    assert_one_line_error(result, "layer 'inverse_erf' (InverseErf)", "Erfinv")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["odd.json", "odd.keras"]


# --------------------------------------------------------------------------- README


def readme_section(title="Export"):
    text = README.read_text(encoding="utf-8")
    match = re.search(rf"^## {title}\n(.*?)(?=^## |\Z)", text, re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def code_blocks(section, language):
    return re.findall(rf"^```{language}\n(.*?)^```", section, re.M | re.S)


def test_readme_export_section_runs_as_written(tmp_path, monkeypatch, photos):
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    # The run directories the README names: a one-way model and a two-way (CycleGAN) one.
    day2night = tiny_generator(1)
    zoo.save_generator(day2night, "runs/day2night/generator.keras", TRANSLATION_CARD)
    horse2zebra = {d: tiny_generator(seed) for d, seed in (("a2b", 2), ("b2a", 3))}
    for direction, model in horse2zebra.items():
        path = f"runs/horse2zebra/generator_{direction}.keras"
        zoo.save_generator(model, path, TRANSLATION_CARD)
    # A real photo whose sides are not multiples of the model's stride.
    Image.fromarray(photos["chelsea"]).resize((61, 45)).save("photo.jpg")

    section = readme_section()
    commands = [
        line
        for block in code_blocks(section, "bash")
        for line in block.splitlines()
        if line.startswith("i2i export")
    ]
    assert len(commands) >= 3
    for command in commands:
        result = CliRunner().invoke(cli, shlex.split(command)[1:], catch_exceptions=False)
        assert result.exit_code == 0, f"{command}\n{result.output}"
        assert "wrote" in result.output

    blocks = code_blocks(section, "python")
    assert len(blocks) >= 3
    for block in blocks:
        exec(compile(block, "README.md", "exec"), {})

    outputs = sorted(Path(".").glob("night_*.png"))
    names = {"night_savedmodel.png", "night_tflite.png", "night_onnx.png"}
    assert {p.name for p in outputs} >= names
    photo = imageio_read("photo.jpg")
    images = [imageio_read(p) for p in outputs]
    for image in images:
        assert image.shape == photo.shape  # any size in, the same size out
        assert np.abs(image.astype(int) - images[0].astype(int)).max() <= 1
    assert np.abs(images[0].astype(int) - photo.astype(int)).mean() > 5  # really translated

    # --direction b2a exported the b2a generator, not a2b.
    import onnxruntime

    session = onnxruntime.InferenceSession("zebra2horse.onnx")
    x = np.random.default_rng(0).uniform(-1, 1, (1, 16, 16, 3)).astype(np.float32)
    got = session.run(["output"], {"image": x})[0]
    assert np.abs(got - np.asarray(horse2zebra["b2a"](x))).max() <= 1e-4
    assert np.abs(got - np.asarray(horse2zebra["a2b"](x))).max() > 1e-2


def imageio_read(path):
    from i2i import imageio

    return imageio.read_image(str(path))


@pytest.mark.parametrize("option", ["--format", "--precision", "--onnx-input", "--opset"])
def test_help_documents_options(option):
    result = CliRunner().invoke(cli, ["export", "--help"])
    assert result.exit_code == 0 and option in result.output
