"""Recipe: day -> night on NASA's Blue Marble maps with CycleGAN, from UNPAIRED regions.

Data: `day.jpg` (Blue Marble) and `night.jpg` (city lights), a real, pixel-aligned
2048x1024 equirectangular pair (NASA Visible Earth, public domain; Debian's
`xplanet-images`). CycleGAN never sees a pair: the map is cut into three disjoint
regions of longitude,

- domain A (day): day tiles of the westernmost 3/8 (180W-45W: the Pacific, the Americas);
- domain B (night): night tiles of the next 3/8 (45W-90E: Atlantic, Europe, Africa, Asia);
- held out: the easternmost quarter (90E-180E: East Asia, Japan, Indonesia, Australia),
  the same quarter the pix2pix recipe (`recipes/day2night_earth.py`) holds out.

The unpaired dataset (`trainA/`, `trainB/`) is built from the tiles, checked, and trained
on with the training runner (`i2i.tasks.cyclegan.CycleGANTask`, random crops inside the
tiles). The held-out day quarter is then translated whole by the exported
`generator_a2b.keras` (as `i2i translate --direction a2b --tile 0` would) and scored
against the real night map with PSNR / SSIM (`i2i.metrics`, RGB), beside the pix2pix
recipe's baselines: "black" (predict an all-black night) and "luminance" (predict the
day image's gray level).

```bash
python recipes/day2night_cyclegan.py --data ../shared/data/earth --out runs/day2night-cyclegan
```

writes into `--out`: `dataset/trainA|trainB/` (the tiles), the training run
(`generator_a2b.keras`, `generator_b2a.keras` + cards, `checkpoints/`, `log.csv`,
`samples/`, `tensorboard/`), `results.json` (scores and settings) and `heldout.png`
(day | CycleGAN night | real night | CycleGAN day from the real night; night columns
brightened x4 so the lights show). The
cards get the measured quality, the data and the recipe.

Defaults (CPU-sized; the paper uses 64 filters, 9 blocks, 256 crops, batch 1, 200
epochs): ResNet generators with 16 filters and 3 residual blocks (~0.25 M parameters
each), 70x70 PatchGAN with 16 filters, instance norm, 96 px crops, batch 2, LSGAN,
cycle 10, identity 0.5, history 50, Adam 2e-4 / 0.5 with linear decay over the second
half, 3000 steps.

Measured (default settings, float32 on 2 CPU cores shared with other jobs, load average
13-17; 280-680 ms per step; 1315 s of training, 22 min end to end; held-out quarter =
512x1024 px, RGB):

    day -> night (a2b)   | PSNR (dB) | SSIM   | lit pixels
    ---------------------|-----------|--------|-----------
    CycleGAN             | 32.78     | 0.9317 | 0.0000
    black                | 32.78     | 0.9317 | 0
    luminance            |  5.83     | 0.0525 |
    real night           |           |        | 0.0045

    night -> day (b2a)   | PSNR (dB) | SSIM
    ---------------------|-----------|-------
    CycleGAN             |  6.55     | 0.2823
    mean day colour      |  8.47     | 0.3762
    night input          |  5.72     | 0.2415

    generator_a2b.keras: 1.2 MB, 272,515 parameters (each direction).

What the numbers say: at these settings the day -> night generator collapses to black:
its output rounds to 0 everywhere, so it scores exactly the "black" baseline (the night
map is ~99.5% black, which makes black a strong PSNR/SSIM baseline: the pix2pix recipe,
trained on PAIRS, scores 29.57 dB / 0.8874 below it). This is the known CycleGAN failure
on a sparse target domain: an all-black patch is realistic night (oceans, deserts), so
the patch discriminator barely objects, and the cycle loss is met by hiding the day
image in values below the 8-bit rounding (`g_cycle_a` fell to 0.95, an L1 of 0.095,
while the outputs stayed black; the training health check warned of mode collapse). The night -> day
generator does learn something visible (`heldout.png`, last column): it paints land
around every city light and ocean elsewhere, a plausible but invented map, scored below
the flat mean-colour baseline because the real coasts, deserts and polar ice are not in
the night image. Unpaired day -> night needs much more than this CPU budget (the paper's
networks, full 256 px crops, 200 epochs), and even then is best judged by eye or FID.

Tried since (issue 15; same quarter, lit AUC / blurred-luminance correlation / lattice):

    --upsample resize --min-land 0.25 --min-lit 0.01 --cycle-noise 0.1   (3000 steps)
        31.51 dB / 0.8147 SSIM; 0.371 / -0.137 / 3.4

No longer all black and no lattice, but no lights either: a dark red haze over the polar
ice and deserts (the AUC below 0.5 says its light is where the real map is dark). The
night -> day generator paints land with a bright ring around every city light.

Since then (the new `--lr`, `--beta-1`, `--keep-checkpoints` flags; same quarter):

    the run above with --lr 1e-3 --beta-1 0.9 --lambda-identity 0 (the optimizer that made
    pix2pix work on these maps)
        stopped at step 1000: D_B wins outright (d_b 0.001, g_a2b_adv 1.00 under LSGAN)
    --upsample resize --min-land 0.25 --min-lit 0.01 --cycle-noise 0.1 --lambda-cycle 3
    --lambda-identity 0 --d-layers 2
        32.75 dB / 0.9296; 0.500 / -0.012 / 3.5: the two sides balance (d_b ~0.1,
        g_a2b_adv ~0.6) and the day -> night generator settles on black (909 s)
    --upsample resize --min-land 0.25 --min-lit 0.03 --tile-stride 64 --crop 128
    --cycle-noise 0.1 --lambda-identity 0 (45 night tiles, most 128 px crops lit)
        29.47 dB / 0.5364; 0.357 / -0.071 / 5.0 (1772 s): D_B wins again (d_b 0.01-0.03);
        the day -> night generator draws glowing lines along coasts and ice edges, the
        night -> day one paints ocean around the lights

    --upsample resize --min-land 0.25 --min-lit 0.01 --cycle-noise 0.1 --lambda-identity 0
    --lambda-cycle 1 --lambda-cycle-b 10 (the reference's lambda_A 1 / lambda_B 10: G
    trained mostly by the night -> day -> night cycle; 2152 s)
        32.61 dB / 0.9218; 0.496 / -0.034 / 5.8: F paints ocean blobs with bright rims
        around the lights and land elsewhere (the day map upside down), so G learns
        "bright rim -> light": on real day maps it lights only the edges of the polar
        ice and leaves the land black

    the same plus --lambda-nce 1 (a PatchNCE content term per direction, read through
    the cycle noise; 1757 s)
        13.29 dB / 0.3390; 0.596 / -0.069 / 3.9 (real night 4.2): the first run whose
        maps are the right way round. G keeps the oceans black and lights the land, but
        all of it, brightest on the polar ice and the deserts (Australia glows whole),
        where the real map is dark; F now draws a real-looking day map (land where the
        lights are, 6.89 dB / 0.3409 against 6.85 / 0.2454 without the term). Without
        the noise in front of it, the term was met by invisible differences under an
        all-black night (stopped after 4 epochs)
    the A1 / B10 run with F's PatchNCE term only (--lambda-nce 0 --lambda-nce-b 1: G
    no longer asked to keep every day patch recognisable in its night; ~3780 s, two
    runs sharing the CPU)
        32.77 dB / 0.9316; 0.500 / -0.007 / 1.9: F still draws a real-looking day map
        with land where the lights are, but G settles on black (invisible even x4)
    the same with no A cycle at all (--lambda-cycle 0: G trained only by D_B and by
    the B cycle, i.e. on F's day versions of real nights)
        32.51 dB / 0.8768; 0.410 / -0.094 / 3.9: F turns every night into polar ice
        (white, with the lights as blue-grey dots), so G learns "ice -> lights" and
        lights the edges of the polar ice on real days
    the PatchNCE run (--lambda-nce 1, both directions) with a D_B twice as wide
    (--d-filters 32; 1830 s)
        23.57 dB / 0.4893; 0.585 / +0.072 / 3.0: sparser than with 16 filters and the
        first positive correlation, but the lights are worm-like strokes over all land
        (Australia and Siberia as lit as Japan) and lines along the ice edges
    that run without polar ice in the day domain (--max-ice 0.5: day tiles at most half
    ice; at 256 px, 3 of the 9 day tiles were Antarctica, ~60% ice, while no night
    tile is, so a third of G's data asked it to light ice; 6 day / 8 night tiles left;
    3045 s, two runs sharing the CPU)
        22.60 dB / 0.4468; 0.650 / +0.120 / 3.0: the best so far, Antarctica and the
        southern ocean no longer glow whole, but the strokes still cover all land and
        the sea next to the (now unseen) ice
    the same at --tile 128 (14 day / 16 night tiles)
        25.42 dB / 0.5212; 0.524 / +0.031 / 3.4: faint dots over land and sea alike

A weaker cycle term lets the generator fall to black; a stronger one makes it hide the
day image in a haze that D_B sees through. Neither finds the lights; the targets
(0.80 / 0.35) stay open.

Reference:
    Zhu et al., "Unpaired Image-to-Image Translation using Cycle-Consistent Adversarial
    Networks", ICCV 2017.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))

import earth  # noqa: E402

from i2i import imageio  # noqa: E402

# Tiles of a domain are kept when they show what the domain is about: day tiles with at
# least MIN_LAND of land (an all-ocean day tile teaches nothing about lights), night
# tiles with at least MIN_LIT of pixels brighter than LIT_LEVEL (else "black" is a
# perfectly realistic night, and the generator learns nothing else).
# --max-ice drops day tiles that are mostly polar ice (`earth.ice`): the night region
# has none, so there they only teach G to light the ice.
MIN_LAND = 0.25
MIN_LIT = 0.01
LIT_LEVEL = 8


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="folder with day.jpg and night.jpg")
    parser.add_argument("--out", default="runs/day2night-cyclegan", help="output folder")
    parser.add_argument("--steps", type=int, default=3000, help="training steps")
    parser.add_argument("--steps-per-epoch", type=int, default=250, help="checkpoint period")
    parser.add_argument("--keep-checkpoints", type=int, default=2, help="checkpoints kept")
    parser.add_argument(
        "--average-last", type=int, default=1, help="export the mean of the last N checkpoints"
    )
    parser.add_argument("--batch-size", type=int, default=2)
    parser.add_argument("--crop", type=int, default=96, help="training crop size")
    parser.add_argument("--tile", type=int, default=256, help="dataset tile size")
    parser.add_argument("--tile-stride", type=int, default=None, help="tile spacing")
    parser.add_argument("--min-land", type=float, default=0.0, help="day tiles: land fraction")
    parser.add_argument("--max-ice", type=float, default=1.0, help="day tiles: most polar ice kept")
    parser.add_argument("--min-lit", type=float, default=0.0, help="night tiles: lit fraction")
    parser.add_argument("--upsample", default="transpose", help="generators: transpose|resize")
    parser.add_argument("--lambda-cycle", type=float, default=10.0, help="cycle weight")
    parser.add_argument(
        "--lambda-cycle-b", type=float, default=None, help="B cycle weight (default: the A one)"
    )
    parser.add_argument("--lambda-nce", type=float, default=0.0, help="PatchNCE weight")
    parser.add_argument(
        "--lambda-nce-b", type=float, default=None, help="F's PatchNCE weight (default: G's)"
    )
    parser.add_argument("--lambda-identity", type=float, default=0.5, help="identity weight")
    parser.add_argument("--gan-mode", default="lsgan", help="adversarial loss")
    parser.add_argument("--lr", type=float, default=2e-4, help="Adam learning rate")
    parser.add_argument("--beta-1", type=float, default=0.5, help="Adam beta_1")
    parser.add_argument("--cycle-noise", type=float, default=0.0, help="noise before the cycle")
    parser.add_argument("--filters", type=int, default=16, help="generator width (ngf)")
    parser.add_argument("--blocks", type=int, default=3, help="generator residual blocks")
    parser.add_argument("--d-filters", type=int, default=16, help="PatchGAN width (ndf)")
    parser.add_argument("--d-layers", type=int, default=3, help="PatchGAN stride-2 layers")
    parser.add_argument("--precision", default="auto")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue the run in --out")
    parser.add_argument("--verbose", type=int, default=2, help="Keras progress (0, 1, 2)")
    return parser.parse_args(argv)


def regions(width: int) -> dict[str, tuple[int, int]]:
    """Column ranges of the three disjoint regions: day (A), night (B), held out."""
    east = width * 3 // 4
    middle = east // 2
    return {"a": (0, middle), "b": (middle, east), "heldout": (east, width)}


def write_tiles(folder: Path, image: np.ndarray, tile: int, keep, stride=None) -> int:
    """`image` cut into `tile`-pixel PNG tiles `stride` apart in `folder`, those for
    which `keep(window)` is true; returns the count."""
    count = 0
    for y in earth.tile_starts(image.shape[0], tile, stride):
        for x in earth.tile_starts(image.shape[1], tile, stride):
            window = image[y : y + tile, x : x + tile]
            if keep(window):
                imageio.write_image(folder / f"y{y:04d}_x{x:04d}.png", window)
                count += 1
    return count


def has_land(day: np.ndarray, fraction: float = MIN_LAND, max_ice: float = 1.0) -> bool:
    return float((~earth.water(day)).mean()) >= fraction and float(earth.ice(day).mean()) <= max_ice


def has_lights(night: np.ndarray, fraction: float = MIN_LIT) -> bool:
    return float((night.mean(axis=2) > LIT_LEVEL).mean()) >= fraction


def main(argv=None) -> dict:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    started = time.time()

    from i2i import config, training, zoo
    from i2i.tasks.cyclegan import CycleGANOptions, CycleGANTask

    out = Path(args.out)
    day, night = earth.load_pair(Path(args.data))
    spans = regions(day.shape[1])
    (a0, a1), (b0, b1), (h0, h1) = spans["a"], spans["b"], spans["heldout"]

    dataset = out / "dataset"
    if not args.resume:
        count_a = write_tiles(
            dataset / "trainA",
            day[:, a0:a1],
            args.tile,
            lambda window: has_land(window, args.min_land, args.max_ice),
            args.tile_stride,
        )
        count_b = write_tiles(
            dataset / "trainB",
            night[:, b0:b1],
            args.tile,
            lambda window: has_lights(window, args.min_lit),
            args.tile_stride,
        )
        training.log(
            f"unpaired dataset in {dataset}: {count_a} day tiles (x {a0}-{a1}, land >= "
            f"{args.min_land:g}, ice <= {args.max_ice:g}), {count_b} night tiles "
            f"(x {b0}-{b1}, lit >= {args.min_lit:g}); "
            f"held out: x {h0}-{h1}"
        )

    options = CycleGANOptions(
        data=str(dataset),
        image_size=args.crop,
        preprocess="crop",  # random crops at full resolution: no resizing of the maps
        filters=args.filters,
        num_blocks=args.blocks,
        upsample=args.upsample,
        discriminator_filters=args.d_filters,
        d_layers=args.d_layers,
        gan_mode=args.gan_mode,
        lambda_cycle=args.lambda_cycle,
        lambda_cycle_b=args.lambda_cycle_b,
        lambda_nce=args.lambda_nce,
        lambda_nce_b=args.lambda_nce_b,
        lambda_identity=args.lambda_identity,
        cycle_noise=args.cycle_noise,
        lr=args.lr,
        beta_1=args.beta_1,
    )
    run = config.RunOptions(
        out=str(out),
        steps=args.steps,
        steps_per_epoch=min(args.steps_per_epoch, args.steps),
        batch_size=args.batch_size,
        keep_checkpoints=args.keep_checkpoints,
        average_last=args.average_last,
        precision=args.precision,
        seed=args.seed,
        verbose=args.verbose,
    )
    cfg = config.Config(task=CycleGANTask.name, run=run, model=options)
    task = CycleGANTask()
    try:
        training.run(task, cfg, resume=args.resume)  # checks the data first
    except training.TrainingError as error:
        raise SystemExit(f"day2night_cyclegan: {error}") from None
    trained = time.time()

    # Score the exported generators, as a user would run them (whole images, float32).
    day_east, night_east = day[:, h0:h1], night[:, h0:h1]
    predicted = earth.translate(out, day_east, "a2b")
    predicted_day = earth.translate(out, night_east, "b2a")
    model, _ = zoo.load_generator(out, direction="a2b")
    rows = {"cyclegan": earth.scores(predicted, night_east)}
    rows.update({k: earth.scores(v, night_east) for k, v in earth.baselines(day_east).items()})
    rows["real night"] = {"lattice": earth.scores(night_east, night_east)["lattice"]}
    # Night -> day baseline: the mean colour of the day region CycleGAN saw (domain A).
    mean_day = np.broadcast_to(
        np.round(day[:, a0:a1].reshape(-1, 3).mean(0)).astype(np.uint8), day_east.shape
    )

    def psnr_ssim(prediction, target):
        from i2i import metrics

        return {
            "psnr": round(float(metrics.psnr(prediction, target)), 3),
            "ssim": round(float(metrics.ssim(prediction, target)), 4),
        }

    results = {
        "heldout": f"easternmost quarter, x >= {h0} of {day.shape[1]} px "
        f"({day_east.shape[1]}x{day_east.shape[0]})",
        "regions": {"day (A)": [a0, a1], "night (B)": [b0, b1], "heldout": [h0, h1]},
        "scores": rows,
        "night_to_day": {
            "cyclegan": psnr_ssim(predicted_day, day_east),
            "night input": psnr_ssim(night_east, day_east),
            "mean day colour": psnr_ssim(np.ascontiguousarray(mean_day), day_east),
        },
        "settings": {k: v for k, v in vars(args).items() if k not in ("resume", "verbose")},
        "generator_bytes": (out / "generator_a2b.keras").stat().st_size,
        "parameters": int(model.count_params()),
        "train_seconds": round(trained - started),
        "total_seconds": round(time.time() - started),
    }
    panel = np.concatenate(
        [day_east, earth.brighten(predicted), earth.brighten(night_east), predicted_day], axis=1
    )
    imageio.write_image(out / "heldout.png", panel)
    (out / "results.json").write_text(json.dumps(results, indent=2) + "\n")

    given = [a for a in argv if a != "--resume"]
    provenance = {
        "recipe": "recipes/day2night_cyclegan.py",
        "command": "python recipes/day2night_cyclegan.py " + shlex.join(given),
        "data": "NASA Blue Marble day / city-lights night maps (2048x1024): day of "
        "180W-45W, night of 45W-90E (unpaired)",
        "license": earth.DATA_LICENSE,
    }
    qualities = {"a2b": rows, "b2a": results["night_to_day"]}
    for direction, quality in qualities.items():
        card_file = zoo.card_path(out / f"generator_{direction}.keras")
        card = {**zoo.read_card(card_file.with_suffix(".keras")), **provenance}
        card["quality"] = {**quality, "heldout": results["heldout"]}
        card_file.write_text(json.dumps(card, indent=2, sort_keys=True) + "\n")

    print(f"held-out quarter ({results['heldout']}):")
    print(earth.score_table({k: v for k, v in rows.items() if k != "real night"}))
    print(f"real night map: lattice {rows['real night']['lattice']}")
    print("night -> day (b2a) on the same quarter:")
    for name, value in results["night_to_day"].items():
        print(f"{name:16s}{value['psnr']:8.2f}{value['ssim']:9.4f}")
    size_mb = results["generator_bytes"] / 1e6
    print(f"generator a2b: {size_mb:.1f} MB, {results['parameters']:,} parameters")
    print(f"time: {results['train_seconds']} s training, {results['total_seconds']} s in all")
    return results


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
