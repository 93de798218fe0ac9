"""Run config: type-checked `--set` overrides, validation, config.json round trip."""

from dataclasses import dataclass
from typing import Literal

import pytest

from i2i import config


@dataclass(frozen=True)
class Options:
    lr: float = 1e-4
    blocks: int = 16
    mode: Literal["lsgan", "vanilla"] = "lsgan"
    crop: tuple[int, int] = (32, 32)
    layers: tuple[str, ...] = ("conv1", "conv2")
    weights: str | None = None
    flip: bool = True
    seed: int = 7  # also a run field: ambiguous as a bare key


def base():
    return config.Config(task="t", run=config.RunOptions(out="runs/x"), model=Options())


def test_overrides_are_parsed_by_type():
    cfg = config.apply_overrides(
        base(),
        [
            "lr=2e-4",
            "blocks=8",
            "mode=vanilla",
            "crop=24,48",
            "layers=a, b, c",
            "weights=/tmp/w.h5",
            "flip=no",
            "run.seed=3",
            "model.seed=5",
            "precision=mixed_bfloat16",
            "steps_per_epoch=50",
            "jit_compile=true",
        ],
    )
    assert cfg.model == Options(
        2e-4, 8, "vanilla", (24, 48), ("a", "b", "c"), "/tmp/w.h5", False, 5
    )
    assert cfg.run.seed == 3 and cfg.run.precision == "mixed_bfloat16"
    assert cfg.run.steps_per_epoch == 50 and cfg.run.jit_compile is True
    assert (
        config.apply_overrides(cfg, ["weights=none", "steps_per_epoch=null"]).model.weights is None
    )


@pytest.mark.parametrize(
    "assignment, message",
    [
        ("nope=1", "unknown key"),
        ("model.nope=1", "unknown key"),
        ("other.lr=1", "unknown section"),
        ("seed=1", "ambiguous"),
        ("lr", "expected key=value"),
        ("lr=fast", "expected a number"),
        ("lr=nan", "finite"),
        ("blocks=2.5", "expected an integer"),
        ("flip=maybe", "true or false"),
        ("mode=wgan", "not one of"),
        ("crop=1,2,3", "expected 2"),
        ("precision=float64", "not one of"),
        ("strategy=tpu", "not one of"),
        ("batch_size=0", "at least 1"),
        ("__import__('os').system('true')=1", "unknown"),
    ],
)
def test_bad_overrides_are_one_line_errors(assignment, message):
    with pytest.raises(config.ConfigError, match=message) as error:
        config.apply_overrides(base(), [assignment])
    assert "\n" not in str(error.value)


def test_values_are_never_evaluated():
    cfg = config.apply_overrides(base(), ["weights=__import__('os').getcwd()"])
    assert cfg.model.weights == "__import__('os').getcwd()"
    with pytest.raises(config.ConfigError):
        config.apply_overrides(base(), ["blocks=__import__('os').getpid()"])


def test_steps_must_be_a_multiple_of_steps_per_epoch():
    with pytest.raises(config.ConfigError, match="not a multiple"):
        config.RunOptions(steps=250, steps_per_epoch=100)
    run = config.RunOptions(steps=300, steps_per_epoch=100)
    assert (run.total_epochs, run.epoch_steps) == (3, 100)
    assert (config.RunOptions(steps=40).total_epochs, config.RunOptions(steps=40).epoch_steps) == (
        1,
        40,
    )
    assert config.RunOptions(epochs=5).total_epochs == 5


def test_json_round_trip(tmp_path):
    cfg = config.apply_overrides(base(), ["crop=8,8", "weights=w.h5", "run.steps=10"])
    path = config.write(cfg, tmp_path / "run" / "config.json")
    assert config.read(path, Options) == cfg
    assert config.read(path, Options).model.crop == (8, 8)  # lists come back as tuples


def test_read_rejects_unknown_keys_and_bad_types(tmp_path):
    path = tmp_path / "config.json"
    path.write_text('{"task": "t", "run": {"epochs": "ten"}, "model": {}}')
    with pytest.raises(config.ConfigError, match="run.epochs"):
        config.read(path, Options)
    path.write_text('{"task": "t", "run": {}, "model": {"lr": 1, "extra": 2}}')
    with pytest.raises(config.ConfigError, match="model.extra"):
        config.read(path, Options)
    path.write_text("{not json")
    with pytest.raises(config.ConfigError, match="not valid JSON"):
        config.read(path, Options)
    with pytest.raises(config.ConfigError, match="no such config"):
        config.read(tmp_path / "missing.json", Options)
    path.write_text('{"task": "t", "run": {}, "model": {"lr": 1}}')
    assert config.read(path, Options).model.lr == 1.0  # an int is a fine float


def test_configs_are_frozen():
    with pytest.raises(AttributeError):
        base().run.epochs = 3
