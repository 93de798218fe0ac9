"""i2i: GAN image-to-image translation and super-resolution with Keras 3.

Importing the package is cheap: TensorFlow and Keras are imported only by the modules
that need them, so the command line answers `--help` and `--version` instantly.
"""

__version__ = "0.1.0"
