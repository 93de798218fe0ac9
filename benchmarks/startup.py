"""Start-up: where the seconds go when `i2i upscale` processes one small image.

Two kinds of fresh subprocess, alternated for `--repeats` rounds:

- the whole command, `i2i upscale IMAGE OUT --quiet` with the default model, timed from
  outside (wall, and CPU of the child: user + system);
- the same work in phases, in one process timed from inside, each phase in wall and CPU
  seconds: Python + click + the i2i CLI import (and the CLI's `i2i.runtime.start`),
  TensorFlow / Keras import, model load (`zoo.load_generator`), engine set-up
  (`inference.Engine`: activation estimate, trace, probe of the smallest input), the
  first image (read, model call, write) and, as "the rest", what the whole command
  took beyond the sum of the phases (interpreter start, planning, printing, exit; below
  zero when the command's own run was quicker than the phases' medians add up to: the
  noise of a shared machine).

The table shows the median of each row and the load average of the machine before and
after: on a shared machine CPU seconds say more than wall seconds. The image is a
`--size` square (default 64 px) of a real photo (scikit-image's astronaut).

Run:

```bash
python benchmarks/startup.py                 # 5 rounds, table then one JSON line
python benchmarks/startup.py --repeats 3 --size 128 --model srresnet-x2
```

Never part of the test suite (timings are not assertions).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Runs in the child: prints one JSON line of cumulative (wall, cpu) marks per phase.
_PHASES = r"""
import json, os, sys, time
marks = [("start", time.perf_counter(), time.process_time())]
def mark(name):
    marks.append((name, time.perf_counter(), time.process_time()))
import i2i.cli
try:  # what the CLI group does before a command runs (i2i.runtime, where it exists)
    from i2i import runtime
    runtime.start()
except ImportError:
    pass
mark("python + click + i2i CLI import")
import keras, tensorflow
mark("TensorFlow / Keras import")
from i2i import imageio, inference, zoo
model, card = zoo.load_generator(sys.argv[1])
mark("model load")
engine = inference.Engine(model, card)
mark("engine set-up (estimate, trace, probe)")
image = imageio.read_image(sys.argv[2])
imageio.write_image(os.path.join(sys.argv[3], "out.png"), engine.process(image))
mark("first image (read, model, write)")
print(json.dumps(marks))
"""


def _child_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command, env) -> tuple[float, float, str]:
    """Wall and CPU seconds of a subprocess, and its stdout."""
    cpu = _child_cpu()
    started = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - started
    if done.returncode:
        sys.exit(f"{' '.join(map(str, command))} failed:\n{done.stderr}")
    return wall, _child_cpu() - cpu, done.stdout


def _image(path: Path, size: int) -> None:
    import cv2
    import skimage.data

    photo = skimage.data.astronaut()
    top = (photo.shape[0] - 4 * size) // 2
    crop = photo[top : top + 4 * size, top : top + 4 * size]
    small = cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)
    cv2.imwrite(str(path), cv2.cvtColor(small, cv2.COLOR_RGB2BGR))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--size", type=int, default=64, help="input side in pixels")
    parser.add_argument("--model", default=None, help="zoo name [default: i2i's default]")
    args = parser.parse_args(argv)

    from i2i.common import DEFAULT_SR_MODEL

    model = args.model or DEFAULT_SR_MODEL
    i2i = Path(sys.executable).with_name("i2i")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    load_before = os.getloadavg()
    rows: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="i2i-startup-") as tmp:
        image = Path(tmp) / "small.png"
        _image(image, args.size)
        for round_ in range(args.repeats):
            out = Path(tmp) / f"out{round_}"
            out.mkdir()
            # Alternate which kind runs first, so neither always meets a warmer cache.
            kinds = ("phases", "command") if round_ % 2 == 0 else ("command", "phases")
            for kind in kinds:
                if kind == "command":
                    command = [str(i2i), "upscale", str(image), str(out / "cmd"), "--quiet"]
                    command += ["--model", model]
                    wall, cpu, _ = _run(command, env)
                    rows.setdefault("whole command", []).append((wall, cpu))
                else:
                    command = [sys.executable, "-c", _PHASES, model, str(image), str(out)]
                    wall, cpu, stdout = _run(command, env)
                    marks = json.loads(stdout.strip().splitlines()[-1])
                    inside = marks[-1][1] - marks[0][1], marks[-1][2] - marks[0][2]
                    for (_, w0, c0), (name, w1, c1) in zip(marks, marks[1:], strict=False):
                        rows.setdefault(name, []).append((w1 - w0, c1 - c0))
                    rows.setdefault("_phases outside", []).append(
                        (wall - inside[0], cpu - inside[1])
                    )
    load_after = os.getloadavg()

    median = {
        name: tuple(statistics.median(v[i] for v in values) for i in (0, 1))
        for name, values in rows.items()
    }
    whole = median.pop("whole command")
    median.pop("_phases outside")
    phases_sum = tuple(sum(v[i] for v in median.values()) for i in (0, 1))
    median["the rest (interpreter start, planning, output, exit)"] = tuple(
        whole[i] - phases_sum[i] for i in (0, 1)
    )
    median["whole command"] = whole

    print(
        f"i2i upscale of one {args.size}x{args.size} image with {model}, "
        f"median of {args.repeats} rounds; load average {load_before[0]:.2f} before, "
        f"{load_after[0]:.2f} after, {os.cpu_count()} CPUs"
    )
    width = max(len(name) for name in median)
    print(f"{'phase'.ljust(width)}  {'wall s':>7}  {'CPU s':>7}")
    for name, (wall, cpu) in median.items():
        print(f"{name.ljust(width)}  {wall:7.2f}  {cpu:7.2f}")
    result = {
        "model": model,
        "size": args.size,
        "repeats": args.repeats,
        "load_average": [load_before[0], load_after[0]],
        "phases": {name: {"wall": w, "cpu": c} for name, (w, c) in median.items()},
    }
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
