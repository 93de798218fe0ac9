"""Training tasks: one module per trainable thing, the glue between the CLI and the models.

A task is an `i2i.training.TrainTask`: its options dataclass (`cfg.model`, every field
settable with `--set`), and the hooks the runner calls: `prepare` (check the data before
anything is written), `build_model`, `train_dataset`, `validation_dataset`, `callbacks`
(validation, sample grids, LR schedules) and `card` (what the exported generator's card
says). An `i2i train MODEL` command resolves its config once and hands task and config to
`i2i.training.run`, once.

- `i2i.tasks.pix2pix`: `Pix2PixOptions`, `Pix2PixTask` (`i2i train pix2pix`, `i2i finetune`);
- `i2i.tasks.cyclegan`: `CycleGANOptions`, `CycleGANTask` (`i2i train cyclegan`);
- `i2i.tasks.srresnet`: `SRResNetOptions`, `SRResNetTask` (`i2i train srresnet`, SRGAN stage 1);
- `i2i.tasks.srgan`: `SRGANOptions`, `SRGANTask` (`i2i train srgan`, stage 2);
- `i2i.tasks.translation`, `i2i.tasks.sr_validation`: what the translation tasks and the
  two SR tasks share.

Tasks build the Keras models of `i2i.gans` and `i2i.nets`, and read data through
`i2i.data`; nothing below them imports a task.

Example:

```python
from i2i import config, training
from i2i.tasks.cyclegan import CycleGANOptions, CycleGANTask

cfg = config.Config(task="cyclegan", run=config.RunOptions(out="runs/d2n", epochs=200,
                    batch_size=1), model=CycleGANOptions(data="data/day2night"))
training.run(CycleGANTask(), cfg)     # later: training.run(CycleGANTask(), cfg, resume=True)
```
"""
