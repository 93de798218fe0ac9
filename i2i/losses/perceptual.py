"""Perceptual (VGG19 feature) loss, with ImageNet weights from a local file only.

Nothing is downloaded: the weights are Keras' own VGG19 "notop" file,
`vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5` (80 MB), found in this order:
the path given as `weights=`, then the Keras cache: `$KERAS_HOME/models/` when
`KERAS_HOME` is set, else `~/.keras/models/` and `/tmp/.keras/models/`. On a machine with
internet access, `python -c "import keras; keras.applications.VGG19(include_top=False)"`
puts it in the cache; copy it from there. `weights=None` builds a randomly initialised
VGG19 (tests, or feature matching without ImageNet semantics).

Input range: the loss takes images in `input_range` — `(-1, 1)` for translation
generators, `(0, 1)` for super-resolution — and applies VGG's own ("caffe")
preprocessing itself: rescale to [0, 255], RGB -> BGR, subtract the ImageNet channel
means. Pass images, not preprocessed arrays.

The VGG runs in float32 whatever the global dtype policy, and the loss is float32.
Build the loss inside `strategy.scope()` when training under `tf.distribute`.

Example:

```python
from i2i.losses import PerceptualLoss

vgg_loss = PerceptualLoss({"block5_conv4": 1.0}, input_range=(0, 1))   # SRGAN's VGG54
loss = vgg_loss(hr, sr)
```
"""

from __future__ import annotations

from pathlib import Path

import keras
from keras import ops

from i2i.common import WeightsNotFoundError, find_weights
from i2i.losses.pixel import pixel_loss

VGG19_NOTOP_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop.h5"
# ImageNet channel means in BGR order on the [0, 255] scale (keras vgg19.preprocess_input).
IMAGENET_BGR_MEAN = (103.939, 116.779, 123.68)


# The one weights-not-found error of i2i (also `i2i.metrics.MissingWeightsError`).
VGGWeightsNotFoundError = WeightsNotFoundError


def vgg19_weights_path(path=None) -> Path:
    """The VGG19 notop ImageNet weights file to load.

    Args:
        path: an explicit file (a Keras `.h5` VGG19 notop weights file, or a
            `.weights.h5` saved from `keras.applications.VGG19(include_top=False)`);
            `None` looks in the Keras cache.

    Raises:
        VGGWeightsNotFoundError: one line naming the expected file and how to provide it.
    """
    return find_weights(
        VGG19_NOTOP_FILE,
        path,
        what="VGG19",
        hint="copy it there from a machine where `keras.applications.VGG19(include_top="
        "False)` has run, or pass its path as weights=...",
    )


def vgg_preprocess(images, input_range=(-1.0, 1.0)):
    """Images in `input_range` -> VGG19 inputs (BGR, [0, 255], ImageNet mean removed).

    The same as `keras.applications.vgg19.preprocess_input(255 * unit_images)`, in
    float32 and inside the graph.
    """
    low, high = (float(v) for v in input_range)
    images = ops.cast(images, "float32")
    pixels = (images - low) * (255.0 / (high - low))
    bgr = ops.flip(pixels, axis=-1)
    return bgr - ops.convert_to_tensor(IMAGENET_BGR_MEAN, "float32")


def _vgg19(weights):
    """VGG19 without its classifier, built in float32, weights loaded from disk."""
    model = keras.applications.VGG19(include_top=False, weights=None, input_shape=(None, None, 3))
    if weights == "imagenet":
        weights = vgg19_weights_path()
    elif weights is not None:
        weights = vgg19_weights_path(weights)
    if weights is not None:
        try:
            model.load_weights(str(weights))
        except Exception as error:  # noqa: BLE001 - any loader failure: one clear line
            raise ValueError(f"{weights}: not VGG19 notop weights ({error})") from None
    return model


