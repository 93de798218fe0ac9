"""`ThinConv2D`: a Conv2D with few output channels whose gradient is fast on the CPU.

TensorFlow's CPU kernels for the gradient of a convolution with few output channels
(the 7x7 64 -> 3 image output of the ResNet generator, SRResNet's 9x9 64 -> 3, the
PatchGAN's 4x4 512 -> 1) run at ~1 GFLOP/s, about 20x below the same convolution's
forward pass: measured on 2 cores at 256x256, the 7x7 64 -> 3 forward takes 0.14 s and
its gradient (input and kernel) 2.1 s, against 0.36 s forward + backward in PyTorch; six
such passes per CycleGAN step were the ~12 CPU-s by which i2i's step trailed the
PyTorch reference (`benchmarks/vs_reference.py`).

With `C` output channels and a `kh x kw` kernel, both gradients are matmuls over `S`,
the output gradient `dy` shifted to each of the `kh * kw` kernel taps and stacked on the
channel axis (`kh * kw * C` channels, 147 for 7x7 x 3; zero-padded to the input size):

```
dW[a, b, i, c] = sum_q x[q, i] * S[q, (a, b, c)]        (x^T S: cin x kh*kw*C)
dx[q, i]       = sum_(a, b, c) S[q, (a, b, c)] * W[a, b, i, c]   (S W^T)
with S[q, (a, b, c)] = dy[q - (a, b), c]
```

the same sums as the convolution's own gradient (equal to float rounding), at matmul
speed: 0.18 s for that 7x7 layer's forward + backward. `S` holds `kh * kw` copies of
`dy`, so this pays only for thin outputs: the layer uses it for at most
`MAX_THIN_FILTERS` filters, stride 1, no dilation or groups, and only in training (the
forward pass is Keras' own convolution, so inference and export are unchanged). The
weights, config and outputs are those of `keras.layers.Conv2D`: a model saved with
Conv2D there loads its weights into ThinConv2D and back. A weights file, though,
addresses layers by class (`conv2d_7`, `thin_conv2d`): training checkpoints written
before a layer became thin are restored by `i2i.checkpoint.load_weights`, which lets the
ThinConv2D layers pose as Conv2D when the first attempt fails.
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

# Above this many filters the stacked copies of dy cost more than the kernels they save
# (measured: at 64 filters, 7x7 at 256x256, no faster than TensorFlow's own gradient).
MAX_THIN_FILTERS = 16


def thin_conv2d(inputs, kernel, padding: str = "valid"):
    """`tf.nn.conv2d(inputs, kernel, 1, padding)` (NHWC) with the matmul gradient above.

    Args:
        inputs: `(B, H, W, cin)` tensor.
        kernel: `(kh, kw, cin, C)` tensor of the same dtype.
        padding: "valid" or "same" (zeros, split as TensorFlow's "SAME" splits them).

    Returns:
        The `(B, H', W', C)` convolution.
    """
    kh, kw, cin, filters = kernel.shape
    if padding == "same":
        top, left = (kh - 1) // 2, (kw - 1) // 2
        inputs = tf.pad(inputs, [[0, 0], [top, kh - 1 - top], [left, kw - 1 - left], [0, 0]])
    elif padding != "valid":
        raise ValueError(f"padding must be 'valid' or 'same', got {padding!r}")

    @tf.custom_gradient
    def convolve(x, w):
        def gradient(dy):
            shifted = [
                tf.pad(dy, [[0, 0], [a, kh - 1 - a], [b, kw - 1 - b], [0, 0]])
                for a in range(kh)
                for b in range(kw)
            ]
            stacked = tf.reshape(tf.concat(shifted, axis=-1), [-1, kh * kw * filters])
            d_kernel = tf.matmul(tf.reshape(x, [-1, cin]), stacked, transpose_a=True)
            d_kernel = tf.transpose(tf.reshape(d_kernel, [cin, kh, kw, filters]), [1, 2, 0, 3])
            w_t = tf.reshape(tf.transpose(w, [0, 1, 3, 2]), [kh * kw * filters, cin])
            d_inputs = tf.reshape(tf.matmul(stacked, w_t), tf.shape(x))
            return d_inputs, d_kernel

        return tf.nn.conv2d(x, w, 1, "VALID"), gradient

    return convolve(inputs, kernel)


@keras.saving.register_keras_serializable(package="i2i")
class ThinConv2D(keras.layers.Conv2D):
    """`keras.layers.Conv2D` whose training gradient is fast for few filters.

    Takes every `keras.layers.Conv2D` argument and computes the same outputs; in
    training, with at most `MAX_THIN_FILTERS` filters, stride 1, no dilation, one group
    and channels-last data, the gradient is `thin_conv2d`'s (see the module docstring).
    Everything else is Conv2D's own.

    Example:

    ```python
    x = ReflectionPadding2D(3)(features)
    image = ThinConv2D(3, 7, padding="valid", name="output_conv")(x)  # 64 -> 3
    ```
    """

    def _thin(self) -> bool:
        return (
            self.filters <= MAX_THIN_FILTERS
            and tuple(self.strides) == (1, 1)
            and tuple(self.dilation_rate) == (1, 1)
            and self.groups == 1
            and self.data_format == "channels_last"
            and self.padding in ("valid", "same")
        )

    def call(self, inputs, training=False):
        if not (training and self._thin()):
            return super().call(inputs)
        # Conv2D.call with the convolution swapped (its bias and activation steps).
        # A tensor, not the variable: tf.custom_gradient would ask for its gradient apart.
        kernel = tf.identity(ops.convert_to_tensor(self.kernel))
        outputs = thin_conv2d(inputs, kernel, self.padding)
        if self.use_bias:
            outputs = ops.add(outputs, ops.reshape(self.bias, (1, 1, 1, self.filters)))
        if self.activation is not None:
            return self.activation(outputs)
        return outputs
