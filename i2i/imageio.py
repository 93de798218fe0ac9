"""Reading and writing images: the one place i2i touches image files.

An image is a NumPy array exactly as stored: `(H, W)` gray, `(H, W, 3)` RGB or
`(H, W, 4)` RGBA, `uint8` or `uint16`. Nothing is converted silently: channels and bit
depth survive a read/write round trip; EXIF orientation is applied on read so the array
is upright as a viewer shows it.

OpenCV decodes and encodes (it keeps 16-bit colour, which Pillow does not). Pillow only
probes the header before decoding, for two things OpenCV's unchanged-read mode cannot
give: the pixel count (checked against a configurable guard before any memory is spent)
and the EXIF orientation tag.

Every read failure is an `ImageReadError` whose message is one line naming the file and
the reason; every write failure is an `ImageWriteError`. Writes are atomic: the encoded
bytes go to a hidden temporary file in the target folder, which is then renamed, so an
interrupted job never leaves a half-written image.

Example:

```python
from i2i import imageio

image = imageio.read_image("photo.jpg")           # (H, W, 3) uint8, upright
x = imageio.to_float(image, (-1.0, 1.0))          # float32 in [-1, 1]
imageio.write_image("out/photo.png", imageio.from_float(x, image.dtype, (-1.0, 1.0)))
```
"""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import cv2
import cv2.utils.logging
import numpy as np

from i2i.common import I2IError, atomic_write

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")
SIXTEEN_BIT_EXTENSIONS = (".png", ".tif", ".tiff")
DEFAULT_MAX_PIXELS = 100_000_000
MAX_VALUES = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}

_EXIF_ORIENTATION = 0x0112
_PILLOW_LOCK = threading.Lock()

# OpenCV prints its own warnings for the files we reject with a clearer message.
cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)


class ImageReadError(I2IError):
    """An image file could not be read; `str(error)` is `"<path>: <reason>"`."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class ImageWriteError(I2IError):
    """An image could not be written; `str(error)` is `"<path>: <reason>"`."""

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


def is_image_file(path) -> bool:
    """Whether `path` has an image extension i2i reads (and is not a hidden file)."""
    path = Path(path)
    return path.suffix.lower() in IMAGE_EXTENSIONS and not path.name.startswith(".")


def list_images(folder, recursive: bool = False) -> list[Path]:
    """The image files in `folder` (sorted), optionally in its sub-folders too.

    Hidden files are skipped: they include the temporary files of interrupted writes.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: not a folder")
    pattern = "**/*" if recursive else "*"
    return sorted(p for p in folder.glob(pattern) if p.is_file() and is_image_file(p))


