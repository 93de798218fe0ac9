"""`i2i train srresnet`: SRGAN stage 1, an SRResNet generator trained with a pixel loss.

```bash
i2i train srresnet --data photos/ --scale 4 --out runs/sr_x4 --steps 20000 \\
    --set steps_per_epoch=200
i2i train srresnet --out runs/sr_x4 --resume            # continue where it stopped
```

The task (options, data, validation, card) is `i2i.tasks.srresnet`; TensorFlow is
imported inside the command body only (`i2i --help` stays instant).
"""

from __future__ import annotations

import click

from i2i.commands.train import run_options
from i2i.common import SR_ARCHITECTURES, SR_SCALES, moved

# Old home of the task, before i2i.tasks: still importable until the next release.
__getattr__ = moved(__name__, "i2i.tasks.srresnet", {"SRResNetOptions", "SRResNetTask"})


@click.command("srresnet")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False),
    help="HR training images: a folder (or hr/, or hr/ + lr/ pairs; train/ test/ splits "
    "allowed). Not needed with --resume.",
)
@click.option("--scale", type=click.Choice([str(s) for s in SR_SCALES]), help="Upscaling factor.")
@click.option(
    "--arch",
    type=click.Choice(SR_ARCHITECTURES),
    help="The generator: SRResNet (default) or the compact network that runs every "
    "convolution at LR (i2i.nets.compact; --set num_conv=16 --set filters=64).",
)
@click.option(
    "--val-data",
    type=click.Path(exists=True, file_okay=False),
    help="Held-out HR images for validation (default: DATA/test, else --set holdout=N "
    "images of DATA).",
)
@run_options
def srresnet(data, scale, arch, val_data, run):
    """Train an SRResNet generator with an L1 (or MSE) loss: SRGAN stage 1.

    Validation PSNR/SSIM (Y channel, border = scale) beside bicubic is logged every epoch
    and the best generator is kept as RUN_DIR/generator.keras. Model options
    (`--set num_blocks=8`, `--set residual=bicubic`, `--set lr=2e-4`, `--set loss=mse`,
    `--set patch_size=128`...) are listed in `i2i.tasks.srresnet.SRResNetOptions`. With
    --steps, set the epoch (validation, checkpoint) length with --set steps_per_epoch=N.
    """
    if data is None and not run.resume:
        raise click.UsageError("--data is required (except with --resume)")
    model = {
        "data": data,
        "scale": None if scale is None else int(scale),
        "arch": arch,
        "val_data": val_data,
    }
    from i2i.tasks.srresnet import SRResNetTask

    run.execute(SRResNetTask(), model=model)
