"""Super-resolution data: MATLAB bicubic against a reference port, pipelines, pairs, checks."""

import math
import warnings

import numpy as np
import pytest

from i2i import imageio
from i2i.data import sr

# ------------------------------------------------------------------------------------------
# An independent reference: the NumPy port of MATLAB imresize in BasicSR
# (basicsr/utils/matlab_functions.py: calculate_weights_indices + imresize), written the way
# it is there: explicit symmetric padding of the image, then per-output-pixel dot products.


def _ref_cubic(x):
    absx = np.abs(x)
    absx2, absx3 = absx**2, absx**3
    return (1.5 * absx3 - 2.5 * absx2 + 1) * (absx <= 1) + (
        -0.5 * absx3 + 2.5 * absx2 - 4 * absx + 2
    ) * ((absx > 1) * (absx <= 2))


def _ref_weights_indices(in_length, out_length, scale, kernel_width=4, antialiasing=True):
    if scale < 1 and antialiasing:
        kernel_width = kernel_width / scale
    x = np.linspace(1, out_length, out_length)
    u = x / scale + 0.5 * (1 - 1 / scale)
    left = np.floor(u - kernel_width / 2)
    p = math.ceil(kernel_width) + 2
    indices = left.reshape(out_length, 1) + np.linspace(0, p - 1, p).reshape(1, p)
    distance_to_center = u.reshape(out_length, 1) - indices
    if scale < 1 and antialiasing:
        weights = scale * _ref_cubic(distance_to_center * scale)
    else:
        weights = _ref_cubic(distance_to_center)
    weights = weights / np.sum(weights, 1).reshape(out_length, 1)
    weights_zero_tmp = np.sum(weights == 0, 0)
    if not math.isclose(weights_zero_tmp[0], 0, rel_tol=1e-6):
        indices, weights = indices[:, 1 : 1 + p - 2], weights[:, 1 : 1 + p - 2]
    if not math.isclose(weights_zero_tmp[-1], 0, rel_tol=1e-6):
        indices, weights = indices[:, 0 : p - 2], weights[:, 0 : p - 2]
    sym_len_s = -indices.min() + 1
    sym_len_e = indices.max() - in_length
    indices = indices + sym_len_s - 1
    return weights, indices.astype(int), int(sym_len_s), int(sym_len_e)


def _ref_pad(img, start, end):
    """Symmetric padding along axis 0 (BasicSR's flipped copies of the edges)."""
    parts = []
    if start > 0:
        parts.append(img[:start][::-1])
    parts.append(img)
    if end > 0:
        parts.append(img[-end:][::-1])
    return np.concatenate(parts, axis=0)


def _ref_resize_axis0(img, out_length, scale):
    weights, indices, start, end = _ref_weights_indices(img.shape[0], out_length, scale)
    padded = _ref_pad(img, start, end)
    out = np.zeros((out_length,) + img.shape[1:])
    width = weights.shape[1]
    for i in range(out_length):
        idx = indices[i][0]
        out[i] = np.tensordot(weights[i], padded[idx : idx + width], axes=(0, 0))
    return out


def reference_imresize(img, scale):
    """BasicSR's imresize on an (H, W, C) float image (no rounding)."""
    out_h, out_w = math.ceil(img.shape[0] * scale), math.ceil(img.shape[1] * scale)
    out = _ref_resize_axis0(img.astype(np.float64), out_h, scale)
    out = _ref_resize_axis0(out.transpose(1, 0, 2), out_w, scale).transpose(1, 0, 2)
    return out


# ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_downsample_matches_the_basicsr_port_on_real_photos(photos, scale):
    for name in ("astronaut", "coffee", "rocket"):
        hr = sr.mod_crop(photos[name][50:203, 40:221], scale)
        lr = sr.downsample(hr, scale)
        reference = reference_imresize(hr.astype(np.float64), 1.0 / scale)
        assert lr.dtype == np.uint8 and lr.shape == reference.shape
        # The same float result (up to summation order) ...
        as_float = sr.imresize(hr.astype(np.float64), 1 / scale)
        np.testing.assert_allclose(as_float, reference, atol=1e-4)
        # ... so the same uint8 image (MATLAB rounds uint8 outputs).
        expected = np.clip(np.round(reference), 0, 255).astype(np.uint8)
        assert np.abs(lr.astype(int) - expected).max() <= 1
        assert np.mean(lr == expected) > 0.9999


