"""`i2i train pix2pix` and `i2i finetune` end to end on tiny real-photo datasets."""

import json
import shutil

import numpy as np
import pytest
from click.testing import CliRunner
from data_helpers import night, views, write_combined, write_split

from i2i import config, imageio, training, zoo
from i2i.cli import cli
from i2i.gans.pix2pix import build_pix2pix
from i2i.tasks.pix2pix import FINETUNE_LEARNING_RATE, Pix2PixOptions, Pix2PixTask

# A 2-level U-Net (stride 4) and a 1-layer PatchGAN, 4 filters each: seconds per run.
TINY = [
    "--image-size", "16", "--batch-size", "2",
    "--set", "filters=4", "--set", "discriminator_filters=4",
    "--set", "n_layers=1", "--set", "depth=2", "--set", "steps_per_epoch=2",
]  # fmt: skip


def invoke(*args):
    result = CliRunner().invoke(cli, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


@pytest.fixture(scope="module")
def datasets(tmp_path_factory, photos):
    """`facades`: combined A|B files in train/ + test/; `mine`: A/ + B/ folders."""
    root = tmp_path_factory.mktemp("pix2pix-data")
    images = views(photos, 10, 20)
    write_combined(root / "facades" / "train", images[:6], [night(i) for i in images[:6]])
    write_combined(root / "facades" / "test", images[6:8], [night(i) for i in images[6:8]])
    write_split(root / "mine", images[8:], [night(i)[::-1].copy() for i in images[8:]])
    return root


@pytest.fixture(scope="module")
def trained(datasets, tmp_path_factory):
    """A finished tiny run: 2 epochs of 2 steps, b2a."""
    out = tmp_path_factory.mktemp("runs") / "facades"
    result = invoke(
        "train", "pix2pix", "--data", datasets / "facades", "--out", out,
        "--direction", "b2a", "--epochs", 2, *TINY,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert f"saved {out / 'generator.keras'}" in result.output
    return out


def checkpoint_model(run_dir):
    """The Pix2Pix of a run's latest checkpoint (networks built from its config.json)."""
    m = config.read(run_dir / "config.json", Pix2PixOptions).model
    model = build_pix2pix(
        m.image_size, m.filters, m.depth, m.dropout, m.norm, m.discriminator_filters, m.n_layers
    )
    model.compile()
    record = training.latest_checkpoint(run_dir)
    training.load_state(model, run_dir / training.CHECKPOINT_DIR / record["dir"])
    return model


def trainable(network):
    return [np.asarray(v) for v in network.trainable_variables]


def largest_change(before, after):
    """Largest absolute difference between two networks' trainable weights."""
    pairs = zip(trainable(before), trainable(after), strict=True)
    return max(float(np.max(np.abs(a - b))) for a, b in pairs)


def test_train_writes_a_usable_generator_card_and_logs(trained, photos):
    card = json.loads((trained / "generator.json").read_text())
    assert card["task"] == "translation" and card["value_range"] == [-1.0, 1.0]
    assert card["stride"] == 4 and card["scale"] == 1 and card["steps"] == 4
    assert card["architecture"]["name"] == "unet" and card["architecture"]["depth"] == 2
    assert card["direction"] == "b2a"

    cfg = config.read(trained / "config.json", Pix2PixOptions)
    assert cfg.task == "pix2pix" and cfg.run.batch_size == 2 and cfg.model.direction == "b2a"
    assert (cfg.model.lr, cfg.model.l1_weight) == (2e-4, 100.0)  # paper defaults

    header, *rows = (trained / "log.csv").read_text().splitlines()
    for name in ("g_gan", "g_l1", "d_adv", "g_loss", "d_loss", "val_g_l1"):
        assert name in header.split(","), header
    assert len(rows) == 2
    # source | generated | target for the 2 test pairs, every epoch.
    grid = imageio.read_image(trained / "samples" / "epoch-0002.png")
    assert grid.shape == (2 * 16, 3 * 16, 3)

    # Any multiple of the stride translates, in [-1, 1].
    generator, loaded_card = zoo.load_generator(trained)
    image = imageio.to_float(views(photos, 1, 28)[0], (-1.0, 1.0))
    out = np.asarray(generator(image[None]))
    assert out.shape == (1, 28, 28, 3) and np.all(np.abs(out) <= 1)
    assert loaded_card["stride"] == 4


def test_resume_continues_the_run(trained, tmp_path):
    run_dir = tmp_path / "resumed"
    shutil.copytree(trained, run_dir)
    result = invoke("train", "pix2pix", "--out", run_dir, "--resume", "--epochs", 3)
    assert result.exit_code == 0, result.output
    assert training.latest_checkpoint(run_dir)["step"] == 6
    assert len((run_dir / "log.csv").read_text().splitlines()) == 1 + 3
    cfg = config.read(run_dir / "config.json", Pix2PixOptions)
    assert cfg.model.direction == "b2a" and cfg.model.filters == 4  # kept from config.json


def test_ema_run_exports_the_weight_average(datasets, tmp_path):
    out = tmp_path / "ema"
    result = invoke(
        "train", "pix2pix", "--data", datasets / "facades", "--out", out, "--epochs", 2,
        "--set", "ema_decay=0.5", "--set", "lr=0.01", *TINY,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    card = json.loads((out / "generator.json").read_text())
    assert card["weights"] == "moving average of the generator (ema_decay 0.5)"

    cfg = config.read(out / "config.json", Pix2PixOptions)
    model = Pix2PixTask().build_model(cfg)
    training.load_state(
        model, out / training.CHECKPOINT_DIR / training.latest_checkpoint(out)["dir"]
    )
    average = model.ema_weights()
    exported, _ = zoo.load_generator(out)
    for saved, expected in zip(exported.get_weights(), average, strict=True):
        np.testing.assert_allclose(saved, expected, rtol=1e-6, atol=1e-7)
    # The average lags the weights of the last step: a different network.
    raw = model.generator.get_weights()
    assert max(float(np.max(np.abs(a - b))) for a, b in zip(raw, average, strict=True)) > 1e-4


def test_finetune_from_a_run_dir_keeps_both_networks(trained, datasets, tmp_path):
    out = tmp_path / "mine"
    result = invoke(
        "finetune", trained, "--data", datasets / "mine", "--out", out,
        "--steps", 2, "--set", "steps_per_epoch=1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "discriminator initialized from" in result.output

    cfg = config.read(out / "config.json", Pix2PixOptions)
    assert cfg.model.lr == FINETUNE_LEARNING_RATE < 2e-4
    assert (cfg.model.filters, cfg.model.depth, cfg.model.n_layers) == (4, 2, 1)  # from source
    assert cfg.model.image_size == 16 and cfg.model.init_from == str(trained.resolve())
    card = json.loads((out / "generator.json").read_text())
    assert card["finetuned_from"] == str(trained.resolve()) and card["stride"] == 4

    # Both networks continue from the source (2 small steps), not from a fresh start.
    source, tuned = checkpoint_model(trained), checkpoint_model(out)
    fresh = build_pix2pix(16, 4, 2, 0.5, "batch", 4, 1)
    assert largest_change(source.discriminator, tuned.discriminator) < 1e-3
    assert largest_change(source.generator, tuned.generator) < 1e-3
    assert largest_change(fresh.discriminator, tuned.discriminator) > 1e-2

    again = invoke("finetune", trained, "--out", out, "--resume", "--steps", 3)
    assert again.exit_code == 0, again.output
    assert training.latest_checkpoint(out)["step"] == 3


def test_finetune_from_a_bare_generator_file(trained, datasets, tmp_path):
    bare = tmp_path / "models" / "facades.keras"
    bare.parent.mkdir()
    shutil.copy(trained / "generator.keras", bare)  # no card, no checkpoint
    out = tmp_path / "mine"
    result = invoke(
        "finetune", bare, "--data", datasets / "mine", "--out", out,
        "--image-size", 16, "--steps", 1, "--set", "n_layers=1",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "a fresh one" in result.output
    assert json.loads((out / "generator.json").read_text())["finetuned_from"] == str(bare)
    generator, _ = zoo.load_generator(out)
    original, _ = zoo.load_generator(bare)
    assert largest_change(original, generator) < 1e-3


def test_broken_data_is_refused_before_the_run_starts(datasets, tmp_path):
    broken = tmp_path / "broken"
    shutil.copytree(datasets / "mine", broken)
    (broken / "B" / "001.png").unlink()  # A/001.png has no partner
    (broken / "A" / "000.png").write_bytes(b"not an image")
    out = tmp_path / "run"
    result = invoke("train", "pix2pix", "--data", broken, "--out", out, *TINY)
    assert result.exit_code != 0
    assert "refusing to train on broken data" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not out.exists()

    bad_size = invoke(
        "train", "pix2pix", "--data", datasets / "mine", "--out", out,
        *TINY[2:], "--image-size", 18,
    )  # fmt: skip
    assert (
        bad_size.exit_code != 0 and "not a multiple of the generator's stride 4" in bad_size.output
    )
    missing = invoke("train", "pix2pix", "--out", out)
    assert missing.exit_code != 0 and "--data DIR is required" in missing.output


def test_a_crop_size_that_cripples_the_unet_is_refused(datasets, tmp_path):
    """100 px halves only twice (to 25 px): depth 2 where 64 px gives 6."""
    out = tmp_path / "run"
    result = invoke(
        "train", "pix2pix", "--data", datasets / "mine", "--out", out, "--image-size", 100,
        "--steps", 1,
    )  # fmt: skip
    assert result.exit_code == 1
    assert "image_size 100 gives a U-Net of depth 2 only" in result.output
    assert "down to 25 px" in result.output and "use --image-size 96" in result.output
    assert not out.exists()
