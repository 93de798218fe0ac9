"""Unpaired pipeline: domains of different sizes, independent shuffles, seeds, errors."""

import numpy as np
import pytest
from data_helpers import batches, small, views, write_folder

from i2i import imageio
from i2i.data.check import DatasetError
from i2i.data.unpaired import unpaired_counts, unpaired_dataset


@pytest.fixture()
def root(tmp_path, photos):
    write_folder(tmp_path / "trainA", views(photos, 3, 32))
    write_folder(tmp_path / "trainB", views(photos, 7, 32)[::-1])
    write_folder(tmp_path / "testA", views(photos, 2, 36))
    write_folder(tmp_path / "testB", views(photos, 1, 40, 30))
    return tmp_path


def _identify(arrays, folder):
    """Index of the stored image each array is (exact pixels)."""
    stored = [imageio.to_float(imageio.read_image(p), (-1, 1)) for p in imageio.list_images(folder)]
    return [next(i for i, s in enumerate(stored) if np.array_equal(s, x)) for x in arrays]


def test_epoch_is_the_larger_domain_and_the_smaller_repeats(root):
    assert unpaired_counts(root) == (3, 7)
    # Same-size resize, no flip: each output is exactly one stored image, so it can be named.
    dataset = unpaired_dataset(
        root, image_size=32, training=True, preprocess="resize", flip=False, seed=0, batch_size=1
    )
    assert len(dataset) == 7
    got = batches(dataset)
    a = _identify([b["a"][0] for b in got], root / "trainA")
    b = _identify([b["b"][0] for b in got], root / "trainB")
    assert sorted(b) == list(range(7))  # every B once per epoch
    assert sorted(set(a)) == [0, 1, 2] and sorted(a[:3]) == [0, 1, 2]  # A passes, reshuffled
    assert b != sorted(b)  # shuffled


def test_jittered_batches_and_seeds(root):
    def run(seed):
        dataset = unpaired_dataset(root, batch_size=2, image_size=24, seed=seed)
        return batches(dataset)

    first = run(3)
    assert len(first) == 3  # 7 examples, batch 2, remainder dropped
    for batch in first:
        assert batch["a"].shape == batch["b"].shape == (2, 24, 24, 3)
        assert -1.0 <= batch["a"].min() and batch["b"].max() <= 1.0
    again = run(3)
    for x, y in zip(first, again, strict=True):
        np.testing.assert_array_equal(x["a"], y["a"])
        np.testing.assert_array_equal(x["b"], y["b"])
    other = run(4)
    assert not np.array_equal(first[0]["b"], other[0]["b"])


def test_test_split_is_ordered_and_complete(root):
    got = batches(unpaired_dataset(root, "test", image_size=None))
    assert len(got) == 2  # the larger test domain
    assert _identify([b["a"][0] for b in got], root / "testA") == [0, 1]
    assert _identify([b["b"][0] for b in got], root / "testB") == [0, 0]


def test_missing_domain_and_small_images_are_named(tmp_path, photos):
    write_folder(tmp_path / "trainA", [small(photos["rocket"], 40)])
    with pytest.raises(DatasetError, match="trainB: missing"):
        unpaired_dataset(tmp_path)
    write_folder(tmp_path / "trainB", [small(photos["chelsea"], 20, 30)], prefix="cat")
    with pytest.raises(DatasetError, match=r"smaller than the 32x32 crop: cat000.png \(20x30\)"):
        unpaired_dataset(tmp_path, image_size=32)


def test_a_resumed_stream_continues_exactly(root):
    # What the CycleGAN task does on --resume (training.skip_batches).
    from i2i import training

    def stream(skip, count):
        dataset = unpaired_dataset(root, image_size=24, seed=2, repeat=True)
        return batches(training.skip_batches(dataset, skip).take(count))

    full, resumed = stream(0, 9), stream(5, 4)
    for x, y in zip(full[5:], resumed, strict=True):
        np.testing.assert_array_equal(x["a"], y["a"])
        np.testing.assert_array_equal(x["b"], y["b"])
