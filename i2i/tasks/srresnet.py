"""The SRResNet training task: `i2i train srresnet`, SRGAN stage 1 (a pixel loss).

`SRResNetOptions` are a run's model options (`cfg.model`, each settable with `--set`);
`SRResNetTask` trains an SRResNet (`i2i.nets.srresnet`) or the compact network
(`i2i.nets.compact`) with an L1 (or MSE) loss on random patches of a folder of HR images
(`i2i.data.sr`), a plain `compile` / `fit`. Every epoch the generator is scored on
held-out images beside bicubic (`i2i.tasks.sr_validation`) and the best one so far is
kept as `RUN_DIR/generator.keras`.

Held-out images come from `val_data`, else from the data's `test/` split, else `holdout`
images of the training folder are set aside (never trained on).

Example:

```python
from i2i import config, training
from i2i.tasks.srresnet import SRResNetOptions, SRResNetTask

options = SRResNetOptions(data="photos/", scale=4, num_blocks=8, residual="bicubic")
run = config.RunOptions(out="runs/sr_x4", steps=20000, steps_per_epoch=200)
training.run(SRResNetTask(), config.Config(task="srresnet", run=run, model=options))
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from i2i import training
from i2i.common import SR_SCALES as SCALES
from i2i.common import Degradation, SRArchitecture


@dataclass(frozen=True)
class SRDataOptions:
    """The data options both SR tasks share (`i2i train srresnet` and `srgan`).

    Attributes:
        data: HR training folder (images, `hr/`, or `hr/` + `lr/` pairs; `train/` split
            folders allowed).
        val_data: held-out HR folder (or pairs) for validation; "" = the data's `test/`
            split if it has one, else `holdout` images of `data`.
        holdout: images of `data` set aside for validation when there is no other.
        val_size: side of the HR centre crop of each validation image (None: whole).
        scale: 2, 3 or 4.
        patch_size: HR training patch side (a multiple of `scale`).
        degradation: "bicubic" (MATLAB imresize) or "realistic" (the Real-ESRGAN
            high-order degradation, `i2i.data.degradations`; the validation LR is then
            degraded too, with a fixed seed per image, and so is what bicubic scores).
        degradation_options: a JSON file of the realistic degradation's probabilities
            and ranges (`i2i.data.degradations.load_options`); "" = the paper's.
        patches_per_image: patches cut from each decoded training image.
        init_from: the generator to start from (a run directory, .keras file or zoo
            name); see each task's options.
    """

    data: str = ""
    val_data: str = ""
    holdout: int = 1
    val_size: int | None = 256
    scale: int = 4
    patch_size: int = 96
    degradation: Degradation = "bicubic"
    degradation_options: str = ""
    patches_per_image: int = 16
    init_from: str = ""


@dataclass(frozen=True)
class SRResNetOptions(SRDataOptions):
    """Model options of `i2i train srresnet` (each settable with `--set name=value`).

    The data options are `SRDataOptions`'; with them:

    Attributes:
        arch: the network: "srresnet" (`i2i.nets.srresnet`) or "compact"
            (`i2i.nets.compact`: every convolution at LR, one pixel shuffle; several
            times faster at inference).
        num_blocks, batch_norm, output_kernel: SRResNet's residual blocks, batch norm
            and output convolution size (9 in the paper).
        num_conv: the compact network's body convolutions.
        unshuffle: the compact network's input pixel-unshuffle factor (1: none; 2 runs
            an x2 body on a grid 4x smaller, at the x4 network's cost per output pixel).
        filters: feature width of either network.
        residual: "none" or "bicubic" (SRResNet: predict the detail on top of a bicubic
            upscale); the compact network always adds an upscaled copy of its input,
            "bilinear" (also for "none"), "bicubic" or "nearest".
        loss: "l1" or "mse".
        lr: Adam learning rate (betas 0.9, 0.999).
        lr_decay: "cosine" (to `lr_min` over the run's total steps) or "none".
        lr_min: final learning rate of the cosine decay.
        init_from: start from this generator's weights (a run directory, .keras file or
            zoo name of the same architecture), e.g. a bicubic model before training on
            realistic degradations; a resumed run continues from its own checkpoint. A
            compact net with `unshuffle=u` also starts from the x(scale u) compact net
            of its width and depth (`i2i.nets.compact.inflate_unshuffled`), and a
            deeper compact net from a shallower one (`i2i.nets.compact.deepen`).
    """

    arch: SRArchitecture = "srresnet"
    num_blocks: int = 16
    num_conv: int = 16
    unshuffle: int = 1
    filters: int = 64
    batch_norm: bool = True
    output_kernel: int = 9
    residual: Literal["none", "bicubic", "bilinear", "nearest"] = "none"
    loss: Literal["l1", "mse"] = "l1"
    lr: float = 1e-4
    lr_decay: Literal["cosine", "none"] = "cosine"
    lr_min: float = 1e-6


class SRResNetTask(training.TrainTask):
    """The `training.TrainTask` of `i2i train srresnet` (plain compile/fit, pixel loss)."""

    name = "srresnet"
    options_class = SRResNetOptions

    def __init__(self):
        self.validation = None  # the SRValidation callback of the current run
        self._split_cache = None

    # --------------------------------------------------------------- data

    def _splits(self, cfg):
        """(train HR paths, train LR paths or None, validation set) — checked, cached."""
        if self._split_cache is None or self._split_cache[0] != cfg.model:
            self._split_cache = (cfg.model, self._read_splits(cfg))
        return self._split_cache[1]

    def _read_splits(self, cfg):
        from i2i.data import layout, sr

        options = cfg.model
        try:
            if not options.data:
                raise training.TrainingError("no training data: give --data HR_DIR")
            if options.scale not in SCALES:
                raise training.TrainingError(f"scale must be one of {SCALES}")
            hr, lr = layout.sr_files(options.data, "train")
            val_root = options.val_data or _test_split(options.data)
            if val_root:
                val_hr, val_lr = layout.sr_files(val_root, "")
            else:
                val_hr, val_lr = self._holdout(options, hr, lr)
                held = set(val_hr)
                keep = [i for i, path in enumerate(hr) if path not in held]
                hr = [hr[i] for i in keep]
                lr = None if lr is None else [lr[i] for i in keep]
            if val_lr is None:
                validation = sr.validation_set(
                    val_hr, options.scale, options.val_size, degradation=_degradation(options)
                )
            else:
                pairs = list(zip(val_hr, val_lr, strict=True))
                validation = sr.validation_pairs(pairs, options.scale, options.val_size)
        except (layout.DatasetError, sr.SRDataError) as error:
            raise training.TrainingError(str(error)) from None
        return hr, lr, validation

    @staticmethod
    def _holdout(options, hr, lr):
        from i2i.data import sr

        if len(hr) < 2 or not 1 <= options.holdout < len(hr):
            raise training.TrainingError(
                f"{options.data}: cannot hold out {options.holdout} of {len(hr)} images for "
                "validation; give --val-data DIR"
            )
        _, held = sr.split_holdout(hr, options.holdout, seed=0)
        if lr is None:
            return held, None
        by_hr = dict(zip(hr, lr, strict=True))
        return held, [by_hr[path] for path in held]

    def train_dataset(self, cfg, start_step):
        # Keras' plain fit takes (input, target) pairs.
        return self.patches(cfg, start_step).map(lambda batch: (batch["lr"], batch["hr"]))

    def patches(self, cfg, start_step: int):
        """The training batches, `{"lr", "hr"}` dicts of random patches in [0, 1]
        (`i2i.data.sr`), from the checked training split."""
        from i2i.data import check, sr

        options = cfg.model
        hr, lr, _ = self._splits(cfg)
        stride = self.stride(cfg)
        if options.patch_size % (options.scale * stride):
            raise training.TrainingError(
                f"patch_size {options.patch_size} is not a multiple of "
                f"{options.scale * stride} (scale {options.scale} x the network's stride {stride})"
            )
        try:
            check.check_dataset(
                options.data, layout="sr", crop=options.patch_size, scale=options.scale
            ).raise_for_errors()
        except check.DatasetError as error:
            raise training.TrainingError(str(error)) from None
        # Patches are i.i.d. random crops: a resumed run draws a fresh stream seeded by
        # (seed, step) instead of re-reading the batches it already trained on.
        seed = cfg.run.seed * 1_000_003 + start_step
        common = dict(
            scale=options.scale,
            patch_size=options.patch_size,
            batch_size=cfg.run.batch_size,
            patches_per_image=options.patches_per_image,
            seed=seed,
        )
        try:
            if lr is None:
                ds = sr.sr_dataset(
                    hr,
                    degradation=options.degradation,
                    degradation_options=_degradation(options),
                    **common,
                )
            else:
                if options.degradation != "bicubic":
                    raise training.TrainingError(
                        "degradation applies to HR-only data; hr/ + lr/ pairs bring their LR"
                    )
                ds = sr.paired_sr_dataset(_pair_root(hr[0]), **common)
        except sr.SRDataError as error:
            raise training.TrainingError(str(error)) from None
        return ds

    def stride(self, cfg) -> int:
        """What the generator's LR input sides must be multiples of (its card's `stride`)."""
        return _stride(cfg.model)

    # --------------------------------------------------------------- model

    def build_model(self, cfg):
        import keras

        from i2i.optimizers import Adam

        options = cfg.model
        model = build_generator(_architecture(options))
        if options.init_from and training.latest_checkpoint(cfg.run.out) is None:
            _load_initial_weights(model, options)
        lr = options.lr
        total = cfg.run.total_steps
        if options.lr_decay == "cosine" and total:
            lr = keras.optimizers.schedules.CosineDecay(
                options.lr, decay_steps=total, alpha=options.lr_min / options.lr
            )
        loss = "mean_absolute_error" if options.loss == "l1" else "mean_squared_error"
        model.compile(optimizer=Adam(lr), loss=loss)
        return model

    def callbacks(self, cfg, run_dir, model):
        from i2i.tasks.sr_validation import SRValidation

        _, _, validation = self._splits(cfg)
        path = Path(run_dir) / "generator.keras"
        self.validation = SRValidation(validation, path, self.card(cfg), cfg.run.epoch_steps)
        return [self.validation]

    def card(self, cfg) -> dict:
        options = cfg.model
        card = {
            "task": "super-resolution",
            "scale": options.scale,
            "value_range": [0.0, 1.0],
            "stride": _stride(options),
            "architecture": _architecture(options),
            "training": {
                "stage": "srresnet (pixel loss)",
                "data": options.data,
                "loss": options.loss,
                "patch_size": options.patch_size,
                "degradation": options.degradation,
                "batch_size": cfg.run.batch_size,
            },
        }
        if options.degradation == "realistic":
            card["training"]["degradation_options"] = options.degradation_options or "paper"
        if options.init_from:
            card["training"]["init_from"] = options.init_from
        best = getattr(self.validation, "best", None)
        if best is not None:
            card["steps"] = best["step"]
            card["validation"] = best
        return card

    def generators(self, model) -> dict:
        """The best generator by validation PSNR (kept on disk), else the final one."""
        path = getattr(self.validation, "path", None)
        if path is not None and path.exists():
            import keras

            return {"generator": keras.saving.load_model(path, compile=False)}
        return {"generator": model}


def _degradation(options):
    """The realistic degradation's options, or None for bicubic LR."""
    from i2i.data import degradations

    if options.degradation != "realistic":
        return None
    try:
        return degradations.load_options(options.degradation_options)
    except ValueError as error:
        raise training.TrainingError(str(error)) from None


