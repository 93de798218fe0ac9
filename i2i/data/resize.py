"""MATLAB's `imresize` (bicubic, antialiased): how the SR literature makes LR images.

MATLAB's `imresize(hr, 1/s, 'bicubic')` is a Keys cubic (a = -0.5) widened by `s`
(antialiasing), with symmetric padding at the borders. OpenCV's and TensorFlow's bicubic
resizes differ from it (no antialiasing, other border rules), and a model trained on
one kind of LR scores worse on the other, so this module implements the MATLAB one in
NumPy (`imresize`, `downsample`, `upsample_bicubic`) and gives its weights as matrices
(`resize_matrix`) for the tf.data pipelines of `i2i.data.sr`.

Example:

```python
from i2i.data import resize

lr = resize.downsample(imageio.read_image("photo.png"), 4)   # uint8, MATLAB semantics
bicubic = resize.upsample_bicubic(lr, 4)                     # the baseline of SR scores
```

Reference:
    MATLAB `imresize` (bicubic, antialiasing); its Python ports in BasicSR
    (`basicsr/utils/matlab_functions.py`), against which this module is tested.
"""

from __future__ import annotations

import math

import numpy as np

from i2i import imageio

# LR pixels of real content kept around a patch while downsampling: the antialiased
# cubic kernel reaches 2 LR pixels to each side.
BICUBIC_MARGIN = 2


def mod_crop(image, scale: int) -> np.ndarray:
    """Crop the bottom/right of `image` so height and width are multiples of `scale`."""
    image = np.asarray(image)
    height, width = image.shape[:2]
    return image[: height - height % scale, : width - width % scale]


def _cubic(x: np.ndarray) -> np.ndarray:
    """Keys' cubic convolution kernel with a = -0.5 (MATLAB's 'bicubic')."""
    ax = np.abs(x)
    ax2, ax3 = ax * ax, ax * ax * ax
    near = (1.5 * ax3 - 2.5 * ax2 + 1.0) * (ax <= 1)
    far = (-0.5 * ax3 + 2.5 * ax2 - 4.0 * ax + 2.0) * ((ax > 1) & (ax <= 2))
    return near + far


def resize_contributions(in_length: int, out_length: int, scale: float, antialias=True):
    """MATLAB's `contributions`: which input pixels make each output pixel, and how much.

    Args:
        in_length: input size along one axis.
        out_length: output size along that axis.
        scale: output / input (below 1 shrinks).
        antialias: widen the kernel by 1/scale when shrinking (MATLAB's default).

    Returns:
        `(weights, indices)`, both `(out_length, taps)`: float64 weights (rows sum to 1)
        and 0-based input indices, already mirrored into range (symmetric padding).
    """
    width = 4.0
    if scale < 1 and antialias:
        width = width / scale

        def kernel(x):
            return scale * _cubic(scale * x)
    else:
        kernel = _cubic
    x = np.arange(1, out_length + 1, dtype=np.float64)
    u = x / scale + 0.5 * (1.0 - 1.0 / scale)  # output pixel centre in input coordinates
    left = np.floor(u - width / 2.0)
    taps = int(math.ceil(width)) + 2
    indices = left[:, None] + np.arange(taps)[None, :]  # 1-based, as in MATLAB
    weights = kernel(u[:, None] - indices)
    weights /= weights.sum(axis=1, keepdims=True)
    mirror = np.concatenate([np.arange(in_length), np.arange(in_length)[::-1]])
    indices = mirror[np.mod(indices.astype(np.int64) - 1, 2 * in_length)]
    keep = np.any(weights != 0, axis=0)
    return weights[:, keep], indices[:, keep]


def resize_matrix(in_length: int, out_length: int, scale: float) -> np.ndarray:
    """The resize along one axis as a dense `(out_length, in_length)` float64 matrix."""
    weights, indices = resize_contributions(in_length, out_length, scale)
    matrix = np.zeros((out_length, in_length))
    rows = np.repeat(np.arange(out_length), weights.shape[1])
    np.add.at(matrix, (rows, indices.ravel()), weights.ravel())
    return matrix


def _resize_axis(x: np.ndarray, axis: int, out_length: int, scale: float) -> np.ndarray:
    weights, indices = resize_contributions(x.shape[axis], out_length, scale)
    x = np.moveaxis(x, axis, 0)
    out = np.zeros((out_length,) + x.shape[1:])
    # A loop over the few taps keeps memory at one output-sized array.
    extra = (None,) * (x.ndim - 1)
    for tap in range(weights.shape[1]):
        out += weights[(slice(None), tap) + extra] * x[indices[:, tap]]
    return np.moveaxis(out, 0, axis)


def imresize(image: np.ndarray, scale: float) -> np.ndarray:
    """MATLAB `imresize(image, scale, 'bicubic')`, antialiased when shrinking.

    Args:
        image: `(H, W)` or `(H, W, C)`, uint8/uint16 or float.
        scale: output size / input size; the output is `ceil(H * scale) x ceil(W * scale)`.

    Returns:
        The resized image: integer images come back in their dtype (rounded and clipped,
        as MATLAB does), float images as float32 (not clipped).
    """
    image = np.asarray(image)
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    out = image.astype(np.float64)
    out_h = int(math.ceil(image.shape[0] * scale))
    out_w = int(math.ceil(image.shape[1] * scale))
    # MATLAB resizes along the dimension with the smaller change first; for equal
    # scales that is rows first, as here.
    out = _resize_axis(out, 0, out_h, scale)
    out = _resize_axis(out, 1, out_w, scale)
    if image.dtype in imageio.MAX_VALUES:
        top = imageio.MAX_VALUES[image.dtype]
        return np.clip(np.round(out), 0, top).astype(image.dtype)
    return out.astype(np.float32)


def downsample(image: np.ndarray, scale: int) -> np.ndarray:
    """The LR version of an HR image, as the SR literature makes it.

    MATLAB `imresize(mod_crop(image, scale), 1/scale, 'bicubic')`: the image is first
    cropped (bottom/right) to a multiple of `scale`, so HR = LR x scale exactly.

    Args:
        image: `(H, W)` or `(H, W, C)` uint8/uint16 (or float) image.
        scale: integer factor (2, 3, 4, ...).

    Returns:
        `(H // scale, W // scale[, C])` in the input's dtype (float input: float32).

    Example:

    ```python
    lr = downsample(imageio.read_image("hr.png"), 4)
    ```
    """
    scale = check_scale(scale)
    image = mod_crop(np.asarray(image), scale)
    if min(image.shape[:2]) < scale:
        raise ValueError(f"image of shape {image.shape} is smaller than the scale {scale}")
    return imresize(image, 1.0 / scale)


def upsample_bicubic(image: np.ndarray, scale: int) -> np.ndarray:
    """MATLAB bicubic upscaling by an integer `scale`: the baseline SR models are compared to."""
    return imresize(np.asarray(image), float(check_scale(scale)))


def check_scale(scale) -> int:
    if int(scale) != scale or scale < 1:
        raise ValueError(f"scale must be a positive integer, got {scale}")
    return int(scale)
