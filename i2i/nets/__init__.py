"""Networks: one builder function per module, each returning a functional `keras.Model`.

Every builder takes images of any size that is a multiple of its stride (input shape
`(None, None, C)`) and ends in a float32 layer, so the output is float32 under a mixed
precision policy. Builders are registered by name in `i2i.registry.NETS`.

- `unet.unet`: pix2pix U-Net generator (stride `2 ** depth`);
- `resnet_generator.resnet_generator`: CycleGAN ResNet generator (stride 4);
- `patchgan.patchgan`: PatchGAN discriminator (stride `2 ** n_layers`);
- `srresnet`, `compact` (all convolutions at LR, one pixel shuffle), `sr_discriminator`:
  super-resolution networks.

This package imports nothing itself, so loading one builder never loads the others.
"""
