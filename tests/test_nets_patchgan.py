"""i2i.nets.patchgan: the n-layer PatchGAN against the reference architecture."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from blocks_helpers import (
    assert_float32_head_under_mixed_precision,
    assert_safe_mode_round_trip,
    trainable_parameters,
)

from i2i import registry
from i2i.nets.patchgan import patchgan, patchgan_receptive_field, patchgan_stride

RNG = np.random.default_rng(0)


def reference_patchgan_parameters(c_in, ndf=64, n_layers=3, batch_norm=True):
    """NLayerDiscriminator of pytorch-CycleGAN-and-pix2pix, counted by hand."""
    widths = [ndf * min(2**i, 8) for i in range(n_layers + 1)]
    total = 16 * c_in * widths[0] + widths[0]  # the first conv always has a bias
    for a, b in zip(widths[:-1], widths[1:], strict=True):
        total += 16 * a * b + (2 * b if batch_norm else b)  # BN affine, or conv bias
    return total + 16 * widths[-1] + 1


def test_reference_parameter_counts():
    pix2pix = patchgan(in_channels=3, condition_channels=3)  # 2.769 M in the reference
    assert trainable_parameters(pix2pix) == reference_patchgan_parameters(6) == 2_768_705
    cyclegan = patchgan(norm="instance")  # 2.765 M in the reference
    expected = reference_patchgan_parameters(3, batch_norm=False)
    assert trainable_parameters(cyclegan) == expected == 2_764_737


def test_receptive_field_is_70_pixels():
    assert [patchgan_receptive_field(n) for n in (1, 2, 3, 4)] == [16, 34, 70, 142]
    # Empirically: the input pixels one central logit depends on span 70 x 70.
    keras.utils.set_random_seed(1)
    model = patchgan(filters=2, norm="none")
    x = tf.Variable(RNG.normal(size=(1, 128, 128, 3)).astype(np.float32))
    with tf.GradientTape() as tape:
        logit = model(x)[0, 7, 7, 0]
    rows, cols = np.nonzero(np.abs(tape.gradient(logit, x).numpy()[0]).sum(axis=-1))
    assert rows.max() - rows.min() + 1 == 70 and cols.max() - cols.min() + 1 == 70


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    return patchgan(in_channels=3, condition_channels=3, filters=4)


def test_output_shapes_at_two_sizes(tiny):
    assert tiny.input_shape == (None, None, None, 6)
    assert patchgan_stride() == 8
    for (h, w), expected in (((32, 32), (2, 2)), ((64, 48), (6, 4))):
        y = tiny(RNG.normal(size=(2, h, w, 6)).astype(np.float32), training=False)
        assert y.shape == (2, *expected, 1) and y.dtype == "float32"  # H/8 - 2


def test_unconditional_and_other_norms():
    for norm in ("instance", "none"):
        model = patchgan(filters=2, n_layers=2, norm=norm)
        assert model(np.zeros((1, 16, 16, 3), np.float32)).shape == (1, 2, 2, 1)
    with pytest.raises(ValueError, match="n_layers"):
        patchgan(n_layers=0)


def test_patchgan_save_and_safe_load(tiny, tmp_path):
    assert_safe_mode_round_trip(tiny, RNG.normal(size=(1, 32, 40, 6)).astype(np.float32), tmp_path)


def test_patchgan_logits_are_float32_under_mixed_precision():
    x = RNG.normal(size=(1, 32, 32, 3)).astype(np.float32)
    assert_float32_head_under_mixed_precision(lambda: patchgan(filters=4, norm="instance"), x)


def test_patchgan_is_registered():
    assert registry.resolve(registry.NETS, "patchgan") is patchgan
