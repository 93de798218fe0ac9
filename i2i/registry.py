"""Explicit name -> "module:attribute" tables for the things i2i builds by name.

No package scanning: a name exists because it is written here. Looking a name up imports
only its own module, so this file (and the CLI that lists names) never imports TensorFlow.

Example:

```python
from i2i import registry

make_unet = registry.resolve(registry.NETS, "unet")
```
"""

from __future__ import annotations

import importlib

# GAN models (keras.Model subclasses sharing i2i.gans.gan_model.GANModel.train_step).
GANS: dict[str, str] = {
    "pix2pix": "i2i.gans.pix2pix:Pix2Pix",
    "cyclegan": "i2i.gans.cyclegan:CycleGAN",
    "srgan": "i2i.gans.srgan:SRGAN",
}

# Network builders: functions returning a functional keras.Model.
NETS: dict[str, str] = {
    "unet": "i2i.nets.unet:unet",
    "patchgan": "i2i.nets.patchgan:patchgan",
    "resnet_generator": "i2i.nets.resnet_generator:resnet_generator",
    "srresnet": "i2i.nets.srresnet:srresnet",
    "compact": "i2i.nets.compact:compact",
    "sr_discriminator": "i2i.nets.sr_discriminator:sr_discriminator",
}

# Adversarial loss modes.
ADVERSARIAL_LOSSES: dict[str, str] = {
    "vanilla": "i2i.losses.adversarial:VanillaGANLoss",
    "lsgan": "i2i.losses.adversarial:LSGANLoss",
    "hinge": "i2i.losses.adversarial:HingeGANLoss",
    "wgan-gp": "i2i.losses.adversarial:WGANGPLoss",
}


def resolve(table: dict[str, str], name: str):
    """Import and return the object registered under `name` in `table`.

    Raises:
        KeyError: `name` is not registered; the message lists the names that are.
    """
    try:
        target = table[name]
    except KeyError:
        known = ", ".join(sorted(table)) or "none"
        raise KeyError(f"unknown name {name!r} (known: {known})") from None
    module_name, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module_name), attribute)
