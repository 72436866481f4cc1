"""The two VAEs and their training losses (that are right).

Faces: a convolutional VAE, q(z|x) = N(mu, diag sigma^2), p(x|z) Gaussian with one shared, calibrated
standard deviation (the "sigma-VAE" of Rybkin et al. 2021: sigma^2 is the mean squared error, so the
reconstruction term is weighted as the data says rather than by a hand-picked beta). Scores are reported as
a *discretised* Gaussian over the 256 grey levels, a probability mass per pixel, so the negative ELBO in nats
per image is never negative.

Digits: a conditional VAE, q(z|x,y) and p(x|z,y) with y the one-hot class, Bernoulli likelihood on the pixel
intensities x/255 in [0, 1] (binary cross-entropy). The original notebook computed that cross-entropy on targets
in [-1, 1], which is why its loss went negative.

The sharp face decoder, which reuses FaceConfig, FaceVAE and ResBlock, lives in gallery.vae.sharp; building
either from an artifact's config is gallery.vae.model.build.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

LOG2 = math.log(2)


# ---------------------------------------------------------------- networks


@dataclass
class FaceConfig:
    latent: int = 64
    channels: tuple[int, ...] = (32, 64, 128, 256)
    size: int = 64
    res_blocks: int = 0  # residual 3x3 blocks after each (up)sampling layer at 16x16 pixels and below


class ResBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(nn.SiLU(), nn.Conv2d(c, c, 3, 1, 1), nn.SiLU(), nn.Conv2d(c, c, 3, 1, 1))

    def forward(self, x):
        return x + self.body(x)


@dataclass
class DigitConfig:
    latent: int = 20
    hidden: tuple[int, ...] = (512, 256)
    classes: int = 10
    size: int = 28


class FaceVAE(nn.Module):
    """Conv encoder (stride-2 4x4 convs, 64 -> 4 pixels) and its mirror-image decoder."""

    kind = "faces"

    def __init__(self, cfg: FaceConfig):
        super().__init__()
        self.cfg = cfg
        ch = list(cfg.channels)
        self.bottom = cfg.size // 2 ** len(ch)  # 4
        enc, c_in, side = [], 3, cfg.size
        for c in ch:
            side //= 2
            enc += [nn.Conv2d(c_in, c, 4, 2, 1), nn.SiLU()]
            enc += [ResBlock(c) for _ in range(cfg.res_blocks if side <= 16 else 0)]
            c_in = c
        self.encoder = nn.Sequential(*enc, nn.Flatten())
        self.to_stats = nn.Linear(ch[-1] * self.bottom**2, 2 * cfg.latent)
        self.from_z = nn.Linear(cfg.latent, ch[-1] * self.bottom**2)
        dec, side = [], self.bottom
        for c_in, c_out in zip(ch[::-1], ch[::-1][1:]):
            side *= 2
            dec += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.SiLU()]
            dec += [ResBlock(c_out) for _ in range(cfg.res_blocks if side <= 16 else 0)]
        self.decoder = nn.Sequential(*dec, nn.ConvTranspose2d(ch[0], 3, 4, 2, 1))
        # log of the shared likelihood sigma (calibrated during training, used for scoring)
        self.register_buffer("log_sigma", torch.tensor(math.log(0.1)))

    def encode(self, x, y=None):  # x (B, 3, 64, 64) in [0, 1]
        mu, logvar = self.to_stats(self.encoder(x * 2 - 1)).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 8)  # (B, L), (B, L)

    def decode(self, z, y=None):  # z (B, L) -> mean image (B, 3, 64, 64) in [0, 1]
        h = F.silu(self.from_z(z)).view(-1, self.cfg.channels[-1], self.bottom, self.bottom)
        return torch.sigmoid(self.decoder(h))


class DigitCVAE(nn.Module):
    """MLP encoder q(z|x,y) and decoder p(x|z,y); the class enters both as a one-hot vector."""

    kind = "digits"

    def __init__(self, cfg: DigitConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.size * cfg.size
        layers, n_in = [], d + cfg.classes
        for h in cfg.hidden:
            layers += [nn.Linear(n_in, h), nn.SiLU()]
            n_in = h
        self.encoder = nn.Sequential(*layers)
        self.to_stats = nn.Linear(n_in, 2 * cfg.latent)
        layers, n_in = [], cfg.latent + cfg.classes
        for h in cfg.hidden[::-1]:
            layers += [nn.Linear(n_in, h), nn.SiLU()]
            n_in = h
        self.decoder = nn.Sequential(*layers, nn.Linear(n_in, d))

    def one_hot(self, y):
        return F.one_hot(y.long(), self.cfg.classes).float()

    def encode(self, x, y):  # x (B, 1, 28, 28) in [0, 1], y (B,)
        h = self.encoder(torch.cat([x.flatten(1), self.one_hot(y)], dim=1))
        mu, logvar = self.to_stats(h).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 8)

    def decode_logits(self, z, y):  # (B, 1, 28, 28) Bernoulli logits
        s = self.cfg.size
        return self.decoder(torch.cat([z, self.one_hot(y)], dim=1)).view(-1, 1, s, s)

    def decode(self, z, y):  # Bernoulli means in [0, 1]
        return torch.sigmoid(self.decode_logits(z, y))


def config_dict(net: nn.Module) -> dict:
    return {"kind": net.kind, **asdict(net.cfg)}


def num_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


# ---------------------------------------------------------------- losses


def kl_per_dim(mu, logvar):
    """KL( N(mu, e^logvar) || N(0, 1) ) per latent dimension, (B, L), in nats."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)


