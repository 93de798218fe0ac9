"""Training-health checks: signs that a GAN run has failed, from what it logged.

Pure functions over the logged history (one value per epoch, as in `RUN_DIR/log.csv`),
used by `i2i report`, and `TrainingHealth`, a Keras callback that runs the same checks
at the end of each epoch and logs the warnings during training.

The checks and their default thresholds:
- `discriminator_collapse`: a discriminator loss at ~0 (below `threshold`, 0.01) for
  `patience` (3) consecutive epochs: D separates real from fake perfectly and G gets no
  useful gradient. Skipped for losses that go negative (WGAN critics have no floor).
- `adversarial_divergence`: the generator's adversarial loss above `ratio` (2) times its
  best earlier value for `patience` (5) consecutive epochs without coming back down.
- `sample_diversity`: generated samples for different inputs nearly identical, i.e. the
  per-pixel standard deviation across a batch, as a fraction of the value range, below
  `threshold` (0.02): a sign of mode collapse. The callback logs this number as the
  `sample_diversity` column, so reports can check it after the run.
- `periodic_artifacts`: generated samples drawn on a lattice (checkerboard artefacts of
  transposed convolutions, patterns repeating with the generator's stride): the
  strongest isolated peak of their power spectrum (`lattice_score`) above `threshold`
  (25) times its spectral neighbourhood. Real photos score 2-15 (a brick wall's real
  pattern ~7), the lattice i2i's first day -> night model drew 56. Logged as the
  `sample_lattice` column.

Loss columns are recognised by name (override with `discriminator_columns` /
`adversarial_columns`): discriminator terms start with `d_`, `disc` or `discriminator`
(`d_loss`, `d_adv`, `d_a_loss`); gradient-penalty and accuracy terms, and the real/fake
halves of a D loss (`d_real`, `d_fake`: one half near 0 alone is no collapse) are left
out. Generator adversarial terms start with `g_`/`gen`/`generator` and contain `adv` or
`gan` (`g_gan`, `g_adv`, `g_gan_a2b`).

Example:

```python
from i2i import health

history = health.read_history("runs/p2p/log.csv")   # {"epoch": [...], "d_loss": [...]}
for warning in health.check_history(history):
    print(warning)
model.fit(..., callbacks=[health.TrainingHealth(sample_inputs=batch["source"])])
```
"""

from __future__ import annotations

import csv
import logging
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

LOGGER = logging.getLogger("i2i.health")
DIVERSITY_COLUMN = "sample_diversity"
LATTICE_COLUMN = "sample_lattice"
LATTICE_THRESHOLD = 25.0
# Spectral bins (radius) left out of the lattice search: the slow variations of content.
LOW_FREQUENCY = 4
# Spectra averaged at least (tiles, over the whole batch): a single periodogram's own noise
# reaches ~10-15x its neighbourhood somewhere.
MIN_TILES = 4

_D_NAME = re.compile(r"^(d|disc|discriminator)(_|$)")
_D_EXCLUDE = re.compile(r"gp|penalty|acc|real|fake")
_G_ADV_NAME = re.compile(r"^(g|gen|generator)_.*(adv|gan)")


@dataclass(frozen=True)
class HealthWarning:
    """One failed check.

    Attributes:
        check: the check's name (`discriminator_collapse`, ...).
        column: the logged quantity it concerns.
        first_epoch: the first (1-based) epoch of the bad stretch.
        message: one readable sentence.
    """

    check: str
    column: str
    first_epoch: int
    message: str

    def __str__(self) -> str:
        return self.message


def read_history(path) -> dict[str, list[float]]:
    """A Keras `CSVLogger` file as `{column: values}`; missing or non-numeric cells are
    NaN (columns that appear mid-run are NaN before it)."""
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    columns: dict[str, list[float]] = {}
    for row in rows:
        for name in row:
            if name is not None:
                columns.setdefault(name, [])
    for row in rows:
        for name, values in columns.items():
            values.append(_number(row.get(name)))
    return columns


def epochs_of(history: Mapping[str, Sequence[float]]) -> list[int]:
    """1-based epoch numbers of the history rows: its `epoch` column (from 1, as
    log.csv writes it; a log written before that counts from 0 and is shifted)."""
    length = max((len(v) for v in history.values()), default=0)
    if "epoch" in history and all(math.isfinite(e) for e in history["epoch"]):
        epochs = [int(e) for e in history["epoch"]]
        return [e + 1 for e in epochs] if epochs and epochs[0] == 0 else epochs
    return list(range(1, length + 1))


