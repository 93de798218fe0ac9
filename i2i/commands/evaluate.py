"""`i2i evaluate`: PSNR / SSIM / lit-pixel AUC / luminance correlation / FID / KID of a
folder of outputs, or of a model."""

from __future__ import annotations

import json
from pathlib import Path

import click


@click.command("evaluate")
@click.argument("pred_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.argument("gt_dir", required=False, type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--model",
    "model_name",
    metavar="NAME_OR_PATH",
    help="Score a model instead of a folder: zoo name, .keras file or run directory "
    "(with --hr-dir). Bicubic is scored beside it on the same images.",
)
@click.option(
    "--hr-dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="With --model: high-resolution images; the LR inputs are made from them "
    "(MATLAB bicubic with antialiasing).",
)
@click.option(
    "--scale",
    type=click.IntRange(min=1),
    default=None,
    help="Super-resolution scale: mod-crop to it, crop that many border pixels and score "
    "the Y channel (the BasicSR protocol). Default 1, or the model card's scale.",
)
@click.option(
    "--degrade",
    type=click.Choice(["bicubic", "phone", "realistic"]),
    default="bicubic",
    show_default=True,
    help="With --model: how the LR inputs are made from --hr-dir: MATLAB bicubic (the SR "
    "protocol), phone (bicubic + mild Gaussian noise + JPEG 50-75) or realistic (the "
    "Real-ESRGAN training degradation); seeded per image.",
)
@click.option(
    "--y-channel/--rgb",
    "y_channel",
    default=None,
    help="Score the BT.601 luma (MATLAB rgb2ycbcr) or all RGB channels "
    "[default: Y when --scale > 1].",
)
@click.option(
    "--crop-border",
    type=click.IntRange(min=0),
    default=None,
    help="Border pixels ignored on every side [default: the scale].",
)
@click.option(
    "--metrics",
    "metric_names",
    default="psnr,ssim",
    show_default=True,
    help="Comma-separated: psnr, ssim, lit_auc, lum_corr (per image, paired by file name), "
    "fid, kid (the two folders as sets). lit_auc and lum_corr judge sparse targets such as "
    "night lights (see --lit-threshold, --blur-sigma).",
)
@click.option(
    "--lit-threshold",
    type=click.FloatRange(min=0),
    default=None,
    help="lit_auc: ground-truth luminance (0-255) above which a pixel is lit [default: 8].",
)
@click.option(
    "--blur-sigma",
    type=click.FloatRange(min=0),
    default=None,
    help="lum_corr: Gaussian blur (pixels) of both luminances before correlating [default: 4].",
)
@click.option(
    "--inception-weights",
    type=click.Path(dir_okay=False, path_type=Path),
    help="InceptionV3 no-top weights (.h5) for fid/kid [default: the Keras cache, "
    "~/.keras/models/inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5].",
)
@click.option(
    "--tile",
    type=click.IntRange(min=0),
    default=None,
    help="With --model: inference tile side in LR pixels (0: whole images) "
    "[default: from the memory budget].",
)
@click.option(
    "--unsafe",
    is_flag=True,
    help="With --model: allow a model file that needs unsafe deserialization "
    "(runs its code; trusted files only).",
)
@click.option(
    "--json",
    "json_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the results (per image, mean, problems) to this JSON file.",
)
def evaluate(
    pred_dir,
    gt_dir,
    model_name,
    hr_dir,
    scale,
    degrade,
    y_channel,
    crop_border,
    metric_names,
    lit_threshold,
    blur_sigma,
    inception_weights,
    tile,
    unsafe,
    json_path,
):
    """Score predictions in PRED_DIR against ground truth in GT_DIR (paired by file name).

    \b
    Examples:
      i2i evaluate out/set5 data/Set5/hr --scale 4          # SR: Y channel, 4 px border
      i2i evaluate night_fake/ night_real/ --metrics fid,kid
      i2i evaluate night_pred/ night_real/ --metrics psnr,ssim,lit_auc,lum_corr
      i2i evaluate --model srresnet-x4 --hr-dir data/Set5/hr --scale 4
      i2i evaluate --model compact-x4 --hr-dir photos/ --degrade phone

    Files present in only one folder, unreadable files and pairs that differ in size are
    listed after the table, never dropped silently.
    """
    from i2i import evaluation, metrics

    try:
        names = evaluation.parse_metrics(metric_names)
        if model_name is not None:
            if pred_dir is not None or gt_dir is not None or hr_dir is None:
                raise click.UsageError("use either PRED_DIR GT_DIR, or --model with --hr-dir")
            result = evaluation.evaluate_model(
                model_name,
                hr_dir,
                scale=scale,
                metrics=names,
                crop_border=crop_border,
                y_channel=y_channel,
                inception_weights=inception_weights,
                tile=tile,
                progress=True,
                unsafe=unsafe,
                degrade=degrade,
            )
        else:
            if pred_dir is None or gt_dir is None or hr_dir is not None:
                raise click.UsageError("give PRED_DIR and GT_DIR (or --model with --hr-dir)")
            if tile is not None or unsafe or degrade != "bicubic":
                raise click.UsageError("--tile, --unsafe and --degrade go with --model")
            result = evaluation.evaluate_folders(
                pred_dir,
                gt_dir,
                metrics=names,
                scale=scale or 1,
                crop_border=crop_border,
                y_channel=y_channel,
                inception_weights=inception_weights,
                progress=True,
                lit_threshold=lit_threshold,
                blur_sigma=blur_sigma,
            )
    except (evaluation.EvaluationError, metrics.MissingWeightsError) as error:
        raise click.ClickException(str(error)) from None

    settings = result.settings
    described = f"scale {settings['scale']}, border {settings['crop_border']}"
    if "model" in settings:
        described = f"model {settings['model']} vs bicubic on {settings['hr_dir']}, " + described
        if degrade != "bicubic":
            described += f", {degrade} LR"
    described += ", Y channel" if settings["y_channel"] else ", RGB"
    click.echo(f"[{described}]")
    click.echo(result.format_table())
    if json_path is not None:
        try:
            json_path.parent.mkdir(parents=True, exist_ok=True)
            json_path.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
        except OSError as error:
            raise click.ClickException(f"{json_path}: cannot write ({error.strerror})") from None
        click.echo(f"wrote {json_path}")
