"""i2i.nets.sr_discriminator: the SRGAN VGG-style discriminator, made size-agnostic."""

import keras
import numpy as np
import pytest
from blocks_helpers import (
    assert_float32_head_under_mixed_precision,
    assert_safe_mode_round_trip,
    trainable_parameters,
)

from i2i import registry
from i2i.nets.sr_discriminator import sr_discriminator, sr_discriminator_stride

RNG = np.random.default_rng(0)


def reference_parameters(filters=64, depth=4, dense=1024, flatten_side=None):
    """The paper's network counted by hand (bias-free convs before BN, as built here)."""
    widths = [filters * 2**i for i in range(depth)]
    total = 9 * 3 * widths[0] + widths[0]  # the first conv: bias, no BN
    previous = widths[0]
    for i, width in enumerate(widths):
        for stride in (1, 2):
            if i == 0 and stride == 1:
                continue
            total += 9 * previous * width + 2 * width  # conv + BN gamma/beta
            previous = width
    features = widths[-1] * (flatten_side // 2**depth) ** 2 if flatten_side else widths[-1]
    return total + features * dense + dense + dense + 1


def test_default_parameter_count():
    # Global pooling before Dense(1024): 5,213,569 trainable parameters (the paper's
    # flatten of a 6x6x512 map would put 18.9 M into that dense layer alone).
    model = sr_discriminator()
    assert trainable_parameters(model) == reference_parameters() == 5_213_569
    assert model.get_layer("dense").count_params() == 512 * 1024 + 1024


def test_paper_head_at_96():
    model = sr_discriminator(input_size=96)
    assert model.get_layer("dense").count_params() == 6 * 6 * 512 * 1024 + 1024  # 18.9 M
    assert trainable_parameters(model) == reference_parameters(flatten_side=96) == 23_563_649
    with pytest.raises(ValueError, match="multiple of 16"):
        sr_discriminator(input_size=100)


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    return sr_discriminator(filters=4, depth=2, dense_units=8)


def test_one_logit_per_image_at_two_sizes(tiny):
    assert tiny.input_shape == (None, None, None, 3)
    assert sr_discriminator_stride(2) == 4
    for h, w in ((16, 16), (40, 24)):
        y = tiny(RNG.uniform(size=(2, h, w, 3)).astype(np.float32), training=False)
        assert y.shape == (2, 1) and y.dtype == "float32"


def test_logits_depend_on_the_image(tiny):
    x = RNG.uniform(size=(2, 16, 16, 3)).astype(np.float32)
    y = np.asarray(tiny(x, training=False))
    assert np.all(np.isfinite(y)) and abs(y[0, 0] - y[1, 0]) > 0


def test_safe_mode_round_trip(tiny, tmp_path):
    assert_safe_mode_round_trip(tiny, RNG.uniform(size=(1, 24, 24, 3)).astype(np.float32), tmp_path)


def test_float32_logits_under_mixed_precision():
    x = RNG.uniform(size=(1, 16, 16, 3)).astype(np.float32)
    assert_float32_head_under_mixed_precision(lambda: sr_discriminator(filters=4, depth=2), x)


def test_registered():
    assert registry.resolve(registry.NETS, "sr_discriminator") is sr_discriminator
