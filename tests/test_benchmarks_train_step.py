"""benchmarks/train_step.py: the FLOP count is right and a tiny run prints its table.

No timing is asserted: the numbers depend on the (shared) machine.
"""

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import keras

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "train_step.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("train_step_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_forward_flops_counts_conv_transpose_and_dense_layers():
    benchmark = load_benchmark()
    inputs = keras.Input((None, None, 3))
    x = keras.layers.Conv2D(8, 3, padding="same")(inputs)  # 16x16 out
    x = keras.layers.Conv2D(4, 3, strides=2, padding="same", groups=2)(x)  # 8x8 out
    x = keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same")(x)  # from 8x8
    x = keras.layers.GlobalAveragePooling2D()(x)
    outputs = keras.layers.Dense(5)(x)
    model = keras.Model(inputs, outputs)
    expected = 2 * (16 * 16 * 9 * 3 * 8 + 8 * 8 * 9 * 4 * 4 + 8 * 8 * 16 * 4 * 2 + 2 * 5)
    assert benchmark.forward_flops(model, (16, 16, 3)) == expected


def test_tiny_run_prints_a_table_and_json(tmp_path):
    out = tmp_path / "report.json"
    command = [
        sys.executable, str(SCRIPT), "--models", "srresnet,srgan", "--sizes", "tiny",
        "--steps", "2", "--warmup", "1", "--matmul-size", "128", "--matmul-seconds", "0.1",
        "--json", str(out),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, check=True, timeout=600)
    lines = done.stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("model "))
    columns = ("step ms", "CPU ms", "img/s", "GFLOP/step", "matmul GFLOP/s", "of ceiling (CPU)")
    for column in (*columns, "peak RSS"):
        assert column in lines[header]
    rows = [line.split() for line in lines[header + 2 : header + 4]]
    assert [row[:2] for row in rows] == [["srresnet", "tiny"], ["srgan", "tiny"]]
    report = json.loads(out.read_text())
    for result in report["results"]:
        assert not result["error"], result["error"]
        assert result["gflop_per_step"] > 0 and result["median_step_ms"] > 0
        assert result["ceiling_gflops"] > 0 and result["fraction_of_ceiling_cpu"] > 0
        assert result["peak_rss_mb"] > 100


def test_step_parts_times_every_part_of_a_tiny_srgan_step(capsys):
    spec = importlib.util.spec_from_file_location(
        "step_parts_benchmark", SCRIPT.parent / "step_parts.py"
    )
    step_parts = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(step_parts)
    # --cores 0: this process's TensorFlow may already be running (its threads are fixed).
    rows = step_parts.main(["--model", "srgan", "--size", "tiny", "--steps", "1", "--cores", "0"])
    names = [row["part"] for row in rows]
    assert names[:8] == [
        "generate (forward)", "G forward + losses", "G forward + losses + gradient",
        "G optimizer", "D losses", "D losses + gradient", "D optimizer", "whole train step",
    ]  # fmt: skip
    # SRResNet's 9x9 output convolution, with Conv2D's gradient and with ThinConv2D's.
    assert [name.split(", ")[-1] for name in names[8:]] == ["Conv2D", "ThinConv2D"]
    assert all(row["cpu_s"] > 0 for row in rows)
    assert "whole train step" in capsys.readouterr().out
