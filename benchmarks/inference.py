"""Inference speed and memory: the folder engine against the bare model, on 2 CPU cores.

Measures, in one run:

- the zoo side by side (`--zoo`, the default first table): every super-resolution model
  of the zoo on the same LR photos (256x256 unless `--zoo-size`), alternating models
  for `--repeats` rounds: output megapixels per second of the bare model and end to
  end (folder job, PNG), the same per CPU-second, GFLOP per output megapixel
  (analytic, convolutions), and the achieved GFLOP per CPU-second as a fraction of the
  matmul's measured the same way (a fraction near 1 means the model runs as fast as
  the CPU can multiply; the 9x9 HR output convolution of SRResNet does not). Also the
  srresnet-x4 architecture with `output_kernel=3` (random weights: speed only);
- ceiling: a large float32 matmul (GFLOP/s), the machine's compute ceiling;
- bare model: output megapixels/s of the model alone on whole images already in memory
  as float tensors (the same traced call the engine uses, no I/O, no tiling);
- end to end: output megapixels/s of `i2i.inference.run_jobs` on a folder of the same
  images (decode ahead, tile, model, blend, convert, encode PNG behind, atomic writes),
  and its overhead over the bare model (target: <= 15%);
- tiled vs untiled: one larger image whole (`tile=0`) and in tiles (auto and 128 px);
- memory: peak RSS while upscaling a 4000x3000 image x4 in a fresh process, against
  the output image's size (target: bounded by the output image plus a fixed working set,
  not by the input size times the model's activations). Split into the compute phase
  (`Engine.process`) and the write (`imageio.write_image`, which holds a BGR copy and
  the encoded bytes besides the output).

The SR model is `--model`, else the zoo's srresnet-x4, else `i2i.nets.srresnet` (x4) with
random weights (`--filters`, `--blocks`; an SRResNet-shaped stand-in if it is missing).
The memory run uses a light x4 network (3 convs of 32 channels + pixel shuffle) so that
12 input megapixels finish in about a minute on 2 cores.

Run:

```bash
python benchmarks/inference.py                  # tables, then one JSON line
python benchmarks/inference.py --zoo-only       # the zoo table alone
python benchmarks/inference.py --skip-memory --json out.json
```

Never part of the test suite (timings are not assertions).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _limit_cores(cores: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(cores)
    tf.config.threading.set_inter_op_parallelism_threads(cores)
    if hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) > cores:
        os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:cores])


def _machine(cores: int) -> str:
    return f"{platform.machine()}, {os.cpu_count()} CPUs, {cores} threads"


def _rss_mb(field: str = "VmRSS") -> float:
    """Resident (VmRSS) or peak resident (VmHWM) memory of this process, in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def srresnet_like(scale: int = 4, filters: int = 64, blocks: int = 16):
    """SRResNet's shape (Ledig et al. 2017) without batch norm: random-weight stand-in."""
    import keras

    from i2i.layers.pixel_shuffle import PixelShuffle

    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(filters, 9, padding="same")(inputs)
    x = head = keras.layers.PReLU(shared_axes=[1, 2])(x)
    for _ in range(blocks):
        y = keras.layers.Conv2D(filters, 3, padding="same")(x)
        y = keras.layers.PReLU(shared_axes=[1, 2])(y)
        y = keras.layers.Conv2D(filters, 3, padding="same")(y)
        x = keras.layers.Add()([x, y])
    x = keras.layers.Add()([head, keras.layers.Conv2D(filters, 3, padding="same")(x)])
    for _ in range({2: 1, 4: 2}[scale]):
        x = keras.layers.Conv2D(filters * 4, 3, padding="same")(x)
        x = PixelShuffle(2)(x)
        x = keras.layers.PReLU(shared_axes=[1, 2])(x)
    outputs = keras.layers.Conv2D(3, 9, padding="same", activation="sigmoid", dtype="float32")(x)
    return keras.Model(inputs, outputs, name=f"srresnet_like_f{filters}_b{blocks}")


def light_x4(filters: int = 32):
    import keras

    from i2i.layers.pixel_shuffle import PixelShuffle

    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(inputs)
    x = keras.layers.Conv2D(filters, 3, padding="same", activation="relu")(x)
    x = keras.layers.Conv2D(48, 3, padding="same")(x)
    outputs = keras.layers.Activation("sigmoid", dtype="float32")(PixelShuffle(4)(x))
    return keras.Model(inputs, outputs, name="light_x4")


