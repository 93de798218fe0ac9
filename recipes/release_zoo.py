"""Release the model zoo: copy trained generators into models/ with measured cards.

For each release name (default: all of `RELEASES`) this script

1. snapshots the run's kept generator (`RUN_DIR/generator.keras` + card: for the SR
   recipes, the best-validation checkpoint so far), loads it in safe mode and rebuilds
   the network from the card's architecture with the current code (so the shipped file
   uses today's layers, e.g. `Upscale2D` for the bicubic skip), copying the weights and
   checking that both give the same output;
2. saves it weights only (`i2i.zoo.save_generator`: no optimizer state) in a staging
   folder inside models/;
3. measures it on real images that were never trained on, with the same `i2i` commands
   the card quotes (super-resolution: `i2i evaluate --model NAME --hr-dir DIR --scale S
   --tile 0` on scikit-image's bundled colour photos and on the recipe's held-out
   photos, model beside bicubic, BasicSR protocol; day -> night: `i2i translate` of the
   held-out quarter of the map, then `i2i evaluate` against the real night map, beside
   the black and luminance baselines);
4. refuses to ship a super-resolution model whose mean PSNR gain over bicubic is below
   the target on any image set (x4: +1.0 dB, x2: +1.5 dB), a generator over the size
   limit, or one that is not better than the model already shipped under that name
   (`--force` replaces it anyway);
5. writes `models/<name>.keras` and `models/<name>.json` (architecture, scale, recipe
   and the exact training command, training data with its licenses, steps, measured
   quality with the commands that reproduce it, parameters, file size, sha256) and
   refreshes the quality table in README.md between its `zoo-table` markers.

Run it again whenever the trainings have improved (they keep running and resuming): a
run whose kept generator has not changed since the last release is skipped.

Usage:
    python recipes/release_zoo.py                               # every name, runs in /work/runs
    python recipes/release_zoo.py srresnet-x4 --runs /work/runs --eval-dir zoo-eval
    python recipes/release_zoo.py --eval-sets zoo-eval           # only write the image sets
    python recipes/release_zoo.py --table                        # only refresh README's table
    python recipes/release_zoo.py --remeasure day2night-earth    # a shipped model's card, again
    python benchmarks/inference.py --zoo-only --json speed.json && \
        python recipes/release_zoo.py --speed speed.json          # speeds into the SR cards

The evaluation image sets (`--eval-dir`, default `zoo-eval/` in the current folder):
    skimage/   astronaut, chelsea, coffee, rocket, hubble_deep_field from scikit-image,
               written as PNG (needs scikit-image: the `recipes` extra)
    heldout/   copies of the photos the SR recipes hold out of training (from --data)
    earth-east/day/, earth-east/night/   the easternmost quarter of the Blue Marble maps
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "recipes"))  # recipes/earth.py
SHARED_DATA = REPO.parent / "shared" / "data"
SKIMAGE_PHOTOS = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field")
SKIMAGE_LICENSES = {
    "astronaut": "NASA (Great Images database): no known copyright restrictions, public domain",
    "chelsea": "Stefan van der Walt: CC0",
    "coffee": "Rachel Michetti: CC0",
    "rocket": "SpaceX: released into the public domain",
    "hubble_deep_field": "NASA / HubbleSite: public domain",
}
README_BEGIN = "<!-- zoo-table: written by recipes/release_zoo.py -->"
README_END = "<!-- /zoo-table -->"
EVAL_SETS_COMMAND = "python recipes/release_zoo.py --eval-sets zoo-eval && cd zoo-eval"
SR_PROTOCOL = (
    "BasicSR / MATLAB: HR mod-cropped to the scale; LR = MATLAB bicubic (antialiased) "
    "downsampling; PSNR and SSIM on the Y channel (BT.601), `scale` border pixels cropped, "
    "outputs rounded to uint8; bicubic = MATLAB bicubic upscaling of the same LR image; "
    "whole images (--tile 0)"
)

RELEASES = {
    "srresnet-x4": {
        "kind": "sr",
        "run": "srresnet-x4",
        "recipe": "recipes/sr_x4.py",
        "target_psnr_gain": 1.0,
        "summary": "x4 photo super-resolution: SRResNet (8 blocks, 64 filters, no BN) "
        "predicting the detail over bicubic, L1",
    },
    "srresnet-x2": {
        "kind": "sr",
        "run": "srresnet-x2",
        "recipe": "recipes/sr_x2.py",
        "target_psnr_gain": 1.5,
        "summary": "x2 photo super-resolution: SRResNet (8 blocks, 64 filters, no BN) "
        "predicting the detail over bicubic, L1",
    },
    "compact-x4": {
        "kind": "sr",
        "run": "compact-x4",
        "recipe": "recipes/sr_zoo.py",
        "target_psnr_gain": 1.0,
        # Within 0.1 dB of this model's gain over bicubic on every image set.
        "match": "srresnet-x4",
        "summary": "x4 photo super-resolution, fast: all 18 convolutions at LR, one pixel "
        "shuffle (SRVGGNetCompact-style), L1 on bicubic LR",
    },
    "compact-x2": {
        "kind": "sr",
        "run": "compact-x2",
        "recipe": "recipes/sr_zoo.py",
        "target_psnr_gain": 1.5,
        "match": "srresnet-x2",
        "summary": "x2 photo super-resolution, fast: all 18 convolutions (48 filters) at LR, "
        "one pixel shuffle (SRVGGNetCompact-style), L1 on bicubic LR",
    },
    "compact-real-x4": {
        "kind": "sr",
        "run": "compact-real-x4",
        "recipe": "recipes/sr_zoo.py",
        # Clean bicubic LR is not what it is for: measured, no target there.
        "target_psnr_gain": None,
        # On LR degraded like phone photos (NOT its training degradation): at least
        # +0.5 dB over bicubic, and clearly above the model named in "beat".
        "degraded": {"phone": 0.5},
        "beat": "srresnet-x4",
        "beat_margin": 0.3,
        "summary": "x4 super-resolution of real photos (noise, JPEG, blur): the compact "
        "network fine-tuned on Real-ESRGAN's high-order degradations",
    },
    "day2night-earth": {
        "kind": "translation",
        "run": "day2night-earth",
        "generator": "generator.keras",
        "recipe": "recipes/day2night_earth.py",
        "max_bytes": 20_000_000,
        "description": "day -> night, satellite maps only (pix2pix)",
        # On the held-out quarter; lattice: at most this times the real night map's.
        "targets": {"lit_auc": 0.90, "lum_corr": 0.60, "lattice_vs_real": 2.0},
        "summary": "day -> night for satellite maps only (pix2pix U-Net, resize-convolution "
        "decoder) trained on NASA's Blue Marble / city lights maps",
        # What the shipped file does to a photo, looked at (examples/chelsea.png and
        # one_stands_out.jpg); rewrite it after looking at a new release's output.
        "ordinary_photos": "it comes out almost black: a cat close-up (examples/chelsea.png) "
        "at mean level 1 of 255 with the eyes' outline faintly drawn, a moss photo "
        "(one_stands_out.jpg) as a dim green-white glow over the plants (mean 5, peak 61), "
        "dark over the soil; no grid",
    },
    "day2night-earth-cyclegan": {
        "kind": "translation",
        "run": "day2night-earth-cyclegan",
        "generator": "generator_a2b.keras",
        "recipe": "recipes/day2night_cyclegan.py",
        "max_bytes": 20_000_000,
        "description": "day -> night, satellite maps only (CycleGAN)",
        "targets": {"lit_auc": 0.80, "lum_corr": 0.35, "lattice_vs_real": 2.0},
        "summary": "day -> night for satellite maps only, learnt from UNPAIRED regions "
        "(CycleGAN a2b generator) of NASA's Blue Marble / city lights maps",
    },
}
SET_LABELS = {
    "skimage": "scikit-image photos",
    "heldout": "held-out photos",
    "skimage_phone": "scikit-image photos, phone LR",
    "heldout_phone": "held-out photos, phone LR",
}
PHONE_PROTOCOL = (
    "LR = i2i.data.degradations.phone (MATLAB bicubic, Gaussian noise sigma 2-5 levels, "
    "JPEG quality 50-75; image i of a folder, sorted by name, seeded with i), NOT the "
    "training degradation; otherwise the SR protocol"
)


class ReleaseError(Exception):
    """A release cannot be made; one line saying why."""


# --------------------------------------------------------------------------- image sets


def write_skimage_set(folder: Path) -> list[Path]:
    """scikit-image's bundled colour photos as PNG files in `folder`."""
    import skimage.data

    from i2i import imageio

    paths = []
    for name in SKIMAGE_PHOTOS:
        path = folder / f"{name}.png"
        if not path.exists():
            imageio.write_image(path, getattr(skimage.data, name)())
        paths.append(path)
    return paths


