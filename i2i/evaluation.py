"""Scoring folders of images (and models) against ground truth: the logic of `i2i evaluate`.

Two kinds of metrics:
- per-image metrics (`psnr`, `ssim`; for sparse targets such as night lights `lit_auc` and
  `lum_corr`, `i2i.sparse_metrics`): each prediction is paired with the ground-truth file
  of the same stem (`baby.png` with `baby.jpg`); a table row per pair and the mean;
- distribution metrics (`fid`, `kid`): the two folders compared as sets of images, all
  readable images of each, paired or not (unpaired translation has no matching names).

Nothing is dropped silently: ground truth without a prediction (`missing`), predictions
without ground truth (`unmatched`), several files sharing a stem, unreadable images and
pairs whose sizes or bit depths differ are all listed in the result, by file.

With `scale` (super-resolution), the BasicSR protocol applies: both images are mod-cropped
to a multiple of the scale, `scale` border pixels are cropped and the Y channel is scored,
unless `crop_border` / `y_channel` say otherwise.

`evaluate_model` scores a super-resolution model the way papers and the zoo cards do:
each HR image (gray replicated to RGB, alpha dropped, as BasicSR reads them) is
mod-cropped, downsampled with MATLAB's antialiased bicubic (`i2i.data.sr.downsample`),
upscaled by the model (tiled, `i2i.inference.Engine`, float32) and by MATLAB bicubic
(`i2i.data.sr.upsample_bicubic`), and both are scored against the HR image side by side.

(About 580 lines, over the ~500 guideline: folders and a model are scored through the same
pairing, problem lists and result table, which would otherwise be split across modules.)

Example:

```python
from i2i import evaluation

result = evaluation.evaluate_folders("out/sr", "data/Set5/hr", scale=4)
print(result.format_table())
result.to_dict()      # what `--json` writes

print(evaluation.evaluate_model("srresnet-x4", "data/Set5/hr").format_table())
```
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from i2i import imageio
from i2i.common import I2IError

PAIRED_METRICS = ("psnr", "ssim", "lit_auc", "lum_corr")
DEFAULT_METRICS = ("psnr", "ssim")
DISTRIBUTION_METRICS = ("fid", "kid")
KNOWN_METRICS = PAIRED_METRICS + DISTRIBUTION_METRICS
BASELINE = "bicubic_"  # prefix of the bicubic columns beside a model's
# Printed precision (papers give PSNR to 2 decimals, SSIM to 4); JSON keeps full precision.
_FORMATS = {
    "psnr": "{:.2f}",
    "ssim": "{:.4f}",
    "lit_auc": "{:.4f}",
    "lum_corr": "{:.4f}",
    "fid": "{:.2f}",
    "kid": "{:.4f}",
}


class EvaluationError(I2IError):
    """Nothing could be evaluated (bad arguments, empty folders); one-line message."""


@dataclass
class Evaluation:
    """The result of an evaluation.

    Attributes:
        columns: the per-image metric columns, e.g. `["psnr", "ssim"]`, or for a model
            `["psnr", "ssim", "bicubic_psnr", "bicubic_ssim"]`.
        rows: one dict per scored image: `name` (the stem) and a value per column.
        distribution: set-level metrics (`fid`, `kid`, `kid_std`, prefixed like columns).
        missing: ground-truth files without a prediction.
        unmatched: predictions without a ground-truth file.
        errors: `(file, reason)` for every file or pair that could not be scored.
        settings: the protocol used (scale, crop_border, y_channel, folders, counts).
    """

    columns: list[str]
    rows: list[dict] = field(default_factory=list)
    distribution: dict = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    settings: dict = field(default_factory=dict)

    @property
    def mean(self) -> dict:
        """Mean of each column over the scored images (`inf` PSNRs give `inf`)."""
        return {
            column: float(np.mean([row[column] for row in self.rows])) if self.rows else None
            for column in self.columns
        }

    def to_dict(self) -> dict:
        """JSON-ready: non-finite numbers (PSNR of identical images) become `null`."""
        return _json_safe(
            {
                "settings": self.settings,
                "columns": self.columns,
                "images": self.rows,
                "mean": self.mean,
                "count": len(self.rows),
                "distribution": self.distribution,
                "missing": self.missing,
                "unmatched": self.unmatched,
                "errors": [{"file": file, "reason": reason} for file, reason in self.errors],
            }
        )

    def format_table(self) -> str:
        """The per-image table, the mean, set metrics and every problem, as text."""
        lines = []
        if self.columns:
            width = max([5, *(len(row["name"]) for row in self.rows)])
            widths = {c: max(8, len(c)) for c in self.columns}

            def line(name, cells):
                return "  ".join([f"{name:<{width}}", *(f"{x:>{widths[c]}}" for c, x in cells)])

            lines.append(line("image", [(c, c) for c in self.columns]))
            for row in self.rows:
                lines.append(line(row["name"], [(c, _format(c, row[c])) for c in self.columns]))
            mean = self.mean
            cells = [(c, _format(c, mean[c])) for c in self.columns]
            lines.append(line("mean", cells) + f"   ({len(self.rows)} images)")
            gains = [
                f"{c} {_format(c, mean[c] - mean[BASELINE + c], sign=True)}"
                for c in self.columns
                if BASELINE + c in self.columns
                and mean[c] is not None
                and math.isfinite(mean[c] - mean[BASELINE + c])
            ]
            if gains:
                lines.append("model - bicubic: " + ", ".join(gains))
        for name, value in self.distribution.items():
            if name.endswith("kid_std"):
                continue
            text = f"{name}: {_format(name, value)}"
            if name.endswith("kid"):
                text += f" ± {_format('kid', self.distribution[name + '_std'])}"
            lines.append(text)
        if "distribution_counts" in self.settings:
            counts = self.settings["distribution_counts"]
            lines.append(
                f"(distribution metrics over {counts[0]} predictions and {counts[1]} "
                "ground-truth images; FID is biased upwards for small sets)"
            )
        if self.missing:
            lines.append(f"missing predictions ({len(self.missing)}): " + ", ".join(self.missing))
        if self.unmatched:
            lines.append(
                f"predictions without ground truth ({len(self.unmatched)}): "
                + ", ".join(self.unmatched)
            )
        if self.errors:
            lines.append(f"not scored ({len(self.errors)}):")
            lines += [f"  {file}: {reason}" for file, reason in self.errors]
        return "\n".join(lines)


def parse_metrics(text: str | Sequence[str]) -> list[str]:
    """`"psnr,ssim"` -> `["psnr", "ssim"]`, checked against the known metrics."""
    names = [n.strip().lower() for n in text.split(",")] if isinstance(text, str) else list(text)
    names = [n for n in names if n]
    unknown = [n for n in names if n not in KNOWN_METRICS]
    if unknown or not names:
        raise EvaluationError(
            f"unknown metric {', '.join(unknown) or '(none given)'} "
            f"(choose from {', '.join(KNOWN_METRICS)})"
        )
    return list(dict.fromkeys(names))


def protocol(
    scale: int = 1,
    crop_border: int | None = None,
    y_channel: bool | None = None,
    lit_threshold: float | None = None,
    blur_sigma: float | None = None,
):
    """The scoring settings: for `scale > 1` (the SR protocol) `crop_border` defaults to
    `scale` and `y_channel` to True; translation (scale 1) scores RGB, uncropped.
    `lit_threshold` and `blur_sigma` set `lit_auc` and `lum_corr` (defaults:
    `i2i.sparse_metrics.LIT_THRESHOLD`, `BLUR_SIGMA`)."""
    from i2i import sparse_metrics

    if scale < 1:
        raise EvaluationError(f"scale must be >= 1, got {scale}")
    if crop_border is not None and crop_border < 0:
        raise EvaluationError(f"crop border must be >= 0, got {crop_border}")
    if blur_sigma is not None and blur_sigma < 0:
        raise EvaluationError(f"blur sigma must be >= 0, got {blur_sigma}")
    return {
        "scale": scale,
        "crop_border": (scale if scale > 1 else 0) if crop_border is None else crop_border,
        "y_channel": scale > 1 if y_channel is None else y_channel,
        "lit_threshold": sparse_metrics.LIT_THRESHOLD if lit_threshold is None else lit_threshold,
        "blur_sigma": sparse_metrics.BLUR_SIGMA if blur_sigma is None else blur_sigma,
    }


def evaluate_folders(
    pred_dir,
    gt_dir,
    metrics: str | Sequence[str] = DEFAULT_METRICS,
    scale: int = 1,
    crop_border: int | None = None,
    y_channel: bool | None = None,
    feature_model=None,
    inception_weights=None,
    progress: bool = False,
    lit_threshold: float | None = None,
    blur_sigma: float | None = None,
) -> Evaluation:
    """Score the images in `pred_dir` against those in `gt_dir` (see the module doc).

    Args:
        pred_dir: folder of predictions.
        gt_dir: folder of ground truth.
        metrics: names from `psnr`, `ssim`, `lit_auc`, `lum_corr`, `fid`, `kid` (list or
            comma-separated).
        scale: SR scale (mod-crop, default border crop and Y channel); 1 for translation.
        crop_border: border pixels ignored (default: `scale`).
        y_channel: score BT.601 luma (default: when `scale > 1`).
        feature_model: the FID/KID feature extractor; default InceptionV3 with
            `inception_weights` (a path, or the Keras cache).
        inception_weights: InceptionV3 no-top weights file for the default extractor.
        progress: show tqdm progress bars.
        lit_threshold: target luminance (8-bit levels) above which `lit_auc` counts a
            pixel as lit.
        blur_sigma: Gaussian blur (pixels) of `lum_corr`.

    Returns:
        An `Evaluation`.

    Raises:
        EvaluationError: a folder is missing or holds no image, or an unknown metric.
        i2i.metrics.MissingWeightsError: FID/KID asked for and no InceptionV3 weights.
    """
    names = parse_metrics(metrics)
    settings = protocol(scale, crop_border, y_channel, lit_threshold, blur_sigma)
    pred_files, gt_files = _images_in(pred_dir, "predictions"), _images_in(gt_dir, "ground truth")
    paired = [n for n in names if n in PAIRED_METRICS]
    distribution = [n for n in names if n in DISTRIBUTION_METRICS]
    result = Evaluation(columns=paired)
    result.settings = {
        **settings,
        "metrics": names,
        "predictions": str(pred_dir),
        "ground_truth": str(gt_dir),
    }
    if distribution:
        # Loaded first: a missing weights file should stop the run before any scoring.
        feature_model = feature_model or _metrics().inception_feature_model(inception_weights)

    if paired:
        pairs = _pair(pred_files, gt_files, result)
        for stem, pred_path, gt_path in _progress(pairs, progress, "scoring"):
            try:
                pred, target = _read_pair(pred_path, gt_path, scale)
            except _PairError as error:
                result.errors.append((error.file, error.reason))
                continue
            try:
                result.rows.append({"name": stem, **score(pred, target, paired, settings)})
            except ValueError as error:  # e.g. smaller than the SSIM window after cropping
                result.errors.append((str(pred_path), str(error)))
        if not result.rows and not distribution:
            raise EvaluationError(
                f"no image pair could be scored ({len(pairs)} matched by name)\n"
                + result.format_table()
            )

    if distribution:
        try:
            pred_features = _folder_features(pred_files, feature_model, result, progress)
            gt_features = _folder_features(gt_files, feature_model, result, progress)
            scores = distribution_scores(pred_features, gt_features, distribution)
        except ValueError as error:
            raise EvaluationError(f"{', '.join(distribution)}: {error}") from None
        result.distribution.update(scores)
        result.settings["distribution_counts"] = [len(pred_features), len(gt_features)]
    return result


def score(pred: np.ndarray, target: np.ndarray, names: Sequence[str], settings: dict) -> dict:
    """Per-image metrics of one aligned pair, `{name: value}`, with `protocol()` settings."""
    from i2i import metrics, sparse_metrics

    border, y_channel = settings["crop_border"], settings["y_channel"]
    functions = {
        "psnr": lambda: metrics.psnr(pred, target, crop_border=border, y_channel=y_channel),
        "ssim": lambda: metrics.ssim(pred, target, crop_border=border, y_channel=y_channel),
        "lit_auc": lambda: sparse_metrics.lit_auc(
            pred, target, threshold=settings["lit_threshold"], crop_border=border
        ),
        "lum_corr": lambda: sparse_metrics.luminance_correlation(
            pred, target, sigma=settings["blur_sigma"], crop_border=border
        ),
    }
    return {name: functions[name]() for name in names}


def distribution_scores(pred_features, gt_features, names: Sequence[str], prefix: str = ""):
    """FID and/or KID (`kid`, `kid_std`) between two feature sets."""
    from i2i import metrics

    out = {}
    if "fid" in names:
        out[prefix + "fid"] = metrics.fid(pred_features, gt_features)
    if "kid" in names:
        out[prefix + "kid"], out[prefix + "kid_std"] = metrics.kid(pred_features, gt_features)
    return out


def evaluate_model(
    model,
    hr_dir,
    scale: int | None = None,
    metrics: str | Sequence[str] = DEFAULT_METRICS,
    crop_border: int | None = None,
    y_channel: bool | None = None,
    card: dict | None = None,
    tile: int | None = None,
    feature_model=None,
    inception_weights=None,
    progress: bool = False,
    unsafe: bool = False,
    degrade: str = "bicubic",
) -> Evaluation:
    """Score a super-resolution model and bicubic on the same HR images (module doc).

    Args:
        model: a zoo name, `.keras` file or run directory (`i2i.zoo.load_generator`), or a
            `keras.Model` (then `card` is required).
        hr_dir: folder of high-resolution images.
        scale: the SR scale; default the card's; must match the card.
        metrics: as for `evaluate_folders`; `fid`/`kid` compare the model's (and
            bicubic's) outputs with the HR images as sets.
        crop_border, y_channel: as for `evaluate_folders` (default: the SR protocol).
        card: the model's card, when `model` is a `keras.Model`.
        tile: inference tile side in LR pixels (`None`: from the memory budget; 0: whole).
        feature_model, inception_weights: the FID/KID feature extractor, as for
            `evaluate_folders`.
        progress: show a tqdm progress bar.
        unsafe: allow model files that need unsafe deserialization (trusted files only).
        degrade: how the LR inputs are made: "bicubic" (MATLAB imresize, the SR
            protocol), "phone" (`i2i.data.degradations.phone`: bicubic, mild noise, JPEG,
            image i seeded with i) or "realistic" (`degradations.degrade`, the
            Real-ESRGAN training degradation, seeded the same way).

    Returns:
        An `Evaluation` with columns `psnr, ssim, bicubic_psnr, bicubic_ssim` (the metrics
        asked for) and distribution metrics `fid`, `bicubic_fid`, ...

    Raises:
        EvaluationError: the model cannot be loaded or is not a super-resolution model, a
            scale mismatch, or no HR image could be scored.
    """
    from i2i import inference, zoo
    from i2i.data import degradations, sr
    from i2i.data.decode import as_rgb

    make_lr = {
        "bicubic": lambda hr, index: sr.downsample(hr, scale),
        "phone": lambda hr, index: degradations.phone(hr, scale, seed=index),
        "realistic": lambda hr, index: degradations.degrade(hr, scale, seed=index),
    }
    if degrade not in make_lr:
        raise EvaluationError(f"unknown degradation {degrade!r} (use {', '.join(make_lr)})")
    names = parse_metrics(metrics)
    hr_files = _images_in(hr_dir, "HR")
    label = model if isinstance(model, (str, Path)) else getattr(model, "name", "model")
    if isinstance(model, (str, Path)):
        try:
            model, card = zoo.load_generator(model, unsafe=unsafe)
        except zoo.ZooError as error:
            raise EvaluationError(str(error)) from None
    elif card is None:
        raise EvaluationError("a keras.Model needs its card (task, scale, value_range, stride)")
    card = {**zoo.CARD_DEFAULTS, **card}
    model_scale = int(card["scale"])
    if card["task"] != "super-resolution" or model_scale < 2:
        raise EvaluationError(
            f"{label}: a {card['task']} model (scale {model_scale}); --model/--hr-dir scores "
            "super-resolution models (for translation: run `i2i translate`, then "
            "`i2i evaluate PRED_DIR GT_DIR`)"
        )
    if scale is not None and scale != model_scale:
        raise EvaluationError(f"{label}: the model upscales x{model_scale}, not x{scale}")
    scale = model_scale
    settings = protocol(scale, crop_border, y_channel)
    paired = [n for n in names if n in PAIRED_METRICS]
    distribution = [n for n in names if n in DISTRIBUTION_METRICS]
    result = Evaluation(columns=[*paired, *(BASELINE + n for n in paired)])
    result.settings = {
        **settings,
        "metrics": names,
        "model": str(label),
        "architecture": card.get("architecture"),
        "hr_dir": str(hr_dir),
        "lr": {
            "bicubic": "MATLAB imresize bicubic (antialiased) of the mod-cropped HR image",
            "phone": "degradations.phone (MATLAB bicubic, Gaussian noise sigma "
            f"{degradations.PHONE_NOISE[0]:g}-{degradations.PHONE_NOISE[1]:g} levels, JPEG "
            f"quality {degradations.PHONE_JPEG[0]}-{degradations.PHONE_JPEG[1]}), image i "
            "(sorted by name) seeded with i",
            "realistic": "degradations.degrade (Real-ESRGAN high-order), image i seeded with i",
        }[degrade],
        "baseline": "MATLAB imresize bicubic upscaling of the same LR image",
    }
    if distribution:
        feature_model = feature_model or _metrics().inception_feature_model(inception_weights)
        stream = _metrics().FeatureStream
        streams = {key: stream(feature_model) for key in ("model", "bicubic", "hr")}
    try:
        engine = inference.Engine(model, card, tile=tile, precision="float32")
    except inference.InferenceError as error:
        raise EvaluationError(f"{label}: {error}") from None

    for index, path in enumerate(_progress(hr_files, progress, f"x{scale} {label}")):
        try:
            hr = sr.mod_crop(as_rgb(_read(path)), scale)
            if degrade != "bicubic" and hr.dtype != np.uint8:
                hr = np.round(hr / 257.0).astype(np.uint8)
            lr = make_lr[degrade](np.ascontiguousarray(hr), index)
            outputs = {"model": engine.process(lr), "bicubic": sr.upsample_bicubic(lr, scale)}
            row = {"name": path.stem}
            for key, output in outputs.items():
                scores = score(output, hr, paired, settings)
                row.update(
                    {(BASELINE if key == "bicubic" else "") + k: v for k, v in scores.items()}
                )
        except _PairError as error:
            result.errors.append((error.file, error.reason))
            continue
        except ValueError as error:  # too small for the scale or the SSIM window
            result.errors.append((str(path), str(error)))
            continue
        result.rows.append(row)
        if distribution:
            for key, image in (*outputs.items(), ("hr", hr)):
                streams[key].add(image)

    if not result.rows:
        raise EvaluationError(f"{hr_dir}: no HR image could be scored\n" + result.format_table())
    if distribution:
        hr_features = streams["hr"].result()
        try:
            for key, prefix in (("model", ""), ("bicubic", BASELINE)):
                result.distribution.update(
                    distribution_scores(streams[key].result(), hr_features, distribution, prefix)
                )
        except ValueError as error:
            raise EvaluationError(f"{', '.join(distribution)}: {error}") from None
        result.settings["distribution_counts"] = [len(hr_features), len(hr_features)]
    return result


# --------------------------------------------------------------------------- helpers


class _PairError(Exception):
    def __init__(self, file, reason):
        self.file, self.reason = str(file), reason
        super().__init__(f"{file}: {reason}")


def _images_in(folder, what: str) -> list[Path]:
    folder = Path(folder)
    if not folder.is_dir():
        raise EvaluationError(f"{folder}: {what} folder not found")
    files = imageio.list_images(folder)
    if not files:
        raise EvaluationError(f"{folder}: no image files ({', '.join(imageio.IMAGE_EXTENSIONS)})")
    return files


def _pair(pred_files, gt_files, result: Evaluation) -> list[tuple[str, Path, Path]]:
    """Pairs by stem; the rest goes to `result.missing` / `unmatched`, and stems shared by
    several files of one folder to `result.errors` (once per folder and stem)."""
    from i2i.data.layout import match_by_stem

    pairs, alone, ambiguous = match_by_stem(pred_files, gt_files)
    groups: dict[Path, list[Path]] = {}
    for file in ambiguous:
        groups.setdefault(file.parent / file.stem, []).append(file)
    for key, group in groups.items():
        others = ", ".join(f.name for f in group)
        result.errors.append((str(key), f"several files share the name ({others})"))
    preds = set(map(Path, pred_files))
    alone = sorted(alone, key=lambda f: f.stem)
    result.missing = [str(f) for f in alone if f not in preds]
    result.unmatched = [str(f) for f in alone if f in preds]
    return [(a.stem, a, b) for a, b in pairs]


def _read(path) -> np.ndarray:
    try:
        image = imageio.read_image(path)
    except imageio.ImageReadError as error:
        raise _PairError(path, error.reason) from None
    return image[:, :, :3] if image.ndim == 3 else image  # alpha is not scored


def _read_pair(pred_path, gt_path, scale: int) -> tuple[np.ndarray, np.ndarray]:
    from i2i.data.decode import as_rgb
    from i2i.metrics import mod_crop

    pred, target = _read(pred_path), _read(gt_path)
    if pred.ndim != target.ndim:  # one gray, one colour: compare in colour
        pred, target = as_rgb(pred), as_rgb(target)
    if pred.dtype != target.dtype:
        reason = f"bit depth {pred.dtype} differs from {gt_path} ({target.dtype})"
        raise _PairError(pred_path, reason)
    if scale > 1:
        pred, target = mod_crop(pred, scale), mod_crop(target, scale)
    if pred.shape[:2] != target.shape[:2]:
        raise _PairError(
            pred_path,
            f"size {_size(pred)} differs from {gt_path} ({_size(target)}"
            + (f", mod-cropped to x{scale})" if scale > 1 else ")"),
        )
    return pred, target


def _size(image) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"


def _folder_features(files, feature_model, result: Evaluation, progress: bool) -> np.ndarray:
    from i2i import metrics

    def readable():
        for path in _progress(files, progress, "features"):
            try:
                yield _read(path)
            except _PairError as error:
                if (error.file, error.reason) not in result.errors:
                    result.errors.append((error.file, error.reason))

    return metrics.image_features(readable(), feature_model)


def _metrics():
    from i2i import metrics  # the module: `evaluate_model`'s `metrics` argument shadows it

    return metrics


def _progress(items, enabled: bool, description: str):
    if not enabled:
        return items
    from tqdm import tqdm

    return tqdm(items, desc=description, unit="image", leave=False)


def _format(column: str, value, sign: bool = False) -> str:
    if value is None:
        return "-"
    if math.isinf(value):
        return "inf"
    key = column.rsplit("_", 1)[-1]
    text = _FORMATS.get(key, "{:.4f}")
    return (text.replace("{:", "{:+") if sign else text).format(value)


def _json_safe(value):
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, np.integer):
        return int(value)
    return value
