"""`i2i train srresnet`: a tiny run and its resume, bad input, and a learning check."""

import csv
import json

import keras
import numpy as np
import pytest
from click.testing import CliRunner

from i2i import config, imageio, training
from i2i.cli import cli
from i2i.tasks.srresnet import SRResNetOptions, SRResNetTask

TINY = [
    "--set", "num_blocks=1", "--set", "filters=8", "--set", "patch_size=32",
    "--set", "residual=bicubic", "--set", "batch_norm=false", "--set", "val_size=64",
]  # fmt: skip


@pytest.fixture(scope="module")
def sr_folders(tmp_path_factory, photos):
    """Real photos: three to train on, two held out (the gray camera as RGB)."""
    root = tmp_path_factory.mktemp("sr")
    for name in ("astronaut", "coffee", "rocket"):
        imageio.write_image(root / "train" / f"{name}.png", photos[name])
    for name in ("chelsea", "camera"):
        imageio.write_image(root / "held_out" / f"{name}.png", photos[name])
    return root


def _log(run_dir):
    with open(run_dir / "log.csv") as handle:
        return list(csv.DictReader(handle))


def test_tiny_run_logs_psnr_beside_bicubic_keeps_the_best_and_resumes(sr_folders, tmp_path):
    out = tmp_path / "run"
    args = ["train", "srresnet", "--data", str(sr_folders / "train"), "--scale", "2"]
    args += ["--out", str(out), "--steps", "4", "--batch-size", "2", "--seed", "1"]
    args += ["--set", "steps_per_epoch=2", "--set", "run.verbose=0", *TINY]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    rows = _log(out)
    assert [row["epoch"] for row in rows] == ["1", "2"]
    for column in ("val_psnr", "val_ssim", "val_psnr_bicubic", "val_ssim_bicubic"):
        assert np.isfinite(float(rows[-1][column]))
    card = json.loads((out / "generator.json").read_text())
    assert card["task"] == "super-resolution" and card["scale"] == 2
    assert card["value_range"] == [0.0, 1.0]
    saved = keras.saving.load_model(out / "generator.keras")
    assert getattr(saved, "optimizer", None) is None  # no optimizer state in the file
    # Held out: one of the three training photos (--set holdout=1 by default).
    assert len(card["validation"]["images"]) == 1
    best = max(rows, key=lambda row: float(row["val_psnr"]))
    assert card["validation"]["psnr"] == pytest.approx(float(best["val_psnr"]), abs=1e-3)

    resume = ["train", "srresnet", "--out", str(out), "--resume", "--steps", "6"]
    result = CliRunner().invoke(cli, resume)
    assert result.exit_code == 0, result.output
    assert [row["epoch"] for row in _log(out)] == ["1", "2", "3"]
    assert json.loads((out / "checkpoints" / "latest.json").read_text())["step"] == 6
    assert (out / "generator.keras").exists()


def test_bad_input_is_one_clear_line(tmp_path, photos):
    runner = CliRunner()
    result = runner.invoke(cli, ["train", "srresnet", "--scale", "2", "--out", str(tmp_path / "r")])
    assert result.exit_code == 2 and "--data is required" in result.output
    imageio.write_image(tmp_path / "one" / "a.png", photos["coffee"][:64, :64])
    args = ["train", "srresnet", "--data", str(tmp_path / "one"), "--out", str(tmp_path / "r")]
    result = runner.invoke(cli, [*args, "--steps", "2", *TINY])
    assert result.exit_code == 1
    assert "cannot hold out 1 of 1 images" in result.output
    assert "Traceback" not in result.output


