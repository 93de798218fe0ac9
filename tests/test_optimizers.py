"""i2i.optimizers.Adam: the updates of keras.optimizers.Adam, through TensorFlow's kernel."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from i2i.optimizers import Adam

SHAPES = ((3, 3, 4, 5), (5,), (7, 2))


def run(optimizer, steps=5, compiled=True):
    """The variables after `steps` updates with fixed pseudo-random gradients."""
    rng = np.random.default_rng(0)
    variables = [keras.Variable(rng.normal(size=s).astype("float32")) for s in SHAPES]
    gradients = [
        [tf.constant(rng.normal(size=s).astype("float32")) for s in SHAPES] for _ in range(steps)
    ]
    optimizer.build(variables)

    def apply(grads):
        optimizer.apply_gradients(zip(grads, variables, strict=True))

    apply = tf.function(apply) if compiled else apply
    for grads in gradients:
        apply(grads)
    return [np.asarray(v) for v in variables]


@pytest.mark.parametrize("compiled", [True, False])
@pytest.mark.parametrize(
    "options",
    [
        {"learning_rate": 2e-4, "beta_1": 0.5},
        {"learning_rate": 1e-2, "beta_1": 0.9, "beta_2": 0.99, "epsilon": 1e-3},
        {"learning_rate": 1e-3, "weight_decay": 0.1, "clipnorm": 1.0, "use_ema": True},
        {"learning_rate": 1e-3, "amsgrad": True},
    ],
)
def test_same_updates_as_keras_adam(options, compiled):
    expected = run(keras.optimizers.Adam(**options), compiled=compiled)
    got = run(Adam(**options), compiled=compiled)
    for e, g in zip(expected, got, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=1e-7)
    # The updates moved the weights (the comparison is not between two no-ops).
    start = run(Adam(**options), steps=0)
    assert all(np.abs(g - s).max() > 1e-5 for g, s in zip(got, start, strict=True))


def test_fit_with_a_learning_rate_schedule_matches_keras_adam():
    def train(optimizer):
        keras.utils.set_random_seed(0)
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Dense(2)(keras.layers.Dense(8)(inputs)))
        model.compile(optimizer=optimizer, loss="mse")
        x = np.random.default_rng(1).normal(size=(32, 4)).astype("float32")
        model.fit(x, x[:, :2] * 2, batch_size=8, epochs=2, verbose=0, shuffle=False)
        return model.get_weights()

    def schedule():
        return keras.optimizers.schedules.CosineDecay(1e-2, decay_steps=8)

    for e, g in zip(train(keras.optimizers.Adam(schedule())), train(Adam(schedule())), strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


def test_config_round_trips_to_the_i2i_class():
    optimizer = Adam(3e-4, beta_1=0.5, name="generator_optimizer")
    restored = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(restored) is Adam
    assert restored.get_config() == optimizer.get_config()
    assert isinstance(restored, keras.optimizers.Adam)
