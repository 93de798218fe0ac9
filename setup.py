"""Package metadata for i2i (see pyproject.toml for the build system and tool config)."""

import re
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent
VERSION = re.search(r'__version__ = "([^"]+)"', (HERE / "i2i" / "__init__.py").read_text()).group(1)
# The model zoo: the top-level models/ folder ships as package data of `i2i._zoo` (a data
# folder inside the installed i2i package, where i2i.zoo looks), never as a top-level
# Python package named `models`.
ZOO = {"i2i._zoo": "models"} if (HERE / "models").is_dir() else {}

# `i2i export`: ONNX conversion (tf2onnx 1.17 is the first release that accepts the
# protobuf TensorFlow 2.21 needs), ONNX Runtime and LiteRT to check the exports.
EXPORT = ["tf2onnx>=1.17", "onnx>=1.16", "onnxruntime>=1.18", "ai-edge-litert>=1.2"]
# recipes/release_zoo.py and the benchmarks use the real photos bundled with scikit-image.
RECIPES = ["scikit-image>=0.22"]

setup(
    name="i2i",
    version=VERSION,
    description="GAN image-to-image translation and super-resolution with Keras 3",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["i2i", "i2i.*"]) + list(ZOO),
    package_dir=ZOO,
    package_data={name: ["*.keras", "*.json", "*.md"] for name in ZOO},
    install_requires=[
        "tensorflow>=2.16",
        # TensorFlow no longer pulls it in; the training runner writes TensorBoard logs.
        "tensorboard>=2.16",
        # i2i uses a few private Keras attributes (listed in i2i/keras_private.py and
        # checked by tests/test_keras_private.py): a new major version is not assumed.
        "keras>=3.5,<4",
        # OpenCV 5 refuses truncated JPEGs instead of returning them grey-filled.
        "opencv-python-headless>=5.0",
        # Header probing (size guard, EXIF orientation) without decoding.
        "pillow>=10",
        "click>=8.1",
        "tqdm>=4.60",
        "numpy>=1.24",
        # Frechet distance (sqrtm) for FID.
        "scipy>=1.10",
        # Loss curves in `i2i report` (Agg backend, no display needed).
        "matplotlib>=3.7",
    ],
    extras_require={
        # pytest-xdist: the suite runs on two workers (pyproject's addopts).
        "test": ["pytest>=8", "pytest-xdist>=3.5", "ruff>=0.5", *RECIPES, *EXPORT],
        "export": EXPORT,
        "recipes": RECIPES,
    },
    entry_points={"console_scripts": ["i2i = i2i.cli:main"]},
)
