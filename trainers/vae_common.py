"""What the face trainers share: the data's licence, encoding every image, the PCA reference and float16 rounding.

`trainers.vae` (the sigma-VAE, and the dispatcher to the sharp decoder's trainer) and `trainers.vae_sharp_card`
(the sharp decoder's evaluation) both import it; it imports neither.
"""

from __future__ import annotations

import numpy as np
import torch

from gallery.vae.images import to_tensor

FACES_LICENCE = {
    "data": "UTKFace 'crop_part1' (Zhang, Song and Qi, CVPR 2017), aligned faces shrunk to 64x64",
    "licence": "UTKFace: non-commercial research only",
    "citation": "Zhifei Zhang, Yang Song, Hairong Qi. Age Progression/Regression by Conditional Adversarial "
    "Autoencoder. CVPR 2017.",
}


def rounded(net):
    """The network as it will be stored: float16 weights, evaluated in float32."""
    net.load_state_dict({k: v.half().float() if v.is_floating_point() else v for k, v in net.state_dict().items()})
    return net.eval()


def pca_reference(train: np.ndarray, test: np.ndarray, k: int) -> tuple[float, float, np.ndarray]:
    """MSE per pixel of k-component PCA fitted on ``train``: (train MSE, test MSE, test reconstructions uint8)."""
    from sklearn.decomposition import PCA

    flat = lambda a: a.reshape(len(a), -1).astype(np.float32) / 255  # noqa: E731
    a, b = flat(train), flat(test)
    pca = PCA(n_components=min(k, *a.shape), svd_solver="randomized", random_state=0).fit(a)
    rec_a = pca.inverse_transform(pca.transform(a))
    rec_b = pca.inverse_transform(pca.transform(b))
    recon = (np.clip(rec_b, 0, 1) * 255).round().astype(np.uint8).reshape(test.shape)
    return float(((rec_a - a) ** 2).mean()), float(((rec_b - b) ** 2).mean()), recon


@torch.no_grad()
def encode_all(net, images, labels=None, batch=256) -> np.ndarray:
    """Encoder means (N, L) of uint8 images, in batches (``labels``: the digit classes of a conditional VAE)."""
    out = []
    for i in range(0, len(images), batch):
        y = None if labels is None else torch.as_tensor(labels[i : i + batch])
        out.append(net.encode(to_tensor(images[i : i + batch]), y)[0].numpy())
    return np.concatenate(out)
