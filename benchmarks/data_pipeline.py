"""Input pipeline throughput: images/s each i2i data pipeline delivers, on 2 CPU cores.

Builds its own temporary datasets from real photos (scikit-image's bundled ones), in the
shapes the recipes train on:

- paired 256x256: 64 combined A|B JPEGs of 512x256 (the pix2pix facades format), the
  pix2pix jitter (resize 286, random crop 256, flip), batch 1 (pix2pix) and 16;
- unpaired 256x256: 64 + 48 JPEGs of 300-640 px (CycleGAN-like photos), jitter, batch 16;
- super-resolution 96x96 HR patches at x4, batch 16, from 12 PNG photos of 300-640 px,
  LR made on the fly (MATLAB bicubic, and the realistic degradation) by `i2i.data.sr`;
  and 128x128 at x4, batch 16, the compact-x4 / compact-real-x4 recipes' patches, beside
  what the training step of those recipes (the compact network, L1, Adam) consumes in
  patches/s, measured in the same run: a pipeline must deliver several times that, or
  the training waits for its data;
- a decode-only row (the combined JPEGs decoded, nothing else) as the I/O ceiling.

Each row iterates the pipeline for a few seconds after a warm-up and reports images/s
(pairs/s for paired and unpaired: one "image" is one training example) and ms/batch.
TensorFlow is limited to `--cores` threads (default 2, the target machine), and so is
the process's CPU affinity when the machine has more.

Run:

```bash
python benchmarks/data_pipeline.py            # table, then one JSON line
python benchmarks/data_pipeline.py --seconds 10 --json out.json
```

Never part of the test suite (timings are not assertions).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time
from itertools import product
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _photos():
    import numpy as np
    from skimage import data

    names = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "camera")
    out = []
    for name in names:
        image = getattr(data, name)()
        if image.ndim == 2:
            image = np.repeat(image[:, :, None], 3, axis=2)
        out.append(np.ascontiguousarray(image[:, :, :3]))
    return out


def _views(photos, count, size_for):
    """`count` distinct crops of the photos, resized by `size_for(i) -> (w, h)`."""
    import cv2

    out = []
    for i in range(count):
        photo = photos[i % len(photos)]
        h, w = photo.shape[:2]
        k = i // len(photos)
        top, left = (k * 29) % (h // 4), (k * 41) % (w // 4)
        crop = photo[top : top + 3 * h // 4, left : left + 3 * w // 4]
        if i % 2:
            crop = crop[:, ::-1]
        out.append(cv2.resize(crop, size_for(i), interpolation=cv2.INTER_AREA))
    return out


def make_datasets(root: Path) -> dict[str, Path]:
    """Write the benchmark datasets under `root`; returns their folders."""
    import numpy as np

    from i2i import imageio

    photos = _photos()
    paired = root / "paired" / "train"
    for i, a in enumerate(_views(photos, 64, lambda i: (256, 256))):
        b = np.ascontiguousarray(255 - a)  # a B side the same size as A
        imageio.write_image(paired / f"{i:03d}.jpg", np.concatenate([a, b], axis=1))
    unpaired = root / "unpaired"
    for domain, count in (("A", 64), ("B", 48)):
        sizes = lambda i: (300 + (i * 37) % 340, 300 + (i * 53) % 180)  # noqa: E731
        for i, image in enumerate(_views(photos, count, sizes)):
            imageio.write_image(unpaired / f"train{domain}" / f"{domain}{i:03d}.jpg", image)
    hr = root / "sr" / "hr"
    for i, photo in enumerate(photos * 2):
        imageio.write_image(hr / f"{i:03d}.png", photo if i < len(photos) else photo[::-1])
    return {"paired": root / "paired", "unpaired": unpaired, "sr": hr}


def _limit_cores(cores: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(cores)
    tf.config.threading.set_inter_op_parallelism_threads(cores)
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > cores:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cores])


def _with_cores(dataset, cores: int):
    import tensorflow as tf

    options = tf.data.Options()
    options.threading.private_threadpool_size = cores
    return dataset.with_options(options)


def measure(dataset, batch_size: int, seconds: float, warmup: int = 3) -> dict:
    """Iterate `dataset` (endless) for `seconds` after `warmup` batches."""
    iterator = iter(dataset)
    for _ in range(warmup):
        next(iterator)
    batches, start = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - start) < seconds:
        next(iterator)
        batches += 1
    elapsed = time.perf_counter() - start
    return {
        "images_per_s": batches * batch_size / elapsed,
        "ms_per_batch": 1000.0 * elapsed / batches,
        "batches": batches,
    }


def pipelines(folders: dict[str, Path], cores: int):
    """(name, shape, batch size, dataset factory) for every row."""
    import tensorflow as tf

    from i2i.data.decode import decode_map
    from i2i.data.paired import paired_dataset
    from i2i.data.unpaired import unpaired_dataset

    def decode_only():
        files = sorted(str(p) for p in (folders["paired"] / "train").iterdir())
        ds = tf.data.Dataset.from_tensor_slices(files).repeat()
        ds = ds.map(decode_map((-1.0, 1.0)), num_parallel_calls=tf.data.AUTOTUNE)
        return ds.batch(16).prefetch(tf.data.AUTOTUNE)

    rows = [
        ("decode only (512x256 JPEG)", "512x256", 16, decode_only),
        (
            "paired, pix2pix jitter",
            "256x256",
            1,
            lambda: paired_dataset(
                folders["paired"], batch_size=1, image_size=256, seed=0, repeat=True
            ),
        ),
        (
            "paired, pix2pix jitter",
            "256x256",
            16,
            lambda: paired_dataset(
                folders["paired"], batch_size=16, image_size=256, seed=0, repeat=True
            ),
        ),
        (
            "unpaired, CycleGAN jitter",
            "256x256",
            16,
            lambda: unpaired_dataset(
                folders["unpaired"], batch_size=16, image_size=256, seed=0, repeat=True
            ),
        ),
    ]
    try:
        from i2i.data import sr
    except ImportError:
        sr = None
    if sr is not None and hasattr(sr, "sr_dataset"):
        for degradation, patch in product(("bicubic", "realistic"), (96, 128)):
            rows.append(
                (
                    f"sr x4, {degradation} LR",
                    f"{patch}x{patch} HR",
                    16,
                    lambda d=degradation, p=patch: sr.sr_dataset(
                        folders["sr"], scale=4, patch_size=p, batch_size=16, degradation=d, seed=0
                    ),
                )
            )
    return [
        (name, shape, batch, lambda f=factory: _with_cores(f(), cores))
        for name, shape, batch, factory in rows
    ]


def training_consumption(seconds: float, patch: int = 128, batch: int = 16) -> dict:
    """Patches/s the compact-x4 recipes' training step takes (compact net, L1, Adam)."""
    import keras
    import numpy as np

    from i2i.nets.compact import compact

    model = compact(scale=4)
    model.compile(optimizer=keras.optimizers.Adam(3e-4), loss="mean_absolute_error")
    rng = np.random.default_rng(0)
    lr = rng.random((batch, patch // 4, patch // 4, 3), np.float32)
    hr = rng.random((batch, patch, patch, 3), np.float32)
    model.train_on_batch(lr, hr)  # trace
    steps, started, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - started < seconds or steps < 3:
        model.train_on_batch(lr, hr)
        steps += 1
    wall = time.perf_counter() - started
    return {
        "pipeline": "training step (compact x4)",
        "shape": f"{patch}x{patch} HR",
        "batch": batch,
        "images_per_s": steps * batch / wall,
        "ms_per_batch": 1000 * wall / steps,
        "cpu_ms_per_batch": 1000 * (time.process_time() - cpu) / steps,
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="timed seconds per row")
    parser.add_argument("--cores", type=int, default=2, help="CPU threads for TensorFlow")
    parser.add_argument("--json", type=Path, help="also write the results to this file")
    args = parser.parse_args(argv)
    _limit_cores(args.cores)

    results = []
    with tempfile.TemporaryDirectory(prefix="i2i-bench-data-") as tmp:
        folders = make_datasets(Path(tmp))
        for name, shape, batch_size, factory in pipelines(folders, args.cores):
            row = {"pipeline": name, "shape": shape, "batch": batch_size}
            try:
                row.update(measure(factory(), batch_size, args.seconds))
            except Exception as error:  # a broken pipeline is a row, not a lost table
                # TensorFlow wraps the cause: keep its last "...Error: ..." line.
                lines = [x.strip() for x in str(error).splitlines() if "Error:" in x]
                row["error"] = (lines[-1] if lines else type(error).__name__)[:200]
            results.append(row)
            print(f"  measured {name} (batch {batch_size})", flush=True)
    step = training_consumption(args.seconds)
    results.append(step)

    print()
    print(f"{'pipeline':32} {'shape':>10} {'batch':>5} {'images/s':>9} {'ms/batch':>9}")
    for row in results:
        if "error" in row:
            print(
                f"{row['pipeline']:32} {row['shape']:>10} {row['batch']:>5}  failed: {row['error']}"
            )
            continue
        ratio = ""
        if row["pipeline"].startswith("sr x4") and row["shape"] == step["shape"]:
            row["vs_training_step"] = row["images_per_s"] / step["images_per_s"]
            ratio = f"   {row['vs_training_step']:.1f}x what the training step takes"
        print(
            f"{row['pipeline']:32} {row['shape']:>10} {row['batch']:>5} "
            f"{row['images_per_s']:9.1f} {row['ms_per_batch']:9.1f}{ratio}"
        )
    report = {
        "benchmark": "data_pipeline",
        "cores": args.cores,
        "cpu": platform.processor() or platform.machine(),
        "seconds_per_row": args.seconds,
        "results": results,
    }
    print(json.dumps(report))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
