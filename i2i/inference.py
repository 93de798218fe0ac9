"""Tiled, batched, streaming inference: the engine behind `i2i upscale` and `i2i translate`.

`Engine` runs a generator on images of any size and kind; `plan_jobs` and `run_jobs` run
it over files, folders and globs, mirroring the input tree under an output folder.

How an image goes through the model:
- The card (`i2i.zoo`) says how to feed it: `value_range` of the floats, `scale` of the
  output, `stride` the input sides must be multiples of.
- The image is cut into tiles on the host (never whole on the device). Tile starts and
  sizes are multiples of the stride, so every tile sees the same downsampling grid as the
  whole image would; only the bottom/right border is padded (reflect) to the stride and
  cropped off the output. Images smaller than a tile are processed whole; images smaller
  than the model can take (reflection padding inside the net needs a few pixels) are
  reflect-padded up to the smallest side it accepts, found by probing once.
- Neighbouring tiles overlap; in the overlap, each tile's weight is 0 on its outer
  quarter (where the tile's missing context shows) and rises smoothly (smoothstep) to 1
  across the middle half. The weights of the tiles covering a pixel sum to exactly 1, so
  for a convolutional net whose receptive radius fits in a quarter of the overlap the
  tiled output equals the whole-image output, and otherwise the seams are feathered.
- Blending streams: finished output rows are written into the output array (already
  converted to the output dtype) as soon as no later tile touches them, so the float
  working set is one tile row's overlap band, not the output image.
- Tile size, when not given, comes from a memory budget and an estimate of the model's
  activations per input pixel. Blending runs in a thread beside the model.
- RGBA: colour under fully transparent pixels is filled from the surrounding visible
  colour (push-pull over premultiplied colour) before the model sees it, so no dark fringe
  bleeds into the edges; alpha is upscaled with bicubic or through the model. Gray stays
  gray, 16-bit stays 16-bit; EXIF orientation is applied on read (`i2i.imageio`).

Models with instance normalization (statistics over the whole input) are only
approximately tileable: their auto tile size is the same, but `Engine.exact_tiling` is
`False` and the commands say so when such a model has to tile an image.

Example:

```python
from i2i import imageio, inference, zoo

model, card = zoo.load_generator("srresnet-x4")
engine = inference.Engine(model, card)                # auto tile from the memory budget
sr = engine.process(imageio.read_image("photo.png"))  # uint8/uint16, gray/RGB/RGBA

jobs = inference.plan_jobs(["photos/"], "upscaled/", recursive=True)
summary = inference.run_jobs(engine, jobs, skip_existing=True)
```
"""

from __future__ import annotations

import glob
import math
import os
import sys
import threading
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from i2i import imageio

DEFAULT_MEMORY_BUDGET = 1 << 30  # bytes: activations and float output blocks of a batch
# Input pixels. 48 keeps a full-size SRResNet (receptive radius ~40 px) within 1/255 of
# whole-image output; 32 left up to 5/255 (benchmarks/inference.py notes).
DEFAULT_OVERLAP = {"super-resolution": 48, "translation": 64}
MIN_TILE = 64
MAX_TILE = 2048
PRECISIONS = ("auto", "float32", "float16", "bfloat16")
ALPHA_MODES = ("bicubic", "model")
EXTENSIONS = ("same", "png", "jpg", "webp")
# The outer part of each overlap band, as a fraction, where a tile's weight is 0.
_DEAD_ZONE = 0.25


class InferenceError(Exception):
    """A job cannot run as asked; `str(error)` is one line for the user."""


# --------------------------------------------------------------------------- tiling


@dataclass(frozen=True)
class AxisPlan:
    """How one image axis is cut into tiles (all in input pixels).

    Attributes:
        length: the image's length along the axis.
        padded: `length` padded up to a multiple of the stride.
        size: the tile length (a multiple of the stride; `padded` when not tiled).
        starts: where the tiles start (multiples of the stride); the last one ends at
            `padded`. Consecutive tiles overlap; non-adjacent tiles never do.
    """

    length: int
    padded: int
    size: int
    starts: tuple[int, ...]

    def overlap(self, i: int) -> int:
        """Pixels shared by tile `i` and tile `i + 1`."""
        return self.starts[i] + self.size - self.starts[i + 1]


