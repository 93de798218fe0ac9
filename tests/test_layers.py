"""i2i.layers: NumPy references, serialization in safe mode, the graph-safe image history."""

import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf

from i2i.layers import ImageHistory, PixelShuffle, ReflectionPadding2D, instance_norm, norm_layer

RNG = np.random.default_rng(0)


@pytest.fixture
def mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    yield
    keras.config.set_dtype_policy(previous)


# --- normalization -------------------------------------------------------------------


def test_instance_norm_matches_numpy():
    x = RNG.normal(2.0, 3.0, size=(2, 5, 4, 3)).astype(np.float32)
    mean = x.mean(axis=(1, 2), keepdims=True)
    var = x.var(axis=(1, 2), keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5)
    layer = instance_norm()
    np.testing.assert_allclose(layer(x), expected, atol=1e-5)
    assert layer.count_params() == 0  # the CycleGAN reference: affine=False
    affine = instance_norm(affine=True)
    affine.build((None, None, None, 3))
    assert affine.count_params() == 6


def test_instance_norm_is_float32_inside_under_mixed_precision(mixed_precision):
    x = RNG.normal(0.0, 100.0, size=(1, 8, 8, 4)).astype(np.float16)
    y = instance_norm()(x)
    assert y.dtype == "float16"
    np.testing.assert_allclose(np.asarray(y, np.float32).std(axis=(1, 2)), 1.0, atol=1e-2)


def test_norm_layer_kinds():
    assert isinstance(norm_layer("batch"), keras.layers.BatchNormalization)
    assert isinstance(norm_layer("instance"), keras.layers.GroupNormalization)
    assert norm_layer("none") is None
    with pytest.raises(ValueError, match="unknown norm 'layer'"):
        norm_layer("layer")


# --- padding and pixel shuffle -------------------------------------------------------


@pytest.mark.parametrize("padding", [1, (2, 1), ((1, 3), (0, 2))])
def test_reflection_padding_matches_numpy(padding):
    x = RNG.normal(size=(2, 5, 6, 3)).astype(np.float32)
    layer = ReflectionPadding2D(padding)
    (top, bottom), (left, right) = layer.padding
    expected = np.pad(x, [(0, 0), (top, bottom), (left, right), (0, 0)], mode="reflect")
    np.testing.assert_array_equal(layer(x), expected)
    assert layer.compute_output_shape((None, None, 6, 3)) == (None, None, 6 + left + right, 3)


def test_reflection_padding_edge_not_repeated():
    x = np.float32([1, 2, 3]).reshape(1, 1, 3, 1)
    y = ReflectionPadding2D(((0, 0), (2, 2)))(x)
    assert y.numpy().ravel().tolist() == [3, 2, 1, 2, 3, 2, 1]


def depth_to_space_reference(x, r):
    """out[b, h*r + i, w*r + j, c] = x[b, h, w, (i*r + j)*C + c] (TensorFlow's DCR order)."""
    b, h, w, depth = x.shape
    c = depth // (r * r)
    out = np.zeros((b, h * r, w * r, c), x.dtype)
    for i in range(r):
        for j in range(r):
            out[:, i::r, j::r, :] = x[:, :, :, (i * r + j) * c : (i * r + j + 1) * c]
    return out


@pytest.mark.parametrize("scale", [2, 3])
def test_pixel_shuffle_matches_numpy(scale):
    x = RNG.normal(size=(2, 3, 4, 2 * scale * scale)).astype(np.float32)
    np.testing.assert_array_equal(PixelShuffle(scale)(x), depth_to_space_reference(x, scale))


def test_pixel_shuffle_checks_channels():
    with pytest.raises(ValueError, match="divisible by 4"):
        PixelShuffle(2)(np.zeros((1, 2, 2, 6), np.float32))


def test_layers_config_round_trip():
    for layer in (ReflectionPadding2D(((1, 2), (3, 4))), PixelShuffle(3), ImageHistory(7, 0.3, 5)):
        clone = layer.__class__.from_config(layer.get_config())
        assert clone.get_config() == layer.get_config()


def test_model_with_the_layers_survives_save_and_safe_load(tmp_path):
    inputs = keras.Input((None, None, 3))
    x = ReflectionPadding2D(1)(inputs)
    x = keras.layers.Conv2D(8, 3)(x)
    x = instance_norm(affine=True)(x)
    x = PixelShuffle(2)(x)
    model = keras.Model(inputs, x)
    path = tmp_path / "model.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    x = RNG.normal(size=(1, 6, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(loaded(x), model(x), atol=1e-6)
    assert loaded(x).shape == (1, 12, 8, 2)


# --- image history -------------------------------------------------------------------


def reference_queries(batches, size, probability, seed):
    """The reference ImagePool.query, fed the layer's own random draws (same order)."""
    generator = keras.random.SeedGenerator(seed)
    pool, results = [], []
    for batch in batches:
        out = []
        for image in batch:
            coin = float(keras.random.uniform((), seed=generator))
            slot = int(keras.random.randint((), 0, size, dtype="int32", seed=generator))
            if len(pool) < size:
                pool.append(image)
                out.append(image)
            elif coin < probability:
                out.append(pool[slot])
                pool[slot] = image
            else:
                out.append(image)
        results.append(np.stack(out))
    return results, np.stack(pool)


def image_batches(count, batch=2, shape=(2, 3, 1)):
    # Image k is filled with k so every image is recognisable.
    values = np.arange(count * batch, dtype=np.float32).reshape(count, batch, 1, 1, 1)
    return list(values * np.ones((1, 1, *shape), np.float32))


