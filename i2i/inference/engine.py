"""The inference engine: a generator run on whole images of any size, tile by tile.

`Engine(model, card)` feeds a generator the way its card (`i2i.zoo`) says: `value_range`
of the floats, `scale` of the output, `stride` the input sides must be multiples of.
Images are cut into tiles on the host (`i2i.inference.tiling`), never whole on the
device; images smaller than a tile are processed whole, and images smaller than the
model can take (reflection padding inside the net needs a few pixels) are reflect-padded
up to the smallest side it accepts, found by probing once (`probe_min_side`).

- Tile size, when not given, comes from a memory budget and an estimate of the model's
  activations per input pixel (`estimate_bytes_per_pixel`). Blending runs in a thread
  beside the model; finished output rows are converted to the output dtype at once.
- Precision: float32, or mixed float16 / bfloat16 (`i2i.precision.with_policy`: float32
  variables and output head).
- RGBA: colour under fully transparent pixels is filled from the surrounding visible
  colour (`fill_transparent`, push-pull over premultiplied colour) before the model sees
  it, so no dark fringe bleeds into the edges; alpha is upscaled with bicubic or through
  the model. Gray stays gray, 16-bit stays 16-bit.

Models with instance normalization (statistics over the whole input) are only
approximately tileable: their auto tile size is the same, but `Engine.exact_tiling` is
`False` and the commands say so when such a model has to tile an image.

Example:

```python
from i2i import imageio, zoo
from i2i.inference import Engine

model, card = zoo.load_generator("srresnet-x4")
engine = Engine(model, card)                          # auto tile from the memory budget
sr = engine.process(imageio.read_image("photo.png"))  # uint8/uint16, gray/RGB/RGBA
```
"""

from __future__ import annotations

import math
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from i2i import imageio
from i2i.common import INFERENCE_PRECISIONS as PRECISIONS
from i2i.common import I2IError, first_line
from i2i.inference.tiling import AxisPlan, StreamingBlender, crop, plan_axis, reflect_indices

DEFAULT_MEMORY_BUDGET = 1 << 30  # bytes: activations and float output blocks of a batch
# Input pixels. 48 keeps a full-size SRResNet (receptive radius ~40 px) within 1/255 of
# whole-image output; 32 left up to 5/255 (benchmarks/inference.py notes).
DEFAULT_OVERLAP = {"super-resolution": 48, "translation": 64}
MIN_TILE = 64
MAX_TILE = 2048
ALPHA_MODES = ("bicubic", "model")


class InferenceError(I2IError):
    """A job cannot run as asked; `str(error)` is one line for the user."""


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
        self.min_side = probe_min_side(self._predict, self.stride)
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
        side = min(max(side, self.suggested_tile()), MAX_TILE)
        return max(self.stride, side // self.stride * self.stride)

    def tile_overhead(self) -> float:
        """How many times the model computes each pixel of a large image, because
        neighbouring tiles share `overlap` pixels (1.0 when images are not tiled).

        Tiles of side T sharing O pixels advance by T - O, so a large image costs
        (T / (T - O))^2 of its pixels; `plan_axis` caps O at half a tile.
        """
        if self.tile is None:
            return 1.0
        cells = max(1, self.tile // self.stride)
        shared = min(-(-self.overlap // self.stride), cells // 2)
        return (cells / (cells - shared)) ** 2

    def suggested_tile(self) -> int:
        """The smallest tile the automatic choice would allow with this overlap: each
        pixel computed under twice (the overlap a quarter of a tile)."""
        return max(MIN_TILE, 4 * self.overlap, 4 * self.stride)

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
        row_index = reflect_indices(rows.padded, height)
        col_index = reflect_indices(cols.padded, width)
        floating = source.dtype == np.float32

        def emit(y, x, block):
            y1, x1 = min(y + block.shape[0], out_h), min(x + block.shape[1], out_w)
            if y1 > y and x1 > x:
                sink(block[: y1 - y, : x1 - x], slice(y, y1), slice(x, x1))

        blender = StreamingBlender(rows, cols, s, 3, emit)
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
                    part = crop(source, row_index, col_index, y, x, th, tw)
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
    from i2i import precision as policies

    if precision != "auto":
        return precision
    return "float16" if policies.gpu_visible() else "float32"


def _with_precision(model, precision: str):
    """`model` computing in `precision` (mixed: float32 variables, float32 output layers)."""
    if precision == "float32":
        return model
    from i2i.precision import with_policy

    try:
        return with_policy(model, f"mixed_{precision}")
    except Exception as error:
        raise InferenceError(f"cannot run this model in {precision}: {error}") from None


def probe_min_side(predict, stride: int = 1) -> int:
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
    raise InferenceError(
        f"the model fails on every probe input up to {side} px: {first_line(error)}"
    )


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
