"""GAN models: `GANModel` (gan_model.py, the one shared train_step) and its subclasses
pix2pix, CycleGAN and SRGAN, registered by name in `i2i.registry.GANS`."""