def plan_axis(
    length: int, stride: int, tile: int | None, overlap: int, minimum: int = 1
) -> AxisPlan:
    """Cut an axis of `length` pixels into as few tiles of at most `tile` pixels as cover
    it with at least `overlap` pixels shared between neighbours.

    Everything is rounded to whole stride cells: `tile` down, `overlap` up. The overlap is
    reduced if needed so that non-adjacent tiles never overlap (at most two tiles cover
    any pixel along an axis, which the streaming blend relies on). `tile=None` means one
    tile for the whole axis. `minimum` is the smallest side the model accepts: shorter
    axes are padded up to it, and tiles are never smaller.
    """
    if length < 1:
        raise ValueError(f"cannot tile an axis of length {length}")
    min_cells = max(1, -(-minimum // stride))
    cells = max(-(-length // stride), min_cells)
    max_cells = cells if tile is None else max(tile // stride, min_cells)
    if cells <= max_cells:
        return AxisPlan(length, cells * stride, cells * stride, (0,))
    overlap_cells = min(-(-max(overlap, 0) // stride), max_cells // 2)
    while True:
        plan = _plan_cells(cells, max_cells, overlap_cells)
        if plan is not None or overlap_cells == 0:
            break
        overlap_cells -= 1
    if plan is None:
        raise AssertionError(f"no tiling for {cells} cells of {max_cells}")  # unreachable
    size, starts = plan
    return AxisPlan(length, cells * stride, size * stride, tuple(s * stride for s in starts))


def _plan_cells(cells: int, max_cells: int, overlap: int):
    """(tile size, starts) in cells, or None if `overlap` is too large for `max_cells`."""
    if overlap >= max_cells:
        return None
    count = -(-(cells - overlap) // (max_cells - overlap))
    size = -(-(cells + (count - 1) * overlap) // count)
    span = cells - size
    starts = [i * span // (count - 1) for i in range(count)]
    for i in range(count - 1):
        if starts[i] + size - starts[i + 1] < overlap:
            return None
    for i in range(count - 2):
        if starts[i] + size > starts[i + 2]:
            return None
    return size, starts


def _ramp(n: int) -> np.ndarray:
    """Weights rising from 0 to 1 across an overlap band of `n` output pixels.

    Zero on the outer `_DEAD_ZONE` of the band, smoothstep across the middle. Symmetric:
    `ramp(x) + ramp(1 - x) == 1`, so the tile on the other side uses `1 - ramp`.
    """
    x = (np.arange(n, dtype=np.float64) + 0.5) / n
    y = np.clip((x - _DEAD_ZONE) / (1.0 - 2.0 * _DEAD_ZONE), 0.0, 1.0)
    return y * y * (3.0 - 2.0 * y)


def tile_weights(plan: AxisPlan, i: int, scale: int) -> np.ndarray:
    """Blending weights of tile `i` along an axis, in output pixels (`size * scale`)."""
    n = plan.size * scale
    weights = np.ones(n, np.float64)
    if i > 0:
        band = plan.overlap(i - 1) * scale
        weights[:band] = _ramp(band)
    if i < len(plan.starts) - 1:
        band = plan.overlap(i) * scale
        weights[n - band :] *= 1.0 - _ramp(band)
    return weights.astype(np.float32)


class _StreamingBlender:
    """Accumulates weighted tile outputs in raster order, emitting finished regions.

    Holds one float band per tile row (the rows the next tile row will also write) and
    one column band per tile (the columns the next tile in the row will also write).
    `sink(y, x, block)` receives final float blocks in padded output coordinates.
    """

    def __init__(self, rows: AxisPlan, cols: AxisPlan, scale: int, channels: int, sink):
        self.rows, self.cols, self.scale, self.sink = rows, cols, scale, sink
        self.row_weights = [tile_weights(rows, i, scale) for i in range(len(rows.starts))]
        self.col_weights = [tile_weights(cols, i, scale) for i in range(len(cols.starts))]
        self.width = cols.padded * scale
        self.channels = channels
        self.top = None  # rows shared with the previous tile row, full width
        self.next_top = None
        self.pending = None  # columns shared with the previous tile in this row

    def add(self, r: int, c: int, block: np.ndarray) -> None:
        s, rows, cols = self.scale, self.rows, self.cols
        height, width = rows.size * s, cols.size * s
        y, x = rows.starts[r] * s, cols.starts[c] * s
        last_row, last_col = r == len(rows.starts) - 1, c == len(cols.starts) - 1
        if len(rows.starts) > 1:  # a single tile along an axis has weights of 1
            block *= self.row_weights[r][:, None, None]
        if len(cols.starts) > 1:
            block *= self.col_weights[c][None, :, None]
        if c == 0:
            self.pending = None
            if not last_row:
                shared = rows.overlap(r) * s
                self.next_top = np.zeros((shared, self.width, self.channels), np.float32)
        if self.pending is not None:
            block[:, : self.pending.shape[1]] += self.pending
        done = width if last_col else (cols.starts[c + 1] - cols.starts[c]) * s
        self.pending = None if last_col else block[:, done:].copy()
        block = block[:, :done]
        if self.top is not None:
            block[: self.top.shape[0]] += self.top[:, x : x + done]
        final = height if last_row else (rows.starts[r + 1] - rows.starts[r]) * s
        self.sink(y, x, block[:final])
        if not last_row:
            self.next_top[:, x : x + done] = block[final:]
        if last_col:
            self.top, self.next_top = self.next_top, None


def _reflect_indices(padded: int, length: int) -> np.ndarray:
    """Indices mapping `[0, padded)` into `[0, length)`, reflecting past the end."""
    index = np.arange(padded)
    if length == 1:
        return np.zeros(padded, np.intp)
    period = 2 * (length - 1)
    index %= period
    return np.where(index >= length, period - index, index)


# --------------------------------------------------------------------------- engine


class Engine:
    """Runs a generator on whole images of any size, tile by tile.

    Args:
        model: the generator, a `keras.Model` taking `(B, H, W, 3)` floats.
        card: its card (`i2i.zoo`): `task`, `scale`, `value_range`, `stride`.
        tile: tile side in input pixels; `None` chooses it from `memory_budget`; `0`
            processes every image whole.
        tile_overlap: pixels shared by neighbouring tiles (default 48 for
            super-resolution, 64 for translation; reduced for small tiles).
        batch_size: tiles per model call.
        precision: `"float32"`, `"float16"` / `"bfloat16"` (mixed: float32 variables and
            output head), or `"auto"` (float16 on a GPU, float32 on CPU).
        memory_budget: bytes a batch of tiles may use for model activations and float
            output blocks (auto tile only).
        alpha: how RGBA alpha is upscaled: `"bicubic"` or `"model"` (through the
            generator, twice the compute).
        strength: translation only: blend `strength * output + (1 - strength) * input`.
        outscale: final scale of the output relative to the input, if it differs from
            the model's (the model's output is resized: Lanczos up, area down).

    Example:

    ```python
    engine = Engine(model, {"task": "super-resolution", "scale": 4,
                            "value_range": [0, 1], "stride": 1}, tile=256)
    sr = engine.process(image)   # (4H, 4W[, C]) of image's dtype
    ```
    """

    def __init__(
        self,
        model,
        card: dict | None = None,
        *,
        tile: int | None = None,
        tile_overlap: int | None = None,
        batch_size: int = 1,
        precision: str = "auto",
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        alpha: str = "bicubic",
        strength: float = 1.0,
        outscale: float | None = None,
    ):
        from i2i.zoo import CARD_DEFAULTS

        card = {**CARD_DEFAULTS, **(card or {})}
        self.card = card
        self.task = card["task"]
        self.scale = int(card["scale"])
        self.stride = max(1, int(card["stride"]))
        self.value_range = (float(card["value_range"][0]), float(card["value_range"][1]))
        if self.scale < 1 or self.scale != card["scale"]:
            raise InferenceError(f"card scale must be a positive integer, got {card['scale']}")
        if tile is not None and tile < 0:
            raise InferenceError(f"tile must be >= 0, got {tile}")
        if batch_size < 1:
            raise InferenceError(f"batch size must be >= 1, got {batch_size}")
        if precision not in PRECISIONS:
            raise InferenceError(f"precision must be one of {', '.join(PRECISIONS)}")
        if alpha not in ALPHA_MODES:
            raise InferenceError(f"alpha must be one of {', '.join(ALPHA_MODES)}")
        if not 0.0 <= strength <= 1.0:
            raise InferenceError(f"strength must be in [0, 1], got {strength}")
        if strength != 1.0 and self.scale != 1:
            raise InferenceError("strength blends output with input: translation models only")
        if outscale is not None and outscale <= 0:
            raise InferenceError(f"outscale must be > 0, got {outscale}")
        overlap = DEFAULT_OVERLAP.get(self.task, 64) if tile_overlap is None else tile_overlap
        if overlap < 0:
            raise InferenceError(f"tile overlap must be >= 0, got {overlap}")
        self.overlap = int(overlap)
        self.batch_size = int(batch_size)
        self.alpha = alpha
        self.strength = float(strength)
        self.outscale = outscale
        self.memory_budget = int(memory_budget)
        self.precision = _resolve_precision(precision)
        self.model = _with_precision(model, self.precision)
        self.exact_tiling = not _has_global_normalization(model)
        self.bytes_per_pixel = estimate_bytes_per_pixel(model, self.stride, self.scale)
        self.tile = self._auto_tile() if tile is None else (int(tile) or None)
        self._predict = _compile(self.model)
        self.min_side = _min_side(self._predict, self.stride)
        self._lock = threading.Lock()

    # -- planning

    def _auto_tile(self) -> int:
        """The largest stride-multiple tile whose batch fits the memory budget.

        The budget covers the model's activations and the host's float output blocks (one
        batch being blended while the next one runs).
        """
        blending = 2 * 4.0 * 3 * self.scale * self.scale
        pixels = self.memory_budget / (self.batch_size * (self.bytes_per_pixel + blending))
        side = math.isqrt(max(1, int(pixels)))
        floor = max(MIN_TILE, 4 * self.overlap, 4 * self.stride)
        side = min(max(side, floor), MAX_TILE)
        return max(self.stride, side // self.stride * self.stride)

    def plan(self, height: int, width: int) -> tuple[AxisPlan, AxisPlan]:
        """How an image of `height` x `width` is cut into tiles (rows, columns)."""
        return (
            plan_axis(height, self.stride, self.tile, self.overlap, self.min_side),
            plan_axis(width, self.stride, self.tile, self.overlap, self.min_side),
        )

    def is_tiled(self, height: int, width: int) -> bool:
        """Whether an image of this size takes more than one tile."""
        rows, cols = self.plan(height, width)
        return len(rows.starts) * len(cols.starts) > 1

    def output_size(self, height: int, width: int) -> tuple[int, int]:
        """The (height, width) `process` returns for an input of this size."""
        if self.outscale is None or self.outscale == self.scale:
            return height * self.scale, width * self.scale
        return max(1, round(height * self.outscale)), max(1, round(width * self.outscale))

    # -- running

    def process(self, image: np.ndarray, progress: Callable[[int], None] | None = None):
        """Run the model on an image as `i2i.imageio.read_image` returns it.

        Args:
            image: `(H, W)` gray, `(H, W, 3)` RGB or `(H, W, 4)` RGBA, uint8 or uint16.
            progress: called with the number of tiles done after each model call.

        Returns:
            The output image: same channels and dtype, `scale` (or `outscale`) times
            the size.
        """
        image = np.asarray(image)
        if image.dtype not in imageio.MAX_VALUES:
            raise InferenceError(f"expected a uint8 or uint16 image, got {image.dtype}")
        if image.ndim == 3 and image.shape[2] == 1:
            image = image[:, :, 0]
        if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
            raise InferenceError(f"unsupported image shape {image.shape}")
        height, width = image.shape[:2]
        s = self.scale
        channels = 1 if image.ndim == 2 else image.shape[2]
        shape = (height * s, width * s) if channels == 1 else (height * s, width * s, channels)
        output = np.empty(shape, image.dtype)
        value_range = self.value_range

        if channels == 1:
            source = np.broadcast_to(image[:, :, None], (height, width, 3))

            def sink(block, y, x):
                _quantize_into(output[y, x], _luma(block), value_range)
        else:
            source = image if channels == 3 else fill_transparent(image)

            def sink(block, y, x):
                _quantize_into(output[y, x, :3], block, value_range)

        self._run(source, sink, progress)
        if channels == 4:
            alpha = image[:, :, 3]
            if s == 1:
                output[:, :, 3] = alpha
            elif self.alpha == "bicubic":
                output[:, :, 3] = _resize(alpha, (height * s, width * s), "bicubic")
            else:

                def alpha_sink(block, y, x):
                    _quantize_into(output[y, x, 3], block.mean(axis=-1), value_range)

                self._run(np.broadcast_to(alpha[:, :, None], (height, width, 3)), alpha_sink)
        out_h, out_w = self.output_size(height, width)
        if output.shape[:2] != (out_h, out_w):
            method = "lanczos" if out_h > output.shape[0] else "area"
            output = _resize(output, (out_h, out_w), method)
        return output

    def process_float(self, x: np.ndarray, progress=None) -> np.ndarray:
        """Run the model on a float `(H, W, 3)` image in the card's value range.

        Returns:
            float32 `(H * scale, W * scale, 3)`, unclipped, at the model's scale.
        """
        x = np.asarray(x, np.float32)
        if x.ndim != 3 or x.shape[2] != 3:
            raise InferenceError(f"expected (H, W, 3) floats, got {x.shape}")
        s = self.scale
        output = np.empty((x.shape[0] * s, x.shape[1] * s, 3), np.float32)

        def sink(block, y, xs):
            output[y, xs] = block

        self._run(x, sink, progress)
        return output

    def _run(self, source: np.ndarray, sink, progress=None) -> None:
        """Tile `source` (H, W, 3), run the model, blend; `sink(block, rows, cols)`
        receives final float blocks with the slices of the output they fill."""
        height, width = source.shape[:2]
        rows, cols = self.plan(height, width)
        s = self.scale
        out_h, out_w = height * s, width * s
        row_index = _reflect_indices(rows.padded, height)
        col_index = _reflect_indices(cols.padded, width)
        floating = source.dtype == np.float32

        def emit(y, x, block):
            y1, x1 = min(y + block.shape[0], out_h), min(x + block.shape[1], out_w)
            if y1 > y and x1 > x:
                sink(block[: y1 - y, : x1 - x], slice(y, y1), slice(x, x1))

        blender = _StreamingBlender(rows, cols, s, 3, emit)
        tiles = [(r, c) for r in range(len(rows.starts)) for c in range(len(cols.starts))]
        th, tw = rows.size, cols.size
        expected = (th * s, tw * s, 3)
        strength = self.strength

        def blend(batch_tiles, outputs, inputs):
            for k, (r, c) in enumerate(batch_tiles):
                block = outputs[k]
                if strength != 1.0:
                    block = strength * block + (1.0 - strength) * inputs[k]
                blender.add(r, c, block)

        pending = deque()
        done = 0
        # One blending thread beside the model: numpy and TensorFlow both release the GIL.
        with ThreadPoolExecutor(1, thread_name_prefix="i2i-blend") as pool:
            for first in range(0, len(tiles), self.batch_size):
                batch_tiles = tiles[first : first + self.batch_size]
                inputs = np.empty((len(batch_tiles), th, tw, 3), np.float32)
                for k, (r, c) in enumerate(batch_tiles):
                    y, x = rows.starts[r], cols.starts[c]
                    part = _crop(source, row_index, col_index, y, x, th, tw)
                    inputs[k] = part if floating else imageio.to_float(part, self.value_range)
                outputs = self._call(inputs)
                if outputs.shape[1:] != expected:
                    raise InferenceError(
                        f"the model turned a {th}x{tw} tile into {outputs.shape[1]}x"
                        f"{outputs.shape[2]}x{outputs.shape[3]}; its card says scale {s} "
                        f"and stride {self.stride} with 3 channels"
                    )
                pending.append(pool.submit(blend, batch_tiles, outputs, inputs))
                while len(pending) > 1:
                    pending.popleft().result()
                done += len(batch_tiles)
                if progress is not None:
                    progress(done)
            while pending:
                pending.popleft().result()

    def _call(self, inputs: np.ndarray) -> np.ndarray:
        # One model call at a time: engines may be shared by threads (evaluation).
        with self._lock:
            return self._predict(inputs).numpy()


def _crop(source, row_index, col_index, y: int, x: int, height: int, width: int):
    """`source[y:y+height, x:x+width]`, reflect-padded past the bottom/right border."""
    rows = slice(y, y + height) if y + height <= source.shape[0] else row_index[y : y + height]
    cols = slice(x, x + width) if x + width <= source.shape[1] else col_index[x : x + width]
    return source[rows][:, cols]


def _quantize_into(target: np.ndarray, block: np.ndarray, value_range) -> None:
    """`target[...] = imageio.from_float(block, target.dtype, value_range)`, computed in
    place in `block` (float32, consumed) so no output-sized temporaries are made."""
    low, high = value_range
    block -= np.float32(low)
    block /= np.float32(high - low)
    np.clip(block, 0.0, 1.0, out=block)
    block *= np.float32(imageio.MAX_VALUES[target.dtype])
    np.rint(block, out=block)
    target[...] = block


def _luma(rgb: np.ndarray) -> np.ndarray:
    """BT.601 luma of float RGB, the gray OpenCV and the metrics use."""
    return rgb @ np.array([0.299, 0.587, 0.114], np.float32)


def _resize(image: np.ndarray, size: tuple[int, int], method: str) -> np.ndarray:
    """Resize an image to (height, width) with OpenCV (`bicubic`, `lanczos` or `area`)."""
    import cv2

    interpolation = {
        "bicubic": cv2.INTER_CUBIC,
        "lanczos": cv2.INTER_LANCZOS4,
        "area": cv2.INTER_AREA,
    }[method]
    height, width = size
    return cv2.resize(image, (width, height), interpolation=interpolation)


def fill_transparent(rgba: np.ndarray) -> np.ndarray:
    """The RGB of an RGBA image with the colour under fully transparent pixels filled in.

    Stored colour under alpha 0 is arbitrary (often black); a network or resampler mixes
    it into the visible edge, leaving a dark fringe. Push-pull: premultiplied colour and
    alpha are averaged down a pyramid, then each level fills its empty pixels from the
    coarser one, so every transparent pixel takes a smooth blend of the surrounding
    visible colours (nearer ones weigh more). Pixels with alpha > 0 keep their stored
    (straight) colour.

    Args:
        rgba: `(H, W, 4)` uint8 or uint16.

    Returns:
        `(H, W, 3)` of the same dtype.
    """
    import cv2

    rgb, alpha = rgba[:, :, :3], rgba[:, :, 3]
    empty = alpha == 0
    if not empty.any() or empty.all():
        return rgb
    a = alpha.astype(np.float32) / imageio.MAX_VALUES[rgba.dtype]
    premultiplied = rgb.astype(np.float32) * a[:, :, None]
    levels = [(premultiplied, a)]
    while max(levels[-1][1].shape) > 1:
        c, w = levels[-1]
        size = (max(1, (w.shape[1] + 1) // 2), max(1, (w.shape[0] + 1) // 2))
        levels.append(
            (
                cv2.resize(c, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0], 3),
                cv2.resize(w, size, interpolation=cv2.INTER_AREA).reshape(size[1], size[0]),
            )
        )
    colour, weight = levels[-1]
    for c, w in reversed(levels[:-1]):
        size = (w.shape[1], w.shape[0])
        up_c = cv2.resize(colour, size, interpolation=cv2.INTER_LINEAR).reshape(c.shape)
        up_w = cv2.resize(weight, size, interpolation=cv2.INTER_LINEAR).reshape(w.shape)
        colour = c + (1.0 - w)[:, :, None] * up_c
        weight = w + (1.0 - w) * up_w
    filled = colour / np.maximum(weight, 1e-6)[:, :, None]
    high = imageio.MAX_VALUES[rgba.dtype]
    filled = np.clip(np.round(filled), 0, high).astype(rgba.dtype)
    return np.where(empty[:, :, None], filled, rgb)


# --------------------------------------------------------------------------- model helpers


def estimate_bytes_per_pixel(model, stride: int = 1, scale: int = 1) -> float:
    """Bytes of float32 activations per input pixel while the model runs (an estimate).

    Traces the functional graph on a symbolic probe input and takes 3x the largest
    activation (a layer's input, its output and a skip tensor alive at once) plus the
    input and output. Falls back to a 64-channel network at output resolution.
    """
    probe = max(32, stride) // stride * stride * 2
    sizes = []
    try:
        import keras

        def record(operation):
            def compute(*args, **kwargs):
                spec = operation.compute_output_spec(*args, **kwargs)
                for tensor in keras.tree.flatten(spec):
                    sizes.append(math.prod(tensor.shape[1:]))
                return spec

            return compute

        model._run_through_graph(keras.KerasTensor((1, probe, probe, 3)), operation_fn=record)
    except Exception:  # subclassed models and future Keras internals: use the fallback
        sizes = []
    if not sizes:
        return 4.0 * (3 * 64 + 3 + 3) * scale * scale
    floats = 3 * max(sizes) + 3 * probe * probe * (1 + scale * scale)
    return 4.0 * floats / (probe * probe)


def _has_global_normalization(model) -> bool:
    """Whether a layer normalizes over height and width (instance/group norm)."""
    import keras

    stack = list(model.layers)
    while stack:
        layer = stack.pop()
        if isinstance(layer, keras.layers.GroupNormalization):
            return True
        stack.extend(getattr(layer, "layers", []))
    return False


def _resolve_precision(precision: str) -> str:
    if precision != "auto":
        return precision
    import tensorflow as tf

    return "float16" if tf.config.list_physical_devices("GPU") else "float32"


def _with_precision(model, precision: str):
    """`model` computing in `precision` (mixed: float32 variables, float32 output layers)."""
    if precision == "float32":
        return model
    import keras

    policy = f"mixed_{precision}"
    # Layers producing the model's outputs keep their (float32) policy: the output head.
    heads = {id(tensor._keras_history.operation) for tensor in model.outputs}

    def clone(layer):
        config = layer.get_config()
        if id(layer) not in heads and "dtype" in config:
            config["dtype"] = policy
        return layer.__class__.from_config(config)

    try:
        copy = keras.models.clone_model(model, clone_function=clone)
        copy.set_weights(model.get_weights())
    except Exception as error:
        raise InferenceError(f"cannot run this model in {precision}: {error}") from None
    return copy


def _min_side(predict, stride: int) -> int:
    """The smallest square input side (a multiple of `stride`) the model runs on.

    Some layers cannot work on tiny feature maps (reflection padding needs more pixels
    than it pads): the model is probed on zeros at growing sizes, once.
    """
    import tensorflow as tf

    error = None
    for cells in (1, 2, 4, 8, 16, 32, 64):
        side = cells * stride
        try:
            predict(tf.zeros((1, side, side, 3)))
            return side
        except (tf.errors.InvalidArgumentError, ValueError) as failure:
            error = failure
    raise InferenceError(f"the model fails on every probe input up to {side} px: {error}")


def _compile(model):
    """A traced model call for any batch and tile size.

    One trace with dynamic height/width serves every tile shape. A few layers need static
    sizes (e.g. bilinear `UpSampling2D`); for those models the call is traced once per
    tile shape instead (tiles of one image share a shape).
    """
    import tensorflow as tf

    def call(x):
        return tf.cast(model(x, training=False), tf.float32)

    dynamic = tf.function(call, input_signature=[tf.TensorSpec([None, None, None, 3], tf.float32)])
    try:
        dynamic.get_concrete_function()
    except Exception:  # the graph needs static shapes: trace per shape
        return tf.function(call)
    return dynamic


# --------------------------------------------------------------------------- folders


@dataclass(frozen=True)
class Job:
    """One image to process: read `source`, write `target`."""

    source: Path
    target: Path


@dataclass
class Summary:
    """What `run_jobs` did.

    Attributes:
        written: output files written.
        skipped: jobs skipped because their output existed (`skip_existing`).
        failed: `(source, reason)` for each image that could not be processed.
        converted: outputs written as PNG because the asked format cannot hold them
            (alpha in JPEG, 16-bit in JPEG/WebP).
        megapixels: output megapixels written.
        seconds: wall time.
    """

    written: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)
    converted: list[Path] = field(default_factory=list)
    megapixels: float = 0.0
    seconds: float = 0.0
    tiled_inexact: int = 0


def collect_inputs(inputs: Sequence, recursive: bool = False) -> list[tuple[Path, Path]]:
    """Expand files, folders and globs into `(image, path relative to its root)` pairs.

    Folders list their images (with sub-folders if `recursive`); a glob (`*`, `?`, `[`,
    `**` with `recursive`) keeps paths relative to the folder before its first wildcard;
    a file stands for itself. Order: as given, each expansion sorted.

    Raises:
        InferenceError: an input names nothing, or a folder/glob holds no image.
    """
    pairs = []
    for item in inputs:
        text = str(item)
        path = Path(text).expanduser()
        if path.is_dir():
            found = imageio.list_images(path, recursive=recursive)
            if not found:
                hint = "" if recursive else " (sub-folders are read with --recursive)"
                raise InferenceError(f"{path}: no images in this folder{hint}")
            pairs.extend((p, p.relative_to(path)) for p in found)
        elif path.is_file():
            pairs.append((path, Path(path.name)))
        elif glob.has_magic(text):
            root = _glob_root(text)
            found = sorted(
                Path(p)
                for p in glob.glob(os.path.expanduser(text), recursive=recursive)
                if Path(p).is_file() and imageio.is_image_file(p)
            )
            if not found:
                raise InferenceError(f"{text}: the pattern matches no image")
            pairs.extend((p, p.relative_to(root)) for p in found)
        else:
            raise InferenceError(f"{text}: no such file or folder")
    return pairs


def _glob_root(pattern: str) -> Path:
    parts = Path(os.path.expanduser(pattern)).parts
    root = []
    for part in parts:
        if glob.has_magic(part):
            break
        root.append(part)
    return Path(*root) if root else Path(".")


def plan_jobs(
    inputs: Sequence,
    output,
    *,
    recursive: bool = False,
    ext: str = "same",
    suffix: str = "",
) -> list[Job]:
    """Map inputs to output files under `output`, mirroring their folders.

    Args:
        inputs: files, folders and globs (see `collect_inputs`).
        output: the output folder; or, for a single input file, an image file path.
        recursive: include sub-folders (mirrored under `output`).
        ext: output format: `"same"` as the input, or `"png"`, `"jpg"`, `"webp"`.
        suffix: appended to each output file's stem (`photo` -> `photo_x4`).

    Returns:
        The jobs, in input order.

    Raises:
        InferenceError: nothing to do, `output` is an input folder or file, or two
            inputs would write the same output file.
    """
    if ext not in EXTENSIONS:
        raise InferenceError(f"--ext must be one of {', '.join(EXTENSIONS)}, got {ext!r}")
    output = Path(output).expanduser()
    pairs = collect_inputs(inputs, recursive)
    out_resolved = output.resolve()
    for item in inputs:
        path = Path(str(item)).expanduser()
        if path.exists() and path.resolve() == out_resolved:
            raise InferenceError(
                f"{output}: the output is the input; choose another output folder "
                "(inputs are never overwritten)"
            )
    # Outputs of an earlier run inside an input folder are not inputs.
    pairs = [(p, rel) for p, rel in pairs if not _is_inside(p.resolve(), out_resolved)]
    if not pairs:
        raise InferenceError(f"nothing to do: every input is inside the output folder {output}")

    single_file = (
        len(pairs) == 1
        and Path(str(inputs[0])).is_file()
        and output.suffix.lower() in imageio.IMAGE_EXTENSIONS
    )
    if single_file:
        jobs = [Job(pairs[0][0], output)]
    else:
        if output.is_file():
            raise InferenceError(f"{output}: is a file; the output of several images is a folder")
        jobs = []
        for source, relative in pairs:
            extension = source.suffix if ext == "same" else f".{ext}"
            name = f"{relative.stem}{suffix}{extension}"
            jobs.append(Job(source, output / relative.parent / name))

    sources = {job.source.resolve(): job.source for job in jobs}
    targets: dict[Path, Path] = {}
    for job in jobs:
        key = job.target.resolve()
        if key in sources:
            raise InferenceError(f"{job.target}: would overwrite the input image {sources[key]}")
        if key in targets:
            raise InferenceError(
                f"{targets[key]} and {job.source} would both be written to {job.target} "
                "(use --ext same or --suffix)"
            )
        targets[key] = job.source
    return jobs


def _is_inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _fallback_target(target: Path, image: np.ndarray) -> Path:
    """`target`, or the same name as PNG if its format cannot hold `image`."""
    ext = target.suffix.lower()
    has_alpha = image.ndim == 3 and image.shape[2] == 4
    deep = image.dtype == np.uint16
    if (has_alpha and ext in (".jpg", ".jpeg", ".bmp")) or (
        deep and ext not in imageio.SIXTEEN_BIT_EXTENSIONS
    ):
        return target.with_suffix(".png")
    return target


def run_jobs(
    engine: Engine,
    jobs: Sequence[Job],
    *,
    skip_existing: bool = False,
    progress: bool = True,
    report: Callable[[str], None] | None = None,
    prefetch: int = 2,
    quality: int | None = None,
) -> Summary:
    """Run `engine` over `jobs`: decode ahead, compute, encode behind, in threads.

    An unreadable image or a failed write is reported (`report`, default: stderr above
    the progress bar) and the job goes on; the summary lists the failures. Writes are
    atomic and never overwrite the job's input.

    Args:
        engine: the `Engine`.
        jobs: from `plan_jobs`.
        skip_existing: skip jobs whose output exists (resume an interrupted job).
        progress: show a tqdm progress bar (per tile when there is a single image).
        report: called with one line per failure.
        prefetch: images decoded ahead of the model.
        quality: JPEG/WebP quality (default 95).

    Returns:
        A `Summary`.
    """
    import time

    from tqdm import tqdm

    started = time.perf_counter()
    summary = Summary()
    if report is None:

        def report(line):
            tqdm.write(line, file=sys.stderr)

    planned = {job.target.resolve() for job in jobs}
    todo = []
    for job in jobs:
        # An earlier run may have written this job's PNG fallback (alpha or 16-bit), unless
        # that name is another job's own output.
        fallback = job.target.with_suffix(".png")
        done = job.target.exists() or (fallback.resolve() not in planned and fallback.exists())
        if skip_existing and done:
            summary.skipped.append(job.target)
        else:
            todo.append(job)
    write_budget = 512 << 20  # bytes of finished images waiting to be encoded

    bar = tqdm(total=len(todo), unit="img", disable=not progress or not todo, file=sys.stderr)
    tile_bar = None
    readers = ThreadPoolExecutor(max(1, prefetch), thread_name_prefix="i2i-read")
    writers = ThreadPoolExecutor(1, thread_name_prefix="i2i-write")
    try:
        ahead = deque()
        queue = iter(todo)
        for job in queue:
            ahead.append((job, readers.submit(imageio.read_image, job.source)))
            if len(ahead) >= prefetch:
                break
        writing = deque()

        def settle(limit_bytes):
            while writing and (limit_bytes is None or sum(w[2] for w in writing) > limit_bytes):
                job, future, _ = writing.popleft()
                try:
                    path, megapixels, converted = future.result()
                except (imageio.ImageWriteError, OSError) as error:
                    summary.failed.append((job.source, str(error)))
                    report(f"failed: {error}")
                else:
                    summary.written.append(path)
                    summary.megapixels += megapixels
                    if converted:
                        summary.converted.append(path)

        while ahead:
            job, future = ahead.popleft()
            following = next(queue, None)
            if following is not None:
                ahead.append((following, readers.submit(imageio.read_image, following.source)))
            try:
                image = future.result()
                del future  # the decoded image lives only as long as it is needed
            except imageio.ImageReadError as error:
                summary.failed.append((job.source, str(error)))
                report(f"skipped: {error}")
                bar.update(1)
                continue
            height, width = image.shape[:2]
            callback = None
            if progress and len(todo) == 1 and engine.is_tiled(height, width):
                rows, cols = engine.plan(height, width)
                tiles = len(rows.starts) * len(cols.starts)
                tile_bar = tqdm(total=tiles, unit="tile", leave=False, file=sys.stderr)
                callback = _tile_progress(tile_bar)

            if not engine.exact_tiling and engine.is_tiled(height, width):
                summary.tiled_inexact += 1
            try:
                result = engine.process(image, progress=callback)
            except (InferenceError, *_out_of_memory_errors()) as error:
                reason = (
                    str(error)
                    if isinstance(error, InferenceError)
                    else (f"out of memory ({type(error).__name__}); try a smaller --tile")
                )
                summary.failed.append((job.source, f"{job.source}: {reason}"))
                report(f"failed: {job.source}: {reason}")
                bar.update(1)
                continue
            finally:
                if tile_bar is not None:
                    tile_bar.close()
                    tile_bar = None
            del image
            target = _fallback_target(job.target, result)
            if target != job.target and target.resolve() in planned:
                reason = f"{target} is also another input's output; use a different --ext"
                summary.failed.append((job.source, f"{job.source}: {reason}"))
                report(f"failed: {job.source}: {reason}")
                bar.update(1)
                continue
            write = writers.submit(_write, target, result, job, quality)
            writing.append((job, write, result.nbytes))
            settle(write_budget)
            bar.update(1)
            bar.set_postfix_str(f"{job.source.name}", refresh=False)
        settle(None)
    except BaseException:
        for _, future in ahead:
            future.cancel()
        raise
    finally:
        readers.shutdown(wait=True, cancel_futures=True)
        writers.shutdown(wait=True)
        bar.close()
    summary.seconds = time.perf_counter() - started
    return summary


def _out_of_memory_errors() -> tuple:
    import tensorflow as tf

    return (MemoryError, tf.errors.ResourceExhaustedError)


def _tile_progress(bar):
    def update(done):
        bar.update(done - bar.n)

    return update


def _write(target: Path, image: np.ndarray, job: Job, quality):
    path = imageio.write_image(target, image, protect=(job.source,), quality=quality)
    return path, image.shape[0] * image.shape[1] / 1e6, target != job.target


def describe(summary: Summary, output) -> Iterable[str]:
    """The lines a command prints at the end of a job."""
    lines = []
    n = len(summary.written)
    rate = f", {summary.megapixels / summary.seconds:.2f} MP/s" if summary.seconds and n else ""
    lines.append(f"Wrote {n} image{'s' * (n != 1)} to {output} ({summary.seconds:.1f} s{rate})")
    if summary.skipped:
        lines.append(f"Skipped {len(summary.skipped)} already in {output} (--skip-existing)")
    if summary.converted:
        lines.append(
            f"Wrote {len(summary.converted)} as PNG: their format cannot hold alpha or 16 bits"
        )
    return lines