def write_heldout_set(folder: Path, data: Path, names: list[str]) -> list[Path]:
    """Copies of the held-out training-set photos `names` (from `data`) in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    present = {p.name for p in folder.iterdir() if not p.name.startswith(".")}
    if present - set(names):
        raise ReleaseError(
            f"{folder} holds other images than the held-out ones ({', '.join(sorted(names))}): "
            "use an empty --eval-dir"
        )
    paths = []
    for name in names:
        source, path = data / name, folder / name
        if not source.is_file():
            raise ReleaseError(f"{source}: held-out photo missing (give --data)")
        if not path.exists():
            shutil.copyfile(source, path)
        paths.append(path)
    return paths


def write_earth_set(folder: Path, earth: Path) -> tuple[Path, Path]:
    """The easternmost quarter (never trained on) of the day and night maps."""
    from i2i import imageio

    day, night = imageio.read_image(earth / "day.jpg"), imageio.read_image(earth / "night.jpg")
    cut = day.shape[1] * 3 // 4  # as recipes/day2night_earth.py splits west / east
    paths = folder / "day" / "east.png", folder / "night" / "east.png"
    for path, image in zip(paths, (day[:, cut:, :3], night[:, cut:, :3]), strict=True):
        if not path.exists():
            imageio.write_image(path, image)
    return paths


# --------------------------------------------------------------------------- snapshot


def sha256(path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while block := file.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def snapshot(run_dir: Path, staging: Path, generator: str = "generator.keras"):
    """Copy the run's generator and card into `staging` as a consistent pair.

    The training replaces both (each atomically, the card right after the model): copy
    while neither the card's bytes nor the model file's identity change, a second apart.

    Returns:
        `(copied model file, its card)`.
    """
    source = run_dir / generator
    card_file = source.with_suffix(".json")
    if not source.is_file() or not card_file.is_file():
        raise ReleaseError(f"{run_dir}: no {generator} + {card_file.name} (not trained yet?)")
    target = staging / "source.keras"

    def state():
        info = source.stat()
        return card_file.read_bytes(), (info.st_ino, info.st_mtime_ns, info.st_size)

    for _ in range(10):
        before = state()
        shutil.copyfile(source, target)
        time.sleep(1.0)
        if state() == before:
            target.with_suffix(".json").write_bytes(before[0])
            return target, json.loads(before[0])
    raise ReleaseError(f"{run_dir}: the generator keeps changing; try again")


def rebuild(path: Path):
    """Load `path` in safe mode and rebuild it from its card with the current code.

    Returns:
        `(model, card)`: the rebuilt network holding the loaded weights.
    """
    import numpy as np

    from i2i import registry, zoo

    loaded, card = zoo.load_generator(path)
    architecture = dict(card.get("architecture") or {})
    name = architecture.pop("name", None)
    if name not in registry.NETS:
        raise ReleaseError(f"{path}: card architecture {name!r} is not a registered network")
    model = registry.resolve(registry.NETS, name)(**architecture)
    if len(model.weights) != len(loaded.weights):
        raise ReleaseError(f"{path}: rebuilt {name} has other weights than the file")
    model.set_weights(loaded.get_weights())
    side = max(24, int(card.get("stride", 1)))
    x = np.random.default_rng(0).random((1, side, side, 3), dtype=np.float32)
    low, high = card["value_range"]
    x = x * (high - low) + low
    difference = float(np.max(np.abs(np.asarray(model(x)) - np.asarray(loaded(x)))))
    if difference > 1e-5:
        raise ReleaseError(f"{path}: the rebuilt {name} differs from the file by {difference:g}")
    return model, card


# --------------------------------------------------------------------------- measuring


def run_i2i(args: list[str]) -> None:
    """Run an `i2i` command line in this process (what a user types, minus `i2i`)."""
    from i2i.cli import cli

    print("$ i2i " + " ".join(args), flush=True)
    try:
        cli.main(args, prog_name="i2i", standalone_mode=False)
    except Exception as error:  # click errors and anything the command raises
        raise ReleaseError(f"i2i {args[0]} failed: {error}") from None


def evaluate_sr(
    model_file: Path, name: str, scale: int, sets: dict, staging: Path, degrade: str = "bicubic"
) -> dict:
    """`i2i evaluate --model ... --hr-dir DIR --scale S --tile 0 [--degrade D]` per set.

    Returns:
        `{set name: summary}` with the means, the gain over bicubic and per-image rows
        (set names get a `_phone` suffix for `degrade="phone"`).
    """
    quality = {}
    suffix = "" if degrade == "bicubic" else f" --degrade {degrade}"
    for set_name, (folder, description) in sets.items():
        scores = staging / f"{set_name}-{degrade}.json"
        args = ["--model", str(model_file), "--hr-dir", str(folder), "--scale", str(scale)]
        args += ["--tile", "0", "--json", str(scores)]
        run_i2i(["evaluate", *args] + (["--degrade", degrade] if suffix else []))
        result = json.loads(scores.read_text())
        if result["errors"] or not result["images"]:
            raise ReleaseError(f"{folder}: not every image could be scored: {result['errors']}")
        mean = result["mean"]
        key = set_name if degrade == "bicubic" else f"{set_name}_{degrade}"
        quality[key] = {
            "description": description,
            "lr": result["settings"]["lr"],
            "images": [row["name"] for row in result["images"]],
            "command": f"i2i evaluate --model {name} --hr-dir {folder.name} --scale {scale} "
            "--tile 0" + suffix,
            "psnr": round(mean["psnr"], 3),
            "ssim": round(mean["ssim"], 4),
            "bicubic_psnr": round(mean["bicubic_psnr"], 3),
            "bicubic_ssim": round(mean["bicubic_ssim"], 4),
            "psnr_gain": round(mean["psnr"] - mean["bicubic_psnr"], 3),
            "ssim_gain": round(mean["ssim"] - mean["bicubic_ssim"], 4),
            "per_image": {
                row["name"]: {
                    "psnr": round(row["psnr"], 2),
                    "bicubic_psnr": round(row["bicubic_psnr"], 2),
                    "ssim": round(row["ssim"], 4),
                    "bicubic_ssim": round(row["bicubic_ssim"], 4),
                }
                for row in result["images"]
            },
        }
    return quality


def check_sr_targets(name: str, spec: dict, quality: dict, models: Path) -> tuple[bool, str]:
    """Whether `quality` meets the spec's targets, and what they were (one line).

    `target_psnr_gain` on the bicubic sets, `degraded` targets on the degraded sets, and
    `match` (within 0.1 dB of that shipped model's gain on every bicubic set).
    """
    rules, failed = [], []
    target = spec.get("target_psnr_gain")
    for key, value in quality.items():
        degrade = key.split("_", 1)[1] if "_" in key else "bicubic"
        goal = target if degrade == "bicubic" else spec.get("degraded", {}).get(degrade)
        if goal is not None and value["psnr_gain"] < goal:
            failed.append(f"{key} {value['psnr_gain']:+.2f} < +{goal} dB")
    if target is not None:
        rules.append(f"PSNR gain over bicubic >= +{target} dB on every clean image set")
    for degrade, goal in spec.get("degraded", {}).items():
        rules.append(f">= +{goal} dB on every {degrade}-LR set")
    match = spec.get("match")
    if match:
        reference = shipped_card(models, match)
        if reference is None:
            raise ReleaseError(f"{name}: is measured against {match}, which is not shipped")
        rules.append(f"within 0.1 dB of {match}'s gain on every clean set")
        for key in ("skimage", "heldout"):
            theirs = reference["quality"][key]["psnr_gain"]
            if quality[key]["psnr_gain"] < theirs - 0.1:
                failed.append(f"{key} {quality[key]['psnr_gain']:+.2f} vs {match} {theirs:+.2f}")
    return not failed, "; ".join(rules) + (f" (missed: {', '.join(failed)})" if failed else "")


def evaluate_translation(model_file: Path, name: str, folder: Path, staging: Path) -> dict:
    """`i2i translate` the held-out day quarter, `i2i evaluate` it against the night map
    (PSNR, SSIM, lit-pixel AUC, blurred-luminance correlation), beside the baselines of
    `recipes/earth.py`, and the lattice check of the output and of the real map."""
    import earth

    from i2i import imageio

    predictions = staging / "night-predicted"
    run_i2i(
        ["translate", str(folder / "day"), str(predictions), "--model", str(model_file)]
        + ["--tile", "0", "--ext", "png", "--quiet"]
    )
    scores = staging / "earth.json"
    metrics = "psnr,ssim,lit_auc,lum_corr"
    run_i2i(["evaluate", str(predictions), str(folder / "night"), "--metrics", metrics]
            + ["--json", str(scores)])  # fmt: skip
    result = json.loads(scores.read_text())
    if result["errors"] or len(result["images"]) != 1:
        raise ReleaseError(f"{folder}: the held-out quarter could not be scored: {result}")
    day = imageio.read_image(folder / "day" / "east.png")
    night = imageio.read_image(folder / "night" / "east.png")
    predicted = imageio.read_image(predictions / "east.png")
    ours = {k: round(float(result["mean"][k]), 4) for k in metrics.split(",")}
    ours["psnr"] = round(ours["psnr"], 3)
    ours["lattice"] = earth.scores(predicted, night)["lattice"]
    quality = {
        "heldout": f"easternmost quarter of the 2048x1024 maps ({night.shape[1]}x"
        f"{night.shape[0]} px, 90E-180E), never trained on",
        "protocol": "against the real night map, whole image (--tile 0): PSNR / SSIM on RGB; "
        "lit_auc = ROC-AUC of the predicted luminance for the pixels lit in the real map "
        "(luminance > 8); lum_corr = correlation of the luminances blurred by 4 px; "
        "lattice = strongest isolated spectral peak over its neighbourhood (i2i.health; "
        f"{earth.scores(night, night)['lattice']} for the real map, > 25 is a lattice)",
        "commands": [
            f"i2i translate {folder.name}/day night-predicted --model {name} --tile 0 --ext png",
            f"i2i evaluate night-predicted {folder.name}/night --metrics {metrics}",
        ],
        name: ours,
        "real night": {"lattice": earth.scores(night, night)["lattice"]},
    }
    for key, image in earth.baselines(day).items():
        quality[key] = earth.scores(image, night)
    return quality


# --------------------------------------------------------------------------- cards


def photo_licenses(data: Path) -> dict:
    """`{file: {"author", "license"}}` from the photos table of ../shared/data/README.md."""
    readme = data.parent / "README.md"
    if not readme.is_file():
        raise ReleaseError(f"{readme}: missing (the photos' licenses are listed there)")
    table = {}
    for line in readme.read_text().splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and (data / cells[0]).is_file():
            table[cells[0]] = {"author": cells[2], "license": cells[3]}
    return table


def sr_data_card(data: Path, held_out: list[str]) -> dict:
    from i2i import imageio

    licenses = photo_licenses(data)
    files = sorted(p.name for p in imageio.list_images(data))
    trained = [name for name in files if name not in held_out]
    missing = [name for name in files if name not in licenses]
    if missing:
        raise ReleaseError(f"{data}: no license listed for {', '.join(missing)}")
    by_license: dict[str, list[str]] = {}
    for name in trained:
        by_license.setdefault(licenses[name]["license"], []).append(name)
    return {
        "source": f"{data.name}/ of ../shared/data: {len(files)} real photographs from Debian's "
        "plasma-workspace-wallpapers (KDE Plasma 5.27), 2560 px wide",
        "trained_on": {name: licenses[name] for name in trained},
        "held_out": {name: licenses[name] for name in held_out},
        "licenses": {key: sorted(value) for key, value in sorted(by_license.items())},
    }


def git_commit() -> str | None:
    try:
        done = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return done.stdout.strip() or None


def recipe_command(run_dir: Path, fallback: str, data: dict) -> str:
    """The exact command of a run: `RUN_DIR/recipe.json`'s, else the card's `fallback`
    with its `DATA` placeholder replaced by the data folder the run used."""
    record = run_dir / "recipe.json"
    if record.is_file():
        recorded = json.loads(record.read_text())
        return " && ".join([recorded["command"], *recorded.get("resumed", [])])
    if data.get("folder"):
        fallback = fallback.replace("--data DATA", f"--data {data['folder']}")
    return fallback


def translation_targets_missed(targets: dict, ours: dict, real: dict) -> str:
    """The day -> night targets `ours` misses (lit AUC, luminance correlation, lattice
    against the real map's), as one line; "" when all are met."""
    missed = [
        f"{key} {ours[key]:.3f} < {goal}"
        for key, goal in targets.items()
        if key in ours and ours[key] < goal
    ]
    limit = targets["lattice_vs_real"] * real["lattice"]
    if ours["lattice"] > limit:
        missed.append(
            f"lattice {ours['lattice']} > {limit:.1f} ({targets['lattice_vs_real']}x the map's)"
        )
    return ", ".join(missed)


def steps_note(command: str, kept) -> str | None:
    """What the card must say when the shipped generator is not the run's last step."""
    steps = re.findall(r"--steps (\d+)", command)  # the last: a resume may extend the run
    if not steps or kept is None or int(steps[-1]) == int(kept):
        return None
    return (
        f"the command trains {int(steps[-1]):,} steps; the generator shipped is the one "
        f"the run kept (best validation PSNR so far), from step {int(kept):,}"
    )


def shipped_card(models: Path, name: str) -> dict | None:
    path = models / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def mean_gain(card: dict) -> float:
    sets = [v for v in card.get("quality", {}).values() if isinstance(v, dict) and "psnr_gain" in v]
    return sum(s["psnr_gain"] for s in sets) / len(sets) if sets else float("-inf")


# --------------------------------------------------------------------------- release


def release(name: str, args) -> str:
    """Release one model; returns a one-line outcome (raises ReleaseError if refused)."""
    spec = RELEASES[name]
    run_dir = args.runs / spec["run"]
    models = args.models
    models.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".release-{name}-", dir=models))
    try:
        source, run_card = snapshot(run_dir, staging, spec.get("generator", "generator.keras"))
        source_sha = sha256(source)
        previous = shipped_card(models, name)
        if previous and previous.get("source", {}).get("sha256") == source_sha and not args.force:
            return f"{name}: unchanged since the last release (step {previous.get('steps')})"

        model, card = rebuild(source)
        staged = staging / f"{name}.keras"
        from i2i import zoo

        zoo.save_generator(model, staged, card)
        eval_dir = args.eval_dir
        if spec["kind"] == "sr":
            scale = int(card["scale"])
            held_out = list(run_card.get("validation", {}).get("images", []))
            if not held_out:
                raise ReleaseError(f"{run_dir}: the card names no held-out images")
            sets = {
                "skimage": (
                    eval_dir / "skimage",
                    "scikit-image's bundled colour photos (never trained on), as PNG",
                ),
                "heldout": (
                    eval_dir / "heldout",
                    "the training folder's photos the recipe holds out (never trained on), "
                    "whole 2560 px images",
                ),
            }
            write_skimage_set(sets["skimage"][0])
            write_heldout_set(sets["heldout"][0], args.data, held_out)
            quality = evaluate_sr(staged, name, scale, sets, staging)
            for degrade in spec.get("degraded", {}):
                quality.update(evaluate_sr(staged, name, scale, sets, staging, degrade))
            met, rules = check_sr_targets(name, spec, quality, models)
            gains = ", ".join(f"{k} {v['psnr_gain']:+.2f} dB" for k, v in quality.items())
            beat = spec.get("beat")
            reference = None
            if beat and met:
                # The shipped model it must beat, measured on the same degraded LR.
                reference_file = models / f"{beat}.keras"
                if not reference_file.is_file():
                    raise ReleaseError(f"{name}: is compared with {beat}, which is not shipped")
                reference = {}
                for degrade in spec["degraded"]:
                    measured = evaluate_sr(reference_file, beat, scale, sets, staging, degrade)
                    reference.update({k: v["psnr_gain"] for k, v in measured.items()})
                margin = spec.get("beat_margin", 0.0)
                behind = [
                    f"{k} {quality[k]['psnr_gain']:+.2f} vs {beat} {theirs:+.2f} dB"
                    for k, theirs in reference.items()
                    if quality[k]["psnr_gain"] < theirs + margin
                ]
                rules += f"; at least {margin} dB above {beat} on the same degraded LR"
                if behind:
                    met = False
                    rules += f" (missed: {', '.join(behind)})"
            quality = {
                "protocol": SR_PROTOCOL,
                **({"phone_protocol": PHONE_PROTOCOL} if "degraded" in spec else {}),
                "target": rules.split(" (missed")[0],
                "target_met": met,
                "eval_sets": "python recipes/release_zoo.py --eval-sets DIR (writes DIR/skimage "
                "and DIR/heldout; run the commands below inside DIR)",
                **quality,
            }
            if reference is not None:
                quality["compared_with"] = {"model": beat, "psnr_gain": reference}
            if not met:
                raise ReleaseError(
                    f"{name}: step {card.get('steps')} misses the target: {rules} ({gains}); "
                    "not shipped"
                )
            extra = {
                "data": sr_data_card(args.data, held_out),
                "training": card.get("training"),
                "validation": card.get("validation"),
            }
            outcome = f"step {card.get('steps')}: {gains}"
            # What `i2i models list` shows (it cuts descriptions at 60 characters).
            key = next((k for k in quality if k.endswith("_phone")), "skimage")
            gain = quality[key]["psnr_gain"]
            lr = " (phone LR)" if key != "skimage" else ""
            description = f"x{scale} photo SR, {gain:+.2f} dB PSNR-Y over bicubic{lr}"
        else:
            folder = eval_dir / "earth-east"
            write_earth_set(folder, args.earth)
            quality = evaluate_translation(staged, name, folder, staging)
            # The recipe's results.json holds every setting of the run (data, steps, sizes).
            results = run_dir / "results.json"
            recorded = json.loads(results.read_text()) if results.is_file() else {}
            if recorded.get("generator_bytes") not in (None, source.stat().st_size):
                raise ReleaseError(f"{results}: describes another generator (still training?)")
            settings = recorded.get("settings")
            extra = {
                "data": {
                    "source": card.get("data"),
                    "folder": (settings or {}).get("data"),
                    "licenses": card.get("license"),
                },
                "direction": card.get("direction"),
                "training": settings,
            }
            ours = quality[name]
            missed = translation_targets_missed(spec["targets"], ours, quality["real night"])
            quality["targets"] = spec["targets"]
            if missed:
                raise ReleaseError(f"{name}: misses its targets ({missed}); not shipped")
            outcome = (
                f"step {card.get('steps')}: lit AUC {ours['lit_auc']:.3f}, luminance "
                f"correlation {ours['lum_corr']:.3f}, lattice {ours['lattice']}"
            )
            description = spec["description"]
            if not spec.get("ordinary_photos"):
                raise ReleaseError(
                    f"{name}: RELEASES has no 'ordinary_photos': translate an ordinary photo "
                    "with the staged model, look at it, and say what it does"
                )
            extra["ordinary_photos"] = spec["ordinary_photos"]

        size = staged.stat().st_size
        if size > spec.get("max_bytes", float("inf")):
            raise ReleaseError(
                f"{name}: {size / 1e6:.1f} MB is over the {spec['max_bytes'] / 1e6:g} MB limit"
            )
        final = {
            "name": name,
            "description": description,
            "summary": spec["summary"],
            "task": card["task"],
            "scale": card["scale"],
            "value_range": card["value_range"],
            "stride": card["stride"],
            "architecture": card["architecture"],
            "parameters": int(model.count_params()),
            "steps": card.get("steps"),
            # A mean of the run's last checkpoints (`--set run.average_last=N`), if so.
            **{k: card[k] for k in ("checkpoint_average",) if card.get(k)},
            "quality": quality,
            **extra,
            "recipe": spec["recipe"],
            "command": (command := recipe_command(run_dir, card.get("command", ""), extra["data"])),
            "command_note": steps_note(command, card.get("steps")),
            "released": {
                "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "i2i_commit": git_commit(),
                "command": f"python recipes/release_zoo.py {name}",
            },
            "source": {"run": str(run_dir), "sha256": source_sha},
            "file_size": size,
            "sha256": sha256(staged),
        }
        worse = previous is not None and mean_gain(final) <= mean_gain(previous)
        if spec["kind"] == "sr" and worse and not args.force:
            raise ReleaseError(
                f"{name}: {outcome} is not better than the shipped step "
                f"{previous.get('steps')} (mean gain {mean_gain(previous):+.3f} dB); kept it "
                "(--force replaces it)"
            )
        card_text = json.dumps(final, indent=2) + "\n"
        (staging / f"{name}.json").write_text(card_text)
        # The card last: a model file never sits beside a card of another file.
        os.replace(staged, models / f"{name}.keras")
        os.replace(staging / f"{name}.json", models / f"{name}.json")
        for path in (models / f"{name}.keras", models / f"{name}.json"):
            os.chmod(path, 0o644)
        zoo.load_generator(models / f"{name}.keras")  # loads, and the card's sha256 matches
        return f"{name}: released {outcome}, {size / 1e6:.1f} MB"
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def remeasure(name: str, args) -> str:
    """Measure a SHIPPED day -> night model again with today's protocol and rewrite the
    quality section of its card (the file is untouched): a model released before the
    lattice and sparse-target metrics existed gets them, with its targets marked as met
    or missed, so the README and `i2i models info` tell what it does."""
    spec = RELEASES[name]
    model_file = args.models / f"{name}.keras"
    card_file = model_file.with_suffix(".json")
    if spec["kind"] != "translation" or not card_file.is_file():
        raise ReleaseError(f"{name}: --remeasure is for a shipped day -> night model")
    card = json.loads(card_file.read_text())
    if card.get("sha256") != sha256(model_file):
        raise ReleaseError(f"{model_file}: does not match its card")
    folder = args.eval_dir / "earth-east"
    write_earth_set(folder, args.earth)
    staging = Path(tempfile.mkdtemp(prefix=f".remeasure-{name}-", dir=args.models))
    try:
        quality = evaluate_translation(model_file, name, folder, staging)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    ours = quality[name]
    missed = translation_targets_missed(spec["targets"], ours, quality["real night"])
    quality.update(targets=spec["targets"], target_met=not missed)
    if missed:
        quality["targets_missed"] = missed
    card["quality"] = quality
    card["ordinary_photos"] = spec["ordinary_photos"]
    card["remeasured"] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "i2i_commit": git_commit(),
        "command": f"python recipes/release_zoo.py --remeasure {name}",
    }
    from i2i.common import atomic_write

    atomic_write(card_file, json.dumps(card, indent=2) + "\n")
    return (
        f"{name}: lit AUC {ours['lit_auc']:.3f}, luminance correlation {ours['lum_corr']:.3f}, "
        f"lattice {ours['lattice']}" + (f"; misses {missed}" if missed else "; meets its targets")
    )


