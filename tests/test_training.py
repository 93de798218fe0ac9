"""The training runner on a plain compiled Keras model (the SRResNet stage-1 path)."""

import json
import math
import os

import keras
import numpy as np
import pytest
from click.testing import CliRunner
from tiny_gan import TinyGANTask, TinyOptions, TinyPlainTask, tiny_arrays

from i2i import config, precision, training


def make_config(out, model=None, **run):
    run.setdefault("batch_size", 4)
    run.setdefault("verbose", 0)
    return config.Config(
        task="tiny-plain", run=config.RunOptions(out=str(out), **run), model=model or TinyOptions()
    )


def l1_of(model):
    source, target = tiny_arrays()
    return float(np.mean(np.abs(model.predict(source, verbose=0) - target)))


def test_run_writes_the_run_directory_and_learns(tmp_path):
    out = tmp_path / "run"
    before = l1_of(training.run(TinyPlainTask(), make_config(out, steps=1)).model)
    result = training.run(
        TinyPlainTask(), make_config(tmp_path / "run2", steps=60, steps_per_epoch=20)
    )
    assert result.step == 60
    assert l1_of(result.model) < 0.8 * before  # the L1 loss really falls

    run_dir = tmp_path / "run2"
    for name in ("config.json", "log.csv", "generator.keras", "generator.json"):
        assert (run_dir / name).is_file(), name
    assert list((run_dir / "tensorboard").rglob("events.out.tfevents.*"))
    saved = config.read(run_dir / "config.json", TinyOptions)
    assert saved.run.precision == "float32"  # resolved, not "auto"
    assert saved.task == "tiny-plain" and saved.run.steps == 60
    assert saved.run.epochs == 3  # what the 60 steps make, not a placeholder 1

    rows = (run_dir / "log.csv").read_text().splitlines()
    assert rows[0].split(",")[:2] == ["epoch", "loss"] and len(rows) == 4
    # Counted from 1, as the checkpoints, the sample grids and Keras' progress bar are.
    assert [row.split(",")[0] for row in rows[1:]] == ["1", "2", "3"]
    # Every file and folder of the run has the usual modes (none owner-only).
    umask = os.umask(0)
    os.umask(umask)
    for path in [run_dir, *run_dir.rglob("*")]:
        expected = (0o777 if path.is_dir() else 0o666) & ~umask
        assert path.stat().st_mode & 0o777 == expected, path

    latest = json.loads((run_dir / "checkpoints" / "latest.json").read_text())
    assert (latest["epoch"], latest["step"]) == (3, 60)
    kept = sorted(p.name for p in (run_dir / "checkpoints").glob("epoch-*"))
    assert kept == ["epoch-000002", "epoch-000003"]  # keep_checkpoints=2

    card = json.loads((run_dir / "generator.json").read_text())
    assert card["steps"] == 60 and card["task"] == "translation"
    reloaded = keras.saving.load_model(run_dir / "generator.keras")
    source, _ = tiny_arrays(4)
    np.testing.assert_allclose(
        reloaded.predict(source, verbose=0), result.model.predict(source, verbose=0), atol=1e-6
    )


