"""The pix2pix training task: `i2i train pix2pix` and `i2i finetune`.

`Pix2PixOptions` are a run's model options (`cfg.model`, each settable with `--set`);
`Pix2PixTask` trains `i2i.gans.pix2pix.Pix2Pix` on a paired dataset (`i2i.data.paired`):
the data is checked first, the generator is validated on a `test/` (or `val/`) split
each epoch, sample grids go to `RUN_DIR/samples/`, the learning rate decays linearly
over the last `decay_epochs`, and the generator is exported with a U-Net card.
`finetune_options` derives the options of `i2i finetune` from a source model.

Example:

```python
from i2i import config, training
from i2i.tasks.pix2pix import Pix2PixOptions, Pix2PixTask

options = Pix2PixOptions(data="data/facades", direction="b2a")
cfg = config.Config(task="pix2pix", run=config.RunOptions(out="runs/facades", epochs=200,
                    batch_size=1), model=options)
training.run(Pix2PixTask(), cfg)
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from i2i import training
from i2i.common import Direction
from i2i.gans.gan_model import ema_arguments
from i2i.gans.pix2pix import build_pix2pix
from i2i.optimizers import Adam
from i2i.tasks import translation

# The learning rate `i2i finetune` starts from: a tenth of the paper's 2e-4, so the
# pretrained generator is adjusted, not retrained.
FINETUNE_LEARNING_RATE = 2e-5
# The automatic U-Net depth halves the crop while it is even; more than this many pixels
# left at the bottleneck (100 -> 25 px, depth 2) is refused as a crippled network.
MAX_BOTTLENECK = 8
# Model options that describe the networks (copied from a source run when fine-tuning).
NETWORK_OPTIONS = (
    "image_size",
    "filters",
    "depth",
    "dropout",
    "norm",
    "discriminator_filters",
    "n_layers",
    "gan_mode",
    "l1_weight",
    "upsample",
    "pixel_loss",
    "pixel_blur",
)


@dataclass(frozen=True)
class Pix2PixOptions(translation.TranslationDataOptions):
    """The model options of a pix2pix run (`cfg.model`; each can be `--set`).

    The data options (`data`: a paired dataset, `image_size`, `load_size`, `preprocess`,
    `flip`) are `i2i.tasks.translation.TranslationDataOptions`; with them:

    Attributes:
        direction: "a2b" (translate A into B) or "b2a".
        filters: U-Net width (ngf).
        depth: U-Net depth (default: from image_size; fine-tuning pins it).
        dropout: U-Net decoder dropout.
        norm: normalization of G and D: "batch", "instance" or "none".
        upsample: the U-Net decoder: "transpose" (4x4 transposed convolutions, the
            paper) or "resize" (bilinear 2x + 3x3 convolution: no checkerboard lattice).
        discriminator_filters: PatchGAN width (ndf).
        n_layers: PatchGAN stride-2 layers (3: 70x70 patches).
        gan_mode: "vanilla", "lsgan", "hinge" or "wgan-gp".
        l1_weight: lambda of the pixel term (L1 in the paper).
        pixel_loss: "l1" (the paper) or "l2" (the conditional mean: better on sparse
            targets such as night lights, see `i2i.gans.pix2pix.Pix2Pix`).
        pixel_blur: Gaussian sigma (pixels) of both images in the pixel term (0: none;
            see `i2i.gans.pix2pix.Pix2Pix`).
        lr: Adam learning rate of G and D.
        beta_1: Adam beta_1.
        ema_decay: momentum of a moving average of the generator weights, which is
            what gets exported (0: none, the paper; ESRGAN / BasicSR use 0.999). The
            average runs with the batch-norm statistics of the current weights.
        decay_epochs: the last epochs of the run, over which the learning rate decays
            linearly towards 0 (`i2i.callbacks.LinearDecay`; the reference trains
            100 + 100 epochs); 0 keeps it constant.
        validate: score the generator losses on a test/ (or val/) split each epoch.
        init_from: start from this generator (a run directory, .keras file or zoo
            name); a run directory's checkpoint also gives the discriminator.
    """

    direction: Direction = "a2b"
    filters: int = 64
    depth: int | None = None
    dropout: float = 0.5
    norm: Literal["batch", "instance", "none"] = "batch"
    upsample: Literal["transpose", "resize"] = "transpose"
    discriminator_filters: int = 64
    n_layers: int = 3
    gan_mode: Literal["vanilla", "lsgan", "hinge", "wgan-gp"] = "vanilla"
    l1_weight: float = 100.0
    pixel_loss: Literal["l1", "l2"] = "l1"
    pixel_blur: float = 0.0
    lr: float = 2e-4
    beta_1: float = 0.5
    ema_decay: float = 0.0
    decay_epochs: int = 0
    validate: bool = True
    init_from: str = ""


def _build(options: Pix2PixOptions, **kwargs):
    """The (uncompiled) `Pix2Pix` the network options describe."""
    return build_pix2pix(**{name: getattr(options, name) for name in NETWORK_OPTIONS}, **kwargs)


def _unet_card_architecture(card: dict) -> dict | None:
    architecture = card.get("architecture") or {}
    return architecture if architecture.get("name") == "unet" else None


def finetune_options(source, **changes) -> Pix2PixOptions:
    """Options to fine-tune the generator `source` (without loading it).

    The network options come from the source run's config.json when `source` is a
    pix2pix run directory, else from the U-Net architecture in its card; the learning
    rate defaults to `FINETUNE_LEARNING_RATE`.

    Args:
        source: a run directory, a `.keras` file or a zoo name.
        **changes: option values that take precedence (data, direction, image_size...).

    Raises:
        i2i.training.TrainingError: `source` names no generator.
    """
    from i2i import config as config_lib
    from i2i import zoo

    try:
        entry = zoo.resolve_model(source)
    except zoo.ZooError as error:
        raise training.TrainingError(str(error)) from None
    values = {"lr": FINETUNE_LEARNING_RATE}
    source_config = _source_run_config(entry)
    if source_config is not None:
        values.update({k: getattr(source_config.model, k) for k in NETWORK_OPTIONS})
    elif (architecture := _unet_card_architecture(entry.card)) is not None:
        for key in ("image_size", "filters", "dropout", "norm", "depth", "upsample"):
            if key in architecture:
                values[key] = architecture[key]
    if values.get("depth") is None and "image_size" in values:
        from i2i.nets.unet import unet_depth

        # Pin the depth: fine-tuning crops may differ from the source's training size.
        values["depth"] = unet_depth(values["image_size"])
    values["init_from"] = zoo.absolute_reference(source)
    values.update({k: v for k, v in changes.items() if v is not None})
    try:
        return config_lib.replace_model(config_lib.Config(model=Pix2PixOptions()), **values).model
    except config_lib.ConfigError as error:
        raise training.TrainingError(str(error)) from None


def _source_run_config(entry):
    """The `Config` of the pix2pix run `entry` comes from, or None."""
    from i2i import config as config_lib

    if entry.kind != "run":
        return None
    path = entry.path.parent / "config.json"
    if not path.exists():
        return None
    try:
        cfg = config_lib.read(path, Pix2PixOptions)
    except config_lib.ConfigError:
        return None  # another model's run: its generator alone is used
    return cfg if cfg.task == Pix2PixTask.name else None


class Pix2PixTask(translation.TranslationTask):
    """`i2i train pix2pix` and `i2i finetune`: pix2pix on a paired dataset.

    With `init_from` set the generator starts from that model (rebuilt from its card's
    U-Net architecture under the run's precision, or used as it is when the card has
    none), and the discriminator from the source run's last checkpoint when there is
    one (a fresh discriminator otherwise).
    """

    name = "pix2pix"
    options_class = Pix2PixOptions
    data_family = "paired"

    # ------------------------------------------------------------------ checks

    def stride(self, cfg) -> int:
        """The multiple input sizes must be (the U-Net's, or the source card's)."""
        from i2i.nets.unet import unet_stride

        m = cfg.model
        source = self._source_entry(m)
        if source is not None and _unet_card_architecture(source.card) is None:
            return int(source.card.get("stride", 1))
        return unet_stride(m.image_size, m.depth)

    def check_data(self, cfg) -> None:
        stride = self.stride(cfg)
        if cfg.model.image_size % stride:
            nearest = stride * max(1, round(cfg.model.image_size / stride))
            raise training.TrainingError(
                f"image_size {cfg.model.image_size} is not a multiple of the generator's "
                f"stride {stride} (use --image-size {nearest})"
            )
        self._check_depth(cfg)
        smallest = 3 * 2**cfg.model.n_layers  # the PatchGAN's smallest input
        if cfg.model.image_size < smallest:
            raise training.TrainingError(
                f"image_size {cfg.model.image_size} is too small for a PatchGAN with "
                f"n_layers={cfg.model.n_layers} (needs >= {smallest}; lower n_layers)"
            )
        super().check_data(cfg)

    def _check_depth(self, cfg) -> None:
        """Refuse a crop size whose automatic U-Net depth cripples the generator."""
        from i2i.nets.unet import nearest_deep_size, unet_depth

        m = cfg.model
        if m.depth is not None or self._source_entry(m) is not None:
            return  # asked for, or pinned by the source network
        depth = unet_depth(m.image_size)
        bottom = m.image_size >> depth
        if bottom > MAX_BOTTLENECK:
            raise training.TrainingError(
                f"image_size {m.image_size} gives a U-Net of depth {depth} only: the "
                f"encoder halves the crop while it is even, down to {bottom} px, so the "
                f"generator sees little of the image (64 gives depth 6, 256 depth 8); use "
                f"--image-size {nearest_deep_size(m.image_size, MAX_BOTTLENECK)}, or "
                "--set depth=N to choose the depth"
            )

    # ------------------------------------------------------------------ model

    def build_model(self, cfg):
        m = cfg.model
        generator, discriminator_weights = None, None
        source = self._source_entry(m)
        if source is not None:
            generator, discriminator_weights = self._source_networks(source, m)
        model = _build(m, seed=cfg.run.seed, generator=generator, ema_decay=m.ema_decay)
        if discriminator_weights is not None:
            try:
                model.discriminator.set_weights(discriminator_weights)
            except ValueError:
                raise training.TrainingError(
                    f"{m.init_from}: its discriminator does not fit the options "
                    "discriminator_filters / n_layers / norm of this run"
                ) from None
        model.compile(
            generator_optimizer=Adam(m.lr, beta_1=m.beta_1, **ema_arguments(m.ema_decay)),
            discriminator_optimizer=Adam(m.lr, beta_1=m.beta_1),
        )
        return model

    @staticmethod
    def _source_entry(m):
        if not m.init_from:
            return None
        from i2i import zoo

        try:
            return zoo.resolve_model(m.init_from)
        except zoo.ZooError as error:
            raise training.TrainingError(f"init_from: {error}") from None

    def _source_networks(self, entry, m):
        """(generator to train, discriminator weights or None) from the source model."""
        from i2i import zoo
        from i2i.nets.unet import unet

        try:
            loaded, card = zoo.load_generator(entry)
        except zoo.ZooError as error:
            raise training.TrainingError(str(error)) from None
        if _unet_card_architecture(card) is None:
            # No recipe to rebuild it: train the file's own network (float32 layers).
            training.log(f"fine-tuning {entry.label} as saved (its card names no U-Net)")
            generator = loaded
        else:
            generator = unet(
                m.image_size,
                filters=m.filters,
                norm=m.norm,
                dropout=m.dropout,
                depth=m.depth,
                upsample=m.upsample,
            )
            try:
                generator.set_weights(loaded.get_weights())
            except ValueError:
                raise training.TrainingError(
                    f"{entry.label}: its U-Net does not fit the options filters / depth / "
                    "norm of this run (i2i finetune copies them from the source)"
                ) from None
        training.log(f"generator initialized from {entry.label}")
        return generator, self._source_discriminator_weights(entry)

    @staticmethod
    def _source_discriminator_weights(entry):
        """The discriminator of the source run's last checkpoint, or None."""
        source_config = _source_run_config(entry)
        run_dir = entry.path.parent
        record = training.latest_checkpoint(run_dir) if source_config is not None else None
        if record is None:
            training.log("discriminator: a fresh one (the source has no pix2pix checkpoint)")
            return None
        source_model = _build(source_config.model)
        source_model.compile()
        checkpoint = run_dir / training.CHECKPOINT_DIR / record["dir"]
        training.load_state(source_model, checkpoint)
        training.log(f"discriminator initialized from {checkpoint}")
        return source_model.discriminator.get_weights()

    # ------------------------------------------------------------------ data

    def _dataset(self, cfg, split, training_mode, batch_size, repeat=False):
        from i2i.data.paired import paired_dataset

        m = cfg.model
        return paired_dataset(
            m.data,
            split,
            batch_size=batch_size,
            image_size=m.image_size,
            load_size=m.load_size,
            preprocess=m.preprocess,
            direction=m.direction,
            training=training_mode,
            flip=m.flip,
            seed=cfg.run.seed,
            repeat=repeat,
        )

    def train_dataset(self, cfg, start_step):
        from i2i.data.layout import DatasetError
        from i2i.data.paired import paired_count

        repeat = cfg.run.epoch_steps is not None
        try:
            if not repeat and paired_count(cfg.model.data, "train") < cfg.run.batch_size:
                raise training.TrainingError(
                    f"{cfg.model.data}: fewer training pairs than one batch "
                    f"({cfg.run.batch_size}); lower --batch-size"
                )
            data = self._dataset(cfg, "train", True, cfg.run.batch_size, repeat=repeat)
        except DatasetError as error:
            raise training.TrainingError(str(error)) from None
        # A repeated stream is positioned exactly; one pass per epoch restarts anyway.
        return training.skip_batches(data, start_step) if repeat else data

    @staticmethod
    def _held_out_split(root) -> str | None:
        for split in ("test", "val"):
            if (Path(root) / split).is_dir():
                return split
        return None

    def validation_dataset(self, cfg):
        split = self._held_out_split(cfg.model.data)
        if not cfg.model.validate or split is None:
            return None
        return self._dataset(cfg, split, False, cfg.run.batch_size)

    def callbacks(self, cfg, run_dir, model) -> list:
        """The sample grids, plus the linear learning-rate decay when `decay_epochs`."""
        from i2i.callbacks import LinearDecay

        callbacks = super().callbacks(cfg, run_dir, model)
        epochs = cfg.run.total_epochs
        decay = min(max(cfg.model.decay_epochs, 0), epochs)
        if decay:
            callbacks.append(LinearDecay(epochs - decay, decay, cfg.model.lr))
        return callbacks

    def sample_batch(self, cfg):
        split = self._held_out_split(cfg.model.data) or "train"
        batch = next(iter(self._dataset(cfg, split, False, self.sample_count)))
        return batch["source"].numpy(), batch["target"].numpy()

    # ------------------------------------------------------------------ export

    def card(self, cfg):
        from i2i.nets.unet import unet_depth

        m = cfg.model
        extra = {"model": "pix2pix", "direction": m.direction, "data": m.data}
        source = self._source_entry(m)
        if source is not None:
            extra["finetuned_from"] = m.init_from
            if _unet_card_architecture(source.card) is None:
                architecture = source.card.get("architecture") or {"name": "unknown"}
                return translation.translation_card(self.stride(cfg), architecture, **extra)
        architecture = {
            "name": "unet",
            "image_size": m.image_size,
            "filters": m.filters,
            "norm": m.norm,
            "dropout": m.dropout,
            "depth": unet_depth(m.image_size, m.depth),
            "upsample": m.upsample,
        }
        if m.ema_decay:
            extra["weights"] = f"moving average of the generator (ema_decay {m.ema_decay})"
        return translation.translation_card(self.stride(cfg), architecture, **extra)