SPEED_COMMAND = "python benchmarks/inference.py --zoo-only --json FILE"
SPEED_KEYS = (
    "bare_mp_per_s", "bare_mp_per_cpu_s", "end_to_end_mp_per_s", "gflop_per_out_mp",
    "fraction_of_matmul", "matmul_gflop_per_cpu_s", "speed_vs_srresnet",
)  # fmt: skip


def record_speed(path: Path, models: Path) -> list[str]:
    """Copy one run of `benchmarks/inference.py --zoo-only --json FILE` into the cards of
    the shipped super-resolution models it measured (`card["speed"]`; the model files
    are untouched). The models are timed side by side in that one run, so the ratios
    between them hold even on a loaded machine, where the absolute figures do not."""
    from i2i.common import atomic_write

    try:
        report = json.loads(Path(path).read_text())
        rows, setup = report["zoo"], report.get("setup", {})
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ReleaseError(f"{path}: not a `{SPEED_COMMAND}` report ({error})") from None
    done = []
    for row in rows:
        card_file = models / f"{row.get('model')}.json"
        if not card_file.is_file():
            continue  # not a shipped model (a random-weight variant, a --with run)
        card = json.loads(card_file.read_text())
        if card.get("task") != "super-resolution":
            continue
        reference = row.get("compared_with")  # the benchmark picks the model it divides by
        card["speed"] = {
            **{key: round(row[key], 3) for key in SPEED_KEYS if row.get(key) is not None},
            "compared_with": reference,
            "command": SPEED_COMMAND,
            **setup,
        }
        atomic_write(card_file, json.dumps(card, indent=2) + "\n")
        ratio = card["speed"].get("speed_vs_srresnet")
        done.append(
            f"{card['name']}: {row['bare_mp_per_s']:.3f} output MP/s"
            + (f", {ratio:.2f}x {reference}" if ratio is not None and reference else "")
        )
    if not done:
        raise ReleaseError(f"{path}: measures no shipped super-resolution model")
    return done


