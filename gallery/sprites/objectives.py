"""The four objectives, one function each, all on one forward pass (gallery.sprites.model.Forward) and a batch x.

Each returns a dict of scalar tensors: ``loss`` (what the optimiser minimises, per image, averaged over the batch)
and its terms: ``nll`` (Bernoulli negative log-likelihood: BCE with logits summed over pixels), ``kl`` (KL(q(z|x) ||
N(0, I)) summed over latents) and, where the objective has one, ``tc`` (the total-correlation estimate).

- VAE: nll + kl.
- beta-VAE (Higgins et al. 2017): nll + beta * kl.
- FactorVAE (Kim & Mnih 2018): nll + kl + gamma * TC, TC by the density-ratio trick: a discriminator D tells codes
  z ~ q(z) from codes whose dimensions were shuffled independently across the batch (samples of prod_j q(z_j)), and
  TC = KL(q(z) || prod_j q(z_j)) ~ E[D_0(z) - D_1(z)]. The discriminator has its own loss and optimiser.
- beta-TCVAE (Chen et al. 2018): the KL splits into index-code MI + TC + dimension-wise KL; nll + kl + (beta - 1) * TC
  weighs the TC by beta and keeps the other two at 1. TC by minibatch-weighted sampling.

FactorVAE's one-batch form (its discriminator sees the same batch's codes, permuted) is disentanglement_lib's.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gallery.sprites.render import N_COMBINATIONS

LOG_2PI = math.log(2 * math.pi)


def bernoulli_nll(logits: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Logits (B, 1, S, S), targets (B, 1, S, S) in [0, 1] -> nats per image (B,)."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, 1)) per latent: (B, L) -> (B, L) nats."""
    return 0.5 * (mean.pow(2) + logvar.exp() - 1 - logvar)


def gaussian_log_density(z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log N(z; mean, exp(logvar)) elementwise (broadcasting)."""
    return -0.5 * (LOG_2PI + logvar + (z - mean).pow(2) * torch.exp(-logvar))


def vae_loss(f, x: torch.Tensor) -> dict:
    """The plain VAE: the negative ELBO."""
    return beta_vae_loss(f, x, beta=1.0)


def beta_vae_loss(f, x: torch.Tensor, beta: float) -> dict:
    nll = bernoulli_nll(f.logits, x).mean()
    kl = gaussian_kl(f.mean, f.logvar).sum(1).mean()
    return {"loss": nll + beta * kl, "nll": nll, "kl": kl}


def permute_dims(z: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """Each latent's column shuffled on its own across the batch: (B, L) -> (B, L), samples of prod_j q(z_j).

    Every column keeps its values (its marginal); only their pairing across dimensions is broken."""
    keys = torch.rand(z.shape, generator=generator, device=z.device)  # (B, L)
    return torch.gather(z, 0, keys.argsort(dim=0))


def factor_vae_loss(f, x: torch.Tensor, discriminator, gamma: float) -> dict:
    """The VAE's loss plus gamma times the discriminator's TC estimate (gradients reach the encoder through z)."""
    out = vae_loss(f, x)
    logits = discriminator(f.z)  # (B, 2)
    tc = (logits[:, 0] - logits[:, 1]).mean()  # log D(z) / (1 - D(z)) ~ log q(z) / prod_j q(z_j)
    return {**out, "loss": out["loss"] + gamma * tc, "tc": tc}


def discriminator_loss(discriminator, z: torch.Tensor, generator: torch.Generator | None = None) -> dict:
    """Cross-entropy of telling codes (label 0) from their permutation (label 1); the codes are detached."""
    z = z.detach()  # (B, L)
    logits = discriminator(torch.cat([z, permute_dims(z, generator)]))  # (2B, 2)
    labels = torch.cat([torch.zeros(len(z)), torch.ones(len(z))]).long().to(z.device)  # (2B,)
    accuracy = (logits.argmax(1) == labels).float().mean()
    return {"loss": F.cross_entropy(logits, labels), "accuracy": accuracy}


def total_correlation(
    z: torch.Tensor, mean: torch.Tensor, logvar: torch.Tensor, dataset_size: int = N_COMBINATIONS
) -> torch.Tensor:
    """Minibatch-weighted sampling (Chen et al. 2018) of TC = E[log q(z) - sum_j log q(z_j)], nats.

    q(z_i) ~ 1 / (N M) sum_k q(z_i | x_k) over the batch's M images, N the data set's size (here the grid's
    737,280 combinations); likewise each q(z_ij) per dimension."""
    batch = z.shape[0]
    log_q = gaussian_log_density(z[:, None, :], mean[None, :, :], logvar[None, :, :])  # (M, M, L): log q(z_i,j | x_k)
    log_norm = math.log(batch * dataset_size)
    log_qz = torch.logsumexp(log_q.sum(2), dim=1) - log_norm  # (M,)
    log_prod = (torch.logsumexp(log_q, dim=1) - log_norm).sum(1)  # (M,)
    return (log_qz - log_prod).mean()


def beta_tcvae_loss(f, x: torch.Tensor, beta: float, dataset_size: int = N_COMBINATIONS) -> dict:
    out = vae_loss(f, x)
    tc = total_correlation(f.z, f.mean, f.logvar, dataset_size)
    return {**out, "loss": out["loss"] + (beta - 1) * tc, "tc": tc}
