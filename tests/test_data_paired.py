"""Paired pipeline: both layouts, identical jitter on both sides, splits, seeds, errors."""

import shutil

import numpy as np
import pytest
from data_helpers import batches, night, small, views, write_combined, write_split

from i2i import imageio
from i2i.data.check import DatasetError
from i2i.data.paired import paired_count, paired_dataset

SIZE = 40  # stored images; crops are 32 (jitter: resize to 36, crop 32)


@pytest.fixture(scope="module")
def images(photos):
    a = views(photos, 6, SIZE)
    return a, [night(x) for x in a]


def _same_dataset(tmp_path, images, layout):
    """A dataset where B == A, so any difference between the sides is a jitter mismatch."""
    a, _ = images
    if layout == "combined":
        write_combined(tmp_path / "train", a, a)
    else:
        write_split(tmp_path / "train", a, a)
    return tmp_path


@pytest.mark.parametrize("layout", ["combined", "split"])
def test_jitter_is_identical_on_both_sides(tmp_path, images, layout):
    root = _same_dataset(tmp_path, images, layout)
    dataset = paired_dataset(root, "train", batch_size=2, image_size=32, seed=0)
    assert len(dataset) == 3
    seen = batches(dataset) + batches(dataset)  # two epochs
    for batch in seen:
        assert batch["source"].shape == (2, 32, 32, 3)
        assert batch["source"].dtype == np.float32
        np.testing.assert_array_equal(batch["source"], batch["target"])
        assert batch["source"].min() >= -1.0 and batch["source"].max() <= 1.0
    crops = [x.tobytes() for batch in seen for x in batch["source"]]
    assert len(set(crops)) == len(crops)  # jitter varies between epochs


def test_split_layout_matches_by_stem_and_keeps_sides(tmp_path, images):
    a, b = images
    names = write_split(tmp_path, a, b, ext_b=".png")
    test = paired_dataset(tmp_path, "test", image_size=None, training=False)
    got = batches(test)
    assert len(got) == len(names)
    for batch, x, y in zip(got, a, b, strict=True):  # file order, exact pixels
        np.testing.assert_array_equal(batch["source"][0], imageio.to_float(x, (-1.0, 1.0)))
        np.testing.assert_array_equal(batch["target"][0], imageio.to_float(y, (-1.0, 1.0)))
    reverse = batches(paired_dataset(tmp_path, image_size=None, training=False, direction="b2a"))
    np.testing.assert_array_equal(reverse[0]["source"], got[0]["target"])


def test_input_target_folders(tmp_path, images):
    a, b = images
    write_split(tmp_path, a[:2], b[:2])
    (tmp_path / "A").rename(tmp_path / "input")
    (tmp_path / "B").rename(tmp_path / "target")
    (batch,) = batches(paired_dataset(tmp_path, image_size=32, batch_size=2, training=False))
    np.testing.assert_allclose(
        batch["target"][0], imageio.to_float(small(b[0], 32), (-1, 1)), atol=0.1
    )


def test_combined_halves_train_and_test_splits(tmp_path, images):
    a, b = images
    write_combined(tmp_path / "train", a[:4], b[:4])
    write_combined(tmp_path / "test", a[4:], b[4:])
    assert paired_count(tmp_path, "train") == 4 and paired_count(tmp_path, "test") == 2
    test = batches(paired_dataset(tmp_path, "test", image_size=None))
    assert len(test) == 2  # test split: no shuffle, no drop of the last batch
    np.testing.assert_array_equal(test[1]["source"][0], imageio.to_float(a[5], (-1, 1)))
    np.testing.assert_array_equal(test[1]["target"][0], imageio.to_float(b[5], (-1, 1)))
    train = paired_dataset(tmp_path, "train", batch_size=3, image_size=32, seed=1)
    assert len(train) == 1  # 4 pairs, batch 3, remainder dropped when training
    with pytest.raises(DatasetError, match="no val/"):
        paired_dataset(tmp_path, "val")


def test_same_seed_same_stream_other_seed_other_stream(tmp_path, images):
    a, b = images
    write_split(tmp_path, a, b)

    def run(seed):
        dataset = paired_dataset(tmp_path, batch_size=2, image_size=32, seed=seed)
        return np.concatenate([x for _ in range(2) for x in batches(dataset, "source")])

    first = run(7)
    np.testing.assert_array_equal(first, run(7))
    assert not np.array_equal(first, run(8))
    epoch1, epoch2 = np.split(first, 2)
    assert not np.array_equal(epoch1, epoch2)  # reshuffled and re-jittered each epoch


def test_crop_mode_keeps_full_resolution(tmp_path, images):
    a, b = images
    write_split(tmp_path, a[:1], b[:1])
    (batch,) = batches(
        paired_dataset(tmp_path, image_size=16, preprocess="crop", seed=0, flip=False)
    )
    x = imageio.to_float(a[0], (-1, 1))
    windows = [x[i : i + 16, j : j + 16] for i in range(SIZE - 15) for j in range(SIZE - 15)]
    assert any(np.array_equal(batch["source"][0], w) for w in windows)


def test_problems_are_reported_by_name(tmp_path, images, photos):
    a, b = images
    write_split(tmp_path, a[:3], b[:3])
    imageio.write_image(tmp_path / "A" / "tiny.png", small(photos["coffee"], 20))
    imageio.write_image(tmp_path / "B" / "tiny.png", small(photos["coffee"], 20))
    with pytest.raises(DatasetError, match=r"smaller than the 32x32 crop: A/tiny.png \(20x20\)"):
        paired_dataset(tmp_path, image_size=32)
    paired_dataset(tmp_path, "test", image_size=32)  # evaluation resizes: no crop needed
    shutil.copy(tmp_path / "A" / "000.png", tmp_path / "A" / "lonely.png")
    with pytest.raises(DatasetError, match="without a partner.*A/lonely.png"):
        paired_dataset(tmp_path, image_size=16)


def test_crop_mode_needs_equal_sizes(tmp_path, images):
    a, b = images
    write_split(tmp_path, a[:1], [small(b[0], 48)])
    with pytest.raises(DatasetError, match="different sizes.*A/000.png"):
        paired_dataset(tmp_path, image_size=32, preprocess="crop")
    assert len(paired_dataset(tmp_path, image_size=32)) == 1  # resize_and_crop: fine


def test_a_resumed_stream_continues_exactly(tmp_path, images):
    # What the pix2pix task does on --resume: the same seeded, repeated stream, positioned
    # after the batches already trained on (training.skip_batches).
    from i2i import training

    a, b = images
    write_split(tmp_path, a, b)

    def stream(skip, count):
        dataset = paired_dataset(tmp_path, batch_size=2, image_size=32, seed=5, repeat=True)
        return [x["source"] for x in batches(training.skip_batches(dataset, skip).take(count))]

    full = stream(0, 6)  # two epochs of 3 batches
    resumed = stream(2, 3)  # from the last batch of epoch 1 into epoch 2
    for x, y in zip(full[2:5], resumed, strict=True):
        np.testing.assert_array_equal(x, y)
