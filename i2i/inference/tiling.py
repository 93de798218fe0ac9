"""How images are cut into tiles and the tiles blended back: the geometry of inference.

- `plan_axis` cuts one image axis into as few overlapping tiles as a tile size allows;
  starts and sizes are whole multiples of the model's stride, so every tile sees the same
  downsampling grid as the whole image would. Only the bottom/right border is padded
  (`reflect_indices`, `crop`) to the stride and cropped off the output again.
- `tile_weights`: in an overlap each tile's weight is 0 on its outer quarter (where the
  tile's missing context shows) and rises smoothly (smoothstep) to 1 across the middle
  half; the weights covering a pixel sum to exactly 1, so a convolutional net whose
  receptive radius fits in a quarter of the overlap gives the whole-image output.
- `StreamingBlender` adds weighted tile outputs in raster order and hands finished
  regions on as soon as no later tile touches them: the float working set is one tile
  row's overlap band, not the output image.

NumPy only; `i2i.inference.engine` runs the model on the tiles.

Example:

```python
rows = plan_axis(1000, stride=4, tile=256, overlap=32)   # AxisPlan(starts=(0, 248, ...))
weights = tile_weights(rows, 1, scale=4)                 # per output row of tile 1
```
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# The outer part of each overlap band, as a fraction, where a tile's weight is 0.
_DEAD_ZONE = 0.25


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


class StreamingBlender:
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


def reflect_indices(padded: int, length: int) -> np.ndarray:
    """Indices mapping `[0, padded)` into `[0, length)`, reflecting past the end."""
    index = np.arange(padded)
    if length == 1:
        return np.zeros(padded, np.intp)
    period = 2 * (length - 1)
    index %= period
    return np.where(index >= length, period - index, index)


def crop(source, row_index, col_index, y: int, x: int, height: int, width: int):
    """`source[y:y+height, x:x+width]`, reflect-padded past the bottom/right border."""
    rows = slice(y, y + height) if y + height <= source.shape[0] else row_index[y : y + height]
    cols = slice(x, x + width) if x + width <= source.shape[1] else col_index[x : x + width]
    return source[rows][:, cols]