def read_image(path, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Read an image file as it is stored, upright.

    Args:
        path: the image file.
        max_pixels: refuse images with more pixels than this (a guard against
            decompression bombs), checked from the header before decoding;
            `None` disables it.

    Returns:
        `(H, W)`, `(H, W, 3)` RGB or `(H, W, 4)` RGBA array of `uint8` or `uint16`.

    Raises:
        ImageReadError: missing, empty, not an image, corrupt or truncated, too large,
            or an unsupported channel count or sample type.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageReadError(path, "file not found") from None
    except IsADirectoryError:
        raise ImageReadError(path, "is a folder, not an image file") from None
    except PermissionError:
        raise ImageReadError(path, "permission denied") from None
    except OSError as error:
        raise ImageReadError(path, f"cannot read ({error.strerror})") from None
    return decode_image(data, path, max_pixels)


def decode_image(data: bytes, name, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode encoded image bytes; `name` is used in error messages. See `read_image`."""
    if not data:
        raise ImageReadError(name, "empty file (0 bytes)")
    image_format, (width, height), orientation = probe(data, name)
    if max_pixels is not None and width * height > max_pixels:
        raise ImageReadError(
            name,
            f"too large: {width}x{height} is {width * height / 1e6:.1f} MP, over the limit of "
            f"{max_pixels / 1e6:g} MP (raise max_pixels to allow it)",
        )
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ImageReadError(name, f"corrupt or truncated {image_format} data")
    if image.dtype not in MAX_VALUES:
        raise ImageReadError(name, f"unsupported sample type {image.dtype} (need 8 or 16 bit)")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim == 3:
        if image.shape[2] == 3:
            image = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
        elif image.shape[2] == 4:
            image = cv2.cvtColor(image, cv2.COLOR_BGRA2RGBA)
        else:
            reason = f"unsupported channel count {image.shape[2]} (need 1, 3 or 4)"
            raise ImageReadError(name, reason)
    return np.ascontiguousarray(_apply_orientation(image, orientation))


def write_image(path, image, *, protect: Iterable = (), quality: int | None = None) -> Path:
    """Write an image atomically, creating parent folders.

    Args:
        path: the output file; its extension chooses the format.
        image: `(H, W)`, `(H, W, 1)`, `(H, W, 3)` RGB or `(H, W, 4)` RGBA array of
            `uint8` or `uint16` (16-bit only for PNG and TIFF).
        protect: paths that must never be overwritten (typically the inputs of the job);
            writing onto one of them raises instead.
        quality: JPEG/WebP quality 1..100 (default 95).

    Returns:
        The written path.

    Raises:
        ImageWriteError: unsupported extension, channels or bit depth for the format,
            a protected target, or a folder that cannot be written.
    """
    path = Path(path)
    ext = path.suffix.lower()
    if ext not in IMAGE_EXTENSIONS:
        known = ", ".join(IMAGE_EXTENSIONS)
        raise ImageWriteError(path, f"unsupported extension {ext!r} (use {known})")
    image = np.asarray(image)
    if image.dtype not in MAX_VALUES:
        raise ImageWriteError(path, f"unsupported sample type {image.dtype} (need uint8 or uint16)")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    channels = 1 if image.ndim == 2 else image.shape[2]
    if image.ndim not in (2, 3) or channels not in (1, 3, 4):
        raise ImageWriteError(path, f"unsupported image shape {image.shape}")
    if image.dtype == np.uint16 and ext not in SIXTEEN_BIT_EXTENSIONS:
        raise ImageWriteError(path, f"{ext} cannot store 16-bit images (use .png or .tif)")
    if channels == 4 and ext in (".jpg", ".jpeg"):
        raise ImageWriteError(path, "JPEG cannot store an alpha channel (use .png or .webp)")
    for source in protect:
        if path.exists() and os.path.samefile(path, source):
            raise ImageWriteError(path, "refusing to overwrite an input image")

    if channels == 3:
        image = cv2.cvtColor(image, cv2.COLOR_RGB2BGR)
    elif channels == 4:
        image = cv2.cvtColor(image, cv2.COLOR_RGBA2BGRA)
    params = []
    if ext in (".jpg", ".jpeg"):
        params = [cv2.IMWRITE_JPEG_QUALITY, quality or 95]
    elif ext == ".webp":
        params = [cv2.IMWRITE_WEBP_QUALITY, quality or 95]
    ok, encoded = cv2.imencode(ext, image, params)
    if not ok:
        raise ImageWriteError(path, f"OpenCV could not encode a {image.shape} {image.dtype} image")

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return atomic_write(path, encoded.tobytes())
    except OSError as error:
        raise ImageWriteError(path, f"cannot write in {path.parent} ({error.strerror})") from None


def to_float(image, value_range=(-1.0, 1.0)) -> np.ndarray:
    """`uint8`/`uint16` image -> `float32` array scaled to `value_range`.

    Example: `to_float(np.uint8([0, 255]), (0, 1))` is `[0., 1.]`.
    """
    image = np.asarray(image)
    if image.dtype not in MAX_VALUES:
        raise TypeError(f"expected a uint8 or uint16 image, got {image.dtype}")
    low, high = value_range
    unit = image.astype(np.float32) / MAX_VALUES[image.dtype]
    return unit * np.float32(high - low) + np.float32(low)


def to_uint8(image) -> np.ndarray:
    """An 8-bit image: uint8 as it is, uint16 to the nearest 8-bit level (`value / 257`)."""
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    return np.round(image.astype(np.float32) / 257.0).astype(np.uint8)


def from_float(x, dtype=np.uint8, value_range=(-1.0, 1.0)) -> np.ndarray:
    """Float array in `value_range` -> `uint8`/`uint16` image (clipped, rounded).

    Accepts anything `np.asarray` does, including eager TensorFlow tensors.
    """
    dtype = np.dtype(dtype)
    if dtype not in MAX_VALUES:
        raise TypeError(f"expected uint8 or uint16, got {dtype}")
    low, high = value_range
    unit = (np.asarray(x, np.float32) - np.float32(low)) / np.float32(high - low)
    return np.round(np.clip(unit, 0.0, 1.0) * MAX_VALUES[dtype]).astype(dtype)


def probe(source, name=None) -> tuple[str, tuple[int, int], int]:
    """An image's header, without decoding its pixels (and without reading a file whole).

    Args:
        source: an image file path, or the encoded bytes of one.
        name: how to name it in errors (default: the path; "image" for bytes).

    Returns:
        `(format, (width, height) as stored, EXIF orientation 1..8)`.

    Raises:
        ImageReadError: missing, not an image, or a corrupt header.
    """
    from PIL import Image, UnidentifiedImageError

    is_bytes = isinstance(source, bytes | bytearray)
    name = name if name is not None else ("image" if is_bytes else source)
    # Pillow's own bomb check reads a module global; i2i applies its configurable guard
    # instead, so the global is lifted for the duration of the header read only.
    with _PILLOW_LOCK:
        saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
        try:
            with Image.open(io.BytesIO(source) if is_bytes else source) as header:
                # Pillow decodes a whole PNG to look for an eXIf chunk after the pixels;
                # one before them (where writers put it) is already in `info`.
                has_exif = header.format != "PNG" or "exif" in header.info
                orientation = header.getexif().get(_EXIF_ORIENTATION, 1) if has_exif else 1
                return header.format or "image", header.size, orientation
        except FileNotFoundError:
            raise ImageReadError(name, "file not found") from None
        except UnidentifiedImageError:
            raise ImageReadError(name, "not an image (unrecognised file format)") from None
        except (OSError, SyntaxError, ValueError, EOFError) as error:
            raise ImageReadError(name, f"corrupt image header ({error})") from None
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def image_size(path) -> tuple[int, int]:
    """`(width, height)` of an image file as `read_image` returns it (EXIF orientation
    applied), from its header only.

    Raises:
        ImageReadError: missing, not an image, or a corrupt header.
    """
    _, (width, height), orientation = probe(path)
    # EXIF orientations 5..8 turn the image by 90 degrees.
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _apply_orientation(image: np.ndarray, orientation: int) -> np.ndarray:
    """Rotate/flip an array as EXIF orientation 1..8 asks (other values: unchanged)."""
    if orientation == 2:
        return image[:, ::-1]
    if orientation == 3:
        return image[::-1, ::-1]
    if orientation == 4:
        return image[::-1]
    if orientation == 5:
        return np.swapaxes(image, 0, 1)
    if orientation == 6:
        return np.rot90(image, k=-1)
    if orientation == 7:
        return np.swapaxes(image[::-1, ::-1], 0, 1)
    if orientation == 8:
        return np.rot90(image, k=1)
    return image
