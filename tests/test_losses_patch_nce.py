"""PatchNCE: the positive is the input patch at the same place; CUT's encoder layers."""

import numpy as np
import pytest

from i2i.losses.patch_nce import PatchNCE, resnet_encoder_layers
from i2i.nets.resnet_generator import resnet_generator
from i2i.nets.unet import unet


def photo_batch(photos, size=32):
    crops = [photos[name][100 : 100 + size, 100 : 100 + size] for name in ("astronaut", "coffee")]
    return np.stack(crops).astype("float32") / 127.5 - 1


def test_a_translation_that_keeps_patches_in_place_scores_lower_than_one_that_moves_them(photos):
    generator = resnet_generator(filters=8, blocks=3, norm="none")
    nce = PatchNCE(generator, num_patches=32, seed=0)
    nce.build()
    source = photo_batch(photos)
    # Same content at the same places (a tone change) against the same pixels moved.
    toned = np.clip(source * 0.8 + 0.1, -1, 1)
    moved = np.roll(source, (9, 13), axis=(1, 2))
    same, kept, shifted = (float(nce(source, x)) for x in (source, toned, moved))
    # Measured (seeds 0-2 of the network): 2.84-3.05, 2.76-2.96, 3.12-3.21; chance is
    # log(32) = 3.47 (a random encoder's neighbouring patches look alike).
    assert max(same, kept) < shifted < np.log(32), (same, kept, shifted)


def projected(head, features):
    flat = np.asarray(features).reshape(features.shape[0], -1, features.shape[-1])
    out = np.asarray(head(flat))
    return out / (np.linalg.norm(out, axis=-1, keepdims=True) + 1e-7)


def test_the_loss_is_cuts_cross_entropy_over_the_patches_of_each_image(photos):
    """With every position drawn, the draw's order does not matter: recompute in NumPy."""
    import keras

    generator = resnet_generator(filters=4, blocks=1, norm="none")
    nce = PatchNCE(generator, layers=("image", "down2_conv"), num_patches=10_000, seed=0)
    nce.build()
    source = photo_batch(photos, 8)
    translated = np.clip(source[::-1] * 0.5, -1, 1)  # the other photo, toned
    expected = []
    keys, queries = nce.encoder(source), nce.encoder(translated)
    for head, key, query in zip(nce.heads, keys, queries, strict=True):
        q, k = (projected(head, x) for x in (query, key))
        logits = np.einsum("bnc,bmc->bnm", q, k) / 0.07
        log_softmax = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        expected.append(-np.mean(np.diagonal(log_softmax, axis1=1, axis2=2)))
    np.testing.assert_allclose(float(nce(source, translated)), np.mean(expected), rtol=1e-4)
    assert keras.ops.convert_to_numpy(nce(source, translated)).shape == ()


def test_the_encoder_layers_are_cuts_and_other_networks_are_refused():
    generator = resnet_generator(filters=4, blocks=9)
    assert resnet_encoder_layers(generator) == (
        "image", "down1_conv", "down2_conv", "res0_add", "res4_add",
    )  # fmt: skip
    assert resnet_encoder_layers(resnet_generator(filters=4, blocks=0))[-1] == "down2_conv"
    with pytest.raises(ValueError, match="ResNet generator"):
        PatchNCE(unet(filters=4, depth=3))
