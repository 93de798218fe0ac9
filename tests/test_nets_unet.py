"""i2i.nets.unet: the pix2pix U-Net against the reference architecture."""

import keras
import numpy as np
import pytest
from blocks_helpers import (
    assert_float32_head_under_mixed_precision,
    assert_safe_mode_round_trip,
    trainable_parameters,
)

from i2i import registry
from i2i.nets.unet import unet, unet_depth, unet_stride

RNG = np.random.default_rng(0)


def reference_unet_parameters(depth=8, ngf=64, c_in=3, c_out=3):
    """UnetGenerator(norm=batch) of pytorch-CycleGAN-and-pix2pix, counted by hand.

    4x4 convolutions without bias (batch norm) except the last transposed one; batch
    norm (2 parameters per channel) after every conv but the first, the innermost
    down-conv and the last.
    """
    widths = [ngf * min(2**i, 8) for i in range(depth)]
    down = 16 * c_in * widths[0] + sum(16 * widths[i - 1] * widths[i] for i in range(1, depth))
    down_norm = 2 * sum(widths[1:-1])
    up = 16 * widths[-1] * widths[-2]  # innermost: no concatenation yet
    up += sum(16 * 2 * widths[i] * widths[i - 1] for i in range(1, depth - 1))
    up += 16 * 2 * widths[0] * c_out + c_out
    up_norm = 2 * sum(widths[:-1])
    return down + down_norm + up + up_norm


def test_default_unet_256_matches_the_reference_parameter_count():
    assert reference_unet_parameters() == 54_413_955  # the reference prints 54.414 M
    model = unet(256)
    assert trainable_parameters(model) == 54_413_955
    kinds = [type(layer) for layer in model.layers]
    assert kinds.count(keras.layers.Conv2D) == kinds.count(keras.layers.Conv2DTranspose) == 8


def test_depth_and_stride_follow_the_image_size():
    assert [unet_depth(s) for s in (128, 256, 512, 96, 384)] == [7, 8, 9, 5, 7]
    assert unet_stride(256) == 256 and unet_stride(256, depth=5) == 32
    with pytest.raises(ValueError, match="depth >= 2"):
        unet_depth(6)


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    return unet(32, filters=4)  # depth 5, stride 32


def test_tiny_unet_parameter_count_and_outputs_at_two_sizes(tiny):
    assert trainable_parameters(tiny) == reference_unet_parameters(depth=5, ngf=4)
    for shape in ((2, 32, 32, 3), (1, 64, 96, 3)):
        y = tiny(RNG.uniform(-1, 1, size=shape).astype(np.float32), training=False)
        assert y.shape == shape and y.dtype == "float32"
        assert float(np.abs(y).max()) <= 1.0


def test_dropout_in_the_first_three_decoder_blocks(tiny):
    dropouts = [layer.name for layer in tiny.layers if isinstance(layer, keras.layers.Dropout)]
    assert sorted(dropouts) == ["up2_dropout", "up3_dropout", "up4_dropout"]  # innermost = 4
    x = RNG.uniform(-1, 1, size=(1, 32, 32, 3)).astype(np.float32)
    np.testing.assert_array_equal(tiny(x, training=False), tiny(x, training=False))
    assert not np.allclose(tiny(x, training=True), tiny(x, training=True))
    none = unet(32, filters=4, dropout=0.0)
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in none.layers)


@pytest.mark.parametrize("norm", ["instance", "none"])
def test_other_norms_use_biases(norm):
    model = unet(16, filters=2, norm=norm)
    assert not any(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
    assert all(layer.use_bias for layer in model.layers if hasattr(layer, "use_bias"))
    assert model(np.zeros((1, 16, 16, 3), np.float32)).shape == (1, 16, 16, 3)
    with pytest.raises(ValueError, match="unknown norm"):
        unet(16, norm="layer")


def test_unet_channels_and_explicit_depth():
    model = unet(64, in_channels=1, out_channels=2, filters=2, depth=3)
    assert model.input_shape == (None, None, None, 1)
    assert model(np.zeros((1, 24, 16, 1), np.float32)).shape == (1, 24, 16, 2)


def test_unet_save_and_safe_load(tiny, tmp_path):
    x = RNG.uniform(-1, 1, size=(1, 32, 64, 3)).astype(np.float32)
    assert_safe_mode_round_trip(tiny, x, tmp_path)


def test_unet_output_is_float32_under_mixed_precision():
    x = RNG.uniform(-1, 1, size=(1, 32, 32, 3)).astype(np.float32)
    assert_float32_head_under_mixed_precision(lambda: unet(32, filters=4), x)


def test_unet_is_registered():
    assert registry.resolve(registry.NETS, "unet") is unet


@pytest.mark.parametrize("upsample", ["transpose", "resize"])
def test_a_uniform_input_stays_uniform_only_with_resize_convolutions(upsample):
    # The mechanism of the lattice the first day -> night model drew: each parity of a
    # transposed convolution's output has its own kernel taps, so a uniform region comes
    # out periodic (period 2 ** level), which adversarial training can grow into a grid.
    net = unet(64, filters=8, depth=3, dropout=0.0, upsample=upsample)
    rng = np.random.default_rng(0)
    net.set_weights([w + rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in net.get_weights()])
    out = np.asarray(net(np.full((1, 96, 96, 3), 0.3, np.float32), training=False))[0]
    interior = out[24:72, 24:72]  # away from the zero padding's reach
    np.testing.assert_allclose(interior, np.roll(interior, 8, axis=0), atol=1e-5)  # stride 8
    spread = np.ptp(interior, axis=(0, 1)).max()  # per channel
    if upsample == "resize":
        assert spread < 1e-5
    else:
        assert spread > 1e-3
        assert np.abs(interior - np.roll(interior, 1, axis=0)).max() > 1e-3
