"""Training-step speed and memory of the i2i models, against the machine's matmul ceiling.

For each model (srresnet, srgan, pix2pix, cyclegan — those that exist) and each size
(the paper's, and a small one), in a fresh process:

- ceiling: a large float32 square matmul measured in that process after the steps: the
  GFLOP/s of its fastest run, and its GFLOP per CPU-second;
- step: the model's compiled Keras train function (what `fit` calls) on a fixed
  in-memory batch; median wall time over `--steps` steps after warm-up, steps/s and
  images/s (training examples per second);
- FLOPs: counted analytically from the networks' Conv2D / Conv2DTranspose / Dense layers
  at the batch's shapes (2 x multiply-adds), for every network pass in one step, times
  its cost factor: 3 for a pass whose weights get gradients (forward + backward ~ 3 x
  forward), 2 for a pass differentiated only with respect to its input (the frozen VGG
  on the generated image; the discriminator inside the generator's update), 1 for a
  forward-only pass (the VGG on the HR target); the GFLOP/s this gives
  and its fraction of the ceiling, by wall time and by CPU time (process CPU seconds per
  step against the matmul's GFLOP per CPU-second: robust on a machine shared with other
  processes, which inflate wall times but hardly CPU times);
- peak RSS of the process (`VmHWM`): model, optimizer state, activations, TensorFlow.

Per-step network passes counted (the shared GANModel step), as forward-pass multiples:
    srresnet   3 G
    srgan      3 G + 8 D (2: fake for G's loss; 3 + 3: real and fake for D's) + 3 VGG19
               to conv5_4 (1: HR; 2: SR; random VGG weights, the same cost)
    pix2pix    3 G + 8 D (3 + 3: real and fake pairs for D first; 2: fake for G's loss)
    cyclegan   18 G (6 passes: 2 translations, 2 reconstructions, 2 identities) + 16 D
               (3 + 3 per discriminator for its own loss, 2 for the generators')

Sizes ("paper"): SRResNet/SRGAN x4 with 16 blocks of 64 filters on 96 px HR crops,
batch 16 (Ledig et al. 2017; the discriminator is i2i's global-pooling one); pix2pix
U-Net 256 + 70x70 PatchGAN at 256 px, batch 1 (Isola et al. 2017); CycleGAN with 9
ResNet blocks at 256 px, batch 1 (Zhu et al. 2017). "small": the same networks on
48 px HR crops, batch 4, and translation at 128 px (U-Net depth 7; CycleGAN's 6 blocks,
as the reference uses at 128). "tiny": a few filters at 16 px (smoke test only).

Run:

```bash
python benchmarks/train_step.py                       # all models, paper + small sizes
python benchmarks/train_step.py --models srgan --sizes small --steps 10 --json out.json
```

Never part of the test suite's assertions: timings on a shared machine vary.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

MODELS = ("srresnet", "srgan", "pix2pix", "cyclegan")
SIZES = ("paper", "small", "tiny")
# model -> size -> (image side, batch); SR sides are HR pixels (LR = side / 4).
SHAPES = {
    "srresnet": {"paper": (96, 16), "small": (48, 4), "tiny": (16, 2)},
    "srgan": {"paper": (96, 16), "small": (48, 4), "tiny": (16, 2)},
    "pix2pix": {"paper": (256, 1), "small": (128, 1), "tiny": (16, 1)},
    "cyclegan": {"paper": (256, 1), "small": (128, 1), "tiny": (16, 1)},
}
SR_SCALE = 4


@dataclass
class Result:
    """One (model, size) measurement."""

    model: str
    size: str
    image_side: int
    batch: int
    params_million: float = 0.0
    median_step_ms: float = 0.0
    median_step_cpu_ms: float = 0.0
    steps_per_s: float = 0.0
    images_per_s: float = 0.0
    gflop_per_step: float = 0.0
    achieved_gflops: float = 0.0
    ceiling_gflops: float = 0.0
    fraction_of_ceiling: float = 0.0
    ceiling_gflop_per_cpu_s: float = 0.0
    fraction_of_ceiling_cpu: float = 0.0
    peak_rss_mb: float = 0.0
    notes: list = field(default_factory=list)
    error: str = ""


# --------------------------------------------------------------------------- FLOPs


def fixed_shape_copy(network, input_shape):
    """`network` rebuilt from its config with a fully known input shape (same layers)."""
    import copy

    config = copy.deepcopy(network.get_config())
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = [1, *input_shape]
    return network.__class__.from_config(config)


def forward_flops(network, input_shape) -> int:
    """FLOPs (2 x multiply-adds) of the Conv2D / Conv2DTranspose / Dense layers of a
    functional `network` for ONE input of `input_shape` (H, W, C)."""
    import keras

    fixed = fixed_shape_copy(network, input_shape)
    total = 0
    for layer in fixed.layers:
        kinds = keras.layers.Conv2D | keras.layers.Conv2DTranspose | keras.layers.Dense
        if not isinstance(layer, kinds):
            continue
        inputs, outputs = layer.input.shape, layer.output.shape
        if isinstance(layer, keras.layers.Conv2DTranspose):
            # Every input pixel scatters a k x k x C_out patch.
            kh, kw = layer.kernel_size
            total += 2 * inputs[1] * inputs[2] * kh * kw * inputs[3] * layer.filters
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw = layer.kernel_size
            per_output = kh * kw * inputs[-1] // layer.groups
            total += 2 * outputs[1] * outputs[2] * per_output * layer.filters
        else:
            positions = 1
            for dim in inputs[1:-1]:
                positions *= dim
            total += 2 * positions * inputs[-1] * layer.units
    return int(total)


# --------------------------------------------------------------------------- models


def build(name: str, size: str):
    """(compiled model, one batch, [(network, input shape, forward-pass multiples per
    step)], notes): see the module docstring for the multiples."""
    import keras
    import numpy as np

    side, batch = SHAPES[name][size]
    rng = np.random.default_rng(0)
    tiny = size == "tiny"

    def images(s, channels=3, low=-1.0):
        return rng.uniform(low, 1.0, (batch, s, s, channels)).astype(np.float32)

    if name in ("srresnet", "srgan"):
        from i2i.nets.srresnet import srresnet

        lr_side = side // SR_SCALE
        generator = srresnet(
            scale=SR_SCALE, num_blocks=1 if tiny else 16, filters=8 if tiny else 64
        )
        lr, hr = images(lr_side, low=0.0), images(side, low=0.0)
        if name == "srresnet":
            generator.compile(optimizer=keras.optimizers.Adam(1e-4), loss="mae")
            return generator, (lr, hr), [(generator, (lr_side, lr_side, 3), 3)], []
        from i2i.gans.srgan import SRGAN
        from i2i.nets.sr_discriminator import sr_discriminator

        discriminator = (
            sr_discriminator(filters=4, depth=2, dense_units=8) if tiny else sr_discriminator()
        )
        content = "l1" if tiny else "vgg54"
        model = SRGAN(generator, discriminator, content=content, vgg_weights=None, seed=0)
        model.compile()
        evaluations = [(generator, (lr_side, lr_side, 3), 3), (discriminator, (side, side, 3), 8)]
        notes = ["content l1 (tiny)"] if tiny else ["VGG54 content loss (random VGG19 weights)"]
        if model.content == "vgg54":
            evaluations.append((model._perceptual.value.model, (side, side, 3), 3))
        return model, {"lr": lr, "hr": hr}, evaluations, notes

    if name == "pix2pix":
        from i2i.gans.pix2pix import build_pix2pix

        if tiny:
            model = build_pix2pix(side, filters=4, depth=2, discriminator_filters=4, n_layers=1)
        else:
            model = build_pix2pix(side)
        model.compile()
        data = {"source": images(side), "target": images(side)}
        evaluations = [
            (model.generator, (side, side, 3), 3),
            (model.discriminator, (side, side, 6), 8),
        ]
        return model, data, evaluations, []

    if name == "cyclegan":
        from i2i.gans.cyclegan import build_cyclegan

        if tiny:
            model = build_cyclegan(
                side, filters=4, num_blocks=1, discriminator_filters=4, d_layers=1
            )
        else:
            model = build_cyclegan(side, num_blocks=9 if side >= 256 else 6)
        model.compile()
        data = {"a": images(side), "b": images(side)}
        shape = (side, side, 3)
        evaluations = [
            (model.generator_a2b, shape, 9),
            (model.generator_b2a, shape, 9),
            (model.discriminator_a, shape, 8),
            (model.discriminator_b, shape, 8),
        ]
        return model, data, evaluations, []
    raise ValueError(f"unknown model {name!r}")


# --------------------------------------------------------------------------- measure


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def limit_cores(cores: int) -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(cores)
    tf.config.threading.set_inter_op_parallelism_threads(cores)


def matmul_ceiling(n: int, seconds: float = 3.0, repeats: int = 5) -> tuple[float, float]:
    """The float32 matmul ceiling of this process: `(GFLOP/s of the fastest of the runs,
    GFLOP per CPU-second over all runs)`. Runs an n x n matmul for at least `seconds` and
    `repeats` times. On a shared machine other processes only ever add wall time, so the
    fastest run is the least disturbed; CPU time hardly depends on them at all."""
    import tensorflow as tf

    a = tf.random.normal((n, n))
    b = tf.random.normal((n, n))
    matmul = tf.function(lambda x, y: tf.linalg.matmul(x, y))
    matmul(a, b).numpy()
    best, runs = float("inf"), 0
    started, cpu_started = time.perf_counter(), time.process_time()
    while runs < repeats or time.perf_counter() - started < seconds:
        begin = time.perf_counter()
        matmul(a, b).numpy()
        best = min(best, time.perf_counter() - begin)
        runs += 1
    cpu = time.process_time() - cpu_started
    flop = 2 * n**3
    return flop / best / 1e9, flop * runs / cpu / 1e9


def measure(
    name: str,
    size: str,
    steps: int,
    warmup: int,
    matmul_n: int,
    jit: bool,
    matmul_seconds: float = 3.0,
) -> Result:
    """Measure one (model, size) in this process."""
    import keras
    import tensorflow as tf

    side, batch = SHAPES[name][size]
    result = Result(name, size, side, batch)
    keras.utils.set_random_seed(0)
    model, data, evaluations, notes = build(name, size)
    result.notes = list(notes)
    model.jit_compile = jit
    result.params_million = trainable_parameters(model) / 1e6

    dataset = tf.data.Dataset.from_tensors(data).repeat()
    # One fit step builds and traces everything; then time the train function fit uses.
    model.fit(dataset, steps_per_epoch=1, epochs=1, verbose=0)
    train_function = model.make_train_function()
    iterator = iter(dataset)
    for _ in range(warmup):
        _sync(train_function(iterator))
    times, cpu_times = [], []
    for _ in range(steps):
        started, cpu_started = time.perf_counter(), time.process_time()
        _sync(train_function(iterator))
        times.append(time.perf_counter() - started)
        cpu_times.append(time.process_time() - cpu_started)
    step, cpu_step = statistics.median(times), statistics.median(cpu_times)
    # Peak RSS first: the FLOP count below builds fixed-shape copies of the networks.
    result.peak_rss_mb = peak_rss_mb()
    result.median_step_ms = step * 1e3
    result.median_step_cpu_ms = cpu_step * 1e3
    result.steps_per_s = 1.0 / step
    result.images_per_s = batch / step
    flops = sum(multiple * forward_flops(net, shape) for net, shape, multiple in evaluations)
    result.gflop_per_step = flops * batch / 1e9
    result.achieved_gflops = result.gflop_per_step / step
    result.ceiling_gflops, result.ceiling_gflop_per_cpu_s = matmul_ceiling(matmul_n, matmul_seconds)
    result.fraction_of_ceiling = result.achieved_gflops / result.ceiling_gflops
    per_cpu_s = result.gflop_per_step / cpu_step
    result.fraction_of_ceiling_cpu = per_cpu_s / result.ceiling_gflop_per_cpu_s
    return result


def trainable_parameters(model) -> int:
    """Trainable parameters of a plain model, or of a GAN's generators + discriminators."""
    variables = getattr(model, "generator_variables", None)
    if variables is not None:
        variables = variables + model.discriminator_variables
    else:
        variables = model.trainable_weights
    return sum(int(v.shape.num_elements()) for v in variables)


