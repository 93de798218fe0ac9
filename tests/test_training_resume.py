"""Exact resume: 2N steps in one go == N steps, SIGKILL, `--resume` for the rest.

Real subprocesses running the real runner through the shared run options, with op
determinism on. The tiny GAN runs WGAN-GP with 2 critic steps, so the restored state
must include both optimizers' slots and the random generator behind the gradient penalty.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

TINY_GAN = Path(__file__).parent / "tiny_gan.py"
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}
N = 4


def command(out, *extra):
    return [
        sys.executable,
        str(TINY_GAN),
        "gan",
        "--out",
        str(out),
        "--steps",
        str(2 * N),
        "--batch-size",
        "4",
        "--seed",
        "3",
        "--set",
        f"steps_per_epoch={N}",
        "--set",
        "deterministic=true",
        "--set",
        "gan_mode=wgan-gp",
        "--set",
        "n_critic=2",
        "--set",
        "verbose=0",
        *extra,
    ]


def run(args):
    done = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]


def test_sigkill_then_resume_equals_an_uninterrupted_run(tmp_path):
    run(command(tmp_path / "whole", "--dump", str(tmp_path / "whole.npz")))

    # Kill the second run after step N + 2: the checkpoint of step N is the last one,
    # the two steps after it are lost and redone on resume.
    out = tmp_path / "killed"
    marker = out / "hang.marker"
    process = subprocess.Popen(
        command(out, "--hang-at-step", str(N + 2)),
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert process.poll() is None, process.stderr.read()[-3000:]
            assert time.monotonic() < deadline, "the run never reached the kill point"
            time.sleep(0.2)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == -signal.SIGKILL
    assert not (out / "generator.keras").exists()

    run(command(out, "--resume", "--dump", str(tmp_path / "resumed.npz")))
    whole, resumed = np.load(tmp_path / "whole.npz"), np.load(tmp_path / "resumed.npz")
    assert sorted(whole.files) == sorted(resumed.files)
    worst = max(float(np.abs(whole[k] - resumed[k]).max()) for k in whole.files)
    assert worst <= 1e-6
    rows = (out / "log.csv").read_text().splitlines()
    assert [row.split(",")[0] for row in rows[1:]] == ["1", "2"]
