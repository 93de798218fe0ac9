"""SRResNet: the paper's size, shapes at any input size, safe-mode save/load, precision."""

import keras
import numpy as np
import pytest
from blocks_helpers import assert_float32_head_under_mixed_precision, assert_safe_mode_round_trip

from i2i import registry
from i2i.nets.srresnet import srresnet


def test_paper_configuration_has_1_55_million_parameters():
    # Ledig et al.: B=16, F=64, x4 -> 1.55 M (BN moving statistics included here).
    net = srresnet(scale=4)
    assert net.count_params() == 1_554_883
    assert registry.resolve(registry.NETS, "srresnet") is srresnet


@pytest.mark.parametrize("scale", [2, 3, 4])
def test_any_input_size_is_upscaled_by_the_scale(scale):
    net = srresnet(scale=scale, num_blocks=1, filters=8)
    for h, w in ((7, 9), (16, 12)):
        y = net(np.random.default_rng(0).random((2, h, w, 3), np.float32))
        assert tuple(y.shape) == (2, h * scale, w * scale, 3)
        assert y.dtype == "float32"


def test_residual_network_starts_as_bicubic_upscaling():
    # The detail head starts at zero, so an untrained residual net is bicubic upscaling.
    net = srresnet(scale=2, num_blocks=1, filters=8, batch_norm=False, residual="bicubic")
    x = np.random.default_rng(1).random((1, 10, 12, 3), np.float32)
    bicubic = keras.layers.UpSampling2D(2, interpolation="bicubic")(x)
    np.testing.assert_allclose(net(x), bicubic, atol=1e-6)


@pytest.mark.parametrize("residual", [None, "bicubic"])
def test_safe_mode_round_trip(residual, tmp_path):
    net = srresnet(scale=2, num_blocks=2, filters=8, residual=residual)
    # Non-zero weights everywhere, so the round trip compares real computations.
    net.set_weights([w + 0.01 for w in net.get_weights()])
    x = np.random.default_rng(2).random((1, 9, 11, 3), np.float32)
    assert_safe_mode_round_trip(net, x, tmp_path)


def test_float32_output_under_mixed_precision():
    x = np.random.default_rng(3).random((1, 8, 8, 3), np.float32)
    y = assert_float32_head_under_mixed_precision(
        lambda: srresnet(scale=2, num_blocks=1, filters=8, residual="bicubic"), x
    )
    assert tuple(y.shape) == (1, 16, 16, 3)


def test_unknown_scale_or_residual_is_refused():
    with pytest.raises(ValueError, match="scale"):
        srresnet(scale=5)
    with pytest.raises(ValueError, match="residual"):
        srresnet(residual="nearest")