def _load_initial_weights(model, options) -> None:
    """Copy the weights of `options.init_from` (same architecture) into `model`."""
    from i2i import zoo

    try:
        source, card = zoo.load_generator(options.init_from)
    except zoo.ZooError as error:
        raise training.TrainingError(f"init_from: {error}") from None
    want = _architecture(options)
    weights = source.get_weights()
    unshuffle = want.get("unshuffle", 1)
    coarser = {key: value for key, value in want.items() if key != "unshuffle"}
    coarser["scale"] = want["scale"] * unshuffle
    shallower = dict(card.get("architecture") or {}, num_conv=want.get("num_conv"))
    if unshuffle > 1 and card.get("architecture") == coarser:
        # The x(s u) network of the same body: its stem inflated to the unshuffled input.
        from i2i.nets.compact import inflate_unshuffled

        weights = inflate_unshuffled(weights, unshuffle)
    elif (
        want["name"] == "compact"
        and shallower == want
        and card["architecture"]["num_conv"] < want["num_conv"]
    ):
        # The same compact network with fewer body layers: identities fill the rest.
        from i2i.nets.compact import deepen

        weights = deepen(weights, want["num_conv"])
    elif card.get("architecture") != want:
        raise training.TrainingError(
            f"init_from {options.init_from}: its architecture {card.get('architecture')} "
            f"is not this run's {want}"
        )
    model.set_weights(weights)
    training.log(f"generator initialized from {options.init_from}")


