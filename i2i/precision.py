"""A functional model rebuilt under another Keras dtype policy, with the same weights.

Three places need one: the training runner saves a generator trained under a mixed
policy as plain float32 (`float32_copy`); inference runs a float32 generator in mixed
float16 / bfloat16 (`with_policy(model, "mixed_float16")`); `i2i export --precision
float16` stores float16 weights (`with_policy(model, "float16")`). The layers that
produce the model's outputs (the output head, which i2i networks build in float32) keep
their policy, so the output stays float32.

The copy is rebuilt from the model's config (every layer, its name and its weights, in
the same order), never from Python code: any model Keras can save can be converted.

Example:

```python
from i2i.precision import float32_copy, with_policy

fast = with_policy(generator, "mixed_float16")   # float32 variables, float16 compute
plain = float32_copy(fast)                       # back to float32 everywhere
```
"""

from __future__ import annotations

from contextlib import contextmanager

import keras


def gpu_visible() -> bool:
    """True when TensorFlow sees at least one GPU (what the `auto` precisions ask)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


@contextmanager
def global_policy(name: str):
    """Set the global Keras dtype policy for a block (restored afterwards)."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def output_layers(model) -> set[str]:
    """Names of the layers whose outputs are the model's outputs (its heads)."""
    # Keras' private link from a symbolic tensor to the operation that made it (listed
    # in i2i.keras_private).
    return {tensor._keras_history.operation.name for tensor in model.outputs}


def with_policy(model, policy: str, keep_heads: bool = True):
    """A copy of the functional or sequential `model` computing under `policy`.

    Args:
        model: the model (not changed).
        policy: a Keras dtype policy name: "float32", "float16", "mixed_float16",
            "mixed_bfloat16"...
        keep_heads: leave the layers producing the outputs as they are (i2i builds
            them float32, so outputs stay float32).

    Returns:
        A new model with the same layers, names and weights.

    Raises:
        ValueError: Keras cannot rebuild the model under `policy`.
    """
    heads = output_layers(model) if keep_heads else set()
    config = model.get_config()
    for layer in config["layers"]:
        settings = layer.get("config", {})
        name = layer.get("name", settings.get("name"))
        if layer.get("class_name") != "InputLayer" and name not in heads and "dtype" in settings:
            settings["dtype"] = policy
    # Layers without a dtype of their own in the config follow the global policy.
    with global_policy(policy):
        copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    return copy


def float32_copy(model):
    """`model` itself when all its layers compute in float32, else a float32 copy."""
    # `_flatten_layers` (private Keras, see i2i.keras_private): every layer, nested too.
    if all(layer.dtype_policy.name == "float32" for layer in model._flatten_layers()):
        return model
    return with_policy(model, "float32", keep_heads=False)