def _sync(outputs) -> None:
    """Wait for a step's results (logs are tensors; reading them finishes the step)."""
    import tensorflow as tf

    for value in tf.nest.flatten(outputs):
        value.numpy()


# --------------------------------------------------------------------------- report


def available(name: str) -> str | None:
    """None when the model can be built here, else why not."""
    import importlib.util

    module = {
        "srresnet": "i2i.nets.srresnet",
        "srgan": "i2i.gans.srgan",
        "pix2pix": "i2i.gans.pix2pix",
        "cyclegan": "i2i.gans.cyclegan",
    }[name]
    try:
        found = importlib.util.find_spec(module)
    except ModuleNotFoundError:
        found = None
    return None if found is not None else f"{module} does not exist yet"


COLUMNS = (
    ("model", "model", "{}"),
    ("size", "size", "{}"),
    ("px", "image_side", "{}"),
    ("batch", "batch", "{}"),
    ("params M", "params_million", "{:.2f}"),
    ("step ms", "median_step_ms", "{:.1f}"),
    ("CPU ms", "median_step_cpu_ms", "{:.1f}"),
    ("steps/s", "steps_per_s", "{:.2f}"),
    ("img/s", "images_per_s", "{:.2f}"),
    ("GFLOP/step", "gflop_per_step", "{:.2f}"),
    ("GFLOP/s", "achieved_gflops", "{:.1f}"),
    ("matmul GFLOP/s", "ceiling_gflops", "{:.1f}"),
    ("of ceiling", "fraction_of_ceiling", "{:.1%}"),
    ("of ceiling (CPU)", "fraction_of_ceiling_cpu", "{:.1%}"),
    ("peak RSS MB", "peak_rss_mb", "{:.0f}"),
)