def discriminator_columns(history: Mapping) -> list[str]:
    """The discriminator loss columns, by name (see the module doc)."""
    return [c for c in history if _D_NAME.match(c) and not _D_EXCLUDE.search(c)]


def adversarial_columns(history: Mapping) -> list[str]:
    """The generator's adversarial loss columns, by name (see the module doc)."""
    return [c for c in history if _G_ADV_NAME.match(c)]


def discriminator_collapse(
    history: Mapping[str, Sequence[float]],
    columns: Sequence[str] | None = None,
    threshold: float = 0.01,
    patience: int = 3,
) -> list[HealthWarning]:
    """Discriminator losses stuck at ~0 for `patience` consecutive epochs."""
    epochs = epochs_of(history)
    warnings = []
    for column in discriminator_columns(history) if columns is None else columns:
        values = np.asarray(history[column], np.float64)
        if np.nanmin(values, initial=np.inf) < 0:
            continue  # a WGAN critic: no floor at 0, nothing to collapse to
        start = _first_run(np.abs(values) < threshold, patience)
        if start is not None:
            warnings.append(
                HealthWarning(
                    "discriminator_collapse",
                    column,
                    epochs[start],
                    f"{column} collapsed to ~0 (< {threshold:g}) from epoch {epochs[start]} "
                    f"for {_run_length(np.abs(values) < threshold, start)} epochs: the "
                    "discriminator wins outright and the generator gets no useful gradient "
                    "(lower the D learning rate, add noise/label smoothing, or check the data)",
                )
            )
    return warnings


def adversarial_divergence(
    history: Mapping[str, Sequence[float]],
    columns: Sequence[str] | None = None,
    ratio: float = 2.0,
    patience: int = 5,
) -> list[HealthWarning]:
    """Generator adversarial losses above `ratio` x their best earlier value for
    `patience` consecutive epochs, ending no lower than they started."""
    epochs = epochs_of(history)
    warnings = []
    for column in adversarial_columns(history) if columns is None else columns:
        values = np.asarray(history[column], np.float64)
        best = np.fmin.accumulate(np.where(np.isfinite(values), values, np.inf))
        previous_best = np.concatenate([[np.inf], best[:-1]])
        # Only meaningful for positive losses (vanilla, LSGAN, hinge G terms are >= 0).
        high = (previous_best > 0) & np.isfinite(previous_best) & (values > ratio * previous_best)
        start = _first_run(high, patience)
        if start is None:
            continue
        length = _run_length(high, start)
        if values[start + length - 1] < values[start]:
            continue  # coming back down
        warnings.append(
            HealthWarning(
                "adversarial_divergence",
                column,
                epochs[start],
                f"{column} diverging: above {ratio:g}x its best value "
                f"({previous_best[start]:.4g}) from epoch {epochs[start]} for {length} epochs, "
                f"reaching {values[start + length - 1]:.4g} (the discriminator is overpowering "
                "the generator)",
            )
        )
    return warnings


def sample_diversity(samples, value_range=(-1.0, 1.0)) -> float:
    """Per-pixel standard deviation across a batch of generated images, averaged over
    pixels and channels, as a fraction of the value range (0 = all identical).

    Args:
        samples: `(N, H, W, C)` array (N >= 2) of generator outputs for N different inputs.
        value_range: the range of the samples.
    """
    samples = np.asarray(samples, np.float64)
    if samples.ndim != 4 or len(samples) < 2:
        raise ValueError(f"need a batch (N >= 2, H, W, C) of samples, got {samples.shape}")
    span = float(value_range[1] - value_range[0])
    return float(samples.std(axis=0).mean() / span)


def low_diversity(
    history: Mapping[str, Sequence[float]], threshold: float = 0.02, patience: int = 1
) -> list[HealthWarning]:
    """The logged `sample_diversity` below `threshold` (see `sample_diversity`)."""
    if DIVERSITY_COLUMN not in history:
        return []
    epochs = epochs_of(history)
    values = np.asarray(history[DIVERSITY_COLUMN], np.float64)
    low = values < threshold
    start = _first_run(low, patience)
    if start is None:
        return []
    last = start + _run_length(low, start) - 1
    return [
        HealthWarning(
            "sample_diversity",
            DIVERSITY_COLUMN,
            epochs[start],
            f"generated samples nearly identical across a batch (diversity {values[last]:.4f} "
            f"< {threshold:g} of the value range) from epoch {epochs[start]}: mode collapse",
        )
    ]


