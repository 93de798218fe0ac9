"""benchmarks/vs_reference.py: i2i's tiny step beside a stand-in for the reference.

torch and the PyTorch reference are not dependencies, so the reference side is a fake
interpreter that answers like `--reference-child` does; i2i's side is a real tiny step.
No timing is asserted: the numbers depend on the (shared) machine.
"""

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "vs_reference.py"

FAKE_TORCH = """#!{python}
import json, sys
from pathlib import Path
args = sys.argv[1:]
assert Path(args[0]).name == "vs_reference.py", args
model, size = args[args.index("--reference-child") + 1].split(":")
with open({calls!r}, "a") as calls:
    calls.write(f"{{model}}:{{size}}\\n")
print("reference option printout that is not JSON")
print(json.dumps({{"step_s": 3.0, "cpu_s": 6.0, "peak_rss_mb": 900.0, "torch": "fake"}}))
"""


def test_side_by_side_table_has_the_ratios_of_both_measurements(tmp_path):
    calls = tmp_path / "calls.txt"
    fake = tmp_path / "python"
    fake.write_text(FAKE_TORCH.format(python=sys.executable, calls=str(calls)))
    fake.chmod(0o755)
    checkout = tmp_path / "reference"
    (checkout / "models").mkdir(parents=True)
    (checkout / "models" / "cycle_gan_model.py").write_text("")
    report_file = tmp_path / "report.json"
    command = [
        sys.executable, str(SCRIPT), "--models", "pix2pix", "--sizes", "tiny",
        "--steps", "2", "--warmup", "1", "--rounds", "1", "--reference", str(checkout),
        "--torch-python", str(fake), "--json", str(report_file),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]

    assert calls.read_text().split() == ["pix2pix:tiny"]
    summary = json.loads(report_file.read_text())["results"]["pix2pix:tiny"]
    ours, theirs = summary["i2i"], summary["reference"]
    assert ours["step_s"] > 0 and ours["cpu_s"] > 0 and ours["peak_rss_mb"] > 100
    assert theirs == {"step_s": 3.0, "cpu_s": 6.0, "peak_rss_mb": 900.0, "rounds": 1}
    line = next(line for line in done.stdout.splitlines() if line.startswith("pix2pix"))
    cells = line.split()
    assert cells[6] == f"{3.0 / ours['step_s']:.2f}"  # wall: reference / i2i
    assert cells[7] == f"{6.0 / ours['cpu_s']:.2f}"  # CPU
    assert cells[10] == f"{900.0 / ours['peak_rss_mb']:.2f}"  # peak RSS


def test_refuses_a_folder_that_is_not_the_reference(tmp_path):
    command = [sys.executable, str(SCRIPT), "--reference", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert "not a checkout of pytorch-CycleGAN-and-pix2pix" in done.stderr
