"""`i2i evaluate` on folders: pairing by stem, the SR protocol, problems listed, FID/KID."""

import json

import cv2
import numpy as np
import pytest
from click.testing import CliRunner

from i2i import evaluation, imageio, metrics
from i2i.commands.evaluate import evaluate


def degraded(image, seed):
    rng = np.random.default_rng(seed)
    blurred = cv2.GaussianBlur(image, (5, 5), 1.0).astype(np.float64)
    return np.clip(np.round(blurred + rng.normal(0, 4, image.shape)), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def folders(tmp_path_factory, photos):
    """pred/ and gt/ with: 3 good pairs (one gt is a JPEG, the prediction PNG), a gt
    without prediction, a prediction without gt, a corrupt prediction, a size mismatch,
    and two gt files sharing a stem."""
    root = tmp_path_factory.mktemp("evaluate")
    pred_dir, gt_dir = root / "pred", root / "gt"
    arrays = {}
    for index, name in enumerate(("astronaut", "chelsea", "coffee")):
        gt = photos[name][:66, :70]  # not a multiple of 4: mod-crop matters
        imageio.write_image(gt_dir / f"{name}.png", gt)
        imageio.write_image(pred_dir / f"{name}.png", degraded(gt, index))
        arrays[name] = (degraded(gt, index), gt)
    imageio.write_image(gt_dir / "rocket.png", photos["rocket"][:64, :64])  # missing pred
    imageio.write_image(pred_dir / "extra.png", photos["rocket"][:64, :64])  # no gt
    imageio.write_image(gt_dir / "broken.png", photos["camera"][:64, :64])
    imageio.write_image(pred_dir / "broken.png", photos["camera"][:64, :64])
    data = (pred_dir / "broken.png").read_bytes()
    (pred_dir / "broken.png").write_bytes(data[: len(data) // 2])  # truncated
    imageio.write_image(gt_dir / "sized.png", photos["camera"][:64, :64])
    imageio.write_image(pred_dir / "sized.png", photos["camera"][:32, :32])
    imageio.write_image(gt_dir / "twice.png", photos["camera"][:64, :64])
    imageio.write_image(gt_dir / "twice.jpg", photos["camera"][:64, :64])
    imageio.write_image(pred_dir / "twice.png", photos["camera"][:64, :64])
    return pred_dir, gt_dir, arrays


def test_pairs_by_stem_and_lists_every_problem(folders):
    pred_dir, gt_dir, arrays = folders
    result = evaluation.evaluate_folders(pred_dir, gt_dir)
    assert [row["name"] for row in result.rows] == ["astronaut", "chelsea", "coffee"]
    for row in result.rows:
        pred, gt = arrays[row["name"]]
        assert row["psnr"] == pytest.approx(metrics.psnr(pred, gt))
        assert row["ssim"] == pytest.approx(metrics.ssim(pred, gt))
    assert result.mean["psnr"] == pytest.approx(np.mean([r["psnr"] for r in result.rows]))
    assert result.missing == [str(gt_dir / "rocket.png")]
    assert result.unmatched == [str(pred_dir / "extra.png")]
    errors = dict(result.errors)
    assert set(errors) == {
        str(pred_dir / "broken.png"),
        str(pred_dir / "sized.png"),
        str(gt_dir / "twice"),
    }
    assert "corrupt" in errors[str(pred_dir / "broken.png")]
    assert "size 32x32 differs" in errors[str(pred_dir / "sized.png")]
    assert "twice.jpg, twice.png" in errors[str(gt_dir / "twice")]
    text = result.format_table()
    for expected in ("astronaut", "mean", "missing predictions (1)", "rocket.png", "extra.png"):
        assert expected in text
    assert "not scored (3)" in text


def test_sr_protocol_from_scale(folders):
    pred_dir, gt_dir, arrays = folders
    result = evaluation.evaluate_folders(pred_dir, gt_dir, scale=4)
    assert result.settings["crop_border"] == 4 and result.settings["y_channel"] is True
    pred, gt = (metrics.mod_crop(x, 4) for x in arrays["chelsea"])
    row = next(r for r in result.rows if r["name"] == "chelsea")
    assert row["psnr"] == pytest.approx(metrics.psnr(pred, gt, crop_border=4, y_channel=True))
    assert row["ssim"] == pytest.approx(metrics.ssim(pred, gt, crop_border=4, y_channel=True))
    rgb = evaluation.evaluate_folders(
        pred_dir, gt_dir, metrics="psnr", scale=4, crop_border=0, y_channel=False
    )
    row = next(r for r in rgb.rows if r["name"] == "chelsea")
    assert row["psnr"] == pytest.approx(metrics.psnr(pred, gt))
    assert rgb.columns == ["psnr"]


def test_identical_images_give_inf_in_table_and_null_in_json(tmp_path, photos):
    for folder in ("a", "b"):
        imageio.write_image(tmp_path / folder / "x.png", photos["coffee"][:32, :32])
    result = evaluation.evaluate_folders(tmp_path / "a", tmp_path / "b")
    assert result.rows[0]["psnr"] == float("inf")
    assert " inf" in result.format_table()
    data = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert data["images"][0]["psnr"] is None and data["images"][0]["ssim"] == 1.0


def test_folder_errors(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(evaluation.EvaluationError, match="no image files"):
        evaluation.evaluate_folders(tmp_path / "empty", tmp_path / "empty")
    with pytest.raises(evaluation.EvaluationError, match="nowhere: predictions folder not found"):
        evaluation.evaluate_folders(tmp_path / "nowhere", tmp_path / "empty")
    with pytest.raises(evaluation.EvaluationError, match="unknown metric lpips"):
        evaluation.parse_metrics("psnr,lpips")


def test_nothing_matched_is_an_error(tmp_path, photos):
    imageio.write_image(tmp_path / "a" / "x.png", photos["coffee"][:32, :32])
    imageio.write_image(tmp_path / "b" / "y.png", photos["coffee"][:32, :32])
    with pytest.raises(evaluation.EvaluationError, match="no image pair could be scored"):
        evaluation.evaluate_folders(tmp_path / "a", tmp_path / "b")


def tiny_feature_model():
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((32, 32, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(inputs)
    return keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(x))


def test_distribution_metrics_use_every_readable_image(folders):
    pred_dir, gt_dir, _ = folders
    model = tiny_feature_model()
    result = evaluation.evaluate_folders(
        pred_dir, gt_dir, metrics="psnr,fid,kid", feature_model=model
    )
    assert set(result.distribution) == {"fid", "kid", "kid_std"}
    # pred: 3 pairs + extra + sized + twice (broken unreadable); gt: 3 + rocket + broken
    # + sized + twice.png + twice.jpg.
    assert result.settings["distribution_counts"] == [6, 8]
    readable = [imageio.read_image(p) for p in imageio.list_images(pred_dir) if p.stem != "broken"]
    pred_features = metrics.image_features(readable, model)
    gt_features = metrics.image_features(
        [imageio.read_image(p) for p in imageio.list_images(gt_dir)], model
    )
    assert result.distribution["fid"] == pytest.approx(metrics.fid(pred_features, gt_features))
    # Only distribution metrics: nothing is paired, so nothing is missing or unmatched.
    only = evaluation.evaluate_folders(pred_dir, gt_dir, metrics="kid", feature_model=model)
    assert only.rows == [] and only.missing == [] and only.unmatched == []
    assert "kid: " in only.format_table() and "±" in only.format_table()


def test_cli_table_and_json(folders, tmp_path):
    pred_dir, gt_dir, _ = folders
    out = tmp_path / "scores" / "result.json"
    run = CliRunner().invoke(
        evaluate, [str(pred_dir), str(gt_dir), "--scale", "2", "--json", str(out)]
    )
    assert run.exit_code == 0, run.output
    assert "[scale 2, border 2, Y channel]" in run.output
    assert "chelsea" in run.output and "missing predictions (1)" in run.output
    data = json.loads(out.read_text())
    assert data["count"] == 3 and data["settings"]["crop_border"] == 2
    assert [e["file"] for e in data["errors"]][0].endswith("twice")
    assert data["missing"][0].endswith("rocket.png")
    assert set(data["mean"]) == {"psnr", "ssim"}


def test_cli_errors_are_one_line(folders, tmp_path, monkeypatch):
    pred_dir, gt_dir, _ = folders
    runner = CliRunner()
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    run = runner.invoke(evaluate, [str(pred_dir), str(gt_dir), "--metrics", "fid"])
    assert run.exit_code == 1
    assert "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5" in run.output
    assert "Traceback" not in run.output
    run = runner.invoke(evaluate, [str(pred_dir), str(gt_dir), "--metrics", "psnr,bogus"])
    assert run.exit_code == 1 and "unknown metric bogus" in run.output
    run = runner.invoke(evaluate, [str(pred_dir)])
    assert run.exit_code == 2 and "give PRED_DIR and GT_DIR" in run.output
