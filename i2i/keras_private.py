"""The private Keras and TensorFlow attributes i2i relies on: the one list of them.

Keras 3 has public APIs for almost everything i2i does; where it has none, i2i reaches
for an attribute with a leading underscore, which a Keras release may rename without
notice. That is why setup.py caps Keras below 4, and why every such use is listed here
and checked against the installed versions by `tests/test_keras_private.py`: after an
upgrade, that test names what moved before anything else fails.

Each entry: (the object that has it, the attribute, where i2i uses it and why).
"""

PRIVATE_ATTRIBUTES = (
    (
        "keras.Model",
        "_flatten_layers",
        "i2i.checkpoint.seed_generators, i2i.checkpoint.load_weights, "
        "i2i.precision.float32_copy: every layer, nested "
        "ones too, in a stable order (model.layers lists only the top level)",
    ),
    (
        "keras.layers.Layer",
        "_seed_generators",
        "i2i.checkpoint.seed_generators: the SeedGenerators a layer owns (dropout, image "
        "history), whose states save_weights does not store",
    ),
    (
        "keras.KerasTensor",
        "_keras_history",
        "i2i.precision.output_layers: the layer that produced an output (the float32 head "
        "kept as it is)",
    ),
    (
        "keras.Model (functional)",
        "_run_through_graph",
        "i2i.inference.engine.estimate_bytes_per_pixel: activation sizes on a symbolic "
        "probe, for the automatic tile size",
    ),
    (
        "keras.Model",
        "_symbolic_build",
        "i2i.training._adapt_for_multiworker: build the compile state from one local batch "
        "(keras-team/keras#20585)",
    ),
    (
        "keras.Model",
        "_maybe_symbolic_build",
        "i2i.training._adapt_for_multiworker (replaced) and i2i.gans.gan_model.GANModel "
        "(overridden): skip the cross-worker build that fails (keras-team/keras#20585)",
    ),
    (
        "tf.distribute.StrategyExtended",
        "_in_multi_worker_mode",
        "i2i.checkpoint.is_chief, i2i.gans.gan_model.multi_worker: whether a "
        "MultiWorkerMirroredStrategy spans several workers",
    ),
    (
        "keras.optimizers.Optimizer",
        "_learning_rate",
        "i2i.callbacks.LinearDecay: refuse a schedule (the learning_rate property returns "
        "its current value)",
    ),
    (
        "keras.optimizers.Optimizer",
        "_model_variables_moving_average",
        "i2i.gans.gan_model.GANModel.ema_weights: the EMA of the generator weights (use_ema=True)",
    ),
    (
        "keras.optimizers.Adam",
        "_momentums",
        "i2i.optimizers.Adam.update_step: the first-moment variables the fused kernel updates",
    ),
    (
        "keras.optimizers.Adam",
        "_velocities",
        "i2i.optimizers.Adam.update_step: the second-moment variables",
    ),
    (
        "keras.optimizers.Optimizer",
        "_get_variable_index",
        "i2i.optimizers.Adam.update_step: a weight's moments, as Keras' Adam finds them",
    ),
)
