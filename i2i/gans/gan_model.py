"""`GANModel`: the one shared `train_step` of every GAN in i2i.

pix2pix, CycleGAN and SRGAN are thin subclasses. A subclass holds its networks as
attributes, names them in `generator_names` / `discriminator_names`, declares the
`loss_names` its hooks return, and implements three hooks:

- `generate(batch, training)`: the generator forward pass; returns a tensor or a dict of
  tensors ("generated"), computed once per step and shared by both updates;
- `generator_losses(batch, generated)`: dict of named scalar terms (already weighted)
  whose sum the generator optimizer minimizes;
- `discriminator_losses(batch, generated)`: the same for the discriminator(s); it sees
  `generated` with gradients stopped.

The step (`train_step`):

```
with tape(generator):
    generated = generate(batch, training=True)
    [discriminator update(s) first, if discriminator_first]   # pix2pix
    generator terms -> g_loss
generator update
[discriminator update(s) after, otherwise]                     # CycleGAN, SRGAN
```

Each discriminator update is repeated `n_critic` times (WGAN-GP), with a fresh
`generate` for the repeats, as the Keras WGAN-GP example does within one batch.
`g_loss` / `d_loss` (the sums) and every declared term are logged through `keras.metrics.Mean`
trackers (reset per epoch by Keras).

Precision: losses are summed in float32; under `mixed_float16` `compile` wraps both
optimizers in `keras.optimizers.LossScaleOptimizer` and the step calls `scale_loss`
inside the tape (the wrapper unscales and skips non-finite updates).
Weight averaging (`ema_decay > 0`, off by default; not in the pix2pix / CycleGAN / SRGAN
papers; ESRGAN / BasicSR use 0.999): the generator optimizer keeps an exponential moving
average of the generator weights (Keras' `use_ema`; part of the optimizer state, so
checkpoints hold it and a resume is exact), and `evaluation_generator()` returns a copy of
the first generator holding the averaged weights, which the training tasks validate and
export (with the batch-norm statistics of the current weights: not re-estimated).
Distribution: per-replica losses are divided by the number of replicas before the
gradients are all-reduced (summed), so N replicas compute the update of one device on
the same global batch. Randomness inside the step must use `self.seed_generator`
(`keras.random.*(..., seed=self.seed_generator)`) so it is checkpointed and resumable.

Example (a conditional GAN in a few lines; see tests/tiny_gan.py):

```python
class Pix2PixLike(GANModel):
    loss_names = ("g_gan", "g_l1", "d_real", "d_fake")
    discriminator_first = True

    def __init__(self, generator, discriminator, lambda_l1=100.0, **kwargs):
        super().__init__(**kwargs)
        self.generator, self.discriminator, self.lambda_l1 = generator, discriminator, lambda_l1

    def generate(self, batch, training):
        return self.generator(batch["source"], training=training)

    def generator_losses(self, batch, fake):
        logits = self.discriminator([batch["source"], fake], training=True)
        return {"g_gan": lsgan_real(logits),
                "g_l1": self.lambda_l1 * keras.ops.mean(keras.ops.abs(fake - batch["target"]))}

    def discriminator_losses(self, batch, fake):
        ...

    def get_config(self):
        return {**super().get_config(), "lambda_l1": self.lambda_l1}


model = Pix2PixLike(make_unet(), make_patchgan())
model.compile()                     # Adam(2e-4, beta_1=0.5) for both, paper defaults
model.fit(paired_dataset, epochs=200)
```

Reference: the update schedule follows Isola et al., "Image-to-Image Translation with
Conditional Adversarial Networks" (pix2pix, CVPR 2017) and its reference code;
the n_critic discriminator steps follow Gulrajani et al., "Improved Training of
Wasserstein GANs" (2017).
"""

from __future__ import annotations

import copy

import keras
import numpy as np
import tensorflow as tf

from i2i.optimizers import Adam


def _inner(optimizer):
    """The optimizer itself, or the one a `LossScaleOptimizer` wraps."""
    return getattr(optimizer, "inner_optimizer", optimizer)


def ema_arguments(ema_decay: float) -> dict:
    """Keras optimizer arguments that keep a moving average of the weights at this
    momentum (`use_ema`), or none for 0: what a generator optimizer needs under
    `ema_decay`."""
    return {"use_ema": True, "ema_momentum": float(ema_decay)} if ema_decay else {}


