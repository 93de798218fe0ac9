"""`i2i evaluate --model --hr-dir`: a model and bicubic scored side by side (SR protocol)."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from i2i import evaluation, imageio, metrics, zoo
from i2i.commands.evaluate import evaluate
from i2i.data import sr

CARD = {"task": "super-resolution", "scale": 2, "value_range": [0.0, 1.0], "stride": 1}


def tiny_sr_model():
    """A stand-in SR network: bilinear x2 upsampling then a fixed 3x3 sharpening conv."""
    import keras

    inputs = keras.Input((None, None, 3))
    x = keras.layers.UpSampling2D(2, interpolation="bilinear")(inputs)
    kernel = np.zeros((3, 3, 3, 3), np.float32)
    for c in range(3):
        kernel[:, :, c, c] = [[0, -0.25, 0], [-0.25, 2.0, -0.25], [0, -0.25, 0]]
    conv = keras.layers.Conv2D(3, 3, padding="same", use_bias=False, dtype="float32")
    outputs = conv(x)
    conv.set_weights([kernel])
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def hr_dir(tmp_path_factory, photos):
    folder = tmp_path_factory.mktemp("hr")
    imageio.write_image(folder / "chelsea.png", photos["chelsea"][:61, :75])  # mod-crop to 60x74
    imageio.write_image(folder / "camera.png", photos["camera"][:48, :48, 0])  # gray
    imageio.write_image(folder / "rocket.jpg", photos["rocket"][100:164, 200:264])
    (folder / "broken.png").write_bytes(b"")
    return folder


def expected_row(path, model):
    from i2i import inference
    from i2i.data.decode import as_rgb

    hr = sr.mod_crop(as_rgb(imageio.read_image(path)), 2)
    lr = sr.downsample(hr, 2)
    out = inference.Engine(model, CARD, tile=0, precision="float32").process(lr)
    bicubic = sr.upsample_bicubic(lr, 2)
    kw = {"crop_border": 2, "y_channel": True}
    return {
        "psnr": metrics.psnr(out, hr, **kw),
        "ssim": metrics.ssim(out, hr, **kw),
        "bicubic_psnr": metrics.psnr(bicubic, hr, **kw),
        "bicubic_ssim": metrics.ssim(bicubic, hr, **kw),
    }


def test_model_and_bicubic_side_by_side(hr_dir):
    model = tiny_sr_model()
    result = evaluation.evaluate_model(model, hr_dir, card=CARD, tile=16)
    assert result.columns == ["psnr", "ssim", "bicubic_psnr", "bicubic_ssim"]
    assert [r["name"] for r in result.rows] == ["camera", "chelsea", "rocket"]
    assert result.settings["crop_border"] == 2 and result.settings["y_channel"] is True
    for row in result.rows:
        path = next(hr_dir.glob(row["name"] + ".*"))
        expected = expected_row(path, model)
        for column, value in expected.items():
            # Tiled (16 px tiles) vs whole-image inference: equal up to uint8 rounding.
            assert row[column] == pytest.approx(value, abs=0.05 if "psnr" in column else 1e-3)
    assert result.errors == [(str(hr_dir / "broken.png"), "empty file (0 bytes)")]
    text = result.format_table()
    assert "bicubic_psnr" in text and "model - bicubic: psnr " in text


def test_bicubic_baseline_is_the_literature_number(hr_dir):
    """The bicubic column is exactly MATLAB bicubic down and up, scored by the protocol."""
    model = tiny_sr_model()
    result = evaluation.evaluate_model(model, hr_dir, metrics="psnr", card=CARD)
    hr = sr.mod_crop(imageio.read_image(hr_dir / "chelsea.png"), 2)
    bicubic = sr.upsample_bicubic(sr.downsample(hr, 2), 2)
    row = next(r for r in result.rows if r["name"] == "chelsea")
    assert row["bicubic_psnr"] == metrics.psnr(bicubic, hr, crop_border=2, y_channel=True)


def test_model_errors(hr_dir):
    model = tiny_sr_model()
    with pytest.raises(evaluation.EvaluationError, match="upscales x2, not x4"):
        evaluation.evaluate_model(model, hr_dir, scale=4, card=CARD)
    with pytest.raises(evaluation.EvaluationError, match="translation model"):
        evaluation.evaluate_model(model, hr_dir, card={**CARD, "task": "translation", "scale": 1})
    with pytest.raises(evaluation.EvaluationError, match="needs its card"):
        evaluation.evaluate_model(model, hr_dir)


def test_cli_with_a_saved_model(hr_dir, tmp_path):
    path = zoo.save_generator(tiny_sr_model(), tmp_path / "run" / "generator.keras", CARD)
    out = tmp_path / "scores.json"
    args = ["--model", str(path.parent), "--hr-dir", str(hr_dir), "--json", str(out)]
    run = CliRunner().invoke(evaluate, args)
    assert run.exit_code == 0, run.output
    assert "vs bicubic" in run.output and "border 2, Y channel" in run.output
    data = json.loads(out.read_text())
    assert data["count"] == 3 and "bicubic_psnr" in data["mean"]
    assert data["errors"][0]["file"].endswith("broken.png")
    run = CliRunner().invoke(
        evaluate, ["--model", str(tmp_path / "nothing"), "--hr-dir", str(hr_dir)]
    )
    assert run.exit_code == 1 and "Traceback" not in run.output
    run = CliRunner().invoke(evaluate, ["--model", str(path), str(hr_dir)])
    assert run.exit_code == 2 and "either PRED_DIR GT_DIR, or --model with --hr-dir" in run.output


def test_phone_degraded_lr_is_seeded_and_lowers_bicubic(hr_dir):
    """--degrade phone: LR = MATLAB bicubic + mild noise + JPEG, image i seeded with i."""
    from i2i.data import degradations

    model = tiny_sr_model()
    clean = evaluation.evaluate_model(model, hr_dir, metrics="psnr", card=CARD)
    phone = evaluation.evaluate_model(model, hr_dir, metrics="psnr", card=CARD, degrade="phone")
    again = evaluation.evaluate_model(model, hr_dir, metrics="psnr", card=CARD, degrade="phone")
    assert phone.rows == again.rows
    assert phone.mean["bicubic_psnr"] < clean.mean["bicubic_psnr"] - 0.5
    assert "JPEG quality 50-75" in phone.settings["lr"]
    # The LR of the first image (camera, index 1 after broken.png) is phone(hr, 2, seed=1).
    hr = sr.mod_crop(np.repeat(imageio.read_image(hr_dir / "camera.png")[..., None], 3, 2), 2)
    lr = degradations.phone(hr, 2, seed=1)
    out = sr.upsample_bicubic(lr, 2)
    expected = metrics.psnr(out, hr, crop_border=2, y_channel=True)
    assert phone.rows[0]["bicubic_psnr"] == pytest.approx(expected)
    result = CliRunner().invoke(evaluate, ["pred", "gt", "--degrade", "phone"])
    assert result.exit_code == 2 and "--degrade go with --model" in result.output
