"""The training runner behind every `i2i train ...` command.

One function, `run(task, cfg)`, takes a *task* (what to train: model, data, card) and a
`i2i.config.Config` (how: epochs, precision, XLA, strategy, run directory) and does the
rest the same way for every model:

1. resolves the precision policy (`auto` = mixed_float16 iff a GPU is visible; logged),
   seeds every random generator, optionally enables op determinism;
2. builds the `tf.distribute` strategy (`default`, `mirrored`, `multiworker` from
   TF_CONFIG) and builds + compiles the model inside its scope, with `jit_compile`
   pinned from the config;
3. asks the task to check its data (`TrainTask.prepare`), creates the run directory
   (`config.json`, `checkpoints/`, `samples/`, `tensorboard/`; see the README's
   "Training options") and writes `config.json`;
4. with `resume=True`, restores the full training state from `checkpoints/` (all
   networks, all optimizer slots and loss scales, step counter, RNG states) and asks the
   task for the data positioned at the restored step;
5. runs `model.fit` with Keras' progress bar and the callbacks: non-finite guard, the
   task's own callbacks (validation, sample grids...), CSV log, TensorBoard and a
   checkpoint at the end of every epoch (atomic, never with non-finite weights);
6. saves the generator(s) as `RUN_DIR/generator.keras` + card via `i2i.zoo`; with
   `average_last > 1`, of the network weights averaged over the last checkpoints.

A plain compiled `keras.Model` (e.g. an SRResNet trained with an L1 loss) and a
`i2i.gans.gan_model.GANModel` go through exactly the same path.

Example — a task for a plain generator trained with a pixel loss:

```python
from dataclasses import dataclass

import keras

from i2i import config, training


@dataclass(frozen=True)
class Options:
    lr: float = 1e-4


class SRTask(training.TrainTask):
    name = "srresnet"
    options_class = Options

    def build_model(self, cfg):
        model = make_srresnet(scale=4)
        model.compile(optimizer=keras.optimizers.Adam(cfg.model.lr), loss="mae")
        return model

    def train_dataset(self, cfg, start_step):
        data = sr_dataset(..., batch_size=cfg.run.batch_size).repeat()
        return training.skip_batches(data, start_step)

    def card(self, cfg):
        return {"task": "super-resolution", "scale": 4, "value_range": [0.0, 1.0],
                "stride": 1, "architecture": {"name": "srresnet"}}


cfg = config.Config(task="srresnet", run=config.RunOptions(out="runs/sr", steps=1000,
                    steps_per_epoch=100), model=Options())
result = training.run(SRTask(), cfg)            # later: training.run(..., resume=True)
```
"""

from __future__ import annotations

import csv
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from i2i import config as config_lib
from i2i.checkpoint import (  # noqa: F401  (re-exported: the runner's names for them)
    CHECKPOINT_DIR,
    LATEST,
    NonFiniteError,
    TrainingError,
    build_optimizers,
    is_chief,
    latest_checkpoint,
    load_state,
    model_optimizers,
    nonfinite_weights,
    save_state,
    seed_generators,
)
from i2i.common import atomic_write


