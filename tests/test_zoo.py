"""Finding and loading generators: zoo names, .keras files, run directories, safety."""

import json
import subprocess
import sys
import textwrap
import zipfile

import keras
import numpy as np
import pytest
from inference_helpers import TRANSLATION_CARD, save_sr, save_translation, sr_card

from i2i import imageio, zoo


@pytest.fixture
def zoo_dir(tmp_path, monkeypatch):
    """A private zoo folder searched first, holding srtiny-x2 and day2night_a2b/_b2a."""
    folder = tmp_path / "zoo"
    save_sr(folder / "srtiny-x2.keras", 2, description="a tiny test model")
    save_translation(folder / "day2night_a2b.keras", seed=1)
    save_translation(folder / "day2night_b2a.keras", seed=2)
    monkeypatch.setenv(zoo.ZOO_PATH_VARIABLE, str(folder))
    return folder


def test_load_a_keras_file_with_its_card(tmp_path):
    path = save_sr(tmp_path / "sr.keras", 2)
    model, card = zoo.load_generator(path)
    assert card == sr_card(2)
    x = np.random.default_rng(0).random((1, 8, 8, 3)).astype("float32")
    assert model(x).shape == (1, 16, 16, 3)


def test_a_file_without_a_card_gets_the_defaults(tmp_path):
    path = save_sr(tmp_path / "sr.keras", 2)
    zoo.card_path(path).unlink()
    assert zoo.load_generator(str(path))[1] == zoo.CARD_DEFAULTS


def test_run_directory_single_and_two_way(tmp_path):
    single = tmp_path / "pix2pix"
    save_translation(single / "generator.keras")
    assert zoo.resolve_model(single).path == single / "generator.keras"
    assert zoo.resolve_model(single, "a2b").path == single / "generator.keras"
    with pytest.raises(zoo.ModelNotFoundError, match="no generator_b2a.keras"):
        zoo.resolve_model(single, "b2a")

    cycle = tmp_path / "cyclegan"
    save_translation(cycle / "generator_a2b.keras", seed=1)
    save_translation(cycle / "generator_b2a.keras", seed=2)
    assert zoo.resolve_model(cycle).path.name == "generator_a2b.keras"
    model_b2a, card = zoo.load_generator(cycle, direction="b2a")
    model_a2b, _ = zoo.load_generator(cycle, direction="a2b")
    assert card == TRANSLATION_CARD
    x = np.zeros((1, 8, 8, 3), "float32") + 0.3
    assert not np.allclose(model_a2b(x), model_b2a(x))

    empty = tmp_path / "unfinished"
    (empty / "checkpoints").mkdir(parents=True)
    with pytest.raises(zoo.ModelNotFoundError, match="is training finished"):
        zoo.resolve_model(empty)


def test_zoo_names_list_and_directions(zoo_dir):
    # The shipped models/ are listed too; the test zoo's entries come from its folder.
    names = [entry.name for entry in zoo.list_models() if entry.path.parent == zoo_dir]
    assert names == ["day2night_a2b", "day2night_b2a", "srtiny-x2"]
    entry = zoo.resolve_model("srtiny-x2")
    assert entry.kind == "zoo" and entry.card["description"] == "a tiny test model"
    assert zoo.resolve_model("day2night").path.name == "day2night_a2b.keras"
    assert zoo.resolve_model("day2night", "b2a").path.name == "day2night_b2a.keras"
    with pytest.raises(zoo.ModelNotFoundError, match="one way"):
        zoo.resolve_model("srtiny-x2", "b2a")
    model, card = zoo.load_generator("srtiny-x2")
    assert card["scale"] == 2 and model.output_shape == (None, None, None, 3)


def test_not_found_says_what_was_tried_and_what_exists(zoo_dir):
    with pytest.raises(zoo.ModelNotFoundError) as error:
        zoo.load_generator("srresnet-x9")
    message = str(error.value)
    assert "no file or folder srresnet-x9" in message
    assert str(zoo_dir) in message
    assert "srtiny-x2" in message and "day2night_a2b" in message
    with pytest.raises(zoo.ModelNotFoundError, match="no file or folder runs/x.keras"):
        zoo.load_generator("runs/x.keras")


def test_not_a_keras_file(tmp_path):
    other = tmp_path / "weights.h5"
    other.write_bytes(b"x")
    with pytest.raises(zoo.ModelNotFoundError, match="not a .keras file"):
        zoo.load_generator(other)
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    with pytest.raises(zoo.ModelLoadError, match="broken.keras: not a loadable Keras model"):
        zoo.load_generator(broken)


def test_checksum_in_the_card_is_enforced(tmp_path):
    path = save_sr(tmp_path / "sr.keras", 2)
    card = json.loads(zoo.card_path(path).read_text())
    card["sha256"] = zoo.sha256(path)
    zoo.card_path(path).write_text(json.dumps(card))
    assert zoo.verify_checksum(zoo.resolve_model(path))
    zoo.load_generator(path)
    card["sha256"] = "0" * 64
    zoo.card_path(path).write_text(json.dumps(card))
    with pytest.raises(zoo.ChecksumError, match="does not match its card"):
        zoo.load_generator(path)


def test_unsafe_files_are_refused_unless_asked(tmp_path):
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Lambda(lambda x: x * 2.0)(inputs)
    path = tmp_path / "lambda.keras"
    zoo.save_generator(keras.Model(inputs, outputs), path, sr_card(1))
    with pytest.raises(zoo.UnsafeModelError, match="--unsafe"):
        zoo.load_generator(path)
    model, _ = zoo.load_generator(path, unsafe=True)
    assert float(model(np.ones((1, 2, 2, 3), "float32"))[0, 0, 0, 0]) == 2.0


