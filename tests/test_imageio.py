"""i2i.imageio: round trips, EXIF orientation, atomic writes and a corpus of bad files."""

import io
import os
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image, ImageOps

from i2i import imageio
from i2i.imageio import ImageReadError, ImageWriteError


def _rng_image(shape, dtype=np.uint8, seed=0):
    high = 256 if dtype == np.uint8 else 65536
    return np.random.default_rng(seed).integers(0, high, shape).astype(dtype)


@pytest.mark.parametrize(
    "ext, shape, dtype",
    [
        (".png", (17, 23), np.uint8),
        (".png", (17, 23, 3), np.uint8),
        (".png", (17, 23, 4), np.uint8),
        (".png", (17, 23), np.uint16),
        (".png", (17, 23, 3), np.uint16),
        (".png", (17, 23, 4), np.uint16),
        (".tif", (17, 23, 3), np.uint16),
        (".tiff", (17, 23), np.uint8),
        (".bmp", (17, 23, 3), np.uint8),
        (".webp", (17, 23, 4), np.uint8),
    ],
)
def test_lossless_round_trip_keeps_channels_and_depth(tmp_path, ext, shape, dtype):
    image = _rng_image(shape, dtype)
    if ext == ".webp":
        # WebP is lossy at quality < 100; above 100 OpenCV writes it losslessly, but it
        # drops the colour of fully transparent pixels.
        image[..., 3] = np.maximum(image[..., 3], 1)
        imageio.write_image(tmp_path / f"x{ext}", image, quality=101)
    else:
        imageio.write_image(tmp_path / f"x{ext}", image)
    back = imageio.read_image(tmp_path / f"x{ext}")
    assert back.dtype == dtype and back.shape == shape
    np.testing.assert_array_equal(back, image)


def test_rgb_order_matches_pillow(tmp_path):
    image = np.zeros((4, 4, 3), np.uint8)
    image[..., 0] = 200  # pure red
    imageio.write_image(tmp_path / "red.png", image)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "red.png")), image)
    np.testing.assert_array_equal(imageio.read_image(tmp_path / "red.png"), image)


def test_jpeg_round_trip_is_close(tmp_path):
    from skimage import data

    image = data.astronaut()[:128, :96]
    imageio.write_image(tmp_path / "a.jpg", image)
    back = imageio.read_image(tmp_path / "a.jpg")
    assert back.shape == image.shape
    assert np.abs(back.astype(int) - image).mean() < 4


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_matches_pillow(tmp_path, orientation):
    image = _rng_image((6, 10, 3))
    exif = Image.Exif()
    exif[0x0112] = orientation
    path = tmp_path / "rotated.png"  # PNG: lossless, so the comparison is exact
    Image.fromarray(image).save(path, exif=exif)
    expected = np.asarray(ImageOps.exif_transpose(Image.open(path)))
    np.testing.assert_array_equal(imageio.read_image(path), expected)


def test_exif_rotated_jpeg_is_read_upright(tmp_path):
    from skimage import data

    image = data.astronaut()[:64, :96]  # landscape
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees clockwise to view
    path = tmp_path / "camera.jpg"
    Image.fromarray(image).save(path, exif=exif, quality=98)
    upright = imageio.read_image(path)
    assert upright.shape == (96, 64, 3)
    assert np.abs(upright.astype(int) - np.rot90(image, -1)).mean() < 4


def test_unicode_file_name(tmp_path):
    image = _rng_image((5, 7, 3))
    path = tmp_path / "фото 日本 é.png"
    imageio.write_image(path, image)
    np.testing.assert_array_equal(imageio.read_image(path), image)


def test_write_creates_parents_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "a" / "b" / "c.png"
    imageio.write_image(target, _rng_image((3, 3)))
    assert sorted(os.listdir(target.parent)) == ["c.png"]


def test_write_has_umask_permissions(tmp_path):
    path = imageio.write_image(tmp_path / "p.png", _rng_image((3, 3)))
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_write_refuses_to_overwrite_a_protected_input(tmp_path):
    source = tmp_path / "in.png"
    imageio.write_image(source, _rng_image((3, 3), seed=1))
    before = source.read_bytes()
    with pytest.raises(ImageWriteError, match="refusing to overwrite an input image"):
        imageio.write_image(tmp_path / "." / "in.png", _rng_image((3, 3), seed=2), protect=[source])
    assert source.read_bytes() == before