def test_learning_check_tiny_srresnet_x2_beats_bicubic_on_held_out_photos(sr_folders, tmp_path):
    """A 2-block, 16-filter residual SRResNet x2 (28,739 parameters), 500 steps of batch 8
    on 48x48 patches of astronaut, coffee and rocket (L1, Adam 1e-3 with cosine decay),
    scored on 192x192 centre crops of chelsea and camera, never trained on:
    PSNR-Y 30.94 dB bicubic -> 31.63 dB (+0.69 dB) when measured; needs > +0.3 dB."""
    options = SRResNetOptions(
        data=str(sr_folders / "train"),
        val_data=str(sr_folders / "held_out"),
        val_size=192,
        scale=2,
        patch_size=48,
        num_blocks=2,
        filters=16,
        batch_norm=False,
        residual="bicubic",
        lr=1e-3,
    )
    run = config.RunOptions(
        out=str(tmp_path / "learn"), steps=500, steps_per_epoch=250, batch_size=8, verbose=0
    )
    result = training.run(SRResNetTask(), config.Config(task="srresnet", run=run, model=options))
    rows = _log(result.run_dir)
    bicubic = float(rows[-1]["val_psnr_bicubic"])
    gains = [float(row["val_psnr"]) - bicubic for row in rows]
    assert bicubic == pytest.approx(30.94, abs=0.05)
    assert gains[-1] > 0.3, gains
    card = json.loads((result.run_dir / "generator.json").read_text())
    assert card["validation"]["psnr"] - card["validation"]["psnr_bicubic"] > 0.3


def _srresnet_args(words):
    """Parse `i2i train srresnet ...` arguments with the real command (nothing runs)."""
    from i2i.commands.train import train

    command = train.commands["srresnet"]
    return command.make_context("srresnet", list(words)).params


def test_readme_section_and_recipe_commands_parse(tmp_path, monkeypatch):
    import shlex
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    text = (repo / "README.md").read_text()
    section = text.split("## Super-resolution training", 1)[1].split("\n## ", 1)[0]
    lines = [line for line in section.splitlines() if line.startswith("i2i train srresnet")]
    assert len(lines) == 5
    monkeypatch.chdir(tmp_path)
    (tmp_path / "photos").mkdir()
    outs = []
    for line in lines:
        params = _srresnet_args(shlex.split(line)[3:])
        outs.append(params["out"])
        options = config.apply_overrides(
            config.Config(task="srresnet", model=SRResNetOptions()), params["assignments"]
        )  # every --set is a real option of the right type
        if params["arch"] == "compact":
            # The LR patch covers the receptive field: 32 px at both scales.
            assert options.model.patch_size == 32 * int(params["scale"])
            assert options.model.filters == (48 if params["scale"] == "2" else 64)
    assert outs == [
        "runs/sr_x4",
        "runs/sr_x4",
        "runs/compact_x4",
        "runs/compact_x2",
        "runs/real_x4",
    ]
    sys.path.insert(0, str(repo / "recipes"))
    try:
        from sr_zoo import RECIPES, command
    finally:
        sys.path.remove(str(repo / "recipes"))
    for name, recipe in RECIPES.items():
        words = command(name, repo, Path("runs/x"), runs=Path("runs"))
        params = _srresnet_args(words[3:])
        assert params["scale"] == str(recipe["scale"])
        options = config.apply_overrides(
            config.Config(task="srresnet", model=SRResNetOptions()), params["assignments"]
        )
        assert options.model.arch == recipe.get("arch", "srresnet")
        assert options.model.residual == recipe["residual"]
        assert options.model.unshuffle == recipe.get("unshuffle", 1)
        assert options.model.filters == recipe.get("filters", 64)
        assert options.run.steps_per_epoch == 200
        assert options.model.init_from == (f"runs/{recipe['init']}" if "init" in recipe else "")


