"""Disentanglement scores as disentanglement_lib computes them (Locatello et al. 2019): MIG and the FactorVAE score.

Both take a representation and the true factors. MIG needs only codes of sampled points; the FactorVAE score must
draw fresh batches with one factor held fixed, so it takes ``represent(factor_indices) -> codes``, which covers both
a trained model (``through_renderer(encode)``: render the sprites, then encode them) and synthetic codes computed
straight from the factors (the tests' known answers).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sklearn.metrics import mutual_info_score

from gallery.sprites import render

Represent = Callable[[np.ndarray], np.ndarray]  # factor indices (N, K) -> codes (N, L)
Sample = Callable[[int, np.random.Generator], np.ndarray]  # n, rng -> factor indices (n, K)


def through_renderer(encode: Callable[[np.ndarray], np.ndarray]) -> Represent:
    """``represent`` for an encoder: factor indices -> sprites (N, 64, 64) uint8 0/1 -> ``encode`` -> means (N, L)."""
    return lambda indices: np.asarray(encode(render.render_indices(indices)))


# ---------------------------------------------------------------------------------------------- MIG


def discretize(codes: np.ndarray, bins: int = 20) -> np.ndarray:
    """Each latent into ``bins`` equal-width bins between its own min and max: (N, L) floats -> (N, L) ints.

    disentanglement_lib's ``_histogram_discretize``: np.histogram's edges, np.digitize on all but the last edge
    (so the maximum falls in the top bin)."""
    out = np.zeros(codes.shape, dtype=np.int64)
    for i in range(codes.shape[1]):
        edges = np.histogram(codes[:, i], bins)[1]  # (bins + 1,)
        out[:, i] = np.digitize(codes[:, i], edges[:-1])
    return out


def mutual_information(discrete_codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Nats between every discretised latent (N, L) and every factor (N, K): (L, K)."""
    latents, n_factors = discrete_codes.shape[1], factors.shape[1]
    mi = np.zeros((latents, n_factors))
    for j in range(latents):
        for k in range(n_factors):
            mi[j, k] = mutual_info_score(factors[:, k], discrete_codes[:, j])
    return mi


def entropy(factors: np.ndarray) -> np.ndarray:
    """Each factor's empirical entropy in nats (N, K) -> (K,): its mutual information with itself."""
    return np.array([mutual_info_score(factors[:, k], factors[:, k]) for k in range(factors.shape[1])])


@dataclass
class MIG:
    score: float  # the mean over factors of gap / entropy
    gaps: np.ndarray  # (K,) (top-1 MI - top-2 MI) / H(factor), per factor
    mi: np.ndarray  # (L, K) nats, latents by factors
    entropy: np.ndarray  # (K,) nats


def mig(codes: np.ndarray, factors: np.ndarray, bins: int = 20) -> MIG:
    """Mutual information gap (Chen et al. 2018) of codes (N, L), e.g. encoder means, against factor indices (N, K).

    Even a perfect code scores below 1 here: 20 bins cannot hold all 32 positions or 40 orientations, so the best
    latent's MI stays under the factor's entropy (about 0.9 for an exact copy of dSprites' factors)."""
    codes, factors = np.asarray(codes, dtype=np.float64), np.asarray(factors)
    if codes.ndim != 2 or factors.ndim != 2 or len(codes) != len(factors):
        raise ValueError(f"codes (N, L) and factors (N, K) must have one row per point: {codes.shape}, {factors.shape}")
    if codes.shape[1] < 2:
        raise ValueError("MIG needs at least two latents (it is the gap between the best two)")
    mi = mutual_information(discretize(codes, bins), factors)  # (L, K)
    h = entropy(factors)  # (K,)
    top = np.sort(mi, axis=0)[::-1]  # (L, K) each column descending
    gaps = (top[0] - top[1]) / h
    return MIG(score=float(gaps.mean()), gaps=gaps, mi=mi, entropy=h)