def aligned(rows: list[list[str]]) -> list[str]:
    """Text rows as aligned lines (the first two columns left-aligned, the rest right),
    with a rule under the first row (the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = []
    for index, row in enumerate(rows):
        cells = [
            cell.ljust(width) if i < 2 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells))
        if index == 0:
            lines.append("  ".join("-" * width for width in widths))
    return lines


def table(results: list[Result]) -> str:
    """The results as an aligned text table (errors on their own lines)."""
    rows = [[title for title, _, _ in COLUMNS]]
    problems = []
    for r in results:
        if r.error:
            problems.append(f"{r.model} {r.size}: {r.error}")
            continue
        rows.append([fmt.format(getattr(r, key)) for _, key, fmt in COLUMNS])
    notes = sorted({f"{r.model}: {note}" for r in results for note in r.notes})
    return "\n".join(aligned(rows) + [f"note: {n}" for n in notes] + problems)


def child_json(command: list[str]) -> dict:
    """Run a measuring child process: its last stdout line that is a JSON object, or
    `{"error": "exit N: <its last stderr line>"}`."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if done.returncode or not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"exit {done.returncode}: {tail}"}
    return json.loads(lines[-1])


def run_child(name: str, size: str, args) -> Result:
    """Measure in a fresh Python process (peak RSS of that configuration alone)."""
    command = [
        sys.executable, __file__, "--child", f"{name}:{size}", "--steps", str(args.steps),
        "--warmup", str(args.warmup), "--matmul-size", str(args.matmul_size),
        "--cores", str(args.cores), "--matmul-seconds", str(args.matmul_seconds),
    ] + (["--jit-compile"] if args.jit_compile else [])  # fmt: skip
    found = child_json(command)
    if set(found) == {"error"}:
        side, batch = SHAPES[name][size]
        return Result(name, size, side, batch, error=f"failed: {found['error']}")
    return Result(**found)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated")
    parser.add_argument("--sizes", default="paper,small", help="comma-separated: paper,small,tiny")
    parser.add_argument("--steps", type=int, default=10, help="timed steps per configuration")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps after tracing")
    parser.add_argument("--matmul-size", type=int, default=2048, help="side of the matmul")
    parser.add_argument(
        "--matmul-seconds", type=float, default=3.0, help="minimum time of the matmul runs"
    )
    parser.add_argument("--cores", type=int, default=2, help="TensorFlow threads")
    parser.add_argument("--jit-compile", action="store_true", help="XLA-compile the steps")
    parser.add_argument(
        "--in-process",
        action="store_true",
        help="measure everything in this process (peak RSS is then cumulative)",
    )
    parser.add_argument("--json", default=None, help="also write the JSON report here")
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child:
        name, size = args.child.split(":")
        limit_cores(args.cores)
        result = measure(
            name, size, args.steps, args.warmup, args.matmul_size, args.jit_compile,
            args.matmul_seconds,
        )  # fmt: skip
        print(json.dumps(asdict(result)))
        return asdict(result)

    models = [m.strip() for m in args.models.split(",") if m.strip()]
    sizes = [s.strip() for s in args.sizes.split(",") if s.strip()]
    unknown = sorted(set(models) - set(MODELS)) + sorted(set(sizes) - set(SIZES))
    if unknown:
        parser.error(f"unknown model(s) or size(s): {', '.join(unknown)}")
    if args.in_process:
        limit_cores(args.cores)
    results = []
    for name in models:
        missing = available(name)
        for size in sizes:
            side, batch = SHAPES[name][size]
            if missing:
                results.append(Result(name, size, side, batch, error=f"skipped: {missing}"))
            elif args.in_process:
                try:
                    measure_args = (
                        args.steps, args.warmup, args.matmul_size, args.jit_compile,
                        args.matmul_seconds,
                    )  # fmt: skip
                    results.append(measure(name, size, *measure_args))
                except Exception as error:  # noqa: BLE001 - one failed config, not the run
                    results.append(Result(name, size, side, batch, error=f"failed: {error}"))
            else:
                results.append(run_child(name, size, args))
            print(f"measured {name} {size}", file=sys.stderr, flush=True)

    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {args.cores} TF threads",
        "load_average_at_start": os.getloadavg()[0],
        "jit_compile": args.jit_compile,
        "timed_steps": args.steps,
        "flops_rule": "conv/dense FLOPs of every network pass in a step x 3 (weights "
        "trained), 2 (input gradient only) or 1 (forward only)",
        "results": [asdict(r) for r in results],
    }
    print(f"machine: {report['machine']}, load average {report['load_average_at_start']:.1f}")
    print(table(results))
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        Path(args.json).write_text(text + "\n")
    return report


if __name__ == "__main__":
    main()