class TrainTask:
    """What a model supplies to the runner. Subclass it and override the hooks.

    Attributes:
        name: the task (and `i2i train` subcommand) name, stored in config.json.
        options_class: the frozen dataclass of the model's own options (`cfg.model`).
    """

    name = "model"
    options_class: type = config_lib.NoOptions

    def prepare(self, cfg: config_lib.Config) -> config_lib.Config:
        """Check the options and the data before anything is written; settle what
        depends on the data (e.g. CycleGAN's epoch: one pass over the larger domain).

        Called once by `run` (also on resume), before the run directory is touched.

        Returns:
            The config to train with, recorded in config.json (default: `cfg`).

        Raises:
            TrainingError: the data or the options cannot work (one line).
        """
        return cfg

    def build_model(self, cfg):
        """Build and compile the model (called inside the strategy scope, under the
        run's precision policy).

        Return either a compiled plain `keras.Model` (`model.compile(optimizer, loss)`)
        or a compiled `GANModel`. `jit_compile` is pinned by the runner afterwards.
        """
        raise NotImplementedError

    def train_dataset(self, cfg, start_step: int):
        """A `tf.data.Dataset` of GLOBAL batches (`cfg.run.batch_size`).

        For an infinite (`.repeat()`ed) dataset `cfg.run.steps_per_epoch` or `steps` must
        be set. `start_step` is the number of batches already trained (0 for a new run):
        return the stream positioned there for an exact resume (`skip_batches` does it
        by reading and dropping batches). A finite dataset restarts each epoch and can
        ignore it (runs resume at epoch boundaries).
        """
        raise NotImplementedError

    def validation_dataset(self, cfg):
        """Optional dataset passed to `fit(validation_data=...)`; None for none."""
        return None

    def callbacks(self, cfg, run_dir: Path, model) -> list:
        """Extra Keras callbacks (validation PSNR, sample grids, LR schedules...).

        They run before the CSV log and the checkpoint, so values they add to `logs` in
        `on_epoch_end` appear in log.csv and TensorBoard.
        """
        return []

    def card(self, cfg) -> dict:
        """The generator card (`i2i.zoo`): task, scale, value_range, stride, architecture."""
        raise NotImplementedError

    def generators(self, model) -> dict:
        """Networks to export, by file stem: `{"generator": net}` (CycleGAN: two).

        Default: a GANModel's `generator_names` attributes (a single generator as its
        `evaluation_generator()`: the weight average when EMA is on), else the model.
        """
        names = getattr(model, "generator_names", None)
        if names is None:
            return {"generator": model}
        if len(names) == 1:
            return {"generator": model.evaluation_generator()}
        return {name: getattr(model, name) for name in names}


@dataclass
class RunResult:
    """What `run` returns.

    Attributes:
        model: the trained model (plain Keras model or GANModel).
        run_dir: the run directory.
        config: the resolved `Config` written to config.json.
        history: the `keras.callbacks.History` of this call (epochs of this call only).
        step: the global step reached (batches trained in total).
        exported: paths of the saved generators.
    """

    model: object
    run_dir: Path
    config: config_lib.Config
    history: object
    step: int
    exported: list