# --------------------------------------------------------------------------- README table


def render_table(models: Path) -> str:
    """The README's table of shipped models, from their cards."""
    cards = [json.loads(p.read_text()) for p in sorted(models.glob("*.json"))]
    cards = [card for card in cards if "quality" in card and "sha256" in card]
    lines = [README_BEGIN]
    sr = [card for card in cards if card["task"] == "super-resolution"]
    if sr:
        lines += [
            "| model | steps | images (never trained on) | PSNR-Y model / bicubic (gain) "
            "| SSIM-Y model / bicubic | size |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for card in sorted(sr, key=lambda c: -c["scale"]):
            for key, value in card["quality"].items():
                if not isinstance(value, dict) or "psnr_gain" not in value:
                    continue
                lines.append(
                    f"| `{card['name']}` | {card['steps']:,} | {SET_LABELS.get(key, key)}: "
                    f"{', '.join(value['images'])} | {value['psnr']:.2f} / "
                    f"{value['bicubic_psnr']:.2f} ({value['psnr_gain']:+.2f} dB) | "
                    f"{value['ssim']:.4f} / {value['bicubic_ssim']:.4f} | "
                    f"{card['file_size'] / 1e6:.1f} MB |"
                )
        lines += [
            "",
            "```bash",
            EVAL_SETS_COMMAND,
        ]
        for card in sorted(sr, key=lambda c: -c["scale"]):
            for value in card["quality"].values():
                if isinstance(value, dict) and "command" in value:
                    lines.append(value["command"])
        lines.append("```")
        timed = [card for card in sorted(sr, key=lambda c: -c["scale"]) if "speed" in card]
        # One table per benchmark run: only models timed together compare directly.
        runs = {}
        for card in timed:
            setup = card["speed"]
            runs.setdefault((setup.get("date"), setup.get("machine")), []).append(card)
        for run in runs.values():
            setup = run[0]["speed"]
            lines += [
                "",
                f"Speed, side by side in one run of `{SPEED_COMMAND}` ({setup.get('images')}, "
                f"float32, {setup.get('machine')}, {setup.get('date')}):",
                "",
                "| model | output MP/s | vs SRResNet | GFLOP per output MP "
                "| of the matmul ceiling |",
                "| --- | --- | --- | --- | --- |",
            ]
            for card in run:
                speed = card["speed"]
                ratio = speed.get("speed_vs_srresnet")
                versus = f"{ratio:.2f}x `{speed['compared_with']}`" if ratio else ""
                lines.append(
                    f"| `{card['name']}` | {speed['bare_mp_per_s']:.3f} | {versus} | "
                    f"{speed['gflop_per_out_mp']:.1f} | {speed['fraction_of_matmul']:.0%} |"
                )
    for card in cards:
        if card["task"] != "translation":
            continue
        quality = card["quality"]
        lines += [
            "",
            f"`{card['name']}` ({card['file_size'] / 1e6:.1f} MB, {card['steps']:,} steps) on the "
            f"{quality['heldout']}, {quality['protocol']}:",
            "",
            "| prediction | PSNR | SSIM | lit AUC | lum. corr. | lattice |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        for key in (card["name"], "black", "day luminance", "land x darkness", "real night"):
            row = quality.get(key)
            if row is None:
                continue
            cells = [
                "" if c not in row else f"{row[c]:.2f}" if c == "psnr" else f"{row[c]:.4f}"
                for c in ("psnr", "ssim", "lit_auc", "lum_corr")
            ]
            lattice = f"{row['lattice']:.1f}" if "lattice" in row else ""
            lines.append(f"| {key} | {' | '.join(cells)} | {lattice} |")
        lines += [
            "",
            "A satellite-map model, not for photos: on an ordinary photo "
            f"{card['ordinary_photos']}.",
        ]
        if quality.get("target_met") is False:
            lines[-1] += f" It misses its release targets: {quality['targets_missed']}."
        lines += [
            "",
            "```bash",
            EVAL_SETS_COMMAND,
        ]
        lines += [*quality["commands"], "```"]
    lines.append(README_END)
    return "\n".join(lines)


def update_readme(readme: Path, models: Path) -> bool:
    """Replace the block between the zoo-table markers; returns whether it changed."""
    text = readme.read_text()
    pattern = re.compile(re.escape(README_BEGIN) + r".*?" + re.escape(README_END), re.S)
    if not pattern.search(text):
        raise ReleaseError(f"{readme}: no {README_BEGIN} ... {README_END} block")
    new = pattern.sub(lambda _: render_table(models), text)
    if new != text:
        readme.write_text(new)
    return new != text


# --------------------------------------------------------------------------- CLI


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help=f"default: {' '.join(RELEASES)}")
    parser.add_argument(
        "--runs", type=Path, default=Path.home() / "i2i-runs", help="run directories"
    )
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "photos", help="SR photos")
    parser.add_argument("--earth", type=Path, default=SHARED_DATA / "earth", help="day/night maps")
    parser.add_argument("--models", type=Path, default=REPO / "models", help="the zoo folder")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument("--eval-dir", type=Path, default=Path("zoo-eval"), help="image sets")
    parser.add_argument("--force", action="store_true", help="release even if not better")
    parser.add_argument("--eval-sets", type=Path, metavar="DIR", help="only write the sets")
    parser.add_argument("--table", action="store_true", help="only refresh README's table")
    parser.add_argument(
        "--remeasure", action="store_true", help="re-measure shipped day -> night models' cards"
    )
    parser.add_argument(
        "--speed", type=Path, metavar="FILE", help=f"only record the speeds of `{SPEED_COMMAND}`"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in RELEASES]
    if unknown:
        parser.error(f"unknown name {', '.join(unknown)} (known: {', '.join(RELEASES)})")
    return args


