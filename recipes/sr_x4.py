"""Recipe: train the zoo's `srresnet-x4` (and `srresnet-x2` through `sr_x2.py`).

Runs `i2i train srresnet` on the real photos of ../shared/data/photos (see its README for
the licenses), holding out two of them (chosen with seed 0, never trained on) whose
480x480 centre crops score the generator every 200 steps: PSNR/SSIM on the Y channel,
border = scale, beside MATLAB bicubic (log.csv columns val_psnr, val_psnr_bicubic). The
best generator so far is RUN_DIR/generator.keras (+ card).

Resumable: run the same command again and it continues from RUN_DIR's last checkpoint
(every 200 steps). Both scales train a network smaller than the paper's (8 residual
blocks instead of 16, no batch norm, predicting the detail on top of a bicubic upscale,
L1 loss, Adam 2e-4 with cosine decay): on 2 CPU cores a step is about a second, and that
configuration reaches the zoo's quality target in far fewer steps than the paper's.

Usage:
    python recipes/sr_x4.py [--out /work/runs/srresnet-x4] [--data DIR] [--steps N]
    python recipes/sr_x2.py [--out /work/runs/srresnet-x2] ...
    nohup python recipes/sr_x4.py --out /work/runs/srresnet-x4 > /work/runs/srresnet-x4.log 2>&1 &
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_DATA = REPO.parent / "shared" / "data" / "photos"

# Shared by both scales. Changing any of these after a run started breaks its resume.
COMMON = {
    "num_blocks": 8,
    "filters": 64,
    "batch_norm": False,
    "residual": "bicubic",
    "loss": "l1",
    "lr": 2e-4,
    "lr_decay": "cosine",
    "lr_min": 1e-6,
    "holdout": 2,
    "val_size": 480,
    "steps_per_epoch": 200,
    "run.verbose": 2,
}
# Per scale: HR patch side (x2 uses smaller HR patches: the LR side, which sets the cost
# of a step, is then 32 against 24 at x4) and the total steps of the cosine schedule.
SCALES = {
    4: {"patch_size": 96, "steps": 10_000, "batch_size": 16},
    2: {"patch_size": 64, "steps": 10_000, "batch_size": 16},
}


def command(scale: int, data: Path, out: Path, steps: int | None = None) -> list[str]:
    """The `i2i train srresnet` command line of this recipe (a new run)."""
    recipe = SCALES[scale]
    args = ["i2i", "train", "srresnet", "--data", str(data), "--scale", str(scale)]
    args += ["--out", str(out), "--steps", str(steps or recipe["steps"])]
    args += ["--batch-size", str(recipe["batch_size"])]
    settings = dict(COMMON, patch_size=recipe["patch_size"])
    for key, value in settings.items():
        args += ["--set", f"{key}={str(value).lower() if isinstance(value, bool) else value}"]
    return args


def main(scale: int = 4, argv=None) -> None:
    parser = argparse.ArgumentParser(description=f"Train the zoo's srresnet-x{scale}.")
    parser.add_argument("--out", type=Path, default=Path(f"/work/runs/srresnet-x{scale}"))
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--steps", type=int, help="total steps (default: the recipe's)")
    args = parser.parse_args(argv)

    if (args.out / "checkpoints" / "latest.json").exists():
        argv_cli = ["i2i", "train", "srresnet", "--out", str(args.out), "--resume"]
        if args.steps:
            argv_cli += ["--steps", str(args.steps)]
    else:
        argv_cli = command(scale, args.data, args.out, args.steps)
        args.out.mkdir(parents=True, exist_ok=True)
        record = {"recipe": f"recipes/sr_x{scale}.py", "command": shlex.join(argv_cli)}
        (args.out / "recipe.json").write_text(json.dumps(record, indent=2) + "\n")
    print("$ " + shlex.join(argv_cli), flush=True)

    from i2i.cli import cli

    cli.main(argv_cli[1:], prog_name="i2i")


if __name__ == "__main__":
    main(4, sys.argv[1:])