class _Untracked:
    """Holds an object out of Keras' attribute tracking (not a weight of the model)."""

    def __init__(self, value=None):
        self.value = value


def multi_worker() -> bool:
    """True inside a MultiWorkerMirroredStrategy spanning more than one worker."""
    strategy = tf.distribute.get_strategy()
    return (
        isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
        and strategy.extended._in_multi_worker_mode()
    )


def step_logs(meters) -> dict:
    """The logs a train/test step returns: each meter's result.

    Across workers Keras 3 reduces step outputs with `reduce("MEAN", axis=0)`, which fails
    on scalars; shape (1,) values reduce to the scalar mean over all replicas.
    """
    logs = {meter.name: meter.result() for meter in meters}
    if multi_worker():
        logs = {name: tf.reshape(value, [1]) for name, value in logs.items()}
    return logs


@keras.saving.register_keras_serializable(package="i2i")
class GANModel(keras.Model):
    """Base class of the GAN models; owns `train_step`, `test_step` and `compile`.

    Class attributes a subclass sets:
        loss_names: names of all terms its loss hooks return (tuple of str).
        generator_names: attributes holding the generator network(s); the first is
            what `call` / `predict` run.
        discriminator_names: attributes holding the discriminator network(s).
        discriminator_first: update the discriminator before the generator (pix2pix).
        default_optimizer: keyword arguments of the `i2i.optimizers.Adam` (Keras' Adam
            with a fused update) that `compile("auto")` creates (paper defaults;
            pix2pix/CycleGAN values here).

    Args:
        n_critic: discriminator updates per generator update (5 for WGAN-GP).
        seed: seed of `self.seed_generator`, the model's random stream.
        ema_decay: momentum of the generator weights' moving average; 0 disables it.
        **kwargs: `keras.Model` arguments (name, ...).
    """

    loss_names: tuple = ()
    generator_names: tuple = ("generator",)
    discriminator_names: tuple = ("discriminator",)
    discriminator_first: bool = False
    default_optimizer: dict = {"learning_rate": 2e-4, "beta_1": 0.5, "beta_2": 0.999}

    def __init__(
        self, n_critic: int = 1, seed: int | None = None, ema_decay: float = 0.0, **kwargs
    ):
        super().__init__(**kwargs)
        if n_critic < 1:
            raise ValueError(f"n_critic must be at least 1, got {n_critic}")
        if not 0.0 <= ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {ema_decay}")
        self.n_critic = int(n_critic)
        self.seed = seed
        self.ema_decay = float(ema_decay)
        self._ema_generator = _Untracked()
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.g_loss_meter = keras.metrics.Mean(name="g_loss")
        self.d_loss_meter = keras.metrics.Mean(name="d_loss")
        self.term_meters = {name: keras.metrics.Mean(name=name) for name in self.loss_names}
        self.generator_optimizer = None
        self.discriminator_optimizer = None

    # ------------------------------------------------------------------ hooks

    def generate(self, batch, training):
        """The generator forward pass: a tensor or a dict of tensors."""
        raise NotImplementedError

    def generator_losses(self, batch, generated) -> dict:
        """Named scalar generator terms (weighted); their sum is minimized."""
        raise NotImplementedError

    def discriminator_losses(self, batch, generated) -> dict:
        """Named scalar discriminator terms (weighted); `generated` has no gradient."""
        raise NotImplementedError

    # ------------------------------------------------------------------ networks

    def _networks(self, names):
        missing = [name for name in names if getattr(self, name, None) is None]
        if missing:
            raise AttributeError(f"{type(self).__name__} has no network {', '.join(missing)}")
        return [getattr(self, name) for name in names]

    @property
    def generator_variables(self) -> list:
        """Trainable variables of all generator networks (what the G optimizer updates)."""
        return [v for net in self._networks(self.generator_names) for v in net.trainable_variables]

    @property
    def discriminator_variables(self) -> list:
        """Trainable variables of all discriminator networks."""
        nets = self._networks(self.discriminator_names)
        return [v for net in nets for v in net.trainable_variables]

    @property
    def optimizers(self) -> list:
        """[generator optimizer, discriminator optimizer] once compiled."""
        return [o for o in (self.generator_optimizer, self.discriminator_optimizer) if o]

    @property
    def _first_generator(self):
        """The network `predict`, the EMA and `evaluation_generator` are about."""
        return self._networks(self.generator_names[:1])[0]

    def call(self, inputs, training=False):
        """Run the (first) generator, so `predict` gives generated images."""
        return self._first_generator(inputs, training=training)

    # ------------------------------------------------------------------ compile

    def compile(
        self,
        generator_optimizer="auto",
        discriminator_optimizer="auto",
        jit_compile=False,
        **kwargs,
    ):
        """Configure both optimizers.

        With `ema_decay > 0`, "auto" makes the generator's Adam keep the moving average;
        an optimizer instance must then have `use_ema=True` (and
        `ema_overwrite_frequency=None`) itself.

        Args:
            generator_optimizer: "auto" (`i2i.optimizers.Adam(**default_optimizer)`),
                an optimizer name, or an optimizer instance.
            discriminator_optimizer: the same for the discriminator(s).
            jit_compile: XLA-compile the step (pinned; never Keras' "auto").
            **kwargs: other `keras.Model.compile` arguments (`steps_per_execution`,
                `run_eagerly`); `optimizer`, `loss` and `metrics` are not used.
        """
        for reserved in ("optimizer", "loss", "metrics"):
            if kwargs.get(reserved) is not None:
                raise ValueError(f"GANModel.compile does not take {reserved}=")
        generator_optimizer = self._make_optimizer(
            generator_optimizer, "generator_optimizer", **ema_arguments(self.ema_decay)
        )
        inner = _inner(generator_optimizer)
        if self.ema_decay and (not inner.use_ema or inner.ema_overwrite_frequency):
            raise ValueError(
                f"{type(self).__name__}(ema_decay>0) needs a generator optimizer with "
                "use_ema=True and ema_overwrite_frequency=None (or generator_optimizer='auto')"
            )
        discriminator_optimizer = self._make_optimizer(
            discriminator_optimizer, "discriminator_optimizer"
        )
        super().compile(optimizer=None, jit_compile=jit_compile, **kwargs)
        self.generator_optimizer = generator_optimizer
        self.discriminator_optimizer = discriminator_optimizer
        self.build_optimizers()
        # The networks are built functional models: the GAN has nothing left to create
        # (and `load_weights` / `save_weights` need `built`).
        self.built = True

    def _make_optimizer(self, spec, name, **auto_arguments):
        if isinstance(spec, str) and spec == "auto":
            optimizer = Adam(**self.default_optimizer, **auto_arguments, name=name)
        else:
            optimizer = keras.optimizers.get(spec)
        if self._mixed_float16() and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer, name=f"{name}_scaled")
        return optimizer

    def _mixed_float16(self) -> bool:
        policies = {self.dtype_policy.name}
        for net in self._networks(self.generator_names + self.discriminator_names):
            policies.add(net.dtype_policy.name)
        return "mixed_float16" in policies

    def build_optimizers(self) -> None:
        """Create both optimizers' slots (so `load_weights` restores them)."""
        if self.generator_optimizer is not None and not self.generator_optimizer.built:
            self.generator_optimizer.build(self.generator_variables)
        if self.discriminator_optimizer is not None and not self.discriminator_optimizer.built:
            self.discriminator_optimizer.build(self.discriminator_variables)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras would pull a batch through a throwaway iterator and `reduce` it across
        # replicas to build compile-time losses/metrics; a compiled GANModel has none
        # and is already built. Skipping it also avoids a Keras 3 failure under
        # MultiWorkerMirroredStrategy (keras-team/keras#20585) and keeps the data stream
        # independent of the strategy.
        if not self.built:
            super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    # ------------------------------------------------------------------ steps

    @property
    def metrics(self):
        return [self.g_loss_meter, self.d_loss_meter, *self.term_meters.values()]

    def train_step(self, data):
        batch = data
        with tf.GradientTape() as tape:
            generated = self.generate(batch, training=True)
            if self.discriminator_first:
                with tape.stop_recording():
                    self._discriminator_updates(batch, generated)
            g_terms = self._checked_terms(self.generator_losses(batch, generated), "generator")
            g_loss = tf.add_n(list(g_terms.values()))
            scaled = self.generator_optimizer.scale_loss(self._for_global_batch(g_loss))
        variables = self.generator_variables
        gradients = tape.gradient(scaled, variables)
        self.generator_optimizer.apply_gradients(zip(gradients, variables, strict=True))
        if not self.discriminator_first:
            self._discriminator_updates(batch, generated)
        self.g_loss_meter.update_state(g_loss)
        for name, value in g_terms.items():
            self.term_meters[name].update_state(value)
        return step_logs(self.metrics)

    def _discriminator_updates(self, batch, generated):
        for repeat in range(self.n_critic):
            if repeat:
                generated = self.generate(batch, training=True)
            fixed = tf.nest.map_structure(tf.stop_gradient, generated)
            with tf.GradientTape() as tape:
                terms = self._checked_terms(
                    self.discriminator_losses(batch, fixed), "discriminator"
                )
                d_loss = tf.add_n(list(terms.values()))
                scaled = self.discriminator_optimizer.scale_loss(self._for_global_batch(d_loss))
            variables = self.discriminator_variables
            gradients = tape.gradient(scaled, variables)
            self.discriminator_optimizer.apply_gradients(zip(gradients, variables, strict=True))
        # The last repeat's values are logged.
        self.d_loss_meter.update_state(d_loss)
        for name, value in terms.items():
            self.term_meters[name].update_state(value)

    def test_step(self, data):
        """Generator-side terms on held-out data (no updates); logged as `val_*`."""
        batch = data
        generated = self.generate(batch, training=False)
        g_terms = self._checked_terms(self.generator_losses(batch, generated), "generator")
        self.g_loss_meter.update_state(tf.add_n(list(g_terms.values())))
        for name, value in g_terms.items():
            self.term_meters[name].update_state(value)
        meters = [self.g_loss_meter] + [self.term_meters[name] for name in g_terms]
        return step_logs(meters)

    def _checked_terms(self, terms: dict, side: str) -> dict:
        if not isinstance(terms, dict) or not terms:
            raise TypeError(f"{type(self).__name__}: {side}_losses must return a non-empty dict")
        unknown = sorted(set(terms) - set(self.term_meters))
        if unknown:
            raise KeyError(
                f"{type(self).__name__}: loss term(s) {', '.join(unknown)} are not in loss_names"
            )
        # Loss terms are summed and logged in float32 whatever the compute dtype.
        return {name: tf.cast(value, tf.float32) for name, value in terms.items()}

    @staticmethod
    def _for_global_batch(loss):
        """Per-replica mean -> its share of the global-batch mean (gradients are summed)."""
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        return loss / replicas if replicas > 1 else loss

    # ------------------------------------------------------------------ EMA

    def ema_weights(self) -> list | None:
        """The first generator's weights with the trainable ones replaced by their moving
        averages (NumPy arrays, in `weights` order); None without EMA or before the first
        update."""
        if not self.ema_decay or self.generator_optimizer is None:
            return None
        inner = _inner(self.generator_optimizer)
        if int(inner.iterations) == 0:
            return None
        averages = {
            variable.path: average
            for variable, average in zip(
                self.generator_variables, inner._model_variables_moving_average, strict=True
            )
        }
        generator = self._first_generator
        return [
            np.asarray(keras.ops.convert_to_numpy(averages.get(w.path, w)))
            for w in generator.weights
        ]

    def evaluation_generator(self) -> keras.Model:
        """The generator to validate and export: with EMA, a copy holding the averaged
        weights (batch-norm statistics: the current ones); otherwise the first generator."""
        generator = self._first_generator
        weights = self.ema_weights()
        if weights is None:
            return generator
        if self._ema_generator.value is None:
            self._ema_generator.value = keras.models.clone_model(generator)
        averaged = self._ema_generator.value
        averaged.set_weights(weights)
        return averaged

    # ------------------------------------------------------------------ config

    def get_config(self):
        """Networks (serialized) and options; subclasses add their own options."""
        config = {
            "name": self.name,
            "n_critic": self.n_critic,
            "seed": self.seed,
            "ema_decay": self.ema_decay,
        }
        for name in self.generator_names + self.discriminator_names:
            config[name] = keras.saving.serialize_keras_object(getattr(self, name))
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        # Deserializing mutates nested dicts: work on a copy.
        config = copy.deepcopy(config)
        for name in cls.generator_names + cls.discriminator_names:
            if name in config:
                config[name] = keras.saving.deserialize_keras_object(
                    config[name], custom_objects=custom_objects
                )
        return cls(**config)
