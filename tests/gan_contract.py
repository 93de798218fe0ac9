"""The contract every GAN model of i2i must meet; each model's tests run it.

```python
from gan_contract import check_gan_contract

def test_pix2pix_meets_the_gan_contract(tmp_path):
    check_gan_contract(lambda: make_small_pix2pix(), small_paired_batch(), tmp_path)
```

`make_model()` must return a fresh, compiled model built the same way each call
(same architecture and options); `batch` is one training batch (a dict of arrays as the
model's data pipeline yields them). The checks (1, 2 and 4 train one model in turn, so
its train step is traced once; 3 and 4 build one more model each):

1. `loss_names` are logged: one `fit` step logs `g_loss`, `d_loss` and every declared
   term, all finite;
2. each optimizer changes only its own networks: with the discriminator's learning rate
   at 0 only generator weights move, and the other way round;
3. `get_config` is JSON-serializable and `from_config` rebuilds the same model
   (same config, same outputs with the same weights);
4. weights + optimizer state (+ random generator states) restore: a model restored from
   a full-state checkpoint takes the next step exactly like the original.
"""

from __future__ import annotations

import json
import math

import keras
import numpy as np
import tensorflow as tf

from i2i import training


def _dataset(batch, steps: int = 1):
    return tf.data.Dataset.from_tensors(batch).repeat(steps)


def _values(variables) -> list[np.ndarray]:
    return [np.array(keras.ops.convert_to_numpy(v)) for v in variables]


def _moved(before, after) -> list[bool]:
    return [not np.array_equal(a, b) for a, b in zip(before, after, strict=True)]


def _generator_input(model, batch):
    """What `predict` takes: the batch's first generator input (source, a or lr)."""
    for key in ("source", "a", "lr"):
        if key in batch:
            return batch[key]
    return next(iter(batch.values()))


def check_loss_names_logged(model, batch) -> None:
    history = model.fit(_dataset(batch), epochs=1, verbose=0).history
    expected = {"g_loss", "d_loss", *model.loss_names}
    missing = expected - set(history)
    assert not missing, f"not logged: {sorted(missing)} (logged: {sorted(history)})"
    for name in expected:
        assert math.isfinite(history[name][-1]), f"{name} = {history[name][-1]}"


def check_optimizers_touch_only_their_networks(model, batch) -> None:
    generator_ids = {id(v) for v in model.generator_variables}
    discriminator_ids = {id(v) for v in model.discriminator_variables}
    assert generator_ids and discriminator_ids and not generator_ids & discriminator_ids
    for frozen, frozen_vars, moving_vars in [
        (model.discriminator_optimizer, model.discriminator_variables, model.generator_variables),
        (model.generator_optimizer, model.generator_variables, model.discriminator_variables),
    ]:
        saved_lr = float(frozen.learning_rate)
        frozen.learning_rate = 0.0
        frozen_before, moving_before = _values(frozen_vars), _values(moving_vars)
        model.fit(_dataset(batch), epochs=1, verbose=0)
        assert not any(_moved(frozen_before, _values(frozen_vars))), "a frozen network moved"
        assert any(_moved(moving_before, _values(moving_vars))), "the trained network did not move"
        frozen.learning_rate = saved_lr


def check_config_round_trip(make_model, batch) -> None:
    model = make_model()
    text = json.dumps(model.get_config())
    clone = type(model).from_config(json.loads(text))
    assert json.dumps(clone.get_config(), sort_keys=True) == json.dumps(
        json.loads(text), sort_keys=True
    )
    networks = model.generator_names + model.discriminator_names
    for name in networks:
        getattr(clone, name).set_weights(getattr(model, name).get_weights())
    inputs = _generator_input(model, batch)
    np.testing.assert_allclose(
        np.asarray(clone.predict(inputs, verbose=0)),
        np.asarray(model.predict(inputs, verbose=0)),
        atol=1e-6,
    )


def check_state_restore(model, make_model, batch, tmp_path) -> None:
    model.fit(_dataset(batch, 2), epochs=1, verbose=0)
    training.save_state(model, tmp_path / "state")

    restored = make_model()
    training.load_state(restored, tmp_path / "state")
    for a, b in zip(model.weights, restored.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)
    for original, copy in zip(model.optimizers, restored.optimizers, strict=True):
        assert int(original.iterations) == int(copy.iterations) > 0
        for a, b in zip(original.variables, copy.variables, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b), err_msg=a.path)

    model.fit(_dataset(batch), epochs=1, verbose=0)
    restored.fit(_dataset(batch), epochs=1, verbose=0)
    for a, b in zip(model.weights, restored.weights, strict=True):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6, err_msg=a.path)


def check_gan_contract(make_model, batch, tmp_path) -> None:
    """Run every check of the GAN model contract (see the module docstring)."""
    keras.utils.set_random_seed(0)
    model = make_model()
    check_loss_names_logged(model, batch)
    check_optimizers_touch_only_their_networks(model, batch)
    check_config_round_trip(make_model, batch)
    check_state_restore(model, make_model, batch, tmp_path)