def test_image_history_matches_the_reference_in_a_tf_function():
    batches = image_batches(12)
    history = ImageHistory(size=4, seed=3)
    query = tf.function(lambda images: history(images))  # the train_step situation
    got = [query(batch).numpy() for batch in batches]
    expected, pool = reference_queries(batches, size=4, probability=0.5, seed=3)
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_array_equal(g, e)
    np.testing.assert_array_equal(history.images.numpy(), pool)
    assert int(history.count.numpy()) == 4
    pairs = zip(got, batches, strict=True)
    swapped = sum(int((g != b).any(axis=(1, 2, 3)).sum()) for g, b in pairs)
    assert 0 < swapped < 20  # some, not all, of the 16 post-fill images came from the pool


def test_image_history_swap_rate_and_conservation():
    history = ImageHistory(size=5, probability=0.5, seed=0)
    query = tf.function(lambda images: history(images), jit_compile=True)  # XLA too
    given, returned, swapped, total = [], [], 0, 0
    for batch in image_batches(100, batch=4, shape=(1, 1, 1)):
        full = bool(history.built) and int(history.count.numpy()) == 5
        out = query(batch).numpy().ravel().tolist()
        given += batch.ravel().tolist()
        returned += out
        if full:
            swapped += sum(a != b for a, b in zip(out, batch.ravel(), strict=True))
            total += len(out)
    # The first 5 images are stored and returned; after that each image given is either
    # returned or stored in place of the one returned: nothing lost or duplicated.
    stored = history.images.numpy().ravel().tolist()
    assert sorted(returned + stored) == sorted(given + given[:5])
    assert 0.4 < swapped / total < 0.6, swapped / total


def test_image_history_identity_cases():
    x = RNG.normal(size=(3, 4, 4, 3)).astype(np.float32)
    np.testing.assert_array_equal(ImageHistory(0)(x), x)
    history = ImageHistory(2, seed=1)
    np.testing.assert_array_equal(history(x, training=False), x)
    assert not history.built or int(history.count.numpy()) == 0


def test_image_history_is_float32_under_mixed_precision(mixed_precision):
    history = ImageHistory(2, seed=1)
    out = history(np.ones((2, 4, 4, 3), np.float16))
    assert out.dtype == "float32"
    assert history.images.dtype == "float32"


def test_image_history_needs_a_known_image_shape():
    with pytest.raises(ValueError, match="fully known"):
        ImageHistory(2).build((None, None, None, 3))


def test_image_history_state_is_checkpointed_and_replays_exactly(tmp_path):
    batches = image_batches(10)
    history = ImageHistory(size=3, seed=7)
    history.build((None, 2, 3, 1))
    # All state is in tracked weights: stored images, fill count, RNG state.
    assert {w.path.rsplit("/", 1)[-1] for w in history.weights} == {
        "images",
        "count",
        "seed_generator_state",
    }
    assert len(history.variables) == 3
    query = tf.function(lambda images: history(images))
    for batch in batches[:4]:
        query(batch)
    checkpoint = tf.train.Checkpoint(history=history)
    saved = checkpoint.write(str(tmp_path / "ckpt"))
    first = [query(batch).numpy() for batch in batches[4:]]

    # Restoring into a fresh layer (different seed) must replay the same answers.
    fresh = ImageHistory(size=3, seed=99)
    fresh.build((None, 2, 3, 1))
    tf.train.Checkpoint(history=fresh).read(saved).assert_consumed()
    again = [fresh(batch).numpy() for batch in batches[4:]]
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)

    # Keras' own weight saving holds the same three variables.
    store = {}
    history.save_own_variables(store)
    assert len(store) == 3


def test_image_history_under_mirrored_strategy(tmp_path):
    # A fresh process: logical devices must be configured before TensorFlow starts.
    code = textwrap.dedent(
        """
        import os
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
        import numpy as np, tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        devices = [tf.config.LogicalDeviceConfiguration()] * 2
        tf.config.set_logical_device_configuration(cpu, devices)
        from i2i.layers import ImageHistory
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        with strategy.scope():
            history = ImageHistory(2, seed=3)
            history.build((None, 2, 2, 1))
        step = tf.function(lambda x: strategy.run(lambda x: history(x), args=(x,)))
        images = np.arange(16, dtype=np.float32).reshape(16, 1, 1, 1) * np.ones((1, 2, 2, 1))
        data = tf.data.Dataset.from_tensor_slices(images.astype(np.float32)).batch(4)
        seen = [set(), set()]
        for batch in strategy.experimental_distribute_dataset(data):
            outputs = strategy.experimental_local_results(step(batch))
            inputs = strategy.experimental_local_results(batch)
            for replica in range(2):
                seen[replica].update(inputs[replica].numpy()[:, 0, 0, 0].tolist())
                assert set(outputs[replica].numpy()[:, 0, 0, 0]) <= seen[replica]
        pools = strategy.experimental_local_results(history.images.value)
        for replica in range(2):
            assert set(pools[replica].numpy()[:, 0, 0, 0]) <= seen[replica], replica
        tf.train.Checkpoint(history=history).write(os.environ["CKPT"])
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "CKPT": str(tmp_path / "ckpt")},
        timeout=120,
    )
    assert result.returncode == 0 and "ok" in result.stdout, result.stderr[-3000:]