def _stride(options) -> int:
    """What the network's LR input sides must be multiples of (the card's `stride`)."""
    return options.unshuffle if options.arch == "compact" else 1


def _architecture(options) -> dict:
    """The generator's builder name and arguments (the card's `architecture`)."""
    residual = None if options.residual == "none" else options.residual
    if options.arch == "compact":
        architecture = {
            "name": "compact",
            "scale": options.scale,
            "num_conv": options.num_conv,
            "filters": options.filters,
            "residual": residual or "bilinear",
        }
        if options.unshuffle != 1:  # cards of older runs have no such key: keep them equal
            architecture["unshuffle"] = options.unshuffle
        return architecture
    if options.unshuffle != 1:
        raise training.TrainingError("unshuffle is for arch=compact; SRResNet takes none")
    if residual not in (None, "bicubic"):
        raise training.TrainingError(
            f"residual={residual} is for arch=compact; SRResNet takes none or bicubic"
        )
    architecture = {
        "name": "srresnet",
        "scale": options.scale,
        "num_blocks": options.num_blocks,
        "filters": options.filters,
        "batch_norm": options.batch_norm,
        "residual": residual,
    }
    if options.output_kernel != 9:  # cards of older runs have no such key: keep them equal
        architecture["output_kernel"] = options.output_kernel
    return architecture


def _test_split(data) -> str:
    """The data's `test/` split folder, if it has one."""
    folder = Path(data) / "test"
    return str(folder) if folder.is_dir() else ""


def _pair_root(hr_file) -> Path:
    """The folder holding `hr/` and `lr/`, from one of its HR files."""
    return Path(hr_file).parent.parent


def build_generator(architecture: dict):
    """The network a card's `architecture` describes: `{"name": <registry.NETS name>,
    **builder arguments}` (raises KeyError / TypeError when it names none)."""
    from i2i import registry

    arguments = dict(architecture)
    return registry.resolve(registry.NETS, arguments.pop("name", None))(**arguments)
