"""`i2i report` on fake run directories, and the training-health checks behind it."""

import csv
import json
import logging
import math
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from i2i import health, imageio, report
from i2i.commands.report import report as report_command


def write_log(path, columns: dict):
    """A log.csv as Keras' CSVLogger writes it: `epoch` from 0, then the logged names."""
    names = list(columns)
    length = len(next(iter(columns.values())))
    with open(path, "w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["epoch", *names])
        for epoch in range(length):
            values = [columns[n][epoch] for n in names]
            writer.writerow([epoch, *("NA" if v is None else repr(float(v)) for v in values)])


def healthy_columns(epochs=12):
    t = np.arange(epochs)
    return {
        "d_loss": 0.7 - 0.02 * t,
        "g_adv": 0.9 + 0.05 * np.sin(t),
        "g_l1": 0.3 * np.exp(-t / 5),
        "val_psnr": [None, None, *(20 + 0.5 * t[2:])],  # validation started late
        "val_ssim": [None, None, *(0.5 + 0.01 * t[2:])],
        "learning_rate": np.full(epochs, 2e-4),
    }


@pytest.fixture
def run_dir(tmp_path, photos):
    run = tmp_path / "runs" / "p2p"
    (run / "samples").mkdir(parents=True)
    write_log(run / "log.csv", healthy_columns())
    config = {"task": "pix2pix", "run": {"epochs": 12, "batch_size": 1}, "note": "<b>&"}
    (run / "config.json").write_text(json.dumps(config))
    for epoch in (1, 2, 3, 10, 11, 12):
        imageio.write_image(run / "samples" / f"epoch_{epoch:04d}.png", photos["coffee"][:24, :48])
    return run


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []
        self.links = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.sources.append(attrs["src"])
        for key in ("href", "src"):
            if key in attrs:
                self.links.append(attrs[key])


def referenced_images(page):
    parser = _Images()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_page_and_every_image_it_references_exist(run_dir):
    result = report.build_report(run_dir)
    assert result.page == run_dir / "report" / "report.html" and result.page.exists()
    parsed = referenced_images(result.page)
    assert len(parsed.sources) == len(result.figures) + 4
    for source in parsed.sources:
        image = imageio.read_image(result.page.parent / source)  # exists and is an image
        assert image.shape[0] > 10
    # Self-contained: nothing outside the report folder, nothing from the network.
    assert all(not re.match(r"^(https?:|/|\.\.)", link) for link in parsed.links)


def test_curves_have_the_logged_points(run_dir):
    result = report.build_report(run_dir)
    logged = health.read_history(run_dir / "log.csv")
    assert set(result.figures) == {
        "generator.png",
        "discriminator.png",
        "validation_psnr.png",
        "validation.png",
        "learning_rate.png",
    }
    drawn = {
        column: points for figure in result.figures.values() for column, points in figure.items()
    }
    assert set(drawn) == set(logged) - {"epoch"}  # every logged value, each drawn once
    for column, (epochs, values) in drawn.items():
        assert epochs == [e + 1 for e in logged["epoch"]]
        np.testing.assert_array_equal(values, logged[column])  # NaN (not logged) = gap
    assert result.figures["discriminator.png"]["d_loss"][1][0] == pytest.approx(0.7)
    assert math.isnan(result.figures["validation_psnr.png"]["val_psnr"][1][0])


def test_latest_samples_config_and_no_warnings(run_dir):
    result = report.build_report(run_dir, max_samples=3)
    assert [p.name for p in result.samples] == [f"epoch_{e:04d}.png" for e in (10, 11, 12)]
    page = result.page.read_text()
    assert "&lt;b&gt;&amp;" in page and "pix2pix" in page  # config shown, escaped
    assert "No warnings" in page and result.warnings == []
    # A second report replaces the copied grids instead of accumulating them.
    report.build_report(run_dir, max_samples=1)
    assert [p.name for p in (run_dir / "report" / "samples").iterdir()] == ["epoch_0012.png"]


def test_unhealthy_run_shows_warnings(run_dir, tmp_path):
    columns = healthy_columns()
    columns["d_loss"] = [
        0.7,
        0.5,
        0.2,
        0.05,
        0.004,
        0.002,
        0.001,
        0.001,
        0.0005,
        0.0004,
        0.0003,
        0.0003,
    ]
    columns["g_adv"] = [0.9, 0.8, 0.8, 1.5, 2.4, 3.9, 5.2, 6.8, 8.0, 9.5, 10.1, 11.0]
    write_log(run_dir / "log.csv", columns)
    result = report.build_report(run_dir, out_dir=tmp_path / "elsewhere")
    assert {w.check for w in result.warnings} == {
        "discriminator_collapse",
        "adversarial_divergence",
    }
    page = result.page.read_text()
    assert page.count('class="warning"') == 2
    assert "d_loss collapsed to ~0" in page and "from epoch 5" in page
    assert "g_adv diverging" in page
    for source in referenced_images(result.page).sources:
        assert (result.page.parent / source).exists()


def test_empty_and_missing_run_dirs(tmp_path):
    (tmp_path / "fresh").mkdir()
    result = report.build_report(tmp_path / "fresh")
    page = result.page.read_text()
    assert "No log.csv yet" in page and "No sample grids" in page and "No config.json" in page
    assert referenced_images(result.page).sources == []
    with pytest.raises(report.ReportError, match="run directory not found"):
        report.build_report(tmp_path / "nope")


def test_cli(run_dir, tmp_path):
    columns = healthy_columns()
    columns["d_loss"] = np.full(12, 1e-4)
    write_log(run_dir / "log.csv", columns)
    run = CliRunner().invoke(report_command, [str(run_dir), "--samples", "2"])
    assert run.exit_code == 0, run.output
    assert f"wrote {run_dir / 'report' / 'report.html'}" in run.output
    assert "warning: d_loss collapsed" in run.output
    (run_dir / "config.json").write_text("{not json")
    run = CliRunner().invoke(report_command, [str(run_dir)])
    assert run.exit_code == 1 and "config.json: cannot read the run config" in run.output
    assert "Traceback" not in run.output


# ----------------------------------------------------------------------- health checks


def history_of(**columns):
    length = len(next(iter(columns.values())))
    return {"epoch": list(range(length)), **{k: [float(x) for x in v] for k, v in columns.items()}}


def test_discriminator_collapse():
    ok = history_of(d_loss=[0.6, 0.004, 0.003, 0.5, 0.4])  # a dip, not a collapse
    assert health.discriminator_collapse(ok) == []
    bad = history_of(
        d_loss=[0.6, 0.3, 0.004, 0.003, 0.002],
        d_gp=[0.0] * 5,  # a gradient penalty at 0 is fine
        d_real=[0.6, 0.001, 0.001, 0.001, 0.001],  # one half of the D loss alone: fine
        g_l1=[0.0] * 5,
    )
    (warning,) = health.discriminator_collapse(bad)
    assert (warning.column, warning.first_epoch) == ("d_loss", 3)
    wgan = history_of(d_loss=[-5.0, -0.001, 0.001, 0.0, 0.0])
    assert health.discriminator_collapse(wgan) == []
    cyclegan = history_of(d_a_loss=[0.5] * 4, d_b_loss=[0.5, 0.001, 0.001, 0.001])
    assert [w.column for w in health.check_history(cyclegan)] == ["d_b_loss"]


def test_adversarial_divergence():
    rising = history_of(g_adv=[1.0, 0.8, 1.0, 1.7, 2.0, 2.5, 3.0, 3.5, 4.0])
    (warning,) = health.adversarial_divergence(rising)
    assert warning.first_epoch == 4 and "(0.8)" in warning.message  # 1.7 > 2 x 0.8
    recovering = history_of(g_adv=[1.0, 0.8, 2.0, 2.5, 3.0, 2.6, 1.9, 1.7, 1.0])
    assert health.adversarial_divergence(recovering) == []
    short = history_of(g_gan_loss=[1.0, 0.8, 2.0, 2.5, 3.0, 3.5, 0.8])
    assert health.adversarial_divergence(short) == []
    # Pixel terms are not adversarial terms.
    assert health.adversarial_divergence(history_of(g_l1=[1.0, 0.1, 5, 6, 7, 8, 9, 10])) == []


def test_sample_diversity():
    rng = np.random.default_rng(0)
    varied = rng.uniform(-1, 1, (8, 16, 16, 3))
    same = np.repeat(varied[:1], 8, axis=0) + rng.normal(0, 1e-3, (8, 16, 16, 3))
    assert health.sample_diversity(varied) > 0.2
    assert health.sample_diversity(same) < 1e-3
    assert health.sample_diversity(varied / 2 + 0.5, value_range=(0, 1)) == pytest.approx(
        health.sample_diversity(varied)
    )
    (warning,) = health.low_diversity(history_of(sample_diversity=[0.3, 0.2, 0.01]))
    assert warning.check == "sample_diversity" and warning.first_epoch == 3
    with pytest.raises(ValueError, match="N >= 2"):
        health.sample_diversity(varied[:1])


def test_read_history_handles_na(tmp_path):
    write_log(tmp_path / "log.csv", {"loss": [1.0, 0.5], "val_psnr": [None, 21.0]})
    history = health.read_history(tmp_path / "log.csv")
    assert history["epoch"] == [0.0, 1.0] and history["loss"] == [1.0, 0.5]
    assert math.isnan(history["val_psnr"][0]) and history["val_psnr"][1] == 21.0


def test_callback_logs_warnings_once_and_diversity(caplog):
    import keras

    inputs = keras.Input((4, 4, 3))
    collapsed = keras.Model(inputs, keras.layers.Dense(3, kernel_initializer="zeros")(inputs))
    callback = health.TrainingHealth(
        sample_inputs=np.random.default_rng(0).uniform(-1, 1, (4, 4, 4, 3)).astype("float32"),
        generator=collapsed,
    )
    assert isinstance(callback, keras.callbacks.Callback)
    with caplog.at_level(logging.WARNING, logger="i2i.health"):
        for epoch, d_loss in enumerate([0.5, 0.001, 0.001, 0.001, 0.001]):
            logs = {"d_loss": d_loss}
            callback.on_epoch_end(epoch, logs)
            assert logs["sample_diversity"] == 0.0  # added to the epoch logs
    checks = sorted(w.check for w in callback.warnings)
    assert checks == ["discriminator_collapse", "sample_diversity"]
    assert len(caplog.records) == 2  # each logged once, not every epoch
    assert "epoch 1: generated samples nearly identical" in caplog.text
    assert "epoch 4: d_loss collapsed" in caplog.text


def test_callback_in_fit():
    """Wired into a real `fit`: the diversity column reaches the History (and log.csv)."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((4, 4, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 1)(inputs))
    model.compile(optimizer="sgd", loss="mae")
    x = np.random.default_rng(0).uniform(-1, 1, (8, 4, 4, 3)).astype("float32")
    callback = health.TrainingHealth(sample_inputs=x[:4])
    fitted = model.fit(x, x, epochs=2, batch_size=4, verbose=0, callbacks=[callback])
    assert len(fitted.history["sample_diversity"]) == 2
    assert fitted.history["sample_diversity"][0] > 0.02 and callback.warnings == []


# ----------------------------------------------------------------------- lattice check

DATA = Path(__file__).parent / "data"


def test_lattice_score_finds_a_real_lattice_and_not_real_photos(photos):
    lattice = imageio.read_image(DATA / "lattice_day2night_v0.png")
    night = imageio.read_image(DATA / "night_lights_east.png")
    found = health.lattice_score(lattice)
    # Measured: 66x its spectral neighbourhood, on a 32 px grid; the real map 2.7x.
    assert found.ratio > 2 * health.LATTICE_THRESHOLD and found.period == 32
    assert health.lattice_score(night).ratio < 10
    # Real photos, whole (tiles of 256 or 128): measured 2.0-15.0 (camera).
    for name, image in photos.items():
        assert health.lattice_score(image).ratio < 0.8 * health.LATTICE_THRESHOLD, name
    # A batch of four 128 px samples, as the training callback sees them.
    crops = np.stack([lattice[y : y + 128, x : x + 128] for y in (0, 128) for x in (0, 128)])
    assert health.lattice_score(crops).ratio > health.LATTICE_THRESHOLD
    assert health.lattice_score(lattice[:20, :20]) is None  # too small to tell
    assert health.lattice_score(np.zeros((64, 64))).ratio == 1.0


def test_lattice_warning_in_the_log_and_the_report(run_dir, caplog):
    import keras

    lattice = imageio.read_image(DATA / "lattice_day2night_v0.png").astype("float32") / 127.5 - 1
    inputs = keras.Input((None, None, 3))
    identity = keras.Model(inputs, keras.layers.Identity()(inputs))
    callback = health.TrainingHealth(sample_inputs=lattice[None], generator=identity)
    with caplog.at_level(logging.WARNING, logger="i2i.health"):
        logs = {}
        callback.on_epoch_end(0, logs)
    assert logs[health.LATTICE_COLUMN] > health.LATTICE_THRESHOLD
    assert "epoch 1: generated samples repeat on a lattice" in caplog.text
    assert health.DIVERSITY_COLUMN not in logs  # one sample: no diversity to measure

    columns = healthy_columns()
    columns[health.LATTICE_COLUMN] = [3.0] * 6 + [40.0] * 6
    write_log(run_dir / "log.csv", columns)
    result = report.build_report(run_dir)
    assert [w.check for w in result.warnings] == ["periodic_artifacts"]
    assert "repeat on a lattice from epoch 7" in result.page.read_text()  # 7th row


def test_a_total_equal_to_its_term_is_one_line_and_ticks_are_whole_epochs(tmp_path, monkeypatch):
    """pix2pix logs d_loss == d_adv: drawn once with both names; 4 epochs: ticks 1..4."""
    from matplotlib.figure import Figure

    history = {
        "epoch": [1.0, 2.0, 3.0, 4.0],  # log.csv counts from 1
        "d_loss": [0.7, 0.6, 0.65, 0.62],
        "d_adv": [0.7, 0.6, 0.65, 0.62],
    }
    drawn_axes = []
    original = Figure.savefig

    def keep_axes(figure, *args, **kwargs):
        drawn_axes.append(figure.axes[0])
        return original(figure, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep_axes)
    drawn = report.plot_curves(history, ["d_loss", "d_adv"], tmp_path / "d.png", "D")
    axes = drawn_axes[0]
    assert [line.get_label() for line in axes.get_lines()] == ["d_loss = d_adv"]
    assert drawn["d_adv"] == drawn["d_loss"] and drawn["d_loss"][0] == [1.0, 2.0, 3.0, 4.0]
    ticks = [t for t in axes.get_xticks() if 1 <= t <= 4]
    assert ticks and all(float(t).is_integer() for t in ticks)
