"""Checks shared by the network tests: parameter counts, safe-mode round trips, precision."""

import json

import keras
import numpy as np


def trainable_parameters(model) -> int:
    """Trainable parameters: what PyTorch's `sum(p.numel() for p in net.parameters())` counts
    (batch-norm moving statistics are buffers there, non-trainable weights here)."""
    return sum(int(np.prod(w.shape)) for w in model.trainable_weights)


def assert_safe_mode_round_trip(model, x, tmp_path):
    """The model saves to `.keras`, loads in safe mode, and computes the same outputs."""
    path = tmp_path / f"{model.name}.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    # Compared as JSON: a loaded config has lists where the original had tuples.
    assert json.dumps(loaded.get_config()) == json.dumps(model.get_config())
    np.testing.assert_allclose(loaded(x, training=False), model(x, training=False), atol=1e-5)


def assert_float32_head_under_mixed_precision(build, x):
    """Built under mixed_float16, the net computes in float16 and outputs float32."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        model = build()
        y = model(x, training=False)
        assert y.dtype == "float32"
        compute = {layer.compute_dtype for layer in model.layers[1:]}
        assert "float16" in compute, compute
        assert np.all(np.isfinite(np.asarray(y)))
    finally:
        keras.config.set_dtype_policy(previous)
    return y
