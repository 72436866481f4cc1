"""Held-out scores of the VAEs: the negative ELBO in nats per image and the reconstruction error."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import torch

from gallery.vae.images import to_tensor
from gallery.vae.networks import DigitCVAE, bernoulli_nll, discretised_gaussian_nll, kl_per_dim, reparameterise


@dataclass
class Scores:
    n: int
    mse_per_pixel: float  # reconstruction from the encoder mean
    mse_per_pixel_sampled: float  # reconstruction from a sampled latent
    neg_elbo_nats: float  # per image, sampled latent
    kl_nats: float  # per image
    kl_per_dim: list[float] = field(default_factory=list)  # per latent dimension, mean over images

    def as_dict(self) -> dict:
        return asdict(self)


@torch.no_grad()
def score(net, images: np.ndarray, labels: np.ndarray | None = None, batch: int = 256, seed: int = 0) -> Scores:
    """Held-out metrics: negative ELBO (one sampled latent per image) and reconstruction MSE per pixel."""
    net.eval()
    gen = torch.Generator().manual_seed(seed)
    tot = {"mse": 0.0, "mse_s": 0.0, "elbo": 0.0, "kl": 0.0}
    kl_dims = torch.zeros(net.cfg.latent, dtype=torch.float64)
    n = len(images)
    for i in range(0, n, batch):
        x = to_tensor(images[i : i + batch])
        y = None if labels is None else torch.as_tensor(labels[i : i + batch])
        mu, logvar = net.encode(x, y)
        z = reparameterise(mu, logvar, gen)
        kl = kl_per_dim(mu, logvar)
        mean_z = net.decode(z, y)
        if net.kind == "faces":
            x8 = (x * 255).round() / 255  # the 8-bit values the likelihood is defined on
            rec = discretised_gaussian_nll(mean_z, x8, net.log_sigma)
        else:
            rec = bernoulli_nll(net.decode_logits(z, y), x)
        tot["elbo"] += (rec + kl.sum(1)).sum().item()
        tot["kl"] += kl.sum().item()
        tot["mse_s"] += (mean_z - x).pow(2).flatten(1).mean(1).sum().item()
        tot["mse"] += (net.decode(mu, y) - x).pow(2).flatten(1).mean(1).sum().item()
        kl_dims += kl.double().sum(0)
    return Scores(
        n,
        tot["mse"] / n,
        tot["mse_s"] / n,
        tot["elbo"] / n,
        tot["kl"] / n,
        (kl_dims / n).tolist(),
    )


@torch.no_grad()
def most_likely_class(net: DigitCVAE, images: np.ndarray, seed: int = 0) -> np.ndarray:
    """For unlabelled digits: the class whose conditional ELBO is highest (encoder mean, deterministic)."""
    x = to_tensor(images)
    best = []
    for c in range(net.cfg.classes):
        y = torch.full((len(x),), c)
        mu, logvar = net.encode(x, y)
        rec = bernoulli_nll(net.decode_logits(mu, y), x)
        best.append(rec + kl_per_dim(mu, logvar).sum(1))
    return torch.stack(best, 1).argmin(1).numpy()