def sprites_mig(represent: Represent, n_points: int = 10_000, rng=0, bins: int = 20) -> MIG:
    """MIG on ``n_points`` fresh sprites drawn uniformly from the grid (disentanglement_lib uses 10,000)."""
    factors = render.sample_factors(n_points, np.random.default_rng(rng))  # (N, 5)
    return mig(represent(factors), factors, bins)


# ---------------------------------------------------------------------------------------------- FactorVAE score


@dataclass
class FactorVAEScore:
    score: float  # accuracy of the majority-vote classifier on the evaluation votes
    train_accuracy: float
    active: np.ndarray  # (L,) bool: latents whose global standard deviation reaches the pruning threshold
    classifier: np.ndarray  # (L,) the factor each latent votes for (most common in training)
    votes: np.ndarray  # (K, L) training votes: factor held fixed by the latent of least normalised variance


def fixed_factor_votes(
    represent: Represent,
    sample: Sample,
    rng: np.random.Generator,
    n_votes: int,
    batch_size: int,
    global_var: np.ndarray,
    active: np.ndarray,
    votes_per_call: int = 16,
) -> np.ndarray:
    """Votes (K, L): each draws ``batch_size`` points with one random factor held at one random value and names the
    active latent whose variance, divided by its global variance, is the least.

    ``represent`` sees ``votes_per_call`` batches at a time (1,024 points by default) to keep a model's calls big."""
    active_idx = np.flatnonzero(active)  # (A,)
    votes = None
    done = 0
    while done < n_votes:
        v = min(votes_per_call, n_votes - done)
        factors = sample(v * batch_size, rng).reshape(v, batch_size, -1)  # (V, B, K)
        k = factors.shape[2]
        fixed = rng.integers(0, k, v)  # (V,) which factor each vote holds
        factors[np.arange(v), :, fixed] = factors[np.arange(v), 0, fixed][:, None]
        codes = np.asarray(represent(factors.reshape(v * batch_size, k))).reshape(v, batch_size, -1)  # (V, B, L)
        local_var = codes.var(axis=1, ddof=1)  # (V, L)
        winner = active_idx[np.argmin(local_var[:, active_idx] / global_var[active_idx], axis=1)]  # (V,)
        if votes is None:
            votes = np.zeros((k, codes.shape[2]), dtype=np.int64)
        np.add.at(votes, (fixed, winner), 1)
        done += v
    return votes


def factorvae_score(
    represent: Represent,
    sample: Sample = render.sample_factors,
    rng=0,
    batch_size: int = 64,
    n_train: int = 10_000,
    n_eval: int = 5_000,
    n_variance: int = 10_000,
    prune_std: float = 0.05,
) -> FactorVAEScore:
    """The FactorVAE metric (Kim & Mnih 2018) with disentanglement_lib's published counts as defaults.

    Latents with a global standard deviation under ``prune_std`` are pruned (collapsed to the prior); with none left
    the score is 0, as in disentanglement_lib. The classifier maps each latent to the factor it won most votes for.
    disentanglement_lib indexes its vote matrix by the argmin among active latents; here it is the latent's own
    index, which gives the same accuracies."""
    rng = np.random.default_rng(rng)
    global_codes = np.asarray(represent(sample(n_variance, rng)))  # (n_variance, L)
    global_var = global_codes.var(axis=0, ddof=1)  # (L,)
    active = np.sqrt(global_var) >= prune_std
    n_latents = global_codes.shape[1]
    if not active.any():
        empty = np.zeros(n_latents, dtype=np.int64)
        return FactorVAEScore(0.0, 0.0, active, empty, np.zeros((0, n_latents), dtype=np.int64))
    train = fixed_factor_votes(represent, sample, rng, n_train, batch_size, global_var, active)  # (K, L)
    classifier = np.argmax(train, axis=0)  # (L,)
    evaluation = fixed_factor_votes(represent, sample, rng, n_eval, batch_size, global_var, active)
    latents = np.arange(n_latents)
    return FactorVAEScore(
        score=float(evaluation[classifier, latents].sum() / evaluation.sum()),
        train_accuracy=float(train[classifier, latents].sum() / train.sum()),
        active=active,
        classifier=classifier,
        votes=train,
    )
