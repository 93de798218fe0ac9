"""`i2i train srgan`: SRGAN stage 2, adversarial fine-tuning of a stage-1 generator.

```bash
i2i train srresnet --data photos/ --scale 4 --out runs/sr_x4 --steps 20000     # stage 1
i2i train srgan --data photos/ --init runs/sr_x4 --out runs/srgan_x4 --steps 20000 \\
    --set steps_per_epoch=500
i2i train srgan --out runs/srgan_x4 --resume                # continue where it stopped
```

`--init` is what `i2i.zoo.load_generator` accepts: a stage-1 run directory, a generator
`.keras` file or a zoo name; the scale comes from its card (the task's `init_from`
option). The task (options, data, validation, card) is `i2i.tasks.srgan`; TensorFlow is
imported inside the command body only (`i2i --help` stays instant).
"""

from __future__ import annotations

from pathlib import Path

import click

from i2i.commands.train import run_options
from i2i.common import moved

# Old home of the task, before i2i.tasks: still importable until the next release.
__getattr__ = moved(__name__, "i2i.tasks.srgan", {"SRGANOptions", "SRGANTask"})


@click.command("srgan")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False),
    help="HR training images, as for `i2i train srresnet`. Not needed with --resume.",
)
@click.option(
    "--init",
    "init",
    metavar="RUN_DIR_OR_MODEL",
    help="The stage-1 generator: an `i2i train srresnet` run directory, a .keras file or a "
    "zoo name. Not needed with --resume.",
)
@click.option(
    "--val-data",
    type=click.Path(exists=True, file_okay=False),
    help="Held-out HR images for validation (default: DATA/test, else --set holdout=N "
    "images of DATA).",
)
@run_options
def srgan(data, init, val_data, run):
    """Fine-tune a super-resolution generator adversarially: SRGAN stage 2.

    Content loss VGG54 (L1 with a warning when the VGG19 weights are not on this
    machine) + 1e-3 x adversarial, against a fresh VGG-style discriminator; validation
    PSNR/SSIM (Y channel) beside bicubic every epoch. Writes RUN_DIR/generator.keras (+
    card). Options: `--set ema_decay=0.999`, `--set content=l1`, `--set lr=1e-4`,
    `--set patch_size=96`... (see `i2i.tasks.srgan.SRGANOptions`). With --steps, set
    the epoch (validation, checkpoint) length with --set steps_per_epoch=N.
    """
    scale = None
    if not run.resume:
        if data is None or init is None:
            raise click.UsageError("--data and --init are required (except with --resume)")
        from i2i import zoo

        try:
            entry = zoo.resolve_model(init)
        except zoo.ZooError as error:
            raise click.ClickException(f"--init: {error}") from None
        if entry.card.get("task") != "super-resolution":
            raise click.ClickException(
                f"--init {init}: not a super-resolution generator "
                f"(its card says task {entry.card.get('task')!r})"
            )
        scale = int(entry.card["scale"])
        init = zoo.absolute_reference(init)
    # Absolute paths in config.json: `--resume` works from any directory.
    data, val_data = (None if p is None else str(Path(p).resolve()) for p in (data, val_data))
    model = {"data": data, "init_from": init, "scale": scale, "val_data": val_data}
    from i2i.tasks.srgan import SRGANTask

    run.execute(SRGANTask(), model=model)
