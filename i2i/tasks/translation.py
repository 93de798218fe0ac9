"""What the translation tasks (pix2pix, CycleGAN) share.

- `check_training_data(root, family, crop)`: the dataset check (`i2i.data.check`) a
  translation run passes before it starts; errors become one-line `TrainingError`s;
- `translation_card(stride, architecture, **extra)`: the generator card of a translation
  model (`task`, `scale` 1, `value_range` [-1, 1], `stride`, `architecture`, ...);
- `TranslationTask`: a `i2i.training.TrainTask` base whose `prepare` checks the data
  before anything is written, with per-epoch sample grids of a fixed batch
  (`i2i.callbacks.SampleGrid`).

Example (a task for a paired model; see `i2i.tasks.pix2pix`):

```python
class MyTask(translation.TranslationTask):
    name = "mine"
    options_class = MyOptions          # with `data` and `image_size`
    data_family = "paired"

    def sample_batch(self, cfg):
        batch = next(iter(paired_dataset(cfg.model.data, "test", batch_size=4)))
        return batch["source"].numpy(), batch["target"].numpy()
```
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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


@dataclass(frozen=True)
class TranslationDataOptions:
    """The data options both translation tasks share (`i2i train pix2pix`, `cyclegan`).

    Attributes:
        data: the dataset folder (`i2i.data.paired` or `i2i.data.unpaired` layouts).
        image_size: training crop side (256 in the papers); a multiple of the
            generator's stride.
        load_size: resize before the random crop (None: 286 for 256, scaled).
        preprocess: "resize_and_crop" (the reference's jitter), "crop" (random crops of
            large images at full resolution) or "resize".
        flip: random left-right mirroring.
    """

    data: str = ""
    image_size: int = 256
    load_size: int | None = None
    preprocess: Literal["resize_and_crop", "crop", "resize"] = "resize_and_crop"
    flip: bool = True


class TranslationTask(training.TrainTask):
    """Base of the translation tasks: data check and per-epoch sample grids.

    Subclasses set `name`, `options_class` (a `TranslationDataOptions`),
    `data_family`, and implement the `TrainTask` hooks plus `sample_batch`.
    """

    data_family = "paired"
    #: images in the fixed sample batch (sample grids)
    sample_count = 4

    def prepare(self, cfg):
        """The dataset check, before anything is written (see `check_data`)."""
        self.check_data(cfg)
        return cfg

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