def test_unshuffled_compact_network_learns_and_validates_odd_sizes(sr_folders, tmp_path):
    """`unshuffle=2`: the x2 body on a 4x smaller grid (3 convs, 16 filters), 200 steps of
    batch 8, 48 px patches. The 190 px validation crops have odd 95 px LR sides, which the
    validation reflect-pads to the stride (as `i2i upscale` does). At this size it learns
    slower than without unshuffling (PSNR-Y over bicubic on chelsea and camera, measured:
    -0.85 dB at step 100, -0.45 at 300); needs a 0.25 dB rise from step 100 to 300."""
    options = SRResNetOptions(
        data=str(sr_folders / "train"),
        val_data=str(sr_folders / "held_out"),
        val_size=190,
        scale=2,
        patch_size=48,
        arch="compact",
        num_conv=3,
        filters=16,
        unshuffle=2,
        lr=1e-3,
    )
    run = config.RunOptions(
        out=str(tmp_path / "run"), steps=300, steps_per_epoch=100, batch_size=8, verbose=0
    )
    cfg = config.Config(task="srresnet", run=run, model=options)
    rows = _log(training.run(SRResNetTask(), cfg).run_dir)
    gains = [float(r["val_psnr"]) - float(r["val_psnr_bicubic"]) for r in rows]
    assert gains[-1] - gains[0] > 0.25, gains
    card = json.loads((tmp_path / "run" / "generator.json").read_text())
    assert card["stride"] == 2 and card["architecture"]["unshuffle"] == 2

    bad = config.replace_model(config.replace(cfg, out=str(tmp_path / "bad")), patch_size=50)
    with pytest.raises(training.TrainingError, match="patch_size 50 is not a multiple of 4"):
        training.run(SRResNetTask(), bad)
    srresnet = config.replace_model(bad, arch="srresnet", patch_size=48)
    with pytest.raises(training.TrainingError, match="unshuffle is for arch=compact"):
        SRResNetTask().card(srresnet)


def test_compact_network_learns_then_fine_tunes_on_realistic_degradations(sr_folders, tmp_path):
    """`--arch compact` (3 body convs, 16 filters, 9,212 parameters), 300 steps of batch 8
    on 48x48 patches, L1, Adam 1e-3: PSNR-Y on chelsea and camera (never trained on)
    30.94 dB bicubic -> 31.61 (+0.67 dB) when measured; needs > +0.3 dB. Then a run
    initialized from it (`init_from`) on realistic degradations starts from its weights,
    and scores on degraded validation LR."""
    common = dict(
        data=str(sr_folders / "train"),
        val_data=str(sr_folders / "held_out"),
        val_size=192,
        scale=2,
        patch_size=48,
        arch="compact",
        num_conv=3,
        filters=16,
        lr=1e-3,
    )
    run = config.RunOptions(
        out=str(tmp_path / "bicubic"), steps=300, steps_per_epoch=150, batch_size=8, verbose=0
    )
    cfg = config.Config(task="srresnet", run=run, model=SRResNetOptions(**common))
    result = training.run(SRResNetTask(), cfg)
    rows = _log(result.run_dir)
    bicubic = float(rows[-1]["val_psnr_bicubic"])
    assert bicubic == pytest.approx(30.94, abs=0.05)
    assert float(rows[-1]["val_psnr"]) - bicubic > 0.3, [r["val_psnr"] for r in rows]
    card = json.loads((result.run_dir / "generator.json").read_text())
    assert card["architecture"] == {
        "name": "compact", "scale": 2, "num_conv": 3, "filters": 16, "residual": "bilinear",
    }  # fmt: skip

    real = SRResNetOptions(**common, degradation="realistic", init_from=str(result.run_dir))
    run = config.replace(cfg, out=str(tmp_path / "real"), steps=2, steps_per_epoch=2).run
    real_cfg = config.Config(task="srresnet", run=run, model=real)
    task = SRResNetTask()
    model = task.build_model(real_cfg)
    source = keras.saving.load_model(result.run_dir / "generator.keras")
    for built, trained in zip(model.get_weights(), source.get_weights(), strict=True):
        np.testing.assert_array_equal(built, trained)
    result = training.run(SRResNetTask(), real_cfg)
    rows = _log(result.run_dir)
    # The validation LR is degraded too, so bicubic scores lower than on clean LR.
    assert float(rows[-1]["val_psnr_bicubic"]) < bicubic - 1.0
    card = json.loads((result.run_dir / "generator.json").read_text())
    assert card["training"]["degradation"] == "realistic"
    assert card["training"]["init_from"] == str(tmp_path / "bicubic")

    mismatch = SRResNetOptions(
        **{**common, "arch": "srresnet"}, init_from=str(tmp_path / "bicubic")
    )
    fresh = config.replace(real_cfg, out=str(tmp_path / "other")).run
    with pytest.raises(training.TrainingError, match="architecture"):
        SRResNetTask().build_model(config.Config(task="srresnet", run=fresh, model=mismatch))


