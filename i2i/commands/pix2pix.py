"""`i2i train pix2pix` and `i2i finetune`: paired translation training.

```bash
i2i train pix2pix --data data/facades --out runs/facades --direction b2a --epochs 200
i2i train pix2pix --out runs/facades --resume
i2i finetune runs/facades --data my_pairs --out runs/mine --steps 2000
```

The task (options, data, fine-tuning, card) is `i2i.tasks.pix2pix`; TensorFlow is
imported inside the command bodies.
"""

from __future__ import annotations

import dataclasses

import click

from i2i.commands.train import run_options
from i2i.common import DIRECTIONS

# pix2pix trains with one image per batch (the reference default), not the runner's 16.
DEFAULT_BATCH_SIZE = 1


def _data_options(function):
    options = [
        click.option(
            "--data",
            type=click.Path(exists=True, file_okay=False),
            help="Paired dataset folder: A|B files side by side, or A/ + B/ (with or "
            "without train/ test/ splits). Checked before training starts.",
        ),
        click.option(
            "--direction",
            type=click.Choice(DIRECTIONS),
            help="a2b: translate A (left / A/) into B; b2a: the other way [default: a2b].",
        ),
        click.option(
            "--image-size",
            type=click.IntRange(min=8),
            help="Training crop size, a multiple of the U-Net stride [default: 256; "
            "finetune: the source's].",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


@click.command("pix2pix")
@_data_options
@run_options
def pix2pix(data, direction, image_size, run):
    """Train pix2pix (U-Net + conditional PatchGAN, adversarial + 100 x L1) on paired data.

    Writes RUN_DIR/generator.keras (+ card), checkpoints, log.csv and TensorBoard logs.
    Model options (`--set filters=32`, `--set l1_weight=50`, `--set gan_mode=lsgan`,
    `--set lr=1e-4`...) are listed in `i2i.tasks.pix2pix.Pix2PixOptions`.
    """
    from i2i.tasks.pix2pix import Pix2PixTask

    if data is None and not run.resume:
        raise click.UsageError("--data DIR is required (unless --resume)")
    if run.batch_size is None and not run.resume:
        run.batch_size = DEFAULT_BATCH_SIZE
    model = {"data": data, "direction": direction, "image_size": image_size}
    run.execute(Pix2PixTask(), model)


@click.command("finetune")
@click.argument("source", metavar="RUN_DIR_OR_MODEL")
@_data_options
@run_options
def finetune(source, data, direction, image_size, run):
    """Continue training a pix2pix generator on your own paired data.

    RUN_DIR_OR_MODEL is a training run directory (its last checkpoint also gives the
    discriminator), a generator .keras file or a zoo name (a fresh discriminator). The
    network options come from the source; the learning rate defaults to 2e-5, a tenth
    of training from scratch (change it with --set lr=...).
    """
    from i2i.tasks.pix2pix import Pix2PixTask, finetune_options

    if not run.out:
        raise click.UsageError("--out RUN_DIR is required")
    if run.resume:
        # Everything else comes back from RUN_DIR/config.json.
        run.execute(Pix2PixTask(), {"data": data})
        return
    if data is None:
        raise click.UsageError("--data DIR is required")
    if run.batch_size is None:
        run.batch_size = DEFAULT_BATCH_SIZE
    options = finetune_options(source, data=data, direction=direction, image_size=image_size)
    run.execute(Pix2PixTask(), dataclasses.asdict(options))
