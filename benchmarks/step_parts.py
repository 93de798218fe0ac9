"""Where a GAN training step's time goes: the parts of `GANModel.train_step`, timed apart.

For a model and size of `benchmarks/train_step.py` (same networks, same fixed batch),
each part is its own `tf.function`, timed after a warm-up (median wall and CPU seconds
over `--steps` runs), beside the whole compiled train step:

- generate: the generator passes of one step, forward only (CycleGAN: G(a), F(b),
  F(G(a)), G(F(b)), G(b), F(a); pix2pix: G(source));
- G forward + losses: the same plus the generator's loss terms (the discriminator
  passes on the fakes among them);
- G forward + losses + gradient: what the generator update differentiates;
- G optimizer: Adam's update of the generator weights, from fixed gradients;
- D losses: the discriminator terms on fixed fakes (CycleGAN: through the image
  histories);
- D losses + gradient, D optimizer: the same for the discriminator update;
- the layers whose gradient dominated before `i2i.layers.ThinConv2D`, alone: the
  generator's image output convolution, forward + backward, with Keras' Conv2D and with
  ThinConv2D.

Run:

```bash
python benchmarks/step_parts.py --model cyclegan --size paper
python benchmarks/step_parts.py --model pix2pix --size paper --steps 5
```

Timings are never test assertions.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
sys.path.insert(0, str(Path(__file__).resolve().parent))

import train_step  # noqa: E402 - benchmarks/train_step.py: the models, sizes and sync


def timed(function, steps: int) -> tuple[float, float]:
    """Median (wall, CPU) seconds of `function()` over `steps` runs, after one warm-up."""
    train_step._sync(function())
    walls, cpus = [], []
    for _ in range(steps):
        started, cpu_started = time.perf_counter(), time.process_time()
        train_step._sync(function())
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu_started)
    return statistics.median(walls), statistics.median(cpus)


def parts(model, data) -> list[tuple[str, object]]:
    """(name, zero-argument function) for each part of `model`'s step."""
    import tensorflow as tf

    batch = {key: tf.constant(value) for key, value in data.items()}
    g_vars, d_vars = model.generator_variables, model.discriminator_variables

    def g_loss(generated):
        return tf.add_n(list(model.generator_losses(batch, generated).values()))

    def d_loss(generated):
        return tf.add_n(list(model.discriminator_losses(batch, generated).values()))

    @tf.function
    def generate():
        return model.generate(batch, training=True)

    @tf.function
    def g_forward():
        return g_loss(model.generate(batch, training=True))

    @tf.function
    def g_gradient():
        with tf.GradientTape() as tape:
            loss = g_loss(model.generate(batch, training=True))
        return tape.gradient(loss, g_vars)

    fixed = tf.nest.map_structure(tf.stop_gradient, generate())

    @tf.function
    def d_forward():
        return d_loss(fixed)

    @tf.function
    def d_gradient():
        with tf.GradientTape() as tape:
            loss = d_loss(fixed)
        return tape.gradient(loss, d_vars)

    g_grads, d_grads = g_gradient(), d_gradient()

    @tf.function
    def g_apply():
        model.generator_optimizer.apply_gradients(zip(g_grads, g_vars, strict=True))
        return tf.constant(0)

    @tf.function
    def d_apply():
        model.discriminator_optimizer.apply_gradients(zip(d_grads, d_vars, strict=True))
        return tf.constant(0)

    dataset = tf.data.Dataset.from_tensors(data).repeat()
    model.fit(dataset, steps_per_epoch=1, epochs=1, verbose=0)
    train_function = model.make_train_function()
    iterator = iter(dataset)
    return [
        ("generate (forward)", generate),
        ("G forward + losses", g_forward),
        ("G forward + losses + gradient", g_gradient),
        ("G optimizer", g_apply),
        ("D losses", d_forward),
        ("D losses + gradient", d_gradient),
        ("D optimizer", d_apply),
        ("whole train step", lambda: train_function(iterator)),
    ]


def output_layer_parts(model, input_shape) -> list[tuple[str, object]]:
    """The first generator's output convolution forward + backward, Conv2D vs ThinConv2D
    (`input_shape`: the generator's input, (H, W, C))."""
    import keras
    import tensorflow as tf

    from i2i.layers import ThinConv2D

    generator = model._networks(model.generator_names[:1])[0]
    # A copy with a known input shape, where every layer's input shape is known.
    generator = train_step.fixed_shape_copy(generator, input_shape)
    layer = next(
        layer for layer in reversed(generator.layers) if isinstance(layer, keras.layers.Conv2D)
    )
    if not isinstance(layer, ThinConv2D):
        return []
    x = tf.random.normal((1, *layer.input.shape[1:]))
    config = layer.get_config()
    results = []
    for kind in (keras.layers.Conv2D, ThinConv2D):
        twin = kind.from_config(config)
        twin.build(x.shape)

        @tf.function
        def step(twin=twin):
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.reduce_sum(twin(x, training=True) ** 2)
            return tape.gradient(loss, [x, *twin.trainable_variables])

        shape = "x".join(str(d) for d in layer.input.shape[1:])
        results.append((f"{layer.name} {shape} -> {layer.filters}, {kind.__name__}", step))
    return results


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default="cyclegan", choices=("cyclegan", "pix2pix", "srgan"))
    parser.add_argument("--size", default="paper", choices=train_step.SIZES)
    parser.add_argument("--steps", type=int, default=3, help="timed runs per part")
    parser.add_argument(
        "--cores", type=int, default=2, help="TensorFlow threads (0: leave TensorFlow's own)"
    )
    args = parser.parse_args(argv)

    import keras

    if args.cores:
        train_step.limit_cores(args.cores)
    keras.utils.set_random_seed(0)
    model, data, _, _ = train_step.build(args.model, args.size)
    first = data["lr"] if args.model == "srgan" else next(iter(data.values()))
    rows = []
    for name, function in parts(model, data) + output_layer_parts(model, first.shape[1:]):
        wall, cpu = timed(function, args.steps)
        rows.append({"part": name, "wall_s": wall, "cpu_s": cpu})
        print(f"measured {name}", file=sys.stderr, flush=True)
    side, batch = train_step.SHAPES[args.model][args.size]
    whole = next(row for row in rows if row["part"] == "whole train step")
    width = max(len(row["part"]) for row in rows)
    threads = args.cores or "default"
    print(f"{args.model} {args.size} ({side} px, batch {batch}), {threads} threads, "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip
    print(f"{'part'.ljust(width)}  wall s  CPU s  CPU / step")
    for row in rows:
        share = row["cpu_s"] / whole["cpu_s"]
        print(
            f"{row['part'].ljust(width)}  {row['wall_s']:6.2f}  {row['cpu_s']:5.2f}  {share:9.0%}"
        )
    return rows


if __name__ == "__main__":
    main()
