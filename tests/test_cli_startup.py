"""The command line's start: TensorFlow quiet and lazy, the device said once."""

import os
import subprocess
import sys

import numpy as np

from i2i import imageio, runtime

NOISE = ("absl::InitializeLog", "cudart_stub", "cuInit", "cuda_platform", "cpu_feature_guard")


def _i2i(*args, env=None):
    code = "import sys; from i2i.cli import main; sys.argv[0] = 'i2i'; main()"
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env
    )


def test_a_command_that_loads_a_model_shows_no_tensorflow_start_up_lines(tmp_path):
    imageio.write_image(tmp_path / "tiny.png", np.full((12, 10, 3), 90, np.uint8))
    env = {k: v for k, v in os.environ.items() if k != runtime.LOG_LEVEL_VARIABLE}
    result = _i2i("upscale", str(tmp_path / "tiny.png"), str(tmp_path / "out"), "-q", env=env)
    assert result.returncode == 0, result.stderr
    assert not [line for line in result.stderr.splitlines() if any(n in line for n in NOISE)]
    assert result.stderr.count("device: CPU (no GPU found)") == 1
    assert imageio.read_image(tmp_path / "out" / "tiny.png").shape == (48, 40, 3)


def test_start_sets_the_log_level_unless_the_user_did_or_asked_for_verbose(monkeypatch):
    monkeypatch.delenv(runtime.LOG_LEVEL_VARIABLE, raising=False)
    runtime.start(verbose=True)
    assert runtime.LOG_LEVEL_VARIABLE not in os.environ
    runtime.start()
    assert os.environ[runtime.LOG_LEVEL_VARIABLE] == "2"
    monkeypatch.setenv(runtime.LOG_LEVEL_VARIABLE, "0")
    runtime.start()
    assert os.environ[runtime.LOG_LEVEL_VARIABLE] == "0"


def test_the_quiet_capture_drops_only_the_start_up_noise(capfd):
    with runtime._filtered_stderr(True):
        os.write(2, b"W0000 00:00 cudart_stub.cc:31] Could not find cuda drivers\n")
        os.write(2, b"a real problem\n")
    assert capfd.readouterr().err == "a real problem\n"


def test_device_is_described_in_i2i_words():
    assert runtime.describe_device([]) == "CPU (no GPU found)"
