"""Per-epoch validation of the super-resolution tasks (SRResNet and SRGAN).

`SRValidation` scores a generator on a fixed `i2i.data.sr.ValidationSet` at the end of
every epoch with the BasicSR protocol (PSNR and SSIM on the Y channel, `scale` border
pixels cropped, outputs rounded to uint8, means over the images), beside MATLAB bicubic
upscaling of the same LR images, and keeps the best generator by PSNR on disk with its
scores in the card. `GeneratorValidation` runs it on the generator an SRGAN exports (its
EMA copy when EMA is on) rather than on the whole GAN.

Logged per epoch (so they go to log.csv and TensorBoard): `val_psnr`, `val_ssim`,
`val_psnr_bicubic`, `val_ssim_bicubic`.

Example:

```python
validation = sr.validation_set(held_out_paths, scale=4, size=256)
callback = SRValidation(validation, "runs/sr/generator.keras", card, epoch_steps=200)
model.fit(patches, epochs=10, steps_per_epoch=200, callbacks=[callback])
callback.best   # {"psnr", "ssim", "psnr_bicubic", "ssim_bicubic", "epoch", "step", ...}
```
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import keras
import numpy as np

from i2i import metrics, training
from i2i.data import sr

SCORES = ("val_psnr", "val_ssim", "val_psnr_bicubic", "val_ssim_bicubic")


class SRValidation(keras.callbacks.Callback):
    """PSNR/SSIM-Y on a fixed validation set each epoch; keeps the best generator.

    Adds the `SCORES` to the epoch logs and saves the generator to `path`, with its
    scores in the card (`validation`), whenever `val_psnr` improves. A resumed run reads
    the best score so far back from that card.

    Args:
        validation: the `i2i.data.sr.ValidationSet`.
        path: the `.keras` file that holds the best generator.
        card: the generator card to save with it (`i2i.zoo`).
        epoch_steps: steps per epoch (for the card's `steps`), or None.
    """

    def __init__(self, validation, path, card: dict, epoch_steps: int | None):
        super().__init__()
        self.validation = validation
        self.path = Path(path)
        self.card = dict(card)
        self.epoch_steps = epoch_steps
        self.best = _saved_best(self.path)
        s = validation.scale
        bicubic = [sr.upsample_bicubic(lr, s) for lr in validation.lr]
        self.bicubic = {
            "psnr": _mean(metrics.psnr, bicubic, validation.hr, s),
            "ssim": _mean(metrics.ssim, bicubic, validation.hr, s),
        }

    def scores(self, network) -> dict:
        """`{"psnr", "ssim"}` of `network` on the validation set."""
        from i2i.inference.tiling import reflect_indices

        outputs = []
        s = self.validation.scale
        # A network with a stride (an unshuffling compact net) takes sides that are
        # multiples of it: reflect-pad as `i2i upscale` does, and crop the output.
        stride = max(1, int(self.card.get("stride", 1)))
        for lr in self.validation.lr:
            h, w = lr.shape[:2]
            rows = reflect_indices(-(-h // stride) * stride, h)
            cols = reflect_indices(-(-w // stride) * stride, w)
            x = np.asarray(lr, np.float32)[rows][:, cols][None] / np.float32(255.0)
            outputs.append(np.asarray(network(x, training=False))[0, : h * s, : w * s])
        return {
            "psnr": _mean(metrics.psnr, outputs, self.validation.hr, s),
            "ssim": _mean(metrics.ssim, outputs, self.validation.hr, s),
        }

    def on_epoch_end(self, epoch, logs=None):
        scores = self.scores(self.model)
        if logs is not None:
            logs["val_psnr"] = scores["psnr"]
            logs["val_ssim"] = scores["ssim"]
            logs["val_psnr_bicubic"] = self.bicubic["psnr"]
            logs["val_ssim_bicubic"] = self.bicubic["ssim"]
        if self.best is None or scores["psnr"] > self.best["psnr"]:
            step = (epoch + 1) * (self.epoch_steps or 0) or None
            self.best = {
                "psnr": round(scores["psnr"], 4),
                "ssim": round(scores["ssim"], 5),
                "psnr_bicubic": round(self.bicubic["psnr"], 4),
                "ssim_bicubic": round(self.bicubic["ssim"], 5),
                "epoch": epoch + 1,
                "step": step,
                "images": list(self.validation.names),
                "protocol": f"Y channel, border {self.validation.scale}, uint8; HR crops",
            }
            best_card = dict(self.card, validation=self.best)
            if step is not None:
                best_card["steps"] = step
            # Saved weights only (zoo.save_generator makes an uncompiled copy), float32.
            training.save_float32_generator(self.model, self.path, best_card)


class GeneratorValidation(keras.callbacks.Callback):
    """Runs an `SRValidation` on the generator an SRGAN validates and exports.

    Before each epoch's validation the inner callback's model is set to
    `SRGAN.evaluation_generator()` (the EMA copy when EMA is on), so it scores, and keeps
    as best-PSNR, a generator rather than the whole GAN. The epoch's scores are kept in
    `record` (for the card).

    Args:
        inner: the `SRValidation`.
    """

    def __init__(self, inner: SRValidation):
        super().__init__()
        self.inner = inner
        self.record = None

    def on_epoch_end(self, epoch, logs=None):
        self.inner.set_model(self.model.evaluation_generator())
        self.inner.on_epoch_end(epoch, logs)
        if logs is not None and "val_psnr" in logs:
            record = {name[4:]: round(float(logs[name]), 4) for name in SCORES}
            self.record = {**record, "epoch": epoch + 1}


def _mean(metric, outputs, targets, scale) -> float:
    values = [
        metric(out, hr, crop_border=scale, y_channel=True)
        for out, hr in zip(outputs, targets, strict=True)
    ]
    finite = [v for v in values if math.isfinite(v)]
    return float(sum(finite) / len(finite)) if finite else float("inf")


def _saved_best(path: Path):
    """The validation record in the card of a generator a previous session kept."""
    card = path.with_suffix(".json")
    if not (path.exists() and card.exists()):
        return None
    return json.loads(card.read_text()).get("validation")
