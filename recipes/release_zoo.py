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

The evaluation image sets (`--eval-dir`, default `zoo-eval/` in the current folder):
    skimage/   astronaut, chelsea, coffee, rocket, hubble_deep_field from scikit-image,
               written as PNG (needs scikit-image, the `test` extra)
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
    "day2night-earth": {
        "kind": "translation",
        "run": "day2night-earth",
        "recipe": "recipes/day2night_earth.py",
        "max_bytes": 20_000_000,
        "summary": "day -> night satellite map (pix2pix U-Net, 16 filters) trained on "
        "NASA's Blue Marble / city lights maps; a demo: it scores below an all-black night",
    },
}


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


def snapshot(run_dir: Path, staging: Path) -> tuple[Path, dict]:
    """Copy the run's generator and card into `staging` as a consistent pair.

    The training replaces both (each atomically, the card right after the model): copy
    while neither the card's bytes nor the model file's identity change, a second apart.
    """
    source = run_dir / "generator.keras"
    card_file = source.with_suffix(".json")
    if not source.is_file() or not card_file.is_file():
        raise ReleaseError(f"{run_dir}: no generator.keras + generator.json (not trained yet?)")
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


def evaluate_sr(model_file: Path, name: str, scale: int, sets: dict, staging: Path) -> dict:
    """`i2i evaluate --model ... --hr-dir DIR --scale S --tile 0` on each image set.

    Returns:
        `{set name: summary}` with the means, the gain over bicubic and per-image rows.
    """
    quality = {}
    for set_name, (folder, description) in sets.items():
        scores = staging / f"{set_name}.json"
        args = ["--model", str(model_file), "--hr-dir", str(folder), "--scale", str(scale)]
        run_i2i(["evaluate", *args, "--tile", "0", "--json", str(scores)])
        result = json.loads(scores.read_text())
        if result["errors"] or not result["images"]:
            raise ReleaseError(f"{folder}: not every image could be scored: {result['errors']}")
        mean = result["mean"]
        quality[set_name] = {
            "description": description,
            "images": [row["name"] for row in result["images"]],
            "command": f"i2i evaluate --model {name} --hr-dir {folder.name} --scale {scale} "
            "--tile 0",
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


def evaluate_translation(model_file: Path, name: str, folder: Path, staging: Path) -> dict:
    """`i2i translate` the held-out day quarter, `i2i evaluate` it against the night map,
    beside the all-black and luminance baselines."""
    import numpy as np

    from i2i import imageio, metrics

    predictions = staging / "night-predicted"
    run_i2i(
        ["translate", str(folder / "day"), str(predictions), "--model", str(model_file)]
        + ["--tile", "0", "--ext", "png", "--quiet"]
    )
    scores = staging / "earth.json"
    run_i2i(["evaluate", str(predictions), str(folder / "night"), "--json", str(scores)])
    result = json.loads(scores.read_text())
    if result["errors"] or len(result["images"]) != 1:
        raise ReleaseError(f"{folder}: the held-out quarter could not be scored: {result}")
    day = imageio.read_image(folder / "day" / "east.png")
    night = imageio.read_image(folder / "night" / "east.png")
    gray = np.clip(np.round(day.astype(np.float64) @ [0.299, 0.587, 0.114]), 0, 255)
    baselines = {"black": np.zeros_like(night), "luminance": np.repeat(gray[..., None], 3, 2)}

    def rounded(psnr, ssim):
        return {"psnr": round(float(psnr), 3), "ssim": round(float(ssim), 4)}

    quality = {
        "heldout": f"easternmost quarter of the 2048x1024 maps ({night.shape[1]}x"
        f"{night.shape[0]} px, 90E-180E), never trained on",
        "protocol": "PSNR / SSIM on RGB, whole image (--tile 0), against the real night map",
        "commands": [
            f"i2i translate {folder.name}/day night-predicted --model {name} --tile 0 --ext png",
            f"i2i evaluate night-predicted {folder.name}/night",
        ],
        name: rounded(result["mean"]["psnr"], result["mean"]["ssim"]),
    }
    for key, image in baselines.items():
        image = image.astype(np.uint8)
        quality[key] = rounded(metrics.psnr(image, night), metrics.ssim(image, night))
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
        return json.loads(record.read_text())["command"]
    if data.get("folder"):
        fallback = fallback.replace("--data DATA", f"--data {data['folder']}")
    return fallback


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
        source, run_card = snapshot(run_dir, staging)
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
            target = spec["target_psnr_gain"]
            met = all(s["psnr_gain"] >= target for s in quality.values())
            gains = ", ".join(f"{k} {v['psnr_gain']:+.2f} dB" for k, v in quality.items())
            quality = {
                "protocol": SR_PROTOCOL,
                "target": f"PSNR gain over bicubic >= +{target} dB on every image set",
                "target_met": met,
                "eval_sets": "python recipes/release_zoo.py --eval-sets DIR (writes DIR/skimage "
                "and DIR/heldout; run the commands below inside DIR)",
                **quality,
            }
            if not met:
                raise ReleaseError(
                    f"{name}: step {card.get('steps')} misses the target +{target} dB over "
                    f"bicubic ({gains}); not shipped"
                )
            extra = {
                "data": sr_data_card(args.data, held_out),
                "training": card.get("training"),
                "validation": card.get("validation"),
            }
            outcome = f"step {card.get('steps')}: {gains}"
            # What `i2i models list` shows (it cuts descriptions at 60 characters).
            gain = quality["skimage"]["psnr_gain"]
            description = f"x{scale} photo super-resolution, {gain:+.2f} dB PSNR-Y over bicubic"
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
            outcome = f"step {card.get('steps')}: {ours['psnr']:.2f} dB / {ours['ssim']:.4f}"
            description = "day -> night Earth maps (pix2pix demo)"

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
            "quality": quality,
            **extra,
            "recipe": spec["recipe"],
            "command": recipe_command(run_dir, card.get("command", ""), extra["data"]),
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
                label = {"skimage": "scikit-image photos", "heldout": "held-out photos"}
                lines.append(
                    f"| `{card['name']}` | {card['steps']:,} | {label.get(key, key)}: "
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
    for card in cards:
        if card["task"] != "translation":
            continue
        quality = card["quality"]
        lines += [
            "",
            f"`{card['name']}` ({card['file_size'] / 1e6:.1f} MB, {card['steps']:,} steps) on the "
            f"{quality['heldout']}, {quality['protocol']}:",
            "",
            "| prediction | PSNR | SSIM |",
            "| --- | --- | --- |",
        ]
        for key in (card["name"], "black", "luminance"):
            lines.append(f"| {key} | {quality[key]['psnr']:.2f} | {quality[key]['ssim']:.4f} |")
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
    parser.add_argument("--runs", type=Path, default=Path("/work/runs"), help="run directories")
    parser.add_argument("--data", type=Path, default=SHARED_DATA / "photos", help="SR photos")
    parser.add_argument("--earth", type=Path, default=SHARED_DATA / "earth", help="day/night maps")
    parser.add_argument("--models", type=Path, default=REPO / "models", help="the zoo folder")
    parser.add_argument("--readme", type=Path, default=REPO / "README.md")
    parser.add_argument("--eval-dir", type=Path, default=Path("zoo-eval"), help="image sets")
    parser.add_argument("--force", action="store_true", help="release even if not better")
    parser.add_argument("--eval-sets", type=Path, metavar="DIR", help="only write the sets")
    parser.add_argument("--table", action="store_true", help="only refresh README's table")
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
        if args.table:
            changed = update_readme(args.readme, args.models)
            print(f"{args.readme}: {'table updated' if changed else 'table unchanged'}")
            return 0
    except ReleaseError as error:
        print(f"release_zoo: {error}", file=sys.stderr)
        return 1
    failures = 0
    for name in args.names or list(RELEASES):
        try:
            print(release(name, args), flush=True)
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