def log(message: str) -> None:
    """Print one runner message (stderr, so stdout stays for results)."""
    print(f"i2i: {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- precision


def resolve_precision(name: str) -> str:
    """The Keras dtype policy for the run option `name` (`auto` looks for a GPU)."""
    if name not in config_lib.PRECISIONS:
        raise TrainingError(f"unknown precision {name!r} (use {', '.join(config_lib.PRECISIONS)})")
    if name != "auto":
        return name
    from i2i import precision

    return "mixed_float16" if precision.gpu_visible() else "float32"


# --------------------------------------------------------------------------- strategy


_STRATEGIES: dict = {}


def make_strategy(name: str):
    """The `tf.distribute` strategy for the run option `name`.

    `multiworker` reads the cluster from the `TF_CONFIG` environment variable and must be
    created before any other TensorFlow op runs in the process. Strategies are created
    once per process and reused by later runs: two MirroredStrategy instances in one
    process can mix up their collective operations.
    """
    import tensorflow as tf

    if name == "default":
        return tf.distribute.get_strategy()
    if name not in config_lib.STRATEGIES:
        raise TrainingError(f"unknown strategy {name!r} (use {', '.join(config_lib.STRATEGIES)})")
    if name == "multiworker" and not os.environ.get("TF_CONFIG"):
        raise TrainingError("--strategy multiworker needs the TF_CONFIG environment variable")
    if name not in _STRATEGIES:
        if name == "mirrored":
            _STRATEGIES[name] = tf.distribute.MirroredStrategy()
        else:
            _STRATEGIES[name] = tf.distribute.MultiWorkerMirroredStrategy()
    return _STRATEGIES[name]


# --------------------------------------------------------------------------- data


def default_steps_per_epoch(steps: int, longest: int = 1000, shortest: int = 100) -> int:
    """Epoch length for `--steps` alone: all of it up to `longest`, else the longest
    divisor of `steps` in `[shortest, longest]` (an epoch is the checkpoint interval)."""
    if steps <= longest:
        return steps
    for length in range(longest, shortest - 1, -1):
        if steps % length == 0:
            return length
    raise TrainingError(
        f"--steps {steps} has no divisor between {shortest} and {longest}: "
        "give --set steps_per_epoch=N (the checkpoint interval), a divisor of --steps"
    )


def skip_batches(dataset, start_step: int):
    """`dataset` positioned after `start_step` batches (exact; reads what it skips)."""
    return dataset.skip(start_step) if start_step else dataset


# --------------------------------------------------------------------------- run


def run(task: TrainTask, cfg: config_lib.Config, resume: bool = False) -> RunResult:
    """Train `task` as configured by `cfg`; see the module docstring for what happens.

    Args:
        task: a `TrainTask`.
        cfg: the run `Config` (`cfg.model` an instance of `task.options_class`).
        resume: continue the run in `cfg.run.out` from its latest checkpoint.

    Returns:
        A `RunResult`.

    Raises:
        TrainingError: the run directory is in the wrong state, the data does not fit the
            options, or training produced a non-finite loss/weight (`NonFiniteError`).
    """
    import keras
    import tensorflow as tf

    from i2i import callbacks as callbacks_lib

    run_dir = Path(cfg.run.out)
    record = latest_checkpoint(run_dir) if resume else None
    if resume and record is None:
        raise TrainingError(f"{run_dir}: nothing to resume (no {CHECKPOINT_DIR}/{LATEST})")
    if not resume and (run_dir / CHECKPOINT_DIR / LATEST).exists():
        raise TrainingError(
            f"{run_dir}: already holds a run; use --resume to continue it or another --out"
        )

    # A multi-worker strategy must exist before other TF ops: create it first.
    strategy = make_strategy(cfg.run.strategy)
    chief = is_chief(strategy)
    cfg = task.prepare(cfg)

    precision = resolve_precision(cfg.run.precision)
    why = " (auto: GPU visible)" if cfg.run.precision == "auto" and precision != "float32" else ""
    why = why or (" (auto: no GPU)" if cfg.run.precision == "auto" else "")
    cfg = config_lib.replace(cfg, precision=precision)
    if cfg.run.steps is not None and cfg.run.steps_per_epoch is None:
        # Pinned in config.json, so a resume with more --steps keeps the same epochs.
        cfg = config_lib.replace(cfg, steps_per_epoch=default_steps_per_epoch(cfg.run.steps))
    if cfg.run.steps is not None:
        # config.json says how many epochs the steps make (the field is derived from them).
        cfg = config_lib.replace(cfg, epochs=cfg.run.total_epochs)
    log(
        f"precision {precision}{why}, jit_compile={cfg.run.jit_compile}, "
        f"strategy {cfg.run.strategy} ({strategy.num_replicas_in_sync} replica(s))"
    )

    keras.utils.set_random_seed(cfg.run.seed)
    if cfg.run.deterministic:
        tf.config.experimental.enable_op_determinism()

    if chief:
        run_dir.mkdir(parents=True, exist_ok=True)
        for sub in (CHECKPOINT_DIR, "samples", "tensorboard"):
            (run_dir / sub).mkdir(exist_ok=True)
        config_lib.write(cfg, run_dir / "config.json")

    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy(precision)
    try:
        with strategy.scope():
            model = task.build_model(cfg)
            if not getattr(model, "compiled", False):
                raise TrainingError(f"task {task.name!r}: build_model must return a compiled model")
            model.jit_compile = cfg.run.jit_compile
            start_epoch, start_step = 0, 0
            if record is not None:
                load_state(model, run_dir / CHECKPOINT_DIR / record["dir"])
                start_epoch, start_step = int(record["epoch"]), int(record["step"])
                log(
                    f"resumed from {run_dir / CHECKPOINT_DIR / record['dir']} "
                    f"(epoch {start_epoch}, step {start_step})"
                )

        dataset = task.train_dataset(cfg, start_step)
        steps_per_epoch = cfg.run.epoch_steps
        if steps_per_epoch is None and dataset.cardinality() == tf.data.INFINITE_CARDINALITY:
            raise TrainingError(
                "the training data repeats forever: give --steps or --set steps_per_epoch=N"
            )
        if cfg.run.strategy == "multiworker":
            _adapt_for_multiworker(model, dataset, strategy)
        epochs = cfg.run.total_epochs
        if resume:
            _truncate_csv(run_dir / "log.csv", start_epoch, chief)

        guard = callbacks_lib.NonFiniteGuard(start_step=start_step)
        checkpoint = callbacks_lib.FullStateCheckpoint(
            run_dir / CHECKPOINT_DIR,
            start_step=start_step,
            keep=max(cfg.run.keep_checkpoints, cfg.run.average_last),
            write=chief,
        )
        task_callbacks = list(task.callbacks(cfg, run_dir, model))
        callbacks = [guard, *task_callbacks]
        if getattr(model, "generator_names", None) is not None:
            from i2i import health

            # GAN failure modes (D collapse, G divergence) are warned about while training;
            # a task may supply its own TrainingHealth (e.g. with sample inputs) instead.
            if not any(isinstance(c, health.TrainingHealth) for c in task_callbacks):
                callbacks.append(health.TrainingHealth())
        if chief:
            callbacks += [
                callbacks_lib.EpochLog(str(run_dir / "log.csv"), append=resume),
                keras.callbacks.TensorBoard(str(run_dir / "tensorboard"), write_graph=False),
            ]
        callbacks.append(checkpoint)

        history = None
        if start_epoch >= epochs:
            log(f"nothing to train: the run already reached epoch {start_epoch} of {epochs}")
        else:
            try:
                history = model.fit(
                    dataset,
                    epochs=epochs,
                    initial_epoch=start_epoch,
                    steps_per_epoch=steps_per_epoch,
                    validation_data=task.validation_dataset(cfg),
                    callbacks=callbacks,
                    verbose=cfg.run.verbose,
                    shuffle=False,  # datasets come shuffled; fit cannot shuffle them
                )
            except NonFiniteError:
                raise
            except tf.errors.OutOfRangeError as error:
                raise TrainingError(f"the training data ran out: {error.message}") from None

        exported = []
        if chief:
            card = dict(task.card(cfg))
            card.setdefault("steps", checkpoint.step)
            if cfg.run.average_last > 1:
                card["checkpoint_average"] = _average_last(model, run_dir, cfg.run.average_last)
            for stem, network in task.generators(model).items():
                path = run_dir / f"{stem}.keras"
                exported.append(save_float32_generator(network, path, card))
        return RunResult(model, run_dir, cfg, history, checkpoint.step, exported)
    finally:
        keras.config.set_dtype_policy(previous_policy)


def _average_last(model, run_dir: Path, count: int) -> dict:
    """Average `model` over its last `count` epoch checkpoints (`average_states`); the
    epochs averaged, for the card."""
    from i2i.checkpoint import average_states, epoch_checkpoints

    directories = epoch_checkpoints(run_dir / CHECKPOINT_DIR)[-count:]
    epochs = [int(directory.name.split("-")[1]) for directory in directories]
    log(f"exporting the mean of {len(epochs)} checkpoints (epochs {epochs[0]}-{epochs[-1]})")
    average_states(model, directories)
    return {"epochs": epochs}


def _adapt_for_multiworker(model, dataset, strategy) -> None:
    """Work around two Keras 3 failures of plain models under MultiWorkerMirroredStrategy.

    `fit` reduces a distributed batch across workers in `_maybe_symbolic_build`, and
    reduces scalar step logs with `reduce("MEAN", axis=0)`; both fail
    (keras-team/keras#20585). Build the compile state from one local batch, skip that
    step, and return step logs with shape (1,). GANModel does the same by itself.
    """
    if hasattr(model, "generator_names"):
        return
    from i2i.gans.gan_model import multi_worker

    batch = next(iter(dataset.take(1)))
    with strategy.scope():
        model._symbolic_build(data_batch=batch)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None
    train_step = model.train_step

    def reshaped_train_step(data):
        import tensorflow as tf

        logs = train_step(data)
        if multi_worker():
            logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
        return logs

    model.train_step = reshaped_train_step


def save_float32_generator(network, path, card: dict) -> Path:
    """Save `network` through `i2i.zoo.save_generator`, as float32.

    A generator trained under a mixed policy is rebuilt with float32 layers (same
    weights) so inference on any device loads plain float32 math.
    """
    from i2i import zoo
    from i2i.precision import float32_copy

    return zoo.save_generator(float32_copy(network), path, card)


def _truncate_csv(path: Path, start_epoch: int, chief: bool) -> None:
    """Drop log.csv rows of epochs after the resumed checkpoint (they are redone)."""
    if not chief or not path.exists():
        return
    rows = list(csv.reader(io.StringIO(path.read_text())))
    if not rows:
        return
    header, body = rows[0], rows[1:]
    body = [row for row in body if row]
    if body and header[0] == "epoch" and int(float(body[0][0])) == 0:
        # Written before log.csv numbered epochs from 1: renumber, then append in kind.
        body = [[str(int(float(row[0])) + 1), *row[1:]] for row in body]
    keep = [row for row in body if int(float(row[0])) <= start_epoch]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(keep)
    atomic_write(path, out.getvalue())