def feature_extractor(layers, weights="imagenet", before_activation=False) -> keras.Model:
    """A float32 model: VGG19 inputs -> the outputs of the named conv layers.

    The network is truncated after the deepest requested layer. With
    `before_activation=True` each requested layer's output is taken before its ReLU
    (ESRGAN's choice: sparser post-ReLU features carry less signal); the network
    continues after the ReLU as usual.

    Args:
        layers: VGG19 layer names, e.g. `["block5_conv4"]`.
        weights: `"imagenet"` (local file, see the module doc), a path, or `None`.
        before_activation: tap the conv outputs before the ReLU.
    """
    previous_policy = keras.config.dtype_policy()
    keras.config.set_dtype_policy("float32")
    try:
        vgg = _vgg19(weights)
        names = [layer.name for layer in vgg.layers]
        unknown = [name for name in layers if name not in names]
        if unknown:
            conv_names = [n for n in names if "_conv" in n]
            raise ValueError(f"unknown VGG19 layers {unknown} (use: {', '.join(conv_names)})")
        last = max(names.index(name) for name in layers)
        inputs = keras.Input((None, None, 3), name="vgg_input")
        x = inputs
        taps = {}
        for layer in vgg.layers[1 : last + 1]:
            if before_activation and layer.name in layers:
                linear = keras.layers.Conv2D.from_config(
                    {**layer.get_config(), "activation": "linear", "name": layer.name}
                )
                linear.build(x.shape)
                linear.set_weights(layer.get_weights())
                taps[layer.name] = linear(x)
                x = keras.layers.ReLU(name=f"{layer.name}_relu")(taps[layer.name])
            else:
                x = layer(x)
                taps[layer.name] = x
        model = keras.Model(inputs, [taps[name] for name in layers], name="vgg19_features")
    finally:
        keras.config.set_dtype_policy(previous_policy)
    model.trainable = False
    return model


class PerceptualLoss:
    """Weighted distance between VGG19 features of the target and of the prediction.

    `loss = sum_l weight_l * criterion(phi_l(y_true), phi_l(y_pred))`, a float32 scalar,
    with `criterion` the mean absolute (`"l1"`) or squared (`"l2"`) difference of
    the feature maps. Target features carry no gradient. The VGG is frozen and held in
    a plain Python object, so it never enters a GAN's checkpoints.

    Args:
        layers: a VGG19 layer name, a list of names (weight 1 each), or a dict
            `{name: weight}`. Default `"block5_conv4"` (SRGAN's VGG5,4).
        weights: `"imagenet"` (local file only, see the module doc), a path to the
            weights file, or `None` for random initialisation.
        input_range: value range of the images given to the loss.
        criterion: `"l1"` (ESRGAN) or `"l2"` (SRGAN).
        before_activation: features before the ReLU (ESRGAN) instead of after (SRGAN).

    Raises:
        VGGWeightsNotFoundError: `weights="imagenet"` and no weights file is found.

    Reference:
        Johnson et al., "Perceptual Losses for Real-Time Style Transfer and
        Super-Resolution", ECCV 2016; Ledig et al., "Photo-Realistic Single Image
        Super-Resolution Using a GAN", CVPR 2017; Wang et al., "ESRGAN", ECCVW 2018.
    """

    def __init__(
        self,
        layers="block5_conv4",
        weights="imagenet",
        input_range=(-1.0, 1.0),
        criterion: str = "l1",
        before_activation: bool = False,
    ):
        if isinstance(layers, str):
            layers = {layers: 1.0}
        elif not isinstance(layers, dict):
            layers = {name: 1.0 for name in layers}
        if criterion not in ("l1", "l2"):
            raise ValueError(f"unknown criterion {criterion!r} (use 'l1' or 'l2')")
        self.layer_weights = {name: float(weight) for name, weight in layers.items()}
        self.input_range = tuple(float(v) for v in input_range)
        self.criterion = criterion
        self.before_activation = bool(before_activation)
        self.distance = pixel_loss(criterion)
        self.model = feature_extractor(list(self.layer_weights), weights, before_activation)

    def features(self, images) -> list:
        """The VGG feature maps (float32) of images in `input_range`, one per layer."""
        features = self.model(vgg_preprocess(images, self.input_range), training=False)
        return features if isinstance(features, (list, tuple)) else [features]

    def __call__(self, y_true, y_pred):
        true_features = self.features(ops.stop_gradient(ops.cast(y_true, "float32")))
        pred_features = self.features(y_pred)
        total = ops.zeros((), "float32")
        for weight, true, pred in zip(
            self.layer_weights.values(), true_features, pred_features, strict=True
        ):
            total = total + weight * self.distance(ops.stop_gradient(true), pred)
        return total
