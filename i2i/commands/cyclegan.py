"""`i2i train cyclegan`: train a CycleGAN on an unpaired dataset (trainA/ trainB/).

TensorFlow (and the model, `i2i.gans.cyclegan`) is imported inside the command body.
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

    Model options go through --set (see `i2i.gans.cyclegan.CycleGANOptions`):
    filters, blocks, d_filters, d_layers, norm, gan_mode, lambda_cycle, lambda_identity,
    history_size, lr, beta_1, decay_epochs, load_size, preprocess, flip.

    \b
    Examples:
      i2i train cyclegan --data data/day2night --out runs/day2night --epochs 200
      i2i train cyclegan --data data/d2n --out runs/small --image-size 128 \\
          --set blocks=6 --set filters=32 --steps 20000 --set steps_per_epoch=1000
      i2i train cyclegan --out runs/day2night --resume
    """
    from i2i import config as config_lib
    from i2i.data.check import DatasetError
    from i2i.gans import translation
    from i2i.gans.cyclegan import CycleGANTask

    task = CycleGANTask()
    model = {"data": data, "image_size": image_size}
    if not run.resume:
        if data is None:
            raise click.UsageError("give --data DIR (a folder with trainA/ and trainB/)")
        if run.batch_size is None:
            run.batch_size = DEFAULT_BATCH_SIZE
        try:
            cfg = run.config(task, model)
            if run.steps is None and cfg.run.steps_per_epoch is None:
                # An epoch = one pass over the larger domain (the reference's epoch),
                # pinned in config.json so a resume keeps the same epochs and schedule.
                steps = task.steps_per_epoch(cfg.model.data, cfg.run.batch_size)
                run.assignments = (f"run.steps_per_epoch={steps}", *run.assignments)
        except (config_lib.ConfigError, DatasetError) as error:
            raise click.ClickException(str(error)) from None
    translation.execute(run, task, model)