def test_resume_continues_exactly(tmp_path):
    whole = training.run(TinyPlainTask(), make_config(tmp_path / "a", steps=40, steps_per_epoch=10))
    training.run(TinyPlainTask(), make_config(tmp_path / "b", steps=20, steps_per_epoch=10))
    log = tmp_path / "b" / "log.csv"
    header, *body = log.read_text().splitlines()
    older = [f"{int(row.split(',')[0]) - 1},{row.split(',', 1)[1]}" for row in body]
    log.write_text("\n".join([header, *older]) + "\n")  # as i2i wrote it before: from 0
    resumed = training.run(
        TinyPlainTask(), make_config(tmp_path / "b", steps=40, steps_per_epoch=10), resume=True
    )
    assert resumed.step == 40
    for a, b in zip(whole.model.get_weights(), resumed.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)
    a_opt = [np.asarray(v) for v in whole.model.optimizer.variables]
    b_opt = [np.asarray(v) for v in resumed.model.optimizer.variables]
    for a, b in zip(a_opt, b_opt, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)
    rows = (tmp_path / "b" / "log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["1", "2", "3", "4"]


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    cfg = make_config(tmp_path / "run", TinyOptions(nan_at_step=15), steps=30, steps_per_epoch=10)
    with pytest.raises(training.NonFiniteError, match=r"step 15: loss is nan"):
        training.run(TinyPlainTask(), cfg)
    latest = training.latest_checkpoint(tmp_path / "run")
    assert (latest["epoch"], latest["step"]) == (1, 10)
    assert math.isfinite(latest["logs"]["loss"])


def test_run_directory_states_are_checked(tmp_path):
    cfg = make_config(tmp_path / "run", steps=2)
    with pytest.raises(training.TrainingError, match="nothing to resume"):
        training.run(TinyPlainTask(), cfg, resume=True)
    training.run(TinyPlainTask(), cfg)
    with pytest.raises(training.TrainingError, match="already holds a run"):
        training.run(TinyPlainTask(), cfg)
    # Resuming a finished run trains nothing and still exports the generator.
    again = training.run(TinyPlainTask(), cfg, resume=True)
    assert again.step == 2 and again.history is None


def test_infinite_data_needs_a_step_count(tmp_path):
    with pytest.raises(training.TrainingError, match="steps_per_epoch"):
        training.run(TinyPlainTask(), make_config(tmp_path / "run", epochs=1))


@pytest.mark.parametrize("kind", ["plain", "gan"])
@pytest.mark.parametrize("precision", ["float32", "mixed_float16", "mixed_bfloat16"])
def test_each_precision_trains_with_finite_losses(tmp_path, precision, kind):
    task = TinyPlainTask() if kind == "plain" else TinyGANTask()
    result = training.run(task, make_config(tmp_path / "run", steps=3, precision=precision))
    model = result.model
    assert all(math.isfinite(v) for v in result.history.history.values() for v in v)
    generator = model if kind == "plain" else model.generator
    conv = generator.layers[1]
    assert conv.compute_dtype == ("float32" if precision == "float32" else precision[6:])
    assert conv.variable_dtype == "float32"
    assert model.predict(tiny_arrays(2)[0], verbose=0).dtype == np.float32
    for optimizer in training.model_optimizers(model):
        loss_scaled = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        assert loss_scaled == (precision == "mixed_float16")
    # The policy is restored after the run; the exported generator is float32.
    assert keras.config.dtype_policy().name == "float32"
    exported = keras.saving.load_model(tmp_path / "run" / "generator.keras")
    assert {layer.compute_dtype for layer in exported.layers[1:]} == {"float32"}
    np.testing.assert_allclose(
        exported.predict(tiny_arrays(2)[0], verbose=0),
        generator.predict(tiny_arrays(2)[0], verbose=0),
        atol=0.02 if precision != "float32" else 1e-6,
    )


def test_default_steps_per_epoch():
    assert training.default_steps_per_epoch(40) == 40
    assert training.default_steps_per_epoch(40000) == 1000
    assert training.default_steps_per_epoch(2500) == 625
    with pytest.raises(training.TrainingError, match="steps_per_epoch"):
        training.default_steps_per_epoch(1009)


def test_auto_precision_follows_gpu_presence(monkeypatch):
    monkeypatch.setattr(precision, "gpu_visible", lambda: True)
    assert training.resolve_precision("auto") == "mixed_float16"
    monkeypatch.setattr(precision, "gpu_visible", lambda: False)
    assert training.resolve_precision("auto") == "float32"
    assert training.resolve_precision("mixed_bfloat16") == "mixed_bfloat16"
    with pytest.raises(training.TrainingError):
        training.resolve_precision("float64")


@pytest.mark.parametrize("kind", ["plain", "gan"])
@pytest.mark.parametrize("jit", [False, True])
def test_jit_compile_is_pinned(tmp_path, jit, kind):
    task = TinyPlainTask() if kind == "plain" else TinyGANTask()
    result = training.run(task, make_config(tmp_path / "run", steps=2, jit_compile=jit))
    assert result.model.jit_compile is jit
    assert all(math.isfinite(v) for v in result.history.history.values() for v in v)


def test_cli_run_options_and_one_line_errors(tmp_path):
    from tiny_gan import main

    out = str(tmp_path / "run")
    runner = CliRunner()
    ok = runner.invoke(main, ["plain", "--out", out, "--steps", "4", "--batch-size", "2"])
    assert ok.exit_code == 0, ok.output
    cfg = config.read(tmp_path / "run" / "config.json", TinyOptions)
    assert (cfg.run.steps, cfg.run.batch_size) == (4, 2)
    assert cfg.run.steps_per_epoch == 4  # pinned for later resumes

    more = runner.invoke(
        main, ["plain", "--out", out, "--steps", "8", "--resume", "--set", "lr=1e-3"]
    )
    assert more.exit_code == 0, more.output
    cfg = config.read(tmp_path / "run" / "config.json", TinyOptions)
    assert (cfg.run.steps, cfg.run.batch_size, cfg.model.lr) == (8, 2, 1e-3)  # rest kept
    assert training.latest_checkpoint(tmp_path / "run")["step"] == 8

    more = runner.invoke(main, ["plain", "--out", out, "--epochs", "3", "--resume"])
    assert more.exit_code == 0, more.output
    cfg = config.read(tmp_path / "run" / "config.json", TinyOptions)
    assert (cfg.run.steps, cfg.run.epochs, cfg.run.steps_per_epoch) == (None, 3, 4)
    assert training.latest_checkpoint(tmp_path / "run")["step"] == 12

    for args, message in [
        (["--set", "nope=1"], "unknown key"),
        (["--set", "lr=fast"], "expected a number"),
        (["--steps", "10", "--resume"], "not a multiple"),
        (["--resume", "--out", str(tmp_path / "none")], "no such config"),
        ([], "already holds a run"),
    ]:
        result = runner.invoke(main, ["plain", "--out", out, "--steps", "2", *args])
        assert result.exit_code != 0
        assert message in result.output and "Traceback" not in result.output


def test_gan_runs_warn_about_training_health(tmp_path, monkeypatch, caplog):
    from i2i import health

    # A discriminator collapse needs many epochs to appear for real; force the check's
    # verdict and see that the runner's callback logs it during fit.
    collapse = health.HealthWarning(
        check="discriminator_collapse", column="d_loss", first_epoch=0, message="D collapsed"
    )
    monkeypatch.setattr(health, "check_history", lambda history, **kw: [collapse])
    with caplog.at_level("WARNING", logger="i2i.health"):
        training.run(TinyGANTask(), make_config(tmp_path / "gan", steps=2))
    assert "epoch 1: D collapsed" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="i2i.health"):
        training.run(TinyPlainTask(), make_config(tmp_path / "plain", steps=2))
    assert "D collapsed" not in caplog.text


