"""What the translation training commands (pix2pix, CycleGAN) share.

- `check_training_data(root, family, crop)`: the dataset check (`i2i.data.check`) a
  translation run passes before it starts; errors become one-line `TrainingError`s;
- `translation_card(stride, architecture, **extra)`: the generator card of a translation
  model (`task`, `scale` 1, `value_range` [-1, 1], `stride`, `architecture`, ...);
- `TranslationTask`: a `i2i.training.TrainTask` base with the data check and per-epoch
  sample grids of a fixed batch (`i2i.callbacks.SampleGrid`);
- `execute(run, task, model)`: the body of a translation `i2i train ...` command:
  resolve the run config, check the data, then train.

Example (a command body; see `i2i/commands/pix2pix.py`):

```python
@train.command("pix2pix")
@click.option("--data", type=click.Path(exists=True, file_okay=False))
@run_options
def pix2pix(data, run):
    from i2i.gans import translation
    from i2i.gans.pix2pix import Pix2PixTask

    translation.execute(run, Pix2PixTask(), {"data": data})
```
"""

from __future__ import annotations

from i2i import training

VALUE_RANGE = [-1.0, 1.0]
# How many dataset warnings are printed before "... and N more".
_SHOWN_WARNINGS = 3


def check_training_data(root, family: str = "paired", crop: int | None = None) -> None:
    """Check the dataset at `root` before training on it (reads every image once).

    Args:
        root: the dataset folder.
        family: "paired" or "unpaired" (or an exact layout name of `i2i.data.check`).
        crop: the training crop size; smaller images are errors.

    Raises:
        i2i.training.TrainingError: the dataset has errors; one line naming the first
            problem and pointing to `i2i dataset check ROOT` for the full report.
    """
    from i2i.data.check import DatasetError, check_dataset

    if not root:
        raise training.TrainingError("no training data given (--data DIR)")
    try:
        report = check_dataset(root, layout=family, crop=crop)
        report.raise_for_errors()
    except DatasetError as error:
        raise training.TrainingError(f"refusing to train on broken data: {error}") from None
    for problem in report.warnings[:_SHOWN_WARNINGS]:
        training.log(f"dataset warning: {problem.message}")
    if len(report.warnings) > _SHOWN_WARNINGS:
        more = len(report.warnings) - _SHOWN_WARNINGS
        training.log(f"... and {more} more dataset warnings (i2i dataset check {root})")


def translation_card(stride: int, architecture: dict, **extra) -> dict:
    """The card of a translation generator (see `i2i.zoo`).

    Args:
        stride: input height and width must be multiples of this.
        architecture: `{"name": <registry.NETS name>, **builder arguments}`, so the
            network can be rebuilt (e.g. to fine-tune it under another precision).
        **extra: more card fields (`direction`, `data`, `model`...).
    """
    return {
        "task": "translation",
        "scale": 1,
        "value_range": list(VALUE_RANGE),
        "stride": int(stride),
        "architecture": dict(architecture),
        **extra,
    }


class TranslationTask(training.TrainTask):
    """Base of the translation tasks: data check and per-epoch sample grids.

    Subclasses set `name`, `options_class` (with at least `data` and `image_size`),
    `data_family`, and implement the `TrainTask` hooks plus `sample_batch`.
    """

    data_family = "paired"
    #: images in the fixed sample batch (sample grids)
    sample_count = 4

    def check_data(self, cfg) -> None:
        """Run the dataset check on `cfg.model.data` (raises `TrainingError`)."""
        check_training_data(cfg.model.data, self.data_family, cfg.model.image_size)

    def sample_batch(self, cfg):
        """A fixed batch `(inputs, targets or None)` of float32 `(N, S, S, 3)` arrays for
        the per-epoch sample grids, or None for no grids."""
        return None

    def callbacks(self, cfg, run_dir, model) -> list:
        """Per-epoch sample grids (`RUN_DIR/samples/epoch-NNNN.png`, input | output |
        target) of `sample_batch`, and the training-health checks on the same samples
        (mode collapse, lattice artefacts: `i2i.health`)."""
        from i2i.callbacks import SampleGrid
        from i2i.health import TrainingHealth

        batch = self.sample_batch(cfg)
        if batch is None:
            return []
        inputs, targets = batch
        return [
            TrainingHealth(sample_inputs=inputs, value_range=VALUE_RANGE),
            SampleGrid(
                run_dir / "samples",
                inputs,
                targets,
                value_range=VALUE_RANGE,
                tensorboard_dir=run_dir / "tensorboard" / "samples",
            ),
        ]


def execute(run, task: TranslationTask, model: dict | None = None):
    """Resolve the run config, check the data, train: the body of a translation command.

    Args:
        run: the command's `i2i.commands.train.RunRequest`.
        task: the `TranslationTask`.
        model: model-option values from the command's own arguments (None = not given).

    Returns:
        The `i2i.training.RunResult`.

    Raises:
        click.ClickException: a bad option, broken data or a failed run (one line).
    """
    import click

    from i2i import config as config_lib

    try:
        task.check_data(run.config(task, model))
    except (config_lib.ConfigError, training.TrainingError) as error:
        raise click.ClickException(str(error)) from None
    return run.execute(task, model)
