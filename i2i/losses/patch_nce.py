"""PatchNCE: a contrastive content loss between an image and its translation.

For each chosen layer l of the generator's encoder, `num_patches` positions are drawn at
random; the features of the translated image at a position (the query q) must be closer
to the input's features at the SAME position (the positive k+) than at the others of
that image (the negatives k-), after a small MLP head and L2 normalization:

```
l(q, k+, k-) = -log( exp(q.k+ / tau) / (exp(q.k+ / tau) + sum_k- exp(q.k- / tau)) )
L_PatchNCE = mean over layers, images and positions of l,   tau = 0.07
```

Unlike a cycle term, it never asks the translation to carry enough to rebuild the
input: only that each translated patch stays recognisably where it came from.

Example:

```python
nce = PatchNCE(generator, num_patches=256)
loss = nce(real_a, generator(real_a))
```

Reference:
    Park, Efros, Zhang, Zhu, "Contrastive Learning for Unpaired Image-to-Image
    Translation", ECCV 2020 (CUT), and its code (taesungp/contrastive-unpaired-
    translation, `models/patchnce.py`, `models/networks.py: PatchSampleF`).
"""

from __future__ import annotations

import keras
from keras import ops

TEMPERATURE = 0.07  # CUT's --nce_T
HEAD_WIDTH = 256  # CUT's --netF_nc


def resnet_encoder_layers(generator) -> tuple[str, ...]:
    """The layers CUT reads in the ResNet generator: the input, both downsampling
    convolutions, and the first and middle residual blocks (its 0, 4, 8, 12, 16)."""
    names = {layer.name for layer in generator.layers}
    blocks = sorted(int(n[3:-4]) for n in names if n.startswith("res") and n.endswith("_add"))
    if not {"c7s1_conv", "down2_conv"} <= names:
        raise ValueError(
            f"{generator.name}: PatchNCE needs a ResNet generator (c7s1_conv, down2_conv)"
        )
    chosen = ["image", "down1_conv", "down2_conv"]
    if blocks:
        chosen += [f"res{b}_add" for b in sorted({blocks[0], blocks[len(blocks) // 2]})]
    return tuple(chosen)


class PatchNCE(keras.layers.Layer):
    """The PatchNCE loss of `generator`'s encoder features (module docstring).

    Built by the model that uses it, from that model's options: not serialized on its
    own (its heads' weights are in the model's checkpoints).

    Args:
        generator: the translation network whose layers give the features (its weights
            are used, not copied; the loss trains them through the query branch).
        layers: layer names to read (default: `resnet_encoder_layers(generator)`).
        num_patches: positions drawn per image and layer (256, CUT's `--num_patches`).
        seed: seed of the position draws.
    """

    def __init__(self, generator, layers=None, num_patches: int = 256, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.layer_names = tuple(layers or resnet_encoder_layers(generator))
        self.num_patches = int(num_patches)
        outputs = [generator.get_layer(name).output for name in self.layer_names]
        self.encoder = keras.Model(generator.inputs, outputs, name=f"{generator.name}_encoder")
        self.heads = [
            keras.Sequential(
                [
                    keras.layers.Dense(HEAD_WIDTH, activation="relu", dtype="float32"),
                    keras.layers.Dense(HEAD_WIDTH, dtype="float32"),
                ],
                name=f"nce_head_{i}",
            )
            for i in range(len(self.layer_names))
        ]
        self.seed_generator = keras.random.SeedGenerator(seed)

    @property
    def head_variables(self) -> list:
        return [v for head in self.heads for v in head.trainable_variables]

    def build(self, input_shape=None):
        for head, output in zip(self.heads, self.encoder.outputs, strict=True):
            head.build((None, None, output.shape[-1]))
        self.built = True

    def call(self, source, translated):
        keys = self.encoder(source)
        queries = self.encoder(translated)
        losses = []
        for head, key, query in zip(self.heads, keys, queries, strict=True):
            shape = ops.shape(key)
            count = shape[1] * shape[2]
            key = ops.reshape(ops.cast(key, "float32"), (shape[0], count, shape[3]))
            query = ops.reshape(ops.cast(query, "float32"), (shape[0], count, shape[3]))
            draw = keras.random.uniform((count,), seed=self.seed_generator)
            where = ops.argsort(draw)[: self.num_patches]
            k = _normalized(head(ops.take(key, where, axis=1)))
            q = _normalized(head(ops.take(query, where, axis=1)))
            # The input's features are the fixed target, as in CUT (feat_k.detach()).
            logits = ops.einsum("bnc,bmc->bnm", q, ops.stop_gradient(k)) / TEMPERATURE
            labels = ops.broadcast_to(ops.arange(ops.shape(logits)[1]), ops.shape(logits)[:2])
            losses.append(
                ops.mean(
                    keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
                )
            )
        return ops.mean(ops.stack(losses))


def _normalized(x):
    return x / (ops.norm(x, axis=-1, keepdims=True) + 1e-7)