SR_CARD = {"task": "super-resolution", "scale": 4, "value_range": [0.0, 1.0], "stride": 1}


def _photos(count: int, width: int, height: int):
    """`count` distinct crops of scikit-image's real photos, `height` x `width` RGB."""
    import cv2
    import numpy as np
    from skimage import data

    names = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field")
    out = []
    for i in range(count):
        photo = getattr(data, names[i % len(names)])()[:, :, :3]
        h, w = photo.shape[:2]
        side = min(h, w)
        y = (i * 37) % (h - side + 1)
        x = (i * 53) % (w - side + 1)
        crop = photo[y : y + side, x : x + side]
        out.append(np.ascontiguousarray(cv2.resize(crop, (width, height), cv2.INTER_AREA)))
    return out


def _train_step_module():
    """benchmarks/train_step.py, for its FLOP counter and matmul ceiling (one home)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import train_step

    return train_step


def ceiling_gflops() -> float:
    return _train_step_module().matmul_ceiling(2048)[0]


def zoo_models(extra=()) -> list[tuple[str, object, dict]]:
    """Every super-resolution model of the zoo, SRResNet-x4 with a 3x3 output conv, and
    the `extra` (label, zoo name / .keras file / run directory) pairs."""
    from i2i import zoo

    models = []
    for entry in zoo.list_models():
        card = entry.card
        if card.get("task") != "super-resolution":
            continue
        model, card = zoo.load_generator(entry.name)
        models.append((entry.name, model, card))
        architecture = dict(card.get("architecture") or {})
        if entry.name == "srresnet-x4" and architecture.pop("name", None) == "srresnet":
            from i2i.nets.srresnet import srresnet

            three = srresnet(**{**architecture, "output_kernel": 3}, name="srresnet_out3")
            models.append(("srresnet-x4, 3x3 output (random weights)", three, card))
    for label, source in extra:
        models.append((label, *zoo.load_generator(source)))
    return models


def zoo_table(size: int, count: int, repeats: int, extra=()) -> list[dict]:
    """The side-by-side zoo measurements (see the module doc), one row per model."""
    from i2i import imageio, inference

    flops_of = _train_step_module().forward_flops
    _, matmul_per_cpu_second = _train_step_module().matmul_ceiling(2048)
    images = _photos(count, size, size)
    rows, runs = [], []
    folder = tempfile.TemporaryDirectory()
    for index, (name, model, card) in enumerate(zoo_models(extra)):
        engine = inference.Engine(model, card, tile=0, precision="float32")
        floats = [imageio.to_float(image, engine.value_range)[None] for image in images]
        source = Path(folder.name) / f"in{index}"
        for i, image in enumerate(images):
            imageio.write_image(source / f"{i:03d}.png", image)
        jobs = inference.plan_jobs([source], Path(folder.name) / f"out{index}")
        out_mp = count * (size * engine.scale) ** 2 / 1e6
        gflop = flops_of(model, (size, size, 3)) / 1e9 * count

        def bare(engine=engine, floats=floats):
            for x in floats:
                engine._predict(x).numpy()

        def end_to_end(engine=engine, jobs=jobs):
            inference.run_jobs(engine, jobs, progress=False)

        bare()  # trace and warm up
        end_to_end()
        rows.append({"model": name, "scale": engine.scale, "out_mp": out_mp, "gflop": gflop})
        runs.append((bare, end_to_end))
    timings = [{"bare": [], "bare_cpu": [], "e2e": []} for _ in rows]
    for _ in range(repeats):  # round robin: load from other processes hits all alike
        for timing, (bare, end_to_end) in zip(timings, runs, strict=True):
            wall, cpu = time.perf_counter(), time.process_time()
            bare()
            timing["bare"].append(time.perf_counter() - wall)
            timing["bare_cpu"].append(time.process_time() - cpu)
            timing["e2e"].append(_timed(end_to_end, 1))
    folder.cleanup()
    for row, timing in zip(rows, timings, strict=True):
        bare_s, cpu_s, e2e_s = min(timing["bare"]), min(timing["bare_cpu"]), min(timing["e2e"])
        row.update(
            bare_mp_per_s=row["out_mp"] / bare_s,
            bare_mp_per_cpu_s=row["out_mp"] / cpu_s,
            end_to_end_mp_per_s=row["out_mp"] / e2e_s,
            gflop_per_out_mp=row["gflop"] / row["out_mp"],
            gflop_per_cpu_s=row["gflop"] / cpu_s,
            matmul_gflop_per_cpu_s=matmul_per_cpu_second,
            fraction_of_matmul=row["gflop"] / cpu_s / matmul_per_cpu_second,
        )
    reference = {r["scale"]: r for r in rows if r["model"] in ("srresnet-x4", "srresnet-x2")}
    for row in rows:
        base = reference.get(row["scale"])
        row["speed_vs_srresnet"] = row["bare_mp_per_s"] / base["bare_mp_per_s"] if base else None
        row["compared_with"] = base["model"] if base else None
    return rows


def zoo_text(rows: list[dict], size: int, count: int) -> str:
    head = (
        f"zoo, {count} LR photos of {size}x{size}, float32, whole images"
        f"\n{'model':<42}{'out MP/s':>9}{'MP/CPU-s':>9}{'e2e MP/s':>9}{'GFLOP/MP':>9}"
        f"{'of matmul':>10}{'vs SRResNet':>12}"
    )
    lines = [head]
    for r in rows:
        ratio = r["speed_vs_srresnet"]
        lines.append(
            f"{r['model']:<42}{r['bare_mp_per_s']:>9.3f}{r['bare_mp_per_cpu_s']:>9.3f}"
            f"{r['end_to_end_mp_per_s']:>9.3f}{r['gflop_per_out_mp']:>9.1f}"
            f"{r['fraction_of_matmul']:>10.0%}"
            + (f"{ratio:>11.2f}x" if ratio is not None else f"{'':>12}")
        )
    return "\n".join(lines)


def _timed(function, repeats: int, clock=time.perf_counter):
    """Best time of `function()` over `repeats` runs (the least disturbed one: the
    machine is shared, and other processes only ever add time)."""
    times = []
    for _ in range(repeats):
        started = clock()
        function()
        times.append(clock() - started)
    return min(times)


def speed(model, card, images, big, repeats: int) -> dict:
    import numpy as np

    from i2i import imageio, inference

    engine = inference.Engine(model, card)
    scale = engine.scale
    floats = [imageio.to_float(image, engine.value_range)[None] for image in images]
    out_mp = sum(i.shape[0] * i.shape[1] * scale * scale for i in images) / 1e6
    for x in floats[:1]:
        engine._predict(x)  # trace

    def bare():
        for x in floats:
            engine._predict(x).numpy()

    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "in"
        for i, image in enumerate(images):
            imageio.write_image(source / f"{i:03d}.png", image)
        jobs = inference.plan_jobs([source], Path(folder) / "out")

        def end_to_end():
            inference.run_jobs(engine, jobs, progress=False)

        bare()  # warm-up: oneDNN builds its kernels per shape on first use
        end_to_end()
        # Interleaved, so that load from other processes drifts both sides alike.
        pairs = [(_timed(bare, 1), _timed(end_to_end, 1)) for _ in range(repeats)]
        bare_seconds = min(p[0] for p in pairs)
        e2e_seconds = min(p[1] for p in pairs)
        # CPU time of all the process's threads: insensitive to other processes, and an
        # upper bound on the engine's extra work (decode/encode threads included).
        cpu = [
            (_timed(bare, 1, time.process_time), _timed(end_to_end, 1, time.process_time))
            for _ in range(repeats)
        ]
        bare_cpu = min(p[0] for p in cpu)
        e2e_cpu = min(p[1] for p in cpu)
        untiled_whole = all(not engine.is_tiled(*i.shape[:2]) for i in images)

    rows = {
        "bare_model_mp_per_s": out_mp / bare_seconds,
        "end_to_end_mp_per_s": out_mp / e2e_seconds,
        "end_to_end_overhead": e2e_seconds / bare_seconds - 1.0,
        "end_to_end_cpu_overhead": e2e_cpu / bare_cpu - 1.0,
        "folder_images": len(images),
        "folder_image_size": list(images[0].shape[:2]),
        "folder_images_untiled": untiled_whole,
        "auto_tile": engine.tile,
    }

    big_mp = big.shape[0] * big.shape[1] * scale * scale / 1e6
    tiled = {}
    for label, tile in (("untiled", 0), ("auto", None), ("tile128", 128)):
        e = inference.Engine(model, card, tile=tile)
        rows_, cols_ = e.plan(*big.shape[:2])
        e.process(big)  # trace and warm up this tile shape
        seconds = _timed(lambda e=e: e.process(big), repeats)
        tiled[label] = {
            "tile": e.tile,
            "tiles": len(rows_.starts) * len(cols_.starts),
            "mp_per_s": big_mp / seconds,
        }
    rows["tiling"] = tiled
    rows["tiling_image_size"] = list(big.shape[:2])
    whole = inference.Engine(model, card, tile=0).process(big).astype(np.int16)
    auto = inference.Engine(model, card, tile=128).process(big).astype(np.int16)
    rows["tiled_vs_untiled_max_uint8_difference"] = int(np.abs(whole - auto).max())
    return rows


def memory_child(path: str, cores: int) -> None:
    """In a fresh process: upscale `path` x4 with the light net and print RSS as JSON."""
    _limit_cores(cores)
    from i2i import imageio, inference

    engine = inference.Engine(light_x4(), SR_CARD)
    engine.process(imageio.read_image(path)[:64, :64])  # trace, allocate the runtime
    baseline = _rss_mb()
    image = imageio.read_image(path)
    started = time.perf_counter()
    output = engine.process(image)
    compute_seconds = time.perf_counter() - started
    after_compute_peak = _rss_mb("VmHWM")
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        imageio.write_image(Path(folder) / "big.png", output)
        write_seconds = time.perf_counter() - started
    result = {
        "input": list(image.shape),
        "output": list(output.shape),
        "tile": engine.tile,
        "output_mb": output.nbytes / 2**20,
        "input_mb": image.nbytes / 2**20,
        "baseline_rss_mb": baseline,
        "peak_rss_compute_mb": after_compute_peak,
        "peak_rss_with_write_mb": _rss_mb("VmHWM"),
        "compute_seconds": compute_seconds,
        "write_seconds": write_seconds,
        "working_set_mb": after_compute_peak - baseline - output.nbytes / 2**20,
    }
    print(json.dumps(result))


def memory(cores: int, width: int = 4000, height: int = 3000) -> dict:
    import cv2
    import numpy as np

    from i2i import imageio

    photo = _photos(1, 1000, 750)[0]
    big = cv2.resize(photo, (width, height), interpolation=cv2.INTER_CUBIC)
    big = np.clip(
        big.astype(np.int16) + np.random.default_rng(0).integers(-3, 4, big.shape), 0, 255
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "big.png"
        imageio.write_image(path, big.astype(np.uint8))
        result = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(path), "--cores", str(cores)],
            capture_output=True,
            text=True,
        )
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=None, help="zoo name, .keras file or run directory")
    parser.add_argument("--filters", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=16)
    parser.add_argument("--images", type=int, default=6, help="images in the folder")
    parser.add_argument("--size", type=int, default=96, help="folder image side (input px)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--cores", type=int, default=2, help="CPU threads for TensorFlow")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--zoo-only", action="store_true", help="only the zoo table")
    parser.add_argument("--skip-zoo", action="store_true", help="no zoo table")
    parser.add_argument("--zoo-size", type=int, default=256, help="zoo table: LR side")
    parser.add_argument("--zoo-images", type=int, default=2, help="zoo table: images")
    parser.add_argument(
        "--with",
        dest="extra",
        action="append",
        default=[],
        metavar="LABEL=MODEL",
        help="zoo table: also this model (a .keras file or run directory), repeatable",
    )
    parser.add_argument("--json", default=None, help="also write the JSON here")
    parser.add_argument("--memory-child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child:
        memory_child(args.memory_child, args.cores)
        return

    _limit_cores(args.cores)
    from i2i import zoo
    from i2i.common import DEFAULT_SR_MODEL

    zoo_rows = None
    if not args.skip_zoo:
        extra = [tuple(item.split("=", 1)) for item in args.extra]
        zoo_rows = zoo_table(args.zoo_size, args.zoo_images, args.repeats, extra)
        print(f"machine: {platform.machine()}, load average {os.getloadavg()[0]:.1f}")
        print(zoo_text(zoo_rows, args.zoo_size, args.zoo_images), flush=True)
        if args.zoo_only:
            # The setting travels with the rows: release_zoo.py --speed quotes it in cards.
            setup = {
                "machine": _machine(args.cores),
                "load_average_at_end": round(os.getloadavg()[0], 2),
                "images": f"{args.zoo_images} LR photos of {args.zoo_size}x{args.zoo_size}",
                "repeats": args.repeats,
                "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
            }
            report = {"zoo": zoo_rows, "setup": setup}
            print(json.dumps(report))
            if args.json:
                Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
            return

    label = None
    if args.model:
        model, card = zoo.load_generator(args.model)
        label = args.model
    else:
        try:
            model, card = zoo.load_generator(DEFAULT_SR_MODEL)
            label = DEFAULT_SR_MODEL
        except zoo.ZooError:
            from i2i import registry

            if "srresnet" in registry.NETS:
                srresnet = registry.resolve(registry.NETS, "srresnet")
                model = srresnet(scale=4, num_blocks=args.blocks, filters=args.filters)
            else:
                model = srresnet_like(4, args.filters, args.blocks)
            card = SR_CARD
            label = f"{model.name} (random weights, {model.count_params():,} params)"

    images = _photos(args.images, args.size, args.size)
    big = _photos(1, args.size * 4, args.size * 3)[0]
    report = {
        "machine": _machine(args.cores),
        "load_average_at_start": os.getloadavg()[0],
        "model": label,
        "ceiling_gflops": ceiling_gflops(),
        **speed(model, card, images, big, args.repeats),
        "zoo": zoo_rows,
    }
    if not args.skip_memory:
        # Two sizes: the working set should not grow with the image.
        report["memory_2000x1500_x4"] = memory(args.cores, 2000, 1500)
        report["memory_4000x3000_x4"] = memory(args.cores)

    print(f"model: {report['model']}")
    print(f"machine: {report['machine']}, load average {report['load_average_at_start']:.1f}")
    print(f"{'measurement':<44}{'value':>14}")
    print(f"{'matmul ceiling (GFLOP/s)':<44}{report['ceiling_gflops']:>14.1f}")
    size = "x".join(map(str, report["folder_image_size"]))
    print(
        f"{f'bare model, {args.images} x {size} (out MP/s)':<44}"
        f"{report['bare_model_mp_per_s']:>14.3f}"
    )
    print(f"{'end to end folder, PNG (out MP/s)':<44}{report['end_to_end_mp_per_s']:>14.3f}")
    print(
        f"{'end-to-end overhead, wall (target <= 15%)':<44}{report['end_to_end_overhead']:>14.1%}"
    )
    cpu_overhead = report["end_to_end_cpu_overhead"]
    print(f"{'end-to-end overhead, CPU time of all threads':<44}{cpu_overhead:>14.1%}")
    big_size = "x".join(map(str, report["tiling_image_size"]))
    for name, row in report["tiling"].items():
        text = f"{big_size} {name} (tile {row['tile']}, {row['tiles']} tiles) MP/s"
        print(f"{text:<44}{row['mp_per_s']:>14.3f}")
    diff = report["tiled_vs_untiled_max_uint8_difference"]
    print(f"{'tile 128 vs untiled, max |uint8 diff|':<44}{diff:>14d}")
    for key in ("memory_2000x1500_x4", "memory_4000x3000_x4"):
        if key not in report:
            continue
        m = report[key]
        label = f"{key.split('_')[1]} x4 light net, tile {m['tile']}: compute (s)"
        print(f"{label:<44}{m['compute_seconds']:>14.1f}")
        print(f"{'  output image (MB)':<44}{m['output_mb']:>14.0f}")
        print(f"{'  RSS before the image (MB)':<44}{m['baseline_rss_mb']:>14.0f}")
        print(f"{'  peak RSS, compute (MB)':<44}{m['peak_rss_compute_mb']:>14.0f}")
        print(f"{'  working set = peak - before - output (MB)':<44}{m['working_set_mb']:>14.0f}")
        print(f"{'  peak RSS incl. PNG write (MB)':<44}{m['peak_rss_with_write_mb']:>14.0f}")
        print(f"{'  PNG write (s)':<44}{m['write_seconds']:>14.1f}")
    print(json.dumps(report))
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
