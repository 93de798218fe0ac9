"""`Adam`: `keras.optimizers.Adam` whose update is TensorFlow's fused Adam kernel.

Keras 3 writes Adam's update as separate tensor operations (two moment updates, a
square root, a division, a subtraction), each a full pass over the weights with its
own temporary. TensorFlow's `ResourceApplyAdam` kernel does the same update in one pass
over weight, moments and gradient. Measured on 2 cores for 101 M weights (the size of a
pix2pix U-Net 256's and PatchGAN's Adam states together, about): 1.73 CPU-s per update
with Keras' Adam, 0.22 with the kernel. In the pix2pix step at 256 px Keras' generator
update was a quarter of the step (`benchmarks/step_parts.py`).

The kernel computes the update of Kingma & Ba, "Adam: A Method for Stochastic
Optimization" (ICLR 2015), as Keras does, with epsilon added to sqrt(v):

```
m <- beta_1 * m + (1 - beta_1) * g
v <- beta_2 * v + (1 - beta_2) * g^2
w <- w - lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)
```

the same as Keras' to float rounding (`tests/test_optimizers.py`). Weight decay, gradient
clipping, EMA and loss scaling stay Keras' own (they act around `update_step`); AMSGrad,
and variables under a `tf.distribute` strategy with several replicas, take Keras' own
update (the kernel needs one variable on one device).

Example:

```python
from i2i.optimizers import Adam

model.compile(optimizer=Adam(2e-4, beta_1=0.5), loss="mae")
```
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


def _handle(variable):
    """The resource handle of a Keras or TensorFlow variable."""
    return variable.handle if isinstance(variable, tf.Variable) else variable.value.handle


@keras.saving.register_keras_serializable(package="i2i")
class Adam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` (same arguments, variables and config) with a fused update.

    Args:
        Those of `keras.optimizers.Adam`.
    """

    def update_step(self, gradient, variable, learning_rate):
        if self.amsgrad or tf.distribute.get_strategy().num_replicas_in_sync > 1:
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        step = ops.cast(self.iterations + 1, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        index = self._get_variable_index(variable)
        tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable),
            m=_handle(self._momentums[index]),
            v=_handle(self._velocities[index]),
            beta1_power=ops.power(beta_1, step),
            beta2_power=ops.power(beta_2, step),
            lr=ops.cast(learning_rate, dtype),
            beta1=beta_1,
            beta2=beta_2,
            epsilon=ops.cast(self.epsilon, dtype),
            grad=ops.cast(gradient, dtype),
            use_locking=False,
        )