def test_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "keep.png"
    imageio.write_image(target, _rng_image((3, 3), seed=1))
    before = target.read_bytes()

    def failing_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(imageio.os, "replace", failing_replace)
    with pytest.raises(ImageWriteError, match="No space left"):
        imageio.write_image(target, _rng_image((3, 3), seed=2))
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["keep.png"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_output_folder_non_root(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(ImageWriteError, match="cannot write in"):
            imageio.write_image(folder / "x.png", _rng_image((3, 3)))
    finally:
        folder.chmod(0o700)


def test_read_only_output_folder(tmp_path):
    # Root ignores permission bits, so a file standing where the folder should be is the
    # portable way to make a target folder unwritable.
    blocker = tmp_path / "ro"
    blocker.write_text("not a folder")
    with pytest.raises(ImageWriteError) as info:
        imageio.write_image(blocker / "x.png", _rng_image((3, 3)))
    assert str(info.value).startswith(str(blocker / "x.png"))
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    "ext, image, match",
    [
        (".gif", np.zeros((2, 2), np.uint8), "unsupported extension"),
        (".jpg", np.zeros((2, 2), np.uint16), "cannot store 16-bit"),
        (".webp", np.zeros((2, 2, 3), np.uint16), "cannot store 16-bit"),
        (".jpg", np.zeros((2, 2, 4), np.uint8), "alpha"),
        (".png", np.zeros((2, 2), np.float32), "unsupported sample type"),
        (".png", np.zeros((2, 2, 2), np.uint8), "unsupported image shape"),
    ],
)
def test_write_rejects_what_a_format_cannot_store(tmp_path, ext, image, match):
    with pytest.raises(ImageWriteError, match=match):
        imageio.write_image(tmp_path / f"x{ext}", image)
    assert os.listdir(tmp_path) == []


# --- the corpus of bad files ------------------------------------------------------------


def _png_with_header(width, height):
    """A syntactically valid PNG signature + IHDR claiming width x height, no pixel data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = struct.pack(">I", len(ihdr)) + b"IHDR" + ihdr
    chunk += struct.pack(">I", zlib.crc32(b"IHDR" + ihdr) & 0xFFFFFFFF)
    iend = struct.pack(">I", 0) + b"IEND" + struct.pack(">I", zlib.crc32(b"IEND") & 0xFFFFFFFF)
    return b"\x89PNG\r\n\x1a\n" + chunk + iend


def _encoded(ext, image):
    ok, buf = cv2.imencode(ext, image)
    assert ok
    return buf.tobytes()


def _bad_files(tmp_path):
    from skimage import data

    photo = data.astronaut()[:96, :96]
    png = _encoded(".png", photo)
    jpg = _encoded(".jpg", photo)
    files = {
        "missing.png": None,
        "empty.png": b"",
        "truncated.png": png[: len(png) // 2],
        "truncated.jpg": jpg[: int(len(jpg) * 0.9)],
        "text.png": b"this is a text file, not an image\n",
        "bomb.png": _png_with_header(100_000, 100_000),
    }
    for name, content in files.items():
        if content is not None:
            (tmp_path / name).write_bytes(content)
    return files


@pytest.mark.parametrize(
    "name, reason",
    [
        ("missing.png", "file not found"),
        ("empty.png", "empty file"),
        ("truncated.png", "corrupt or truncated PNG"),
        ("truncated.jpg", "corrupt or truncated JPEG"),
        ("text.png", "not an image"),
        ("bomb.png", "too large: 100000x100000"),
    ],
)
def test_bad_files_raise_one_line_errors_naming_the_file(tmp_path, name, reason):
    _bad_files(tmp_path)
    with pytest.raises(ImageReadError) as info:
        imageio.read_image(tmp_path / name)
    message = str(info.value)
    assert message.startswith(f"{tmp_path / name}: ")
    assert reason in message
    assert "\n" not in message


def test_folder_is_not_an_image(tmp_path):
    with pytest.raises(ImageReadError, match="is a folder"):
        imageio.read_image(tmp_path)


def test_size_guard_is_overridable(tmp_path):
    path = tmp_path / "big.png"
    imageio.write_image(path, _rng_image((40, 50, 3)))
    with pytest.raises(ImageReadError, match="too large"):
        imageio.read_image(path, max_pixels=1000)
    assert imageio.read_image(path, max_pixels=2000).shape == (40, 50, 3)
    assert imageio.read_image(path, max_pixels=None).shape == (40, 50, 3)


def test_pillow_global_guard_is_untouched(tmp_path):
    from PIL import Image as PILImage

    before = PILImage.MAX_IMAGE_PIXELS
    (tmp_path / "bomb.png").write_bytes(_png_with_header(100_000, 100_000))
    with pytest.raises(ImageReadError):
        imageio.read_image(tmp_path / "bomb.png")
    assert PILImage.MAX_IMAGE_PIXELS == before


def test_unsupported_sample_type(tmp_path):
    path = tmp_path / "float.tif"
    assert cv2.imwrite(str(path), np.zeros((3, 3), np.float32))
    with pytest.raises(ImageReadError, match="unsupported sample type float32"):
        imageio.read_image(path)


# --- listing and conversions -------------------------------------------------------------


def test_list_images_skips_hidden_and_non_images(tmp_path):
    for name in ["b.png", "a.JPG", ".a.partial.png", "notes.txt", "sub/c.webp"]:
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in imageio.list_images(tmp_path)] == ["a.JPG", "b.png"]
    assert [p.name for p in imageio.list_images(tmp_path, recursive=True)] == [
        "a.JPG",
        "b.png",
        "c.webp",
    ]


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
@pytest.mark.parametrize("value_range", [(-1.0, 1.0), (0.0, 1.0)])
def test_float_conversions_round_trip(dtype, value_range):
    image = _rng_image((8, 9, 3), dtype)
    x = imageio.to_float(image, value_range)
    assert x.dtype == np.float32
    assert x.min() >= value_range[0] and x.max() <= value_range[1]
    np.testing.assert_array_equal(imageio.from_float(x, dtype, value_range), image)


def test_float_conversion_endpoints_and_clipping():
    np.testing.assert_allclose(imageio.to_float(np.uint8([0, 255]), (-1, 1)), [-1, 1])
    np.testing.assert_allclose(imageio.to_float(np.uint16([0, 65535]), (0, 1)), [0, 1])
    np.testing.assert_array_equal(
        imageio.from_float(np.float32([-3.0, 0.0, 5.0]), np.uint8, (0, 1)), [0, 0, 255]
    )
    with pytest.raises(TypeError):
        imageio.to_float(np.zeros(3, np.float32))


def test_decode_image_from_bytes_names_the_source():
    buffer = io.BytesIO()
    Image.fromarray(_rng_image((4, 5, 3))).save(buffer, format="PNG")
    assert imageio.decode_image(buffer.getvalue(), "memory").shape == (4, 5, 3)
    with pytest.raises(ImageReadError, match="^upload.bin: not an image"):
        imageio.decode_image(b"nope", "upload.bin")
