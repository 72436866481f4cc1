"""A trained sprites model scored on freshly rendered sprites: MIG, the FactorVAE score, reconstruction and KL.

What the cards, the ``metrics`` verb and the benchmark report, computed one way. The seed draws the sprites; use one
that training never used (the trainer draws its batches from SeedSequence([seed, step]), never from a plain int).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch

from gallery.sprites import metrics, render
from gallery.sprites.model import SpritesModel, to_input
from gallery.sprites.objectives import bernoulli_nll, gaussian_kl

EVAL_SEED = 2024  # the cards' held-out sprites
PUBLISHED_FACTORVAE = {"n_train": 10_000, "n_eval": 5_000, "n_variance": 10_000, "batch_size": 64}
PUBLISHED = {  # reference figures on the original dSprites file, as their papers report them
    "beta_vae_mig": "of order 0.1 (Chen et al. 2018; Locatello et al. 2019's sweep)",
    "beta_tcvae_mig": "about 0.4-0.5 (Chen et al. 2018, their own code)",
    "factorvae_score": "about 0.8 for FactorVAE, 0.7-0.8 for beta-VAE (Kim & Mnih 2018)",
    "steps": 300_000,
}


@dataclass
class Counts:
    mig_points: int = 10_000
    recon_points: int = 10_000
    n_train: int = PUBLISHED_FACTORVAE["n_train"]
    n_eval: int = PUBLISHED_FACTORVAE["n_eval"]
    n_variance: int = PUBLISHED_FACTORVAE["n_variance"]


@torch.no_grad()
def reconstruction_and_kl(model: SpritesModel, images: np.ndarray, batch: int = 500) -> dict:
    """Bernoulli NLL per image (nats, decoding the posterior mean) and KL per latent, averaged over images."""
    nll, kl = [], []
    for start in range(0, len(images), batch):
        x = to_input(images[start : start + batch], model.net.cfg.size).to(model.device)  # (B, 1, S, S)
        mean, logvar = model.net.encode(x)  # (B, L)
        nll.append(bernoulli_nll(model.net.decode(mean), x))  # (B,)
        kl.append(gaussian_kl(mean, logvar))  # (B, L)
    kl_per_latent = torch.cat(kl).mean(0).cpu().numpy()  # (L,)
    return {
        "reconstruction_nll": round(float(torch.cat(nll).mean()), 3),
        "kl_per_latent": [round(float(v), 4) for v in kl_per_latent],
        "kl_total": round(float(kl_per_latent.sum()), 3),
    }


def evaluate(model: SpritesModel, seed: int = EVAL_SEED, counts: Counts | None = None, factorvae: bool = True) -> dict:
    """Every held-out figure of a card, with the counts used and the seconds each took."""
    counts = counts or Counts()
    encode = lambda images: model.encode(images)[0]  # noqa: E731 (means, as disentanglement_lib scores them)
    represent = metrics.through_renderer(encode)
    rng = np.random.default_rng(seed)
    images = render.render_indices(render.sample_factors(counts.recon_points, rng))
    out = {"seed": seed, **reconstruction_and_kl(model, images)}
    out["reconstruction_points"] = counts.recon_points
    start = time.perf_counter()
    m = metrics.sprites_mig(represent, counts.mig_points, rng)
    out["mig"] = round(m.score, 4)
    out["mig_per_factor"] = dict(zip(render.FACTOR_NAMES, (round(float(g), 4) for g in m.gaps)))
    out["mi_matrix"] = {"rows": "latents", "columns": list(render.FACTOR_NAMES), "nats": np.round(m.mi, 4).tolist()}
    out["factor_entropy"] = [round(float(h), 4) for h in m.entropy]
    out["mig_points"] = counts.mig_points
    out["mig_seconds"] = round(time.perf_counter() - start, 1)
    if factorvae:
        start = time.perf_counter()
        f = metrics.factorvae_score(
            represent, rng=rng, n_train=counts.n_train, n_eval=counts.n_eval, n_variance=counts.n_variance
        )
        out["factorvae_score"] = round(f.score, 4)
        out["factorvae_train_accuracy"] = round(f.train_accuracy, 4)
        out["factorvae_active_latents"] = int(f.active.sum())
        out["factorvae_classifier"] = [render.FACTOR_NAMES[k] if a else None for k, a in zip(f.classifier, f.active)]
        out["factorvae_counts"] = {
            "n_train": counts.n_train,
            "n_eval": counts.n_eval,
            "n_variance": counts.n_variance,
            "batch_size": 64,
            "published": all(getattr(counts, k) == v for k, v in PUBLISHED_FACTORVAE.items() if k != "batch_size"),
        }
        out["factorvae_seconds"] = round(time.perf_counter() - start, 1)
    return out