def test_i2i_layers_load_in_a_fresh_process(tmp_path):
    """Keras imports only keras.* by itself; the zoo imports the i2i modules a file names."""
    pytest.importorskip("i2i.layers.pixel_shuffle")
    from i2i.layers.pixel_shuffle import PixelShuffle

    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(12, 3, padding="same")(inputs)
    model = keras.Model(inputs, PixelShuffle(2)(x))
    path = zoo.save_generator(model, tmp_path / "ps.keras", sr_card(2))
    code = textwrap.dedent(f"""
        from i2i import zoo
        model, card = zoo.load_generator({str(path)!r})
        print(type(model.layers[-1]).__name__, card["scale"])
    """)
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["PixelShuffle", "2"]


def test_zoo_folders_from_a_checkout_and_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(zoo.ZOO_PATH_VARIABLE, "")
    package = zoo.Path(zoo.__file__).resolve().parent
    checkout = package.parent / "models"
    dirs = zoo.zoo_dirs()
    assert (checkout in dirs) == checkout.is_dir()
    assert (package / "_zoo" in dirs) == (package / "_zoo").is_dir()
    extra = tmp_path / "mine"
    extra.mkdir()
    monkeypatch.setenv(zoo.ZOO_PATH_VARIABLE, str(extra))
    assert zoo.zoo_dirs()[0] == extra


def test_the_wheel_ships_the_zoo(tmp_path):
    """`pip install .` puts models/ in i2i/_zoo, found from any directory; no `models` package."""
    import importlib.util
    import shutil

    import setuptools

    has_bdist_wheel = importlib.util.find_spec("wheel") is not None or tuple(
        int(part) for part in setuptools.__version__.split(".")[:2]
    ) >= (70, 1)
    if not has_bdist_wheel:
        pytest.skip("building a wheel offline needs the `wheel` package or setuptools >= 70.1")
    repo = zoo.Path(zoo.__file__).resolve().parents[1]
    source = tmp_path / "src"
    shutil.copytree(repo / "i2i", source / "i2i", ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("setup.py", "pyproject.toml", "README.md"):
        shutil.copy(repo / name, source / name)
    inputs = keras.Input((None, None, 3))
    outputs = keras.layers.Conv2DTranspose(3, 2, strides=2, dtype="float32")(inputs)
    zoo.save_generator(keras.Model(inputs, outputs), source / "models" / "w-x2.keras", sr_card(2))

    def pip(*args):
        command = [sys.executable, "-m", "pip", *args, "-q", "--no-deps", "--no-index"]
        result = subprocess.run(command, capture_output=True, text=True, cwd=tmp_path)
        assert result.returncode == 0, result.stderr[-2000:]

    pip("wheel", str(source), "--no-build-isolation", "-w", str(tmp_path / "dist"))
    wheel = next((tmp_path / "dist").glob("i2i-*.whl"))
    pip("install", str(wheel), "--target", str(tmp_path / "site"))
    assert (tmp_path / "site" / "i2i" / "_zoo" / "w-x2.keras").is_file()
    assert not (tmp_path / "site" / "models").exists()
    code = textwrap.dedent("""
        from i2i import zoo
        model, card = zoo.load_generator("w-x2")
        print(zoo.zoo_dirs()[0].parts[-2:], card["scale"], model.output_shape[-1])
    """)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    environment = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        env={**environment, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["('i2i',", "'_zoo')", "2", "3"]


def test_saved_generators_hold_weights_only_with_usual_permissions(tmp_path):
    import os

    from inference_helpers import sr_net

    model = sr_net(2)
    plain = zoo.save_generator(model, tmp_path / "plain.keras", sr_card(2))
    model.compile(optimizer="adam", loss="mae")
    x = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
    model.fit(x, np.zeros((2, 16, 16, 3), "float32"), epochs=1, verbose=0)  # optimizer state
    trained = zoo.save_generator(model, tmp_path / "trained.keras", sr_card(2))
    assert trained.stat().st_size < plain.stat().st_size * 1.2  # no optimizer variables
    loaded, _ = zoo.load_generator(trained)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
    umask = os.umask(0)
    os.umask(umask)
    for path in (trained, zoo.card_path(trained)):
        assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_a_garbage_keras_file_is_refused_before_its_card_is_believed(tmp_path):
    """Every command that takes --model says the same thing about a file that is not a
    .keras archive, instead of inventing a card (translation, scale 1) for it."""
    from click.testing import CliRunner

    from i2i.cli import cli

    garbage = tmp_path / "garbage.keras"
    garbage.write_bytes(np.random.default_rng(0).bytes(5000))
    (tmp_path / "in").mkdir()
    imageio.write_image(tmp_path / "in" / "a.png", np.zeros((8, 8, 3), np.uint8))
    commands = [
        ["upscale", str(tmp_path / "in"), str(tmp_path / "out"), "--model", str(garbage)],
        ["translate", str(tmp_path / "in"), str(tmp_path / "out"), "--model", str(garbage)],
        ["models", "info", str(garbage)],
        ["export", str(garbage), str(tmp_path / "g.onnx")],
        ["evaluate", "--model", str(garbage), "--hr-dir", str(tmp_path / "in")],
    ]
    for command in commands:
        result = CliRunner().invoke(cli, command)
        assert result.exit_code == 1, (command, result.output)
        assert "garbage.keras: not a loadable Keras model (not a .keras zip archive)" in (
            result.output
        ), (command, result.output)
        assert "translation" not in result.output
    zipped = tmp_path / "zipped.keras"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("notes.txt", "no model here")
    with pytest.raises(zoo.ModelLoadError, match="no config.json in the archive"):
        zoo.resolve_model(zipped)
