"""Shared test set-up: quiet TensorFlow, the Keras backend, and real photos.

Area-specific fixtures live in the test modules (or a `tests/<area>_helpers.py`), not here.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

# Colour photos in the scikit-image wheel (others need a download); camera is gray.
PHOTO_NAMES = ("astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "camera")


def real_photo(name: str) -> np.ndarray:
    """A real photo bundled with scikit-image, as `(H, W, 3)` uint8 RGB."""
    from skimage import data

    image = getattr(data, name)()
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3])


@pytest.fixture(scope="session")
def photos() -> dict[str, np.ndarray]:
    """scikit-image's real photos by name, `(H, W, 3)` uint8 RGB."""
    return {name: real_photo(name) for name in PHOTO_NAMES}


# The longest test files (seconds on 2 busy cores, `pytest --durations`), run first: the
# two xdist workers take whole files in collection order, and a long file handed out
# last would leave one worker running it alone at the end.
LONGEST_FILES = (
    "test_export.py",
    "test_cyclegan.py",
    "test_training.py",
    "test_train_srgan.py",
    "test_train_srresnet.py",
    "test_srgan.py",
    "test_train_cyclegan.py",
    "test_zoo.py",
    "test_export_cli.py",
    "test_train_pix2pix.py",
)


def pytest_collection_modifyitems(items):
    order = {name: rank for rank, name in enumerate(LONGEST_FILES)}
    # Stable: each file's tests keep their order.
    items.sort(key=lambda item: order.get(item.path.name, len(order)))