def reparameterise(mu, logvar, generator=None):
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + (0.5 * logvar).exp() * eps


def bernoulli_nll(logits, x):
    """Binary cross-entropy, summed over pixels, (B,); x are intensities in [0, 1] (never [-1, 1])."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def gaussian_nll(mean, x, log_sigma):
    """Continuous Gaussian negative log density summed over pixels, (B,) (a density: can be below zero)."""
    d = x[0].numel()
    sse = (x - mean).pow(2).flatten(1).sum(1)
    return 0.5 * sse * torch.exp(-2 * log_sigma) + d * (log_sigma + 0.5 * math.log(2 * math.pi))


def discretised_gaussian_nll(mean, x, log_sigma, levels: int = 256):
    """Negative log probability of 8-bit images under a Gaussian binned to the grey levels, (B,) nats, >= 0.

    Each pixel value k/255 owns the interval [k/255 - 1/510, k/255 + 1/510]; the ends own the tails.
    """
    half = 0.5 / (levels - 1)
    inv = torch.exp(-log_sigma) / math.sqrt(2)
    upper = 0.5 * (1 + torch.erf((x + half - mean) * inv))
    lower = 0.5 * (1 + torch.erf((x - half - mean) * inv))
    upper = torch.where(x >= 1 - half, torch.ones_like(upper), upper)
    lower = torch.where(x <= half, torch.zeros_like(lower), lower)
    prob = (upper - lower).clamp_min(1e-12)
    return -torch.log(prob).flatten(1).sum(1)


def sigma_vae_loss(net: FaceVAE, x, generator=None, beta: float = 1.0):
    """Training loss for faces, mean over the batch, and its parts (per image).

    sigma is the batch's optimal Gaussian sigma, sqrt(MSE) (detached: by the envelope theorem the gradient is
    the same); the buffer log_sigma tracks it for scoring.
    """
    mu, logvar = net.encode(x)
    z = reparameterise(mu, logvar, generator)
    mean = net.decode(z)
    mse = (x - mean).pow(2).mean()
    log_sigma = 0.5 * torch.log(mse.detach().clamp_min(1e-6))
    rec = gaussian_nll(mean, x, log_sigma)  # (B,)
    kl = kl_per_dim(mu, logvar).sum(1)  # (B,)
    with torch.no_grad():
        net.log_sigma.mul_(0.98).add_(0.02 * log_sigma)
    return (rec + beta * kl).mean(), {"mse": mse.item(), "kl": kl.mean().item(), "sigma": log_sigma.exp().item()}


def cvae_loss(net: DigitCVAE, x, y, generator=None, beta: float = 1.0):
    """Negative ELBO of the conditional VAE, mean over the batch (nats per image), and its parts."""
    mu, logvar = net.encode(x, y)
    z = reparameterise(mu, logvar, generator)
    rec = bernoulli_nll(net.decode_logits(z, y), x)
    kl = kl_per_dim(mu, logvar).sum(1)
    return (rec + beta * kl).mean(), {"rec": rec.mean().item(), "kl": kl.mean().item()}
