"""Recipes: train the zoo's super-resolution models with `i2i train srresnet`.

    python recipes/sr_zoo.py compact-x4 --out ~/i2i-runs/compact-x4
    python recipes/sr_zoo.py --list

Every recipe trains on the real photos of ../shared/data/photos (see its README for the
licenses), holding out two of them (chosen with seed 0, never trained on: OneStandsOut
and Shell) whose 480x480 centre crops score the generator every 200 steps: PSNR/SSIM on
the Y channel, border = scale, beside MATLAB bicubic (log.csv columns val_psnr,
val_psnr_bicubic). The best generator so far is RUN_DIR/generator.keras (+ card).
`recipes/release_zoo.py NAME` measures it on other never-seen photos and ships it.

Resumable: run the same command again and it continues from RUN_DIR's last checkpoint
(every 200 steps); `--steps N` extends or shortens the run (the cosine decay then spans
the new total). RUN_DIR/recipe.json records the exact `i2i` command of the run and of
each resume that changed its length, which the zoo card quotes.

The recipes (`RECIPES`):
- srresnet-x4, srresnet-x2: SRResNet with 8 residual blocks and no batch norm (instead
  of the paper's 16 with BN), predicting the detail on top of a bicubic upscale, L1,
  Adam 2e-4 with cosine decay; about a second a step on 2 CPU cores.
- compact-x4, compact-x2: the compact network (`i2i.nets.compact`: 16 convolutions of
  64 (x4) or 48 (x2) filters at LR, one pixel shuffle, over bilinear), L1, on MATLAB-bicubic LR; the
  larger LR patches (32 px) keep the 37 px receptive field mostly on real content.
  Over a bicubic upscale (with 24 px LR patches) the network learnt slower: val PSNR
  31.83 dB at step 600 against 32.82 over bilinear (bicubic alone: 31.76).
  compact-x2 is 48 filters wide (64 px HR patches): at 64 filters the x2 network
  scored +1.81 / +3.05 dB over bicubic (scikit-image / held-out photos) but, with 4x
  the LR pixels per output pixel of x4, cost 299 GFLOP per output MP and ran at only
  1.9x srresnet-x2's speed (`benchmarks/inference.py`); 48 filters cost 169 GFLOP/MP
  (3.4x in the same run, where 12 convs of 48 gave 4.4x and 8 of 64 3.9x). Pixel-
  unshuffling its input instead (`unshuffle=2`, as Real-ESRGAN's x2 RRDBNet; the x4
  body's cost) learnt too slowly for a CPU budget: from scratch it sat at its bilinear
  start for 1000 steps (val PSNR 37.23 dB at step 1800 against bicubic's 37.72); from
  compact-x4 (`inflate_unshuffled`, 96 px patches) it reached 37.92 after 2400 steps,
  against 40.73 for the 64-filter network without it.
- compact-real-x4: the same network on the Real-ESRGAN high-order degradations (blur,
  resize, noise, JPEG, twice; `i2i.data.degradations`) with the milder ranges of
  `recipes/real_photos.json` (blur sigma up to 0.8, noise up to 6 levels, JPEG 40-95
  then 40-90, a second round that mostly keeps the size, and mostly area resizes:
  OpenCV's bilinear and bicubic alias when they shrink, which photos from a camera or
  the web seldom show), on the training photos at full, 1/2, 1/3 and 1/4 size
  (`multiscale_photos`), L1, fine-tuned from compact-x4 (its run directory under
  `--runs`, default ~/i2i-runs/compact-x4), as Real-ESRGAN starts from its PSNR model.
  Not shipped yet: its best generator (step 600; validation peaks there and then
  slips, 11 training photos) gains +0.33 dB PSNR-Y over bicubic on phone-like LR of
  the scikit-image photos and +1.05 on the held-out ones (`i2i evaluate --degrade
  phone`), short of +0.5 on every set. Measured on the way (scikit-image / held-out,
  phone LR): the paper's ranges -1.7 dB (it learnt to undo heavy blur and
  over-sharpened ordinary photos); blur up to 1.2, noise up to 10, JPEG 50-95, 2400
  steps of lr 2e-4: +0.31 / +0.75, and +0.25 / +0.90 with 1/2 and 1/3 size copies;
  noise 1-6 and blur up to 0.8 (1/4 size copies too, lr 1e-4): +0.35 / +1.01 with JPEG
  50-95 / 60-95, +0.33 / +1.05 with 40-95 / 40-90 (and +0.34 / +1.12 with
  Gaussian rather than Poisson noise 80% of the time, 20% grey); weights interpolated
  with compact-x4 (ESRGAN's network interpolation, 0.5 to 1.3): +0.29 to +0.32 / +0.66
  to +0.77; 32 body convolutions instead of 16 (compact-x4 deepened with identity
  layers, `i2i.nets.compact.deepen`; validation tracked the 16-layer run's, stopped
  after step 700): +0.31 / +0.98 at step 600; MSE instead of L1 (validation 31.91 dB
  against L1's 32.16 at its best): +0.31 / +0.97; 27 more photos (Debian's
  lomiri-wallpapers-16.04 / -20.04 and mate-backgrounds nature photos, long side
  shrunk to 2560, 38 training photos in all; validation peaked at step 400, 32.06 dB):
  +0.33 / +0.93. For scale, the same network fine-tuned for 600 steps on the
  evaluation's own degradation (`i2i dataset sr --degrade phone` pairs of the 38
  photos, an upper bound, not a model to ship): +0.41 / +1.00 (+0.46 / +1.09 averaged
  over the 8 flips and rotations of the input), and +0.44 / +1.06 at step 1200 and
  +0.46 / +1.09 at step 1800 when resumed to 2000 steps (validation flat from step 1600:
  37.97, 37.97, 37.97, 37.94 dB): at this CPU budget even a perfect match of the
  degradation leaves this network short of +0.5 on the scikit-image photos.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "photos"
DEFAULT_RUNS = Path.home() / "i2i-runs"

# Shared by every recipe. Changing any of these after a run started breaks its resume.
COMMON = {
    "filters": 64,
    "loss": "l1",
    "lr_decay": "cosine",
    "lr_min": 1e-6,
    "holdout": 2,
    "val_size": 480,
    "steps_per_epoch": 200,
    "run.verbose": 2,
}
SRRESNET = {"num_blocks": 8, "batch_norm": False, "residual": "bicubic", "lr": 2e-4}
COMPACT = {"arch": "compact", "num_conv": 16, "residual": "bilinear", "lr": 3e-4}

RECIPES = {
    # HR patch side: x2 uses smaller HR patches, so the LR side (the cost of a step) is
    # 32 against 24 at x4.
    "srresnet-x4": {"scale": 4, "steps": 10_000, "batch_size": 16, "patch_size": 96, **SRRESNET},
    "srresnet-x2": {"scale": 2, "steps": 10_000, "batch_size": 16, "patch_size": 64, **SRRESNET},
    "compact-x4": {"scale": 4, "steps": 6_000, "batch_size": 16, "patch_size": 128, **COMPACT},
    "compact-x2": {
        "scale": 2,
        "steps": 4_000,
        "batch_size": 16,
        "patch_size": 64,
        **COMPACT,
        # 48 filters: at compact-x4's 64 the x2 net costs 299 GFLOP per output MP, only
        # 1.9x srresnet-x2's speed; 48 is 169 GFLOP/MP (3.4x).
        "filters": 48,
    },
    "compact-real-x4": {
        "scale": 4,
        "steps": 1_200,
        "batch_size": 16,
        "patch_size": 128,
        **COMPACT,
        "lr": 1e-4,
        "degradation": "realistic",
        # Milder ranges than the paper's (recipes/real_photos.json): trained on the
        # paper's, the network learnt to undo heavy blur and over-sharpened photos that
        # have none (-1.7 dB against bicubic on phone-like LR after 600 steps).
        "degradation_options": str(REPO / "recipes" / "real_photos.json"),
        "init": "compact-x4",
        # The training photos at full, 1/2, 1/3 and 1/4 size (`multiscale_photos`).
        "hr_factors": (1, 2, 3, 4),
    },
}
# Keys that are not `--set` model options.
RUN_KEYS = ("scale", "steps", "batch_size", "init", "hr_factors")


def command(name: str, data: Path, out: Path, steps: int | None = None, runs=DEFAULT_RUNS):
    """The `i2i train srresnet` command line of recipe `name` (a new run)."""
    recipe = RECIPES[name]
    args = ["i2i", "train", "srresnet", "--data", str(data), "--scale", str(recipe["scale"])]
    args += ["--out", str(out), "--steps", str(steps or recipe["steps"])]
    args += ["--batch-size", str(recipe["batch_size"])]
    if "init" in recipe:
        args += ["--set", f"init_from={Path(runs) / recipe['init']}"]
    settings = dict(COMMON, **{k: v for k, v in recipe.items() if k not in RUN_KEYS})
    for key, value in settings.items():
        args += ["--set", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    return args


def multiscale_photos(data: Path, folder: Path, factors, holdout: int = COMMON["holdout"]):
    """A `train/` + `test/` copy of `data` with the training photos at several sizes.

    `test/` holds the photos every recipe holds out (`holdout` of them, seed 0, as
    `i2i train srresnet --set holdout=N` picks them), whole; `train/` the others, each
    at 1/f of its size for every f in `factors` (MATLAB bicubic,
    `i2i.data.resize.downsample`; f = 1 is the file itself). Real-ESRGAN trains on such
    a multi-scale DF2K (scales 1, 0.75, 0.5, 1/3): a 2560 px wallpaper is smooth at the
    pixel level, a downscaled copy has the detail per pixel of a smaller photo. Written
    once; an existing folder is reused.

    Returns:
        `folder`, for `--data`.
    """
    import shutil

    from i2i import imageio
    from i2i.data import layout, resize, sr

    if (folder / "train").is_dir() and (folder / "test").is_dir():
        return folder
    hr, _ = layout.sr_files(data, "train")
    train, held = sr.split_holdout(hr, holdout, seed=0)
    partial = folder.with_name(folder.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    for path in held:
        (partial / "test").mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, partial / "test" / path.name)
    (partial / "train").mkdir(parents=True, exist_ok=True)
    for path in train:
        for factor in factors:
            if factor == 1:
                shutil.copy2(path, partial / "train" / path.name)
            else:
                image = imageio.read_image(path)
                smaller = resize.downsample(image, factor)
                imageio.write_image(partial / "train" / f"{path.stem}-x{factor}.png", smaller)
    partial.rename(folder)  # all or nothing: a stopped run leaves no half-written set
    return folder


def main(name: str | None = None, argv=None) -> None:
    parser = argparse.ArgumentParser(description="Train a super-resolution model of the zoo.")
    if name is None:
        parser.add_argument("name", nargs="?", choices=sorted(RECIPES))
        parser.add_argument("--list", action="store_true", help="print the recipes")
    parser.add_argument("--out", type=Path, help="run directory (default ~/i2i-runs/NAME)")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--runs", type=Path, default=DEFAULT_RUNS, help="where --init runs are")
    parser.add_argument("--steps", type=int, help="total steps (default: the recipe's)")
    args = parser.parse_args(argv)
    if name is None:
        if args.list or args.name is None:
            for key, recipe in RECIPES.items():
                print(f"{key:16s} " + " ".join(f"{k}={v}" for k, v in recipe.items()))
            return
        name = args.name
    out = args.out or DEFAULT_RUNS / name

    if (out / "checkpoints" / "latest.json").exists():
        argv_cli = ["i2i", "train", "srresnet", "--out", str(out), "--resume"]
        if args.steps:
            argv_cli += ["--steps", str(args.steps)]
            # A resume that changes the length changes the run (the cosine decay spans
            # the new total): the record keeps it, so the card quotes every command.
            record_file = out / "recipe.json"
            record = json.loads(record_file.read_text()) if record_file.is_file() else {}
            record.setdefault("resumed", []).append(shlex.join(argv_cli))
            record_file.write_text(json.dumps(record, indent=2) + "\n")
    else:
        data = args.data
        if "hr_factors" in RECIPES[name]:
            factors = RECIPES[name]["hr_factors"]
            data = multiscale_photos(data, out / "photos", factors)
        argv_cli = command(name, data, out, args.steps, args.runs)
        out.mkdir(parents=True, exist_ok=True)
        record = {"recipe": f"recipes/sr_zoo.py {name}", "command": shlex.join(argv_cli)}
        (out / "recipe.json").write_text(json.dumps(record, indent=2) + "\n")
    print("$ " + shlex.join(argv_cli), flush=True)

    from i2i.cli import cli

    cli.main(argv_cli[1:], prog_name="i2i")


if __name__ == "__main__":
    main(None, sys.argv[1:])