def test_a_task_supplied_health_callback_replaces_the_runners(tmp_path, monkeypatch):
    from i2i import health

    class OwnHealth(TinyGANTask):
        def callbacks(self, cfg, run_dir, model):
            self.own = health.TrainingHealth()
            return [self.own]

    task = OwnHealth()
    seen = []
    original = keras.Model.fit

    def spy(model, *args, **kwargs):
        seen.extend(c for c in kwargs["callbacks"] if isinstance(c, health.TrainingHealth))
        return original(model, *args, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    training.run(task, make_config(tmp_path / "gan", steps=1))
    assert seen == [task.own]


def test_average_last_exports_the_mean_of_the_last_checkpoints(tmp_path):
    out = tmp_path / "run"
    cfg = make_config(out, steps=40, steps_per_epoch=10, average_last=3, model=TinyOptions())
    cfg = config.Config(task="tiny-gan", run=cfg.run, model=cfg.model)
    training.run(TinyGANTask(), cfg)

    kept = sorted(p.name for p in (out / "checkpoints").glob("epoch-*"))
    assert kept == ["epoch-000002", "epoch-000003", "epoch-000004"]  # kept for the mean
    card = json.loads((out / "generator.json").read_text())
    assert card["checkpoint_average"] == {"epochs": [2, 3, 4]}

    probe = TinyGANTask().build_model(cfg)
    per_checkpoint = []
    for name in kept:
        training.load_state(probe, out / "checkpoints" / name)
        per_checkpoint.append(probe.generator.get_weights())
    exported = keras.saving.load_model(out / "generator.keras").get_weights()
    for weight, values in zip(exported, zip(*per_checkpoint, strict=True), strict=True):
        np.testing.assert_allclose(weight, np.mean(values, axis=0), rtol=1e-5, atol=1e-7)
    # The mean is not the last checkpoint: the weights moved between epochs.
    moved = [np.abs(a - b).max() for a, b in zip(exported, per_checkpoint[-1], strict=True)]
    assert max(moved) > 1e-4