def test_multiscale_photos_keeps_the_holdout_whole_and_adds_smaller_copies(tmp_path, photos):
    import sys
    from pathlib import Path

    from i2i.data import sr

    repo = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(repo / "recipes"))
    try:
        from sr_zoo import RECIPES, multiscale_photos
    finally:
        sys.path.remove(str(repo / "recipes"))
    names = ("astronaut", "coffee", "rocket", "chelsea", "camera")
    for name in names:
        imageio.write_image(tmp_path / "photos" / f"{name}.png", photos[name])
    _, held = sr.split_holdout(sorted((tmp_path / "photos").iterdir()), 2, seed=0)
    folder = multiscale_photos(tmp_path / "photos", tmp_path / "set", (1, 3))
    assert sorted(p.name for p in (folder / "test").iterdir()) == sorted(p.name for p in held)
    train = sorted(p.name for p in (folder / "train").iterdir())
    kept = sorted(set(names) - {p.stem for p in held})
    assert train == sorted([f"{n}.png" for n in kept] + [f"{n}-x3.png" for n in kept])
    small = imageio.read_image(folder / "train" / f"{kept[0]}-x3.png")
    assert small.shape[:2] == (photos[kept[0]].shape[0] // 3, photos[kept[0]].shape[1] // 3)
    assert not (tmp_path / "set.partial").exists()
    assert RECIPES["compact-real-x4"]["hr_factors"] == (1, 2, 3, 4)


def test_compact_init_from_the_x4_net_of_its_body_unshuffled_or_deepened(tmp_path):
    from i2i import zoo
    from i2i.nets.compact import compact

    x4 = compact(scale=4, num_conv=2, filters=8)
    rng = np.random.default_rng(0)
    x4.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype) for w in x4.get_weights()])
    architecture = {"name": "compact", "scale": 4, "num_conv": 2, "filters": 8}
    card = {"task": "super-resolution", "scale": 4, "value_range": [0.0, 1.0], "stride": 1}
    path = zoo.save_generator(
        x4,
        tmp_path / "x4.keras",
        {**card, "architecture": {**architecture, "residual": "bilinear"}},
    )
    options = SRResNetOptions(
        data="unused", scale=2, arch="compact", num_conv=2, filters=8, unshuffle=2,
        init_from=str(path),
    )  # fmt: skip
    run = config.RunOptions(out=str(tmp_path / "run"), steps=1)
    model = SRResNetTask().build_model(config.Config(task="srresnet", run=run, model=options))
    built, source = model.get_weights(), x4.get_weights()
    np.testing.assert_allclose(built[0], np.concatenate([source[0] / 4] * 4, axis=2))
    for mine, theirs in zip(built[1:], source[1:], strict=True):
        np.testing.assert_array_equal(mine, theirs)
    # Another width is still refused.
    other = config.replace_model(config.Config(task="srresnet", run=run, model=options), filters=16)
    with pytest.raises(training.TrainingError, match="architecture"):
        SRResNetTask().build_model(other)
    # A deeper x4 net starts as this one (identity layers added), a shallower one cannot.
    deeper = SRResNetOptions(
        data="unused", scale=4, arch="compact", num_conv=5, filters=8, init_from=str(path)
    )
    model = SRResNetTask().build_model(config.Config(task="srresnet", run=run, model=deeper))
    x = rng.random((1, 8, 10, 3), np.float32)
    np.testing.assert_allclose(np.asarray(model(x)), np.asarray(x4(x)), atol=1e-5)
    shallower = config.replace_model(
        config.Config(task="srresnet", run=run, model=deeper), num_conv=1
    )
    with pytest.raises(training.TrainingError, match="architecture"):
        SRResNetTask().build_model(shallower)
