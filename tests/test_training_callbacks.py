"""Callbacks: linear LR decay across a resume, sample grids, checkpoint refusal of NaN."""

import csv

import keras
import numpy as np
import pytest
from tiny_gan import TinyOptions, TinyPlainTask, make_tiny_gan, tiny_arrays

from i2i import callbacks, config, imageio, training


def make_config(out, **run):
    run.setdefault("batch_size", 4)
    run.setdefault("verbose", 0)
    return config.Config(
        task="tiny-plain", run=config.RunOptions(out=str(out), **run), model=TinyOptions()
    )


def test_linear_decay_matches_the_reference_rule():
    decay = callbacks.LinearDecay(constant_epochs=2, decay_epochs=2, base_learning_rate=1.0)
    # lambda_rule(e) = 1 - max(0, e + 1 - n_epochs) / (n_epochs_decay + 1)
    assert [decay.factor(e) for e in range(4)] == pytest.approx([1, 1, 2 / 3, 1 / 3])


def lr_column(path):
    with open(path) as handle:
        return [float(row["lr"]) for row in csv.DictReader(handle)]


def test_linear_decay_continues_after_resume(tmp_path):
    def task():
        return TinyPlainTask([callbacks.LinearDecay(1, 3, base_learning_rate=1e-2)])

    whole = training.run(task(), make_config(tmp_path / "a", steps=16, steps_per_epoch=4))
    training.run(task(), make_config(tmp_path / "b", steps=8, steps_per_epoch=4))
    resumed = training.run(
        task(), make_config(tmp_path / "b", steps=16, steps_per_epoch=4), resume=True
    )
    expected = [1e-2 * f for f in (1, 0.75, 0.5, 0.25)]
    assert lr_column(tmp_path / "a" / "log.csv") == pytest.approx(expected)
    assert lr_column(tmp_path / "b" / "log.csv") == pytest.approx(expected)
    assert float(resumed.model.optimizer.learning_rate) == pytest.approx(2.5e-3)
    for a, b in zip(whole.model.get_weights(), resumed.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6, rtol=0)


def test_linear_decay_sets_both_gan_optimizers():
    model = make_tiny_gan()
    decay = callbacks.LinearDecay(0, 1, base_learning_rate=(4e-4, 2e-4))
    decay.set_model(model)
    decay.on_epoch_begin(0)
    rates = [float(o.learning_rate) for o in model.optimizers]
    assert rates == pytest.approx([2e-4, 1e-4])


def test_sample_grid_writes_png_and_tensorboard_images(tmp_path):
    source, target = tiny_arrays(3)
    grid = callbacks.SampleGrid(
        tmp_path / "samples", source, target, every=2, tensorboard_dir=tmp_path / "tb"
    )
    task = TinyPlainTask([grid])
    training.run(task, make_config(tmp_path / "run", steps=12, steps_per_epoch=3))
    written = sorted(p.name for p in (tmp_path / "samples").glob("*.png"))
    assert written == ["epoch-0002.png", "epoch-0004.png"]
    image = imageio.read_image(tmp_path / "samples" / "epoch-0004.png")
    assert image.shape == (3 * 16, 3 * 16, 3)
    # The target column is the target itself.
    np.testing.assert_array_equal(image[:16, 32:], imageio.from_float(target[0]))
    assert list((tmp_path / "tb").glob("events.out.tfevents.*"))


def test_sample_grid_enlarges_small_inputs():
    small = np.zeros((2, 4, 4, 3), np.float32)
    small[:, 0, 0] = 1.0
    big = callbacks._enlarge(small, 16, 16)
    assert big.shape == (2, 16, 16, 3) and big[:, :4, :4].min() == 1.0 and big[:, 4:].max() == 0


def test_checkpoint_refuses_non_finite_weights(tmp_path):
    model = make_tiny_gan()
    checkpoint = callbacks.FullStateCheckpoint(tmp_path / "checkpoints", start_step=7)
    checkpoint.set_model(model)
    checkpoint.on_epoch_end(0, {"g_loss": 1.0})
    assert training.latest_checkpoint(tmp_path)["epoch"] == 1
    kernel = model.generator.layers[1].kernel
    kernel.assign(np.full(kernel.shape, np.nan, np.float32))
    with pytest.raises(training.NonFiniteError, match=r"step 7: weight .*kernel.* g_loss=2"):
        checkpoint.on_epoch_end(1, {"g_loss": 2.0})
    record = training.latest_checkpoint(tmp_path)
    kept = sorted(p.name for p in (tmp_path / "checkpoints").iterdir())
    assert record["epoch"] == 1 and kept == [
        "epoch-000001",
        "latest.json",
    ]
    assert keras.config.dtype_policy().name == "float32"