@pytest.mark.parametrize("scale", [2, 4])
def test_bicubic_upsampling_matches_the_basicsr_port(photos, scale):
    lr = photos["chelsea"][100:140, 60:110]
    up = sr.upsample_bicubic(lr, scale)
    reference = np.clip(np.round(reference_imresize(lr.astype(np.float64), scale)), 0, 255)
    assert up.shape == (40 * scale, 50 * scale, 3)
    assert np.abs(up.astype(int) - reference.astype(int)).max() <= 1


def test_downsample_mod_crops_keeps_dtype_and_flat_images():
    flat = np.full((13, 10, 3), 77, np.uint8)
    assert sr.downsample(flat, 4).shape == (3, 2, 3)
    assert np.all(sr.downsample(flat, 4) == 77)
    deep = np.full((8, 8), 40000, np.uint16)
    out = sr.downsample(deep, 2)
    assert out.dtype == np.uint16 and np.all(out == 40000)
    with pytest.raises(ValueError, match="integer"):
        sr.downsample(flat, 2.5)


# ------------------------------------------------------------------------------------------
# Pipelines


@pytest.fixture
def hr_folder(tmp_path, photos):
    folder = tmp_path / "hr"
    imageio.write_image(folder / "astronaut.png", photos["astronaut"][:120, :100])
    imageio.write_image(folder / "coffee.png", photos["coffee"][:100, :140])
    return folder


def _locate(image, patch, step):
    """Top-left of `patch` in `image`, searching positions on a grid of `step` pixels."""
    size = patch.shape[0]
    for top in range(0, image.shape[0] - size + 1, step):
        for left in range(0, image.shape[1] - size + 1, step):
            if np.array_equal(image[top : top + size, left : left + size], patch):
                return top, left
    raise AssertionError("patch not found on the LR grid")


