"""i2i.nets.resnet_generator: the CycleGAN ResNet generator against the reference."""

import keras
import numpy as np
import pytest
from blocks_helpers import (
    assert_float32_head_under_mixed_precision,
    assert_safe_mode_round_trip,
    trainable_parameters,
)

from i2i import registry
from i2i.layers import ReflectionPadding2D
from i2i.nets.resnet_generator import STRIDE, resnet_generator

RNG = np.random.default_rng(0)


def reference_resnet_parameters(blocks, ngf=64, c_in=3, c_out=3):
    """ResnetGenerator(norm=instance, affine=False) counted by hand: convs with biases."""

    def conv(k, a, b):
        return k * k * a * b + b

    total = conv(7, c_in, ngf) + conv(3, ngf, 2 * ngf) + conv(3, 2 * ngf, 4 * ngf)
    total += blocks * 2 * conv(3, 4 * ngf, 4 * ngf)
    total += conv(3, 4 * ngf, 2 * ngf) + conv(3, 2 * ngf, ngf) + conv(7, ngf, c_out)
    return total


def test_reference_parameter_counts():
    assert reference_resnet_parameters(9) == 11_378_179  # resnet_9blocks: 11.378 M
    assert trainable_parameters(resnet_generator(blocks=9)) == 11_378_179
    assert trainable_parameters(resnet_generator(blocks=6)) == 7_837_699  # 7.838 M


@pytest.fixture(scope="module")
def tiny():
    keras.utils.set_random_seed(0)
    return resnet_generator(filters=4, blocks=2)


def test_structure_reflection_padding_and_instance_norm(tiny):
    kinds = [type(layer) for layer in tiny.layers]
    assert kinds.count(ReflectionPadding2D) == 1 + 2 * 2 + 1
    norms = [layer for layer in tiny.layers if isinstance(layer, keras.layers.GroupNormalization)]
    assert len(norms) == 3 + 2 * 2 + 2 and all(n.count_params() == 0 for n in norms)
    assert trainable_parameters(tiny) == reference_resnet_parameters(2, ngf=4)


def test_output_shapes_at_two_sizes(tiny):
    assert STRIDE == 4
    for shape in ((2, 16, 16, 3), (1, 32, 24, 3)):
        y = tiny(RNG.uniform(-1, 1, size=shape).astype(np.float32), training=False)
        assert y.shape == shape and y.dtype == "float32"
        assert float(np.abs(y).max()) <= 1.0


def test_upsampling_is_the_exact_adjoint_of_the_padded_downsampling(tiny):
    # PyTorch's ConvTranspose2d(3, stride 2, padding 1, output_padding 1) is the adjoint of
    # its Conv2d(3, stride 2, padding 1); check the Keras layers keep that alignment.
    up, crop = tiny.get_layer("up2_conv"), tiny.get_layer("up2_crop")
    kernel = keras.ops.convert_to_tensor(up.kernel)  # (3, 3, out, in)
    x = RNG.normal(size=(1, 5, 6, up.kernel.shape[-1])).astype(np.float32)
    y = RNG.normal(size=(1, 10, 12, up.kernel.shape[-2])).astype(np.float32)
    bias = np.asarray(up.bias)
    transposed = np.asarray(crop(up(x))) - bias
    padded = np.pad(y, [(0, 0), (1, 1), (1, 1), (0, 0)])
    forward = np.asarray(keras.ops.conv(padded, kernel, strides=2, padding="valid"))
    np.testing.assert_allclose((transposed * y).sum(), (x * forward).sum(), rtol=1e-4)


def test_dropout_and_norm_options():
    model = resnet_generator(filters=2, blocks=1, dropout=0.5, norm="batch")
    assert any(isinstance(layer, keras.layers.Dropout) for layer in model.layers)
    assert model(np.zeros((1, 8, 8, 3), np.float32)).shape == (1, 8, 8, 3)
    with pytest.raises(ValueError, match="unknown norm"):
        resnet_generator(norm="group")


def test_resnet_generator_save_and_safe_load(tiny, tmp_path):
    x = RNG.uniform(-1, 1, size=(1, 16, 20, 3)).astype(np.float32)
    assert_safe_mode_round_trip(tiny, x, tmp_path)


def test_resnet_generator_output_is_float32_under_mixed_precision():
    x = RNG.uniform(-1, 1, size=(1, 16, 16, 3)).astype(np.float32)
    assert_float32_head_under_mixed_precision(lambda: resnet_generator(filters=4, blocks=1), x)


def test_resnet_generator_is_registered():
    assert registry.resolve(registry.NETS, "resnet_generator") is resnet_generator


def test_resize_upsampling_same_parameters_any_size_and_safe_mode(tmp_path):
    net = resnet_generator(filters=4, blocks=1, upsample="resize")
    # Each 3x3 transposed convolution becomes a 3x3 convolution: the same weights.
    assert trainable_parameters(net) == trainable_parameters(resnet_generator(filters=4, blocks=1))
    x = RNG.uniform(-1, 1, (1, 12, 20, 3)).astype("float32")
    assert tuple(net(x).shape) == (1, 12, 20, 3)
    assert not any("transpose" in type(layer).__name__.lower() for layer in net.layers)
    assert_safe_mode_round_trip(net, x, tmp_path)
    with pytest.raises(ValueError, match="upsample"):
        resnet_generator(upsample="deconv")
