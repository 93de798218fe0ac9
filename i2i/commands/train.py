"""`i2i train ...`: the training command group and the run options every model shares.

A model adds a subcommand to the `train` group, decorated with `run_options`, makes its
`i2i.training.TrainTask` (from `i2i.tasks`) inside the body and hands it to
`run.execute`, which resolves the config once and calls `i2i.training.run` once
(TensorFlow is imported there, never here):

```python
import click

from i2i.commands.train import run_options, train


@train.command("srresnet")
@click.argument("data", type=click.Path(exists=True, file_okay=False))
@run_options
def srresnet(data, run):
    \"\"\"Train an SRResNet generator with a pixel loss.\"\"\"
    from i2i.tasks.srresnet import SRResNetTask

    run.execute(SRResNetTask(), model={"data": data})
```

`i2i train srresnet DATA --out runs/sr --steps 100000 --set lr=2e-4` then trains, and
`i2i train srresnet DATA --out runs/sr --resume` continues exactly where it stopped.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field

import click

from i2i import config as config_lib
from i2i.common import I2IError

RUN_OPTION_NAMES = (
    "out",
    "epochs",
    "steps",
    "batch_size",
    "precision",
    "jit_compile",
    "strategy",
    "seed",
    "resume",
    "assignments",
)


@click.group()
def train():
    """Train a model; every subcommand shares the run options (see `--help` of one)."""


@dataclass
class RunRequest:
    """The run options of one `i2i train ...` call (None = not given on the command line).

    Use `execute(task)` to resolve the config and train; `config(task)` to only resolve.
    """

    out: str | None = None
    epochs: int | None = None
    steps: int | None = None
    batch_size: int | None = None
    precision: str | None = None
    jit_compile: bool | None = None
    strategy: str | None = None
    seed: int | None = None
    resume: bool = False
    assignments: tuple = field(default_factory=tuple)

    def given_run_options(self) -> dict:
        """The `RunOptions` fields given explicitly as flags."""
        names = ("epochs", "steps", "batch_size", "precision", "jit_compile", "strategy", "seed")
        given = {name: getattr(self, name) for name in names if getattr(self, name) is not None}
        if self.steps is not None and self.epochs is None:
            given["epochs"] = 1  # --steps decides; keep the epochs field neutral
        if self.epochs is not None and self.steps is None:
            given["steps"] = None  # --epochs replaces a saved --steps on --resume
        return given

    def config(self, task, model: dict | None = None) -> config_lib.Config:
        """The resolved run config for `task` (read back from config.json on --resume).

        Args:
            task: the `TrainTask`.
            model: model-option values the subcommand set from its own arguments
                (e.g. `{"data": path}`); `--set` overrides come after them.
        """
        out = self.out or f"runs/{task.name}"
        if self.resume:
            cfg = config_lib.read(f"{out}/config.json", task.options_class)
            if cfg.task and cfg.task != task.name:
                raise config_lib.ConfigError(f"{out}: holds a {cfg.task!r} run, not {task.name!r}")
        else:
            cfg = config_lib.Config(
                task=task.name, run=config_lib.RunOptions(), model=task.options_class()
            )
        changes = dict(self.given_run_options(), out=out)
        cfg = config_lib.replace(cfg, **changes)
        if model:
            # On --resume, model values not given again (None) come from config.json.
            given = {key: value for key, value in model.items() if value is not None}
            cfg = config_lib.replace_model(cfg, **given)
        return config_lib.apply_overrides(cfg, self.assignments)

    def execute(self, task, model: dict | None = None):
        """Resolve the config and train `task`; errors become one-line click errors.

        Returns:
            The `i2i.training.RunResult`.
        """
        from i2i import training

        try:
            cfg = self.config(task, model)
            result = training.run(task, cfg, resume=self.resume)
        except I2IError as error:
            raise click.ClickException(str(error)) from None
        for path in result.exported:
            click.echo(f"saved {path}")
        return result


def run_options(function):
    """Add the shared run options to a `train` subcommand.

    The command receives them as one `run` argument, a `RunRequest`.
    """
    options = [
        click.option(
            "--out",
            type=click.Path(file_okay=False),
            help="Run directory (default runs/<model>).",
        ),
        click.option("--epochs", type=click.IntRange(min=1), help="Epochs to train."),
        click.option(
            "--steps",
            type=click.IntRange(min=1),
            help="Total training steps (instead of --epochs; checkpoint every "
            "steps_per_epoch, set with --set steps_per_epoch=N).",
        ),
        click.option("--batch-size", type=click.IntRange(min=1), help="Global batch size."),
        click.option(
            "--precision",
            type=click.Choice(config_lib.PRECISIONS),
            help="Dtype policy; auto = mixed_float16 when a GPU is visible, else float32.",
        ),
        click.option(
            "--jit-compile/--no-jit-compile",
            default=None,
            help="Compile the train step with XLA (default: off).",
        ),
        click.option(
            "--strategy",
            type=click.Choice(config_lib.STRATEGIES),
            help="default: one device; mirrored: all local devices; "
            "multiworker: MultiWorkerMirroredStrategy from TF_CONFIG.",
        ),
        click.option("--seed", type=int, help="Random seed (default 0)."),
        click.option(
            "--resume",
            is_flag=True,
            help="Continue the run in --out from its last checkpoint.",
        ),
        click.option(
            "--set",
            "assignments",
            multiple=True,
            metavar="KEY=VALUE",
            help="Override a config value (repeatable), e.g. --set lr=2e-4 --set run.seed=3.",
        ),
    ]

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        values = {name: kwargs.pop(name) for name in RUN_OPTION_NAMES}
        values["assignments"] = tuple(values["assignments"] or ())
        values["resume"] = bool(values["resume"])
        return function(*args, run=RunRequest(**values), **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper
