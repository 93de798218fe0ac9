"""`i2i train cyclegan`: train a CycleGAN on an unpaired dataset (trainA/ trainB/).

The task (options, data, epochs, card) is `i2i.tasks.cyclegan`; TensorFlow is imported
inside the command body.
"""

from __future__ import annotations

import click

from i2i.commands.train import run_options

# The reference trains CycleGAN with one image per batch.
DEFAULT_BATCH_SIZE = 1


@click.command("cyclegan")
@click.option(
    "--data",
    type=click.Path(exists=True, file_okay=False),
    help="Unpaired dataset folder with trainA/ and trainB/ (e.g. from `i2i dataset "
    "unpaired`); kept in config.json, so --resume does not need it.",
)
@click.option(
    "--image-size",
    type=click.IntRange(min=8),
    help="Training crop side [default 256; a multiple of 8].",
)
@run_options
def cyclegan(data, image_size, run):
    """Train a CycleGAN (unpaired translation A <-> B).

    The dataset is checked first (unreadable files, images smaller than the crop,
    test images leaking into training); a broken dataset is refused before anything is
    written. Each epoch (one pass over the larger domain, unless --steps or
    --set steps_per_epoch=N say otherwise) ends with a checkpoint and a log.csv row.
    The run directory then holds generator_a2b.keras and generator_b2a.keras, for
    `i2i translate IN OUT --model RUN_DIR --direction a2b|b2a`.

    Model options go through --set (see `i2i.tasks.cyclegan.CycleGANOptions`):
    filters, num_blocks, discriminator_filters, d_layers, norm, gan_mode, lambda_cycle,
    lambda_cycle_b, lambda_identity, lambda_nce, lambda_nce_b, nce_patches, history_size,
    upsample, cycle_noise, lr, beta_1, decay_epochs, load_size, preprocess, flip.

    \b
    Examples:
      i2i train cyclegan --data data/day2night --out runs/day2night --epochs 200
      i2i train cyclegan --data data/d2n --out runs/small --image-size 128 \\
          --set num_blocks=6 --set filters=32 --steps 20000 --set steps_per_epoch=1000
      i2i train cyclegan --out runs/day2night --resume
    """
    from i2i.tasks.cyclegan import CycleGANTask

    if not run.resume:
        if data is None:
            raise click.UsageError("give --data DIR (a folder with trainA/ and trainB/)")
        if run.batch_size is None:
            run.batch_size = DEFAULT_BATCH_SIZE
    # The task pins the epoch to one pass over the larger domain (the reference's).
    run.execute(CycleGANTask(), {"data": data, "image_size": image_size})
