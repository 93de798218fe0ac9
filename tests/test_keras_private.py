"""The private Keras / TensorFlow attributes i2i uses still exist (`i2i.keras_private`)."""

import keras
import tensorflow as tf

from i2i.keras_private import PRIVATE_ATTRIBUTES


def test_every_private_attribute_i2i_uses_exists_in_the_installed_keras():
    inputs = keras.Input((None, None, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(3, 1)(inputs))
    model.compile(optimizer="adam", loss="mae")
    optimizer = keras.optimizers.Adam(use_ema=True)
    optimizer.build(model.trainable_variables)
    owners = {
        "keras.Model": model,
        "keras.Model (functional)": model,
        "keras.layers.Layer": keras.layers.Dropout(0.5),
        "keras.KerasTensor": model.outputs[0],
        "tf.distribute.StrategyExtended": tf.distribute.get_strategy().extended,
        "keras.optimizers.Optimizer": optimizer,
        "keras.optimizers.Adam": optimizer,
    }
    missing = [
        f"{owner}.{name}"
        for owner, name, _ in PRIVATE_ATTRIBUTES
        if not hasattr(owners[owner], name)
    ]
    assert not missing, f"Keras {keras.__version__} / TF {tf.__version__} lack {missing}"
