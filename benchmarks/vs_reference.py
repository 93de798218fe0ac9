"""One training step of i2i beside the PyTorch reference, pytorch-CycleGAN-and-pix2pix.

The same workload in both, in fresh processes, alternating (i2i first in odd rounds, the
reference first in even ones) so that a change in the machine's load hits both alike:

- i2i: `benchmarks/train_step.py`'s measurement (the compiled Keras train function on a
  fixed in-memory batch, median over `--steps` after `--warmup`);
- the reference (junyanz/pytorch-CycleGAN-and-pix2pix, commit 2a7afba): its own model
  classes built from its own option parser (`--model cycle_gan` / `--model pix2pix`
  with their defaults: ResNet-9 + 70x70 PatchGAN, LSGAN, image pools of 50; U-Net 256 +
  PatchGAN, batch norm, vanilla GAN, L1 x 100), `set_input` + `optimize_parameters`
  on a fixed batch: what its `train.py` runs per iteration, without data loading,
  visualizer or checkpoints.

Both at batch 1 and the papers' sizes (256 px; "small": 128 px with the reference's
`resnet_6blocks` / `unet_128`, as i2i's small sizes), `--cores` threads each (TensorFlow
intra- and inter-op; `torch.set_num_threads`). Printed per model: median wall and
CPU seconds per step of each (CPU = process CPU time, all threads: it hardly depends on
other processes, wall time does), the ratios reference / i2i (> 1: i2i is faster) and
each process's peak RSS (`VmHWM`).

Neither torch nor the reference is a dependency of i2i. To get them (Python 3.11, this
machine's pip takes torch from its local disk; elsewhere any torch >= 2.4 with
torchvision works):

```bash
python3 -m venv ~/torchenv
~/torchenv/bin/pip install torch==2.14.1 torchvision==0.29.1 wandb dominate
git clone https://github.com/junyanz/pytorch-CycleGAN-and-pix2pix ~/reference
git -C ~/reference checkout 2a7afba
python benchmarks/vs_reference.py --reference ~/reference --torch-python ~/torchenv/bin/python
```

(`wandb` and `dominate` only because the reference imports them unconditionally.)
Without `--reference` only i2i is measured. Timings are never test assertions.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

# benchmarks/train_step.py: i2i's measurement, the child-process and table helpers
# (stdlib at import: the torch interpreter of the reference child imports it too).
import train_step  # noqa: E402

MODELS = ("cyclegan", "pix2pix")
# The reference's --model name and generator per (model, size); i2i's sizes are those
# of benchmarks/train_step.py (SHAPES there: 256 / 128 px, batch 1).
REFERENCE = {
    "cyclegan": ("cycle_gan", {"paper": "resnet_9blocks", "small": "resnet_6blocks"}),
    "pix2pix": ("pix2pix", {"paper": "unet_256", "small": "unet_128"}),
}
# "tiny" (16 px, a few filters) exists for i2i only: a smoke test of this script.
SIDES = {"paper": 256, "small": 128, "tiny": 16}


def reference_child(model: str, size: str, steps: int, warmup: int, cores: int, reference: str):
    """Measure the reference's step in this process (run by the torch interpreter)."""
    import torch

    torch.set_num_threads(cores)
    torch.set_num_interop_threads(cores)
    torch.manual_seed(0)
    sys.path.insert(0, reference)
    from models import create_model  # noqa: I001 - the reference's own packages
    from options.train_options import TrainOptions

    name, generators = REFERENCE[model]
    if size not in generators:
        raise SystemExit(f"the reference has no {size!r} size (only {', '.join(generators)})")
    side = SIDES[size]
    with tempfile.TemporaryDirectory() as scratch:
        sys.argv = [
            "train.py", "--dataroot", scratch, "--checkpoints_dir", scratch, "--name", "bench",
            "--model", name, "--netG", generators[size], "--crop_size", str(side),
            "--load_size", str(side),
        ]  # fmt: skip
        # Its option and network printouts would bury the one JSON line on stdout.
        with contextlib.redirect_stdout(sys.stderr):
            opt = TrainOptions().parse()
            opt.device = torch.device("cpu")
            network = create_model(opt)
            network.setup(opt)
        batch = {
            "A": torch.rand(1, 3, side, side) * 2 - 1,
            "B": torch.rand(1, 3, side, side) * 2 - 1,
            "A_paths": ["a.png"],
            "B_paths": ["b.png"],
        }
        for _ in range(warmup):
            network.set_input(batch)
            network.optimize_parameters()
        times, cpu_times = [], []
        for _ in range(steps):
            started, cpu_started = time.perf_counter(), time.process_time()
            network.set_input(batch)
            network.optimize_parameters()
            times.append(time.perf_counter() - started)
            cpu_times.append(time.process_time() - cpu_started)
    return {
        "step_s": statistics.median(times),
        "cpu_s": statistics.median(cpu_times),
        "peak_rss_mb": train_step.peak_rss_mb(),
        "torch": torch.__version__,
    }


