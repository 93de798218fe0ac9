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
        ("average_last=0", "at least 1"),
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


@config.renamed(depth="num_blocks", old_mode="mode")
@dataclass(frozen=True)
class Renamed:
    num_blocks: int = 9
    mode: str = "a"


def test_renamed_options_keep_their_old_names_with_a_deprecation(tmp_path):
    from i2i.common import I2IDeprecationWarning

    cfg = config.Config(task="t", model=Renamed())
    with pytest.warns(I2IDeprecationWarning, match="'depth' is now 'num_blocks'"):
        assert config.apply_overrides(cfg, ["depth=4"]).model.num_blocks == 4
    with pytest.warns(I2IDeprecationWarning, match="'depth' is now 'num_blocks'"):
        assert config.apply_overrides(cfg, ["model.depth=5"]).model.num_blocks == 5
    with pytest.warns(I2IDeprecationWarning):
        assert Renamed(depth=3) == Renamed(num_blocks=3)
    with pytest.warns(I2IDeprecationWarning):
        assert config.replace_model(cfg, old_mode="b").model.mode == "b"
    # An older run's config.json: read with the new names, written back with them.
    path = tmp_path / "config.json"
    path.write_text('{"task": "t", "run": {}, "model": {"depth": 2, "old_mode": "c"}}')
    with pytest.warns(I2IDeprecationWarning):
        old = config.read(path, Renamed)
    assert old.model == Renamed(num_blocks=2, mode="c")
    config.write(old, path)
    assert config.read(path, Renamed) == old
    with pytest.raises(config.ConfigError, match="not both"):
        config.replace_model(cfg, depth=1, num_blocks=2)


@pytest.mark.parametrize(
    "module, options, old, new",
    [
        ("i2i.tasks.cyclegan", "CycleGANOptions", "blocks", "num_blocks"),
        ("i2i.tasks.cyclegan", "CycleGANOptions", "d_filters", "discriminator_filters"),
        ("i2i.tasks.srgan", "SRGANOptions", "init", "init_from"),
    ],
)
def test_the_renamed_task_options(module, options, old, new):
    import importlib

    from i2i.common import I2IDeprecationWarning

    options_class = getattr(importlib.import_module(module), options)
    value = "runs/sr" if new == "init_from" else 3
    with pytest.warns(I2IDeprecationWarning, match=f"'{old}' is now '{new}'"):
        data = {"task": "x", "model": {old: value}}
        assert getattr(config.Config.from_dict(data, options_class).model, new) == value
