"""tf.distribute: MirroredStrategy on 2 logical CPUs == one device; two real workers agree.

Both need a fresh TensorFlow (logical devices and the multi-worker strategy must be set up
before TensorFlow initializes), so they run in subprocesses.
"""

import json
import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from i2i import training

TESTS = Path(__file__).parent
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "KERAS_BACKEND": "tensorflow"}

MIRRORED_SCRIPT = textwrap.dedent(
    """
    import sys
    import numpy as np
    import tensorflow as tf

    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2
    )
    sys.path.insert(0, sys.argv[2])
    from tiny_gan import TinyGANTask, TinyOptions
    from i2i import config, training

    out = sys.argv[1]
    weights = {}
    for strategy, mode in [("default", "lsgan"), ("mirrored", "lsgan"), ("mirrored", "wgan-gp")]:
        cfg = config.Config(
            task="tiny-gan",
            run=config.RunOptions(
                out=f"{out}/{strategy}-{mode}", steps=4, batch_size=8, strategy=strategy,
                verbose=0,
            ),
            model=TinyOptions(gan_mode=mode, n_critic=2 if mode == "wgan-gp" else 1),
        )
        result = training.run(TinyGANTask(), cfg)
        replicas = result.model.distribute_strategy.num_replicas_in_sync
        assert replicas == (2 if strategy == "mirrored" else 1), replicas
        weights[f"{strategy}-{mode}"] = [np.asarray(w) for w in result.model.get_weights()]
        losses = result.history.history
        assert all(np.isfinite(v[-1]) for v in losses.values()), losses
    diff = max(
        float(np.abs(a - b).max())
        for a, b in zip(weights["default-lsgan"], weights["mirrored-lsgan"])
    )
    moved = max(
        float(np.abs(a - b).max())
        for a, b in zip(weights["default-lsgan"], weights["mirrored-wgan-gp"])
    )
    print("RESULT", diff, moved)
    """
)


def test_mirrored_on_two_devices_equals_one_device_on_the_same_global_batch(tmp_path):
    script = tmp_path / "mirrored.py"
    script.write_text(MIRRORED_SCRIPT)
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path), str(TESTS)],
        capture_output=True,
        text=True,
        env=ENV,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    line = [row for row in done.stdout.splitlines() if row.startswith("RESULT")][-1]
    diff, moved = map(float, line.split()[1:])
    assert diff <= 1e-5
    assert moved > 1e-3  # the comparison can see a different run


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.parametrize("kind", ["gan", "plain"])
def test_two_multiworker_processes_end_with_identical_weights(tmp_path, kind):
    ports = [free_port(), free_port()]
    cluster = {"worker": [f"127.0.0.1:{port}" for port in ports]}
    workers = []
    for index in range(2):
        env = dict(
            ENV,
            TF_CONFIG=json.dumps({"cluster": cluster, "task": {"type": "worker", "index": index}}),
        )
        command = [
            sys.executable,
            str(TESTS / "tiny_gan.py"),
            kind,
            "--out",
            str(tmp_path / "run"),
            "--strategy",
            "multiworker",
            "--steps",
            "4",
            "--batch-size",
            "8",
            "--dump",
            str(tmp_path / f"worker{index}.npz"),
            "--set",
            "verbose=0",
        ]
        workers.append(
            subprocess.Popen(
                command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
            )
        )
    outputs = []
    try:
        for worker in workers:
            outputs.append(worker.communicate(timeout=240))
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    for worker, (_, err) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, err[-3000:]
    first, second = (np.load(tmp_path / f"worker{i}.npz") for i in range(2))
    assert sorted(first.files) == sorted(second.files)
    for name in first.files:
        np.testing.assert_array_equal(first[name], second[name])
    run_dir = tmp_path / "run"  # shared by both workers; only the chief (worker 0) writes
    assert (run_dir / "generator.keras").exists()
    assert training.latest_checkpoint(run_dir)["step"] == 4
    assert len((run_dir / "log.csv").read_text().splitlines()) == 2