def measure_i2i(model: str, size: str, args) -> dict:
    # A small, short matmul: the ceiling train_step.py measures is not reported here.
    child_args = argparse.Namespace(
        steps=args.steps, warmup=args.warmup, cores=args.cores, matmul_size=512,
        matmul_seconds=0, jit_compile=args.jit_compile,
    )  # fmt: skip
    result = train_step.run_child(model, size, child_args)
    if result.error:
        return {"error": result.error}
    return {
        "step_s": result.median_step_ms / 1e3,
        "cpu_s": result.median_step_cpu_ms / 1e3,
        "peak_rss_mb": result.peak_rss_mb,
        "gflop_per_step": result.gflop_per_step,
    }


def measure_reference(model: str, size: str, args) -> dict:
    command = [
        str(args.torch_python), str(Path(__file__).resolve()), "--reference-child",
        f"{model}:{size}", "--reference", str(args.reference), "--steps", str(args.steps),
        "--warmup", str(args.warmup), "--cores", str(args.cores),
    ]  # fmt: skip
    return train_step.child_json(command)


def summarize(runs: list[dict]) -> dict:
    """Median over rounds of each field (errors: the first one)."""
    errors = [r["error"] for r in runs if "error" in r]
    if errors:
        return {"error": errors[0]}
    keys = [k for k, v in runs[0].items() if isinstance(v, int | float)]
    summary = {k: statistics.median(r[k] for r in runs) for k in keys}
    summary["rounds"] = len(runs)
    return summary


def row(model: str, size: str, ours: dict, theirs: dict | None) -> list[str]:
    def cell(summary, key, fmt):
        if summary is None or "error" in summary:
            return "-"
        return fmt.format(summary[key])

    ratios = ["-"] * 3
    if theirs and "error" not in theirs and "error" not in ours:
        ratios = [
            f"{theirs['step_s'] / ours['step_s']:.2f}",
            f"{theirs['cpu_s'] / ours['cpu_s']:.2f}",
            f"{theirs['peak_rss_mb'] / ours['peak_rss_mb']:.2f}",
        ]
    return [
        model, size,
        cell(ours, "step_s", "{:.2f}"), cell(ours, "cpu_s", "{:.2f}"),
        cell(theirs, "step_s", "{:.2f}"), cell(theirs, "cpu_s", "{:.2f}"),
        ratios[0], ratios[1],
        cell(ours, "peak_rss_mb", "{:.0f}"), cell(theirs, "peak_rss_mb", "{:.0f}"), ratios[2],
    ]  # fmt: skip


HEADER = [
    "model", "size", "i2i s/step", "i2i CPU s", "ref s/step", "ref CPU s",
    "ref/i2i wall", "ref/i2i CPU", "i2i RSS MB", "ref RSS MB", "ref/i2i RSS",
]  # fmt: skip


def table(rows: list[list[str]]) -> str:
    return "\n".join(train_step.aligned([HEADER, *rows]))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS), help="comma-separated")
    parser.add_argument("--sizes", default="paper", help="comma-separated: paper,small")
    parser.add_argument("--steps", type=int, default=3, help="timed steps per process")
    parser.add_argument("--warmup", type=int, default=1, help="untimed steps first")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds")
    parser.add_argument("--cores", type=int, default=2, help="threads of each framework")
    parser.add_argument("--jit-compile", action="store_true", help="XLA-compile i2i's step")
    parser.add_argument("--reference", type=Path, help="checkout of the reference @ 2a7afba")
    parser.add_argument(
        "--torch-python", type=Path, default=Path(sys.executable),
        help="a Python with torch, torchvision, wandb and dominate",
    )  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument("--reference-child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.reference_child:
        model, size = args.reference_child.split(":")
        result = reference_child(
            model, size, args.steps, args.warmup, args.cores, str(args.reference)
        )
        print(json.dumps(result))
        return result

    models = [m for m in args.models.split(",") if m]
    sizes = [s for s in args.sizes.split(",") if s]
    unknown = sorted(set(models) - set(MODELS)) + sorted(set(sizes) - set(SIDES))
    if unknown:
        parser.error(f"unknown model(s) or size(s): {', '.join(unknown)}")
    if args.reference and not (args.reference / "models" / "cycle_gan_model.py").exists():
        parser.error(f"{args.reference}: not a checkout of pytorch-CycleGAN-and-pix2pix")

    results, rows = {}, []
    for model in models:
        for size in sizes:
            ours, theirs = [], []
            for round_index in range(args.rounds):
                order = ["i2i", "reference"] if round_index % 2 == 0 else ["reference", "i2i"]
                for who in order:
                    if who == "i2i":
                        ours.append(measure_i2i(model, size, args))
                    elif args.reference:
                        theirs.append(measure_reference(model, size, args))
                print(f"{model} {size}: round {round_index + 1}/{args.rounds}", file=sys.stderr)
            summary = {"i2i": summarize(ours), "reference": summarize(theirs) if theirs else None}
            results[f"{model}:{size}"] = summary
            rows.append(row(model, size, summary["i2i"], summary["reference"]))

    report = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {args.cores} threads each",
        "load_average_at_start": os.getloadavg()[0],
        "steps": args.steps,
        "rounds": args.rounds,
        "jit_compile": args.jit_compile,
        "reference": str(args.reference) if args.reference else None,
        "results": results,
    }
    print(f"machine: {report['machine']}, load average {report['load_average_at_start']:.1f}")
    print(table(rows))
    for key, summary in results.items():
        for who, value in summary.items():
            if value and "error" in value:
                print(f"{key} {who}: {value['error']}")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return report


if __name__ == "__main__":
    main()