def test_patch_lr_is_exactly_the_crop_of_the_whole_image_lr(hr_folder):
    images = {p.name: imageio.read_image(p) for p in imageio.list_images(hr_folder)}
    ds = sr.sr_dataset(hr_folder, scale=4, patch_size=32, batch_size=8, augment=False, seed=1)
    batch = next(iter(ds))
    assert batch["lr"].shape == (8, 8, 8, 3) and batch["hr"].shape == (8, 32, 32, 3)
    for hr, lr in zip(batch["hr"].numpy(), batch["lr"].numpy(), strict=True):
        assert 0.0 <= lr.min() and lr.max() <= 1.0
        hr8 = imageio.from_float(hr, np.uint8, (0, 1))
        for image in images.values():
            try:
                top, left = _locate(image, hr8, 4)
            except AssertionError:
                continue
            whole_lr = sr.downsample(image, 4)
            crop = whole_lr[top // 4 : top // 4 + 8, left // 4 : left // 4 + 8]
            np.testing.assert_array_equal(imageio.from_float(lr, np.uint8, (0, 1)), crop)
            break
        else:
            raise AssertionError("an HR patch is not a crop of an input image")


def test_same_seed_same_patches_other_seed_other_patches(hr_folder):
    def first(seed, degradation="bicubic"):
        ds = sr.sr_dataset(
            hr_folder, scale=2, patch_size=16, batch_size=4, seed=seed, degradation=degradation
        )
        return next(iter(ds))

    a, b, c = first(5), first(5), first(6)
    np.testing.assert_array_equal(a["hr"], b["hr"])
    np.testing.assert_array_equal(a["lr"], b["lr"])
    assert not np.array_equal(a["hr"], c["hr"])
    r1, r2 = first(5, "realistic"), first(5, "realistic")
    assert r1["lr"].shape == (4, 8, 8, 3)
    np.testing.assert_array_equal(r1["lr"], r2["lr"])


def test_images_smaller_than_the_patch_are_reported_by_name(tmp_path, photos):
    imageio.write_image(tmp_path / "big.png", photos["rocket"][:80, :80])
    imageio.write_image(tmp_path / "tiny.png", photos["rocket"][:40, :50])
    with pytest.warns(sr.SmallImage, match=r"tiny\.png: 50x40 is smaller than the 64x64 patch"):
        ds = sr.sr_dataset(tmp_path, scale=2, patch_size=64, batch_size=2, seed=0)
    assert next(iter(ds))["hr"].shape == (2, 64, 64, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", sr.SmallImage)
        with pytest.raises(sr.SRDataError, match="none of the 2 images"):
            sr.sr_dataset(tmp_path, scale=2, patch_size=96)


def _pair_folder(root, photos, scale=2):
    for name in ("astronaut", "chelsea"):
        hr = photos[name][:96, :80]
        imageio.write_image(root / "hr" / f"{name}.png", hr)
        imageio.write_image(root / "lr" / f"{name}.png", sr.downsample(hr, scale))
    return root


def test_explicit_pairs_are_checked_and_cut_in_alignment(tmp_path, photos):
    root = _pair_folder(tmp_path / "pairs", photos)
    assert [hr.name for hr, _ in sr.check_pairs(root, 2)] == ["astronaut.png", "chelsea.png"]
    ds = sr.paired_sr_dataset(root, scale=2, patch_size=32, batch_size=4, augment=False, seed=0)
    batch = next(iter(ds))
    assert batch["lr"].shape == (4, 16, 16, 3) and batch["hr"].shape == (4, 32, 32, 3)
    lrs = {p.stem: imageio.read_image(p) for p in imageio.list_images(root / "lr")}
    hrs = {p.stem: imageio.read_image(p) for p in imageio.list_images(root / "hr")}
    for hr, lr in zip(batch["hr"].numpy(), batch["lr"].numpy(), strict=True):
        lr8 = imageio.from_float(lr, np.uint8, (0, 1))
        hr8 = imageio.from_float(hr, np.uint8, (0, 1))
        for stem, lr_image in lrs.items():
            try:
                top, left = _locate(lr_image, lr8, 1)
            except AssertionError:
                continue
            expected = hrs[stem][2 * top : 2 * top + 32, 2 * left : 2 * left + 32]
            np.testing.assert_array_equal(hr8, expected)
            break
        else:
            raise AssertionError("an LR patch is not a crop of an LR image")


def test_pairs_of_the_wrong_scale_or_unmatched_are_named(tmp_path, photos):
    root = _pair_folder(tmp_path / "pairs", photos, scale=2)
    with pytest.raises(
        sr.SRDataError,
        match=r"astronaut\.png \(80x96\) and .*astronaut\.png "
        r"\(40x48\) are not a x4 pair",
    ):
        sr.check_pairs(root, 4)
    imageio.write_image(root / "hr" / "extra.png", photos["coffee"][:40, :40])
    with pytest.raises(sr.SRDataError, match=r"extra\.png have no match"):
        sr.check_pairs(root, 2)


def test_validation_set_is_fixed_centre_crops(tmp_path, photos):
    imageio.write_image(tmp_path / "a.png", photos["coffee"])  # 400x600
    imageio.write_image(tmp_path / "b.png", photos["camera"][:90, :90])  # smaller than the crop
    val = sr.validation_set(imageio.list_images(tmp_path), scale=4, size=200)
    assert val.names == ["a.png", "b.png"] and len(val) == 2
    assert val.hr[0].shape == (200, 200, 3) and val.lr[0].shape == (50, 50, 3)
    np.testing.assert_array_equal(val.hr[0], photos["coffee"][100:300, 200:400])
    np.testing.assert_array_equal(val.lr[0], sr.downsample(val.hr[0], 4))
    assert val.hr[1].shape == (88, 88, 3) and val.lr[1].shape == (22, 22, 3)
