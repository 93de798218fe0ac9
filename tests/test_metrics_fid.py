"""FID / KID: the estimators against direct NumPy/SciPy computations, and the image path
with a small network standing in for InceptionV3."""

import itertools

import numpy as np
import pytest
from scipy import linalg

from i2i import metrics


def random_features(n, d, seed, shift=0.0):
    """n samples of one correlated d-dim Gaussian (the same for every seed), shifted."""
    mixing = np.random.default_rng(d).normal(size=(d, d)) / np.sqrt(d)
    return np.random.default_rng(seed).normal(size=(n, d)) @ mixing + shift


def reference_fid(a, b):
    """FID without sqrtm: tr sqrt(S1 S2) is the sum of the square roots of the eigenvalues
    of S1 S2 (real and non-negative: S1 S2 is similar to S1^1/2 S2 S1^1/2)."""
    mu1, mu2 = a.mean(0), b.mean(0)
    s1 = (a - mu1).T @ (a - mu1) / (len(a) - 1)
    s2 = (b - mu2).T @ (b - mu2) / (len(b) - 1)
    eigenvalues = linalg.eigvals(s1 @ s2)
    trace_sqrt = np.sqrt(np.clip(eigenvalues.real, 0, None)).sum()
    return np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * trace_sqrt


def reference_mmd2(x, y):
    """Unbiased MMD^2, polynomial kernel (x.y/d + 1)^3, written out pair by pair."""
    m, d = x.shape

    def k(u, v):
        return (np.dot(u, v) / d + 1.0) ** 3

    pairs = [(i, j) for i, j in itertools.product(range(m), repeat=2) if i != j]
    xx = sum(k(x[i], x[j]) for i, j in pairs) / (m * (m - 1))
    yy = sum(k(y[i], y[j]) for i, j in pairs) / (m * (m - 1))
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m)) / (m * m)
    return xx + yy - 2 * xy


def test_fid_matches_direct_computation():
    a = random_features(300, 16, seed=0)
    b = random_features(200, 16, seed=1, shift=0.3)
    assert metrics.fid(a, b) == pytest.approx(reference_fid(a, b), rel=1e-6, abs=1e-8)


def test_fid_known_values():
    a = random_features(400, 8, seed=2)
    assert metrics.fid(a, a) == pytest.approx(0.0, abs=1e-6)
    # Shifting every vector moves only the mean term.
    assert metrics.fid(a, a + 2.0) == pytest.approx(8 * 4.0, rel=1e-6)
    # Two 1-d Gaussians: (mu1 - mu2)^2 + (s1 - s2)^2.
    assert metrics.frechet_distance(0.0, [[4.0]], 1.0, [[9.0]]) == pytest.approx(1.0 + 1.0)


def test_fid_with_fewer_samples_than_dimensions_is_finite():
    a, b = random_features(10, 32, seed=3), random_features(12, 32, seed=4)
    assert np.isfinite(metrics.fid(a, b))


def test_kid_matches_direct_computation():
    a = random_features(25, 6, seed=5)
    b = random_features(30, 6, seed=6, shift=0.5)
    # One subset of every vector of the smaller set: the estimator is permutation
    # invariant, so only which vectors of the larger set were drawn matters.
    mean, std = metrics.kid(a, b[:25], num_subsets=1, subset_size=25)
    assert mean == pytest.approx(reference_mmd2(a, b[:25]), rel=1e-9)
    assert std == 0.0


def test_kid_subsets():
    a = random_features(200, 8, seed=7)
    same = random_features(200, 8, seed=8)  # same distribution: unbiased, ~0
    other = random_features(200, 8, seed=9, shift=1.0)
    mean_same, std_same = metrics.kid(a, same, num_subsets=20, subset_size=50)
    mean_other, std_other = metrics.kid(a, other, num_subsets=20, subset_size=50)
    assert abs(mean_same) < 2 * std_same
    assert mean_other > 3 * std_other > 3 * std_same
    assert metrics.kid(a, other, num_subsets=5, subset_size=50, seed=1) == metrics.kid(
        a, other, num_subsets=5, subset_size=50, seed=1
    )


def test_estimator_errors():
    with pytest.raises(ValueError, match="at least 2"):
        metrics.fid(np.zeros((1, 4)), np.zeros((5, 4)))
    with pytest.raises(ValueError, match="differ"):
        metrics.fid(np.ones((5, 4)) * np.arange(5)[:, None], np.ones((5, 3)))
    with pytest.raises(ValueError, match="one D"):
        metrics.kid(np.zeros((5, 4)), np.zeros((5, 3)))


