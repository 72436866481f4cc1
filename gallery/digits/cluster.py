"""Clustering without labels: a stacked autoencoder, KMeans on its codes, then Deep Embedded Clustering.

DEC (Xie, Girshick and Farhadi, 2016) keeps the encoder and KMeans' centres, measures soft assignments
with a Student t kernel, and sharpens them by minimising KL(P || Q) against a target distribution P that
squares and renormalises Q (favouring confident assignments and balancing cluster sizes). IDEC (Guo et al.
2017) keeps the decoder too and adds the reconstruction error to the loss, so that sharpening the clusters
cannot wreck the local structure of the codes.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from gallery import registry

DIMS = (784, 500, 500, 2000, 10)  # the notebook's (and the DEC paper's) architecture


def _mlp(dims, last_activation: bool) -> nn.Sequential:
    layers = []
    for i, (a, b) in enumerate(zip(dims[:-1], dims[1:])):
        layers.append(nn.Linear(a, b))
        if i < len(dims) - 2 or last_activation:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class AutoEncoder(nn.Module):
    """Fully connected autoencoder; inputs are flattened images in [0,1], the code is linear."""

    def __init__(self, dims=DIMS):
        super().__init__()
        self.dims = tuple(dims)
        self.encoder = _mlp(self.dims, last_activation=False)
        self.decoder = _mlp(self.dims[::-1], last_activation=False)

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(x.flatten(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encode(x)).view(x.shape)


def soft_assign(z: torch.Tensor, centres: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
    """DEC's q_ij: Student t similarity of code i to centre j, normalised over j."""
    d2 = torch.cdist(z, centres).pow(2)
    q = (1.0 + d2 / alpha).pow(-(alpha + 1) / 2)
    return q / q.sum(1, keepdim=True)


def target_distribution(q: torch.Tensor) -> torch.Tensor:
    """DEC's p_ij = (q_ij^2 / f_j) / sum_j' (q_ij'^2 / f_j'), with f_j = sum_i q_ij; rows sum to one."""
    weight = q.pow(2) / q.sum(0, keepdim=True)
    return weight / weight.sum(1, keepdim=True)


def clustering_loss(q, p, x=None, x_rec=None, gamma: float = 0.1) -> torch.Tensor:
    """DEC's KL(P || Q) (batch mean); with a reconstruction, IDEC's MSE(x_rec, x) + gamma * KL(P || Q).

    q, p: (B, K) soft assignments and targets; x, x_rec: (B, 784) images and their reconstructions.
    """
    kl = torch.nn.functional.kl_div(q.log(), p, reduction="batchmean")
    if x_rec is None:
        return kl
    return torch.nn.functional.mse_loss(x_rec, x) + gamma * kl


def cluster_accuracy(y_true, y_pred) -> float:
    """Accuracy under the best one-to-one matching of clusters to labels (Hungarian algorithm)."""
    from scipy.optimize import linear_sum_assignment

    y_true, y_pred = np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)
    if y_true.shape != y_pred.shape:
        raise ValueError("y_true and y_pred must have the same length")
    n = max(y_true.max(), y_pred.max()) + 1
    counts = np.zeros((n, n), dtype=np.int64)
    np.add.at(counts, (y_pred, y_true), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(counts[rows, cols].sum() / len(y_true))


def cluster_to_label(y_true, y_pred, k: int = 10) -> np.ndarray:
    """The Hungarian matching as an array: ``mapping[cluster] = digit``."""
    from scipy.optimize import linear_sum_assignment

    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_pred), np.asarray(y_true)), 1)
    rows, cols = linear_sum_assignment(-counts)
    mapping = np.zeros(k, dtype=np.int64)
    mapping[rows] = cols
    return mapping


def scores(y_true, y_pred) -> dict:
    from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

    return {
        "accuracy": round(cluster_accuracy(y_true, y_pred), 4),
        "nmi": round(float(normalized_mutual_info_score(y_true, y_pred)), 4),
        "ari": round(float(adjusted_rand_score(y_true, y_pred)), 4),
    }


@torch.no_grad()
def encode(ae: AutoEncoder, x, batch: int = 4096) -> torch.Tensor:
    """Codes (N,10) of images (N,28,28) or (N,784), float in [0,1]."""
    x = torch.as_tensor(x, dtype=torch.float32).flatten(1)
    ae.eval()
    return torch.cat([ae.encode(x[i : i + batch]) for i in range(0, len(x), batch)])


class Clusterer:
    """The trained autoencoder and DEC's (or IDEC's) encoder and centres, as the page and the command line use them.

    For DEC, ``ae`` is the pretrained autoencoder and ``dec`` the fine-tuned encoder under its decoder; for IDEC
    (artifact ``digits-idec``, the same tensor layout) ``ae`` is the autoencoder IDEC trained, and ``dec`` its encoder.
    """

    def __init__(self, ae: AutoEncoder, dec: AutoEncoder, centres, mapping: np.ndarray, card: dict, extras: dict):
        self.ae, self.dec, self.centres = ae.eval(), dec.eval(), centres
        self.mapping, self.card, self.extras = mapping, card, extras

    def assign(self, images) -> np.ndarray:
        """DEC's soft assignments (N, clusters)."""
        return soft_assign(encode(self.dec, images), self.centres).numpy()

    def codes(self, images, stage: str = "dec") -> np.ndarray:
        return encode(self.dec if stage == "dec" else self.ae, images).numpy()

    @torch.no_grad()
    def reconstruct(self, images) -> np.ndarray:
        x = torch.as_tensor(np.asarray(images, dtype=np.float32)).reshape(-1, 784)
        return self.ae.decoder(self.ae.encode(x)).clamp(0, 1).view(-1, 28, 28).numpy()

    @torch.no_grad()
    def decoded_centres(self) -> np.ndarray:
        """The pretrained decoder applied to DEC's centres: what each cluster's centre looks like."""
        return self.ae.decoder(self.centres).clamp(0, 1).view(-1, 28, 28).numpy()


def load(name: str = "digits-dec", root=None) -> Clusterer:
    def build(art: registry.Artifact) -> Clusterer:
        ae = AutoEncoder(art.config["dims"])
        ae.load_state_dict({k[3:]: v for k, v in art.tensors.items() if k.startswith("ae.")})
        dec = AutoEncoder(art.config["dims"])
        dec.encoder.load_state_dict({k[4:]: v for k, v in art.tensors.items() if k.startswith("dec.")})
        dec.decoder = ae.decoder
        extras = {k[4:]: v.numpy() for k, v in art.tensors.items() if k.startswith("map.")}
        mapping = np.asarray(art.config["cluster_to_label"])
        return Clusterer(ae, dec, art.tensors["centres"], mapping, art.card, extras)

    return registry.build_from(name, build, root)