def write_eval_sets(folder: Path, data: Path, earth: Path, runs: Path) -> None:
    held = set()
    for spec in RELEASES.values():
        card_file = runs / spec["run"] / "generator.json"
        shipped = REPO / "models" / f"{spec['run']}.json"
        for path in (shipped, card_file):
            if spec["kind"] == "sr" and path.is_file():
                card = json.loads(path.read_text())
                names = card.get("validation", {}).get("images")
                if names:
                    held.add(tuple(names))
                    break
    if len(held) > 1:
        raise ReleaseError(f"the SR models hold out different photos: {sorted(held)}")
    write_skimage_set(folder / "skimage")
    if held:
        write_heldout_set(folder / "heldout", data, list(next(iter(held))))
    if earth.is_dir():
        write_earth_set(folder / "earth-east", earth)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        if args.eval_sets:
            write_eval_sets(args.eval_sets, args.data, args.earth, args.runs)
            print(f"wrote the evaluation image sets in {args.eval_sets}")
            return 0
        if args.speed:
            print("\n".join(record_speed(args.speed, args.models)))
        if args.table or args.speed:
            changed = update_readme(args.readme, args.models)
            print(f"{args.readme}: {'table updated' if changed else 'table unchanged'}")
            return 0
    except ReleaseError as error:
        print(f"release_zoo: {error}", file=sys.stderr)
        return 1
    failures = 0
    for name in args.names or list(RELEASES):
        try:
            print((remeasure if args.remeasure else release)(name, args), flush=True)
        except ReleaseError as error:
            failures += 1
            print(f"release_zoo: {error}", file=sys.stderr, flush=True)
    try:
        changed = update_readme(args.readme, args.models)
        print(f"{args.readme}: {'table updated' if changed else 'table unchanged'}")
    except ReleaseError as error:
        print(f"release_zoo: {error}", file=sys.stderr)
        failures += 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
