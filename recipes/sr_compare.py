"""The README's side-by-side crop of the zoo's x4 models on one real photo.

Upscales an LR photo (default `examples/one_stands_out.jpg`: a held-out wallpaper
downscaled 8x and saved as JPEG quality 75, as photos come from the web) x4 with MATLAB
bicubic and with each x4 model of the zoo (through `i2i.inference.Engine`, as
`i2i upscale` does), and writes one PNG with the same crop of each, labelled, side by
side (nearest-neighbour enlarged `--zoom` times so the pixels show):

    python recipes/sr_compare.py --out docs/upscale-comparison.png
    python recipes/sr_compare.py --photo my.jpg --crop 40,60,48 --out cmp.png

Also prints, for each model, the noise it leaves in flat areas (the mean absolute
Laplacian of the output over the crop, beside bicubic's) — sharpened JPEG blocks and
noise raise it.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
# The x4 models to compare, those of them that are shipped (`zoo.list_models`).
MODELS = ("srresnet-x4", "compact-x4", "compact-real-x4")


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photo", type=Path, default=REPO / "examples" / "one_stands_out.jpg")
    parser.add_argument("--crop", default="104,40,56", help="LR top,left,size of the crop")
    parser.add_argument("--zoom", type=int, default=2, help="enlargement of the crops")
    parser.add_argument(
        "--models",
        default=None,
        help="zoo names, comma-separated (default: "
        "those of " + ", ".join(MODELS) + " that are shipped)",
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "upscale-comparison.png")
    return parser.parse_args(argv)


def label(image, text):
    """`image` with a black band and `text` above it."""
    import cv2
    import numpy as np

    band = np.zeros((22, image.shape[1], 3), np.uint8)
    cv2.putText(band, text, (4, 16), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (255, 255, 255), 1)
    return np.concatenate([band, image], axis=0)


def main(argv=None) -> dict:
    import cv2
    import numpy as np

    from i2i import imageio, inference, zoo
    from i2i.data import resize

    args = parse_args(argv)
    top, left, size = (int(v) for v in args.crop.split(","))
    lr = imageio.read_image(args.photo)[..., :3]
    outputs = {"bicubic": resize.upsample_bicubic(lr, 4)}
    names = (
        args.models.split(",")
        if args.models
        else [name for name in MODELS if name in {entry.name for entry in zoo.list_models()}]
    )
    for name in names:
        model, card = zoo.load_generator(name)
        outputs[name] = inference.Engine(model, card, tile=0, precision="float32").process(lr)
    panels, roughness = [], {}
    for name, image in outputs.items():
        crop = image[4 * top : 4 * (top + size), 4 * left : 4 * (left + size)]
        gray = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY).astype(np.float32)
        roughness[name] = float(np.abs(cv2.Laplacian(gray, cv2.CV_32F)).mean())
        big = cv2.resize(crop, None, fx=args.zoom, fy=args.zoom, interpolation=cv2.INTER_NEAREST)
        panels.append(label(big, name))
    lr_crop = lr[top : top + size, left : left + size]
    side = 4 * size * args.zoom
    lr_big = cv2.resize(lr_crop, (side, side), interpolation=cv2.INTER_NEAREST)
    grid = np.concatenate([label(lr_big, "input (LR)"), *panels], axis=1)
    imageio.write_image(args.out, grid)
    print(f"wrote {args.out} ({grid.shape[1]}x{grid.shape[0]})")
    for name, value in roughness.items():
        print(f"{name:18s} mean |Laplacian| {value:6.2f}")
    return roughness


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