# ----------------------------------------------------------------------- image path


def tiny_feature_model(input_size=32):
    """A small fixed random network standing in for InceptionV3 (same input contract)."""
    import keras

    keras.utils.set_random_seed(0)
    inputs = keras.Input((input_size, input_size, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(inputs)
    x = keras.layers.Conv2D(16, 3, strides=2, activation="relu")(x)
    outputs = keras.layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, outputs)


@pytest.fixture(scope="module")
def feature_model():
    return tiny_feature_model()


@pytest.fixture(scope="module")
def crops(photos):
    """48 real 64x64 crops (and 16 with other sizes), uint8."""
    out = []
    for name in ("astronaut", "chelsea", "coffee", "rocket"):
        image = photos[name]
        for i in range(12):
            y, x = (37 * i) % (image.shape[0] - 64), (53 * i) % (image.shape[1] - 64)
            out.append(image[y : y + 64, x : x + 64])
    return out


def test_image_features_resize_scale_and_batch(feature_model, crops):
    mixed = [*crops[:5], crops[5][:40, :50], np.zeros((20, 90), np.uint8)]
    features = metrics.image_features(mixed, feature_model, batch_size=3)
    assert features.shape == (7, 16) and features.dtype == np.float64
    # Equivalent to resizing by hand and scaling to [-1, 1] (Inception's preprocessing).
    import cv2

    x = cv2.resize(crops[0].astype(np.float32) / 127.5 - 1, (32, 32), cv2.INTER_LINEAR)
    direct = np.asarray(feature_model(x[None], training=False))[0]
    np.testing.assert_allclose(features[0], direct, rtol=1e-5, atol=1e-6)
    # Batch size does not change the features.
    again = metrics.image_features(mixed, feature_model, batch_size=16)
    np.testing.assert_allclose(features, again, rtol=1e-5, atol=1e-6)


def test_fid_and_kid_rank_image_sets(feature_model, crops):
    rng = np.random.default_rng(0)
    real_a = metrics.image_features(crops[0::2], feature_model)
    real_b = metrics.image_features(crops[1::2], feature_model)
    noisy = [np.clip(c + rng.normal(0, 40, c.shape), 0, 255).astype(np.uint8) for c in crops[1::2]]
    fake = metrics.image_features(noisy, feature_model)
    assert metrics.fid(real_a, real_b) < metrics.fid(real_a, fake)
    kid_real = metrics.kid(real_a, real_b, num_subsets=10, subset_size=20)[0]
    assert kid_real < metrics.kid(real_a, fake, num_subsets=10, subset_size=20)[0]


def test_missing_inception_weights_names_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    expected = tmp_path / "keras" / "models" / metrics.INCEPTION_WEIGHTS_FILE
    assert metrics.keras_cache_weights_paths() == [expected]
    with pytest.raises(metrics.MissingWeightsError, match=str(expected)) as error:
        metrics.inception_feature_model()
    assert "--inception-weights" in str(error.value)
    with pytest.raises(metrics.MissingWeightsError, match="nope.h5: InceptionV3 weights"):
        metrics.inception_feature_model(tmp_path / "nope.h5")


def test_inception_weights_from_the_keras_cache(tmp_path, monkeypatch):
    """InceptionV3 with weights nobody downloaded: random weights written in the legacy
    HDF5 layout of Keras' own file, under its name in the Keras cache, are found and
    loaded; a file for another model is refused in one line."""
    import h5py
    import keras
    from keras.src.legacy.saving import legacy_h5_format

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    keras.utils.set_random_seed(1)
    reference = keras.applications.InceptionV3(
        include_top=False, weights=None, pooling="avg", input_shape=(299, 299, 3)
    )
    (cached,) = metrics.keras_cache_weights_paths()
    cached.parent.mkdir(parents=True)
    with h5py.File(cached, "w") as file:
        legacy_h5_format.save_weights_to_hdf5_group(file, reference)
    model = metrics.inception_feature_model()
    image = np.random.default_rng(0).integers(0, 256, (80, 120, 3), np.uint8)
    features = metrics.image_features([image], model)
    assert features.shape == (1, 2048)
    np.testing.assert_allclose(features, metrics.image_features([image], reference), rtol=1e-4)

    bad = tmp_path / "other.weights.h5"
    keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)]).save_weights(bad)
    with pytest.raises(ValueError, match="not InceptionV3 no-top weights"):
        metrics.inception_feature_model(bad)