@dataclass(frozen=True)
class LatticeScore:
    """The strongest isolated peak of an image's power spectrum (see `lattice_score`).

    Attributes:
        ratio: the peak's power over the median power of its 7x7 spectral neighbourhood.
        period: the lattice's period in pixels (from the peaks' common frequency step).
        tile: the side of the tiles the spectrum was averaged over.
    """

    ratio: float
    period: float
    tile: int


def lattice_score(images, max_tile: int = 256) -> LatticeScore | None:
    """How strongly `images` repeat on a lattice: the strongest isolated spectral peak.

    The luminance is cut into half-overlapping square tiles (the largest power of two up
    to `max_tile` that gives `MIN_TILES` tiles over the batch, at least 32), each
    Hann-windowed, and their power spectra averaged (Welch's method: averaging tames the
    periodogram's noise, whose peaks would otherwise reach ~15x on any image). Each
    frequency's power is compared to the median of its 7x7 neighbourhood (log domain): a
    periodic pattern is a narrow peak far above it, natural images have smooth spectra. The lowest
    frequencies (radius < 4 bins) and the two axes (+-1 bin: horizons, frame edges and
    other straight lines concentrate there) are left out: a lattice is found when its
    period is at most a quarter of the tile (its harmonics are then 4 bins apart). The
    period is the tile size over the greatest common divisor of the strongest peaks'
    frequency indices: the spacing of the lattice whose harmonics they are.

    Args:
        images: one image `(H, W)` or `(H, W, C)`, or a batch `(N, H, W, C)`; any dtype
            and value range.
        max_tile: the largest tile side.

    Returns:
        A `LatticeScore`, or None for images smaller than 32 px.

    Reference:
        Welch, "The use of fast Fourier transform for the estimation of power spectra",
        IEEE Trans. Audio Electroacoustics 1967; Odena et al., "Deconvolution and
        Checkerboard Artifacts", Distill 2016.
    """
    from scipy import ndimage

    batch = np.asarray(images, np.float64)
    if batch.ndim == 2:
        batch = batch[..., None]
    if batch.ndim == 3:
        batch = batch[None]
    gray = batch[..., :3] @ [0.299, 0.587, 0.114] if batch.shape[-1] >= 3 else batch[..., 0]
    height, width = gray.shape[1:3]

    def tiles(side):  # half-overlapping tiles of this side in the whole batch
        return (
            len(gray) * ((height - side) // (side // 2) + 1) * ((width - side) // (side // 2) + 1)
        )

    tile = max_tile
    while tile > 32 and (tile > min(height, width) or tiles(tile) < MIN_TILES):
        tile //= 2
    if tile > min(height, width):
        return None
    window = np.outer(np.hanning(tile), np.hanning(tile))
    power, count = np.zeros((tile, tile)), 0
    step = tile // 2
    for image in gray:
        for top in range(0, image.shape[0] - tile + 1, step):
            for left in range(0, image.shape[1] - tile + 1, step):
                patch = image[top : top + tile, left : left + tile]
                power += np.abs(np.fft.fft2((patch - patch.mean()) * window)) ** 2
                count += 1
    power = np.fft.fftshift(power / count)
    if power.max() <= 0:  # constant images: no pattern at all
        return LatticeScore(1.0, float("inf"), tile)
    log_power = np.log(power + power.max() * 1e-12)
    ratio = np.exp(log_power - ndimage.median_filter(log_power, size=7, mode="wrap"))
    ky, kx = np.mgrid[:tile, :tile] - tile // 2
    ratio[(np.hypot(ky, kx) < LOW_FREQUENCY) | (np.abs(ky) <= 1) | (np.abs(kx) <= 1)] = 0
    ratio[: tile // 2] = 0  # the spectrum of a real image is symmetric: one half
    order = np.argsort(ratio.ravel())[::-1]
    best = float(ratio.ravel()[order[0]])
    strong = [i for i in order[:10] if ratio.ravel()[i] > best / 2]
    step = np.gcd.reduce([abs(int(k)) for i in strong for k in (ky.ravel()[i], kx.ravel()[i]) if k])
    return LatticeScore(best, tile / int(step), tile)


def periodic_artifacts(
    history: Mapping[str, Sequence[float]], threshold: float = LATTICE_THRESHOLD
) -> list[HealthWarning]:
    """The logged `sample_lattice` above `threshold` (see `lattice_score`)."""
    if LATTICE_COLUMN not in history:
        return []
    values = np.asarray(history[LATTICE_COLUMN], np.float64)
    start = _first_run(values > threshold, 1)
    if start is None:
        return []
    epochs = epochs_of(history)
    return [
        HealthWarning(
            "periodic_artifacts",
            LATTICE_COLUMN,
            epochs[start],
            f"generated samples repeat on a lattice from epoch {epochs[start]} (spectral "
            f"peak {values[start]:.0f}x its neighbourhood > {threshold:g}): checkerboard "
            "or stride artefacts; try --set upsample=resize",
        )
    ]


def check_history(history: Mapping[str, Sequence[float]], **thresholds) -> list[HealthWarning]:
    """All checks on a logged history.

    Args:
        history: `{column: per-epoch values}` (`read_history`, or `keras.callbacks.History
            .history`).
        **thresholds: per-check keyword arguments, e.g.
            `discriminator_collapse={"threshold": 1e-3}`.
    """
    return [
        *discriminator_collapse(history, **thresholds.get("discriminator_collapse", {})),
        *adversarial_divergence(history, **thresholds.get("adversarial_divergence", {})),
        *low_diversity(history, **thresholds.get("sample_diversity", {})),
        *periodic_artifacts(history, **thresholds.get("periodic_artifacts", {})),
    ]


def _number(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return float("nan")


def _first_run(mask: np.ndarray, length: int) -> int | None:
    """Start of the first run of at least `length` consecutive True values."""
    count = 0
    for index, flag in enumerate(mask):
        count = count + 1 if flag else 0
        if count == length:
            return index - length + 1
    return None


def _run_length(mask: np.ndarray, start: int) -> int:
    length = 0
    while start + length < len(mask) and mask[start + length]:
        length += 1
    return length


def __getattr__(name):
    # The callback class is built on first use: reports (and `i2i --help`) import this
    # module without paying for TensorFlow.
    if name == "TrainingHealth":
        global TrainingHealth
        TrainingHealth = _training_health_class()
        return TrainingHealth
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _training_health_class():
    import keras

    return type(
        "TrainingHealth",
        (_TrainingHealthMixin, keras.callbacks.Callback),
        {"__module__": __name__, "__doc__": _TrainingHealthMixin.__doc__},
    )


class _TrainingHealthMixin:
    """Keras callback: runs the health checks each epoch and logs new warnings.

    Each warning is logged once (logger `i2i.health`, level WARNING) when it first
    appears, and kept in `self.warnings`. With `sample_inputs`, the generator is run on
    that fixed batch at each epoch end and `sample_diversity` (batches of two or more)
    and `sample_lattice` (`lattice_score().ratio`, samples of 32 px or more) are added
    to the epoch logs (so they land in log.csv and TensorBoard when this callback runs
    before the CSV logger).

    Args:
        sample_inputs: a fixed batch (N >= 2) of generator inputs, or None.
        generator: the network to sample; default the trained model (a `GANModel`'s
            `call` delegates to its generator).
        value_range: the generator's output range (for the diversity fraction).
        thresholds: per-check keyword arguments, as for `check_history`.

    Example:
        `TrainingHealth(sample_inputs=next(iter(ds))["source"][:8])`
    """

    def __init__(self, sample_inputs=None, generator=None, value_range=(-1.0, 1.0), **thresholds):
        super().__init__()  # keras.callbacks.Callback
        self.sample_inputs = sample_inputs
        self.generator = generator
        self.value_range = value_range
        self.thresholds = thresholds
        self.history: dict[str, list[float]] = {}
        self.warnings: list[HealthWarning] = []

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        if self.sample_inputs is not None:
            network = self.generator if self.generator is not None else self.model
            outputs = np.asarray(network(self.sample_inputs, training=False))
            if len(outputs) >= 2:
                logs[DIVERSITY_COLUMN] = sample_diversity(outputs, self.value_range)
            lattice = lattice_score(outputs)
            if lattice is not None:
                logs[LATTICE_COLUMN] = lattice.ratio
        row = {"epoch": float(epoch + 1), **{k: _scalar(v) for k, v in logs.items()}}
        length = len(next(iter(self.history.values()), []))
        for name in row.keys() | self.history.keys():
            self.history.setdefault(name, [float("nan")] * length).append(
                row.get(name, float("nan"))
            )
        seen = {(w.check, w.column, w.first_epoch) for w in self.warnings}
        for warning in check_history(self.history, **self.thresholds):
            if (warning.check, warning.column, warning.first_epoch) not in seen:
                self.warnings.append(warning)
                LOGGER.warning("epoch %d: %s", epoch + 1, warning.message)


def _scalar(value) -> float:
    try:
        return float(np.asarray(value))
    except (TypeError, ValueError):
        return float("nan")
