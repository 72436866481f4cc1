"""N2D (McConville et al., 2020): cluster the manifold of an autoencoder's codes, not the codes themselves.

UMAP maps each 10-number code to a 10-d embedding that keeps its nearest neighbours close (``min_dist=0`` packs
them tight), and a full-covariance Gaussian mixture of 10 components finds the clusters there. KMeans on the raw
codes draws straight borders between round clusters; the manifold UMAP finds follows the digits' own shape.

Which UMAP (its ``n_neighbors`` and seed) is chosen without labels: the mixture's BIC, made comparable across
embeddings of different scale (``scale_free_bic``). Labels only score the result.

New images need no pickled UMAP, only the training codes and their embedding. A new code's k nearest training
codes, weighted by UMAP's fuzzy membership (``membership_weights``, as UMAP's own ``transform`` weighs them), place it
on the map: the weighted mean of their embeddings, where UMAP's transform starts before it refines the point for a
few epochs. Its cluster is the same weighted mean of their mixture posteriors: near a border the mean position can
fall between two clusters that none of its neighbours is in, the mean posterior cannot (measured on the card).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


def umap_embedding(x: np.ndarray, n_neighbors: int, seed: int, dims: int = 10) -> np.ndarray:
    """(N, dims) float32 UMAP embedding with ``min_dist=0`` (N2D's settings); deterministic for a seed."""
    import warnings

    import umap

    with warnings.catch_warnings():  # "n_jobs overridden by setting random_state": we want the determinism
        warnings.simplefilter("ignore", UserWarning)
        reducer = umap.UMAP(n_components=dims, n_neighbors=n_neighbors, min_dist=0.0, random_state=seed)
        return reducer.fit_transform(np.asarray(x, dtype=np.float32)).astype(np.float32)


@dataclass
class Mixture:
    """A full-covariance Gaussian mixture as plain arrays: weights (K,), means (K,E), covariances (K,E,E)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray

    @classmethod
    def fit(cls, z: np.ndarray, k: int, seed: int) -> tuple[Mixture, float]:
        """Fit with scikit-learn; returns the mixture and its scale-free BIC on ``z``."""
        from sklearn.mixture import GaussianMixture

        g = GaussianMixture(k, covariance_type="full", random_state=seed, reg_covar=1e-5).fit(z)
        mixture = cls(g.weights_.astype(np.float64), g.means_.astype(np.float64), g.covariances_.astype(np.float64))
        return mixture, scale_free_bic(g.bic(z), z)

    def to_config(self) -> dict:
        """As JSON lists: artifacts store tensors as float16, too coarse for the covariances of a tight embedding."""
        return {
            "weights": self.weights.tolist(),
            "means": self.means.tolist(),
            "covariances": self.covariances.tolist(),
        }

    @classmethod
    def from_config(cls, d: dict) -> Mixture:
        return cls(*(np.asarray(d[k], dtype=np.float64) for k in ("weights", "means", "covariances")))

    def log_joint(self, z: np.ndarray) -> np.ndarray:
        """(N,K) log( weight_k * N(z | mean_k, cov_k) )."""
        z = np.asarray(z, dtype=np.float64)
        out = np.empty((len(z), len(self.weights)))
        for k, (w, mu, cov) in enumerate(zip(self.weights, self.means, self.covariances)):
            chol = np.linalg.cholesky(cov)  # (E,E)
            solved = np.linalg.solve(chol, (z - mu).T)  # (E,N)
            log_det = 2 * np.log(np.diag(chol)).sum()
            out[:, k] = np.log(w) - 0.5 * ((solved**2).sum(0) + log_det + z.shape[1] * np.log(2 * np.pi))
        return out

    def predict_proba(self, z: np.ndarray) -> np.ndarray:
        """(N,K) posterior probability of each component."""
        log_joint = self.log_joint(z)
        log_joint -= log_joint.max(1, keepdims=True)
        p = np.exp(log_joint)
        return p / p.sum(1, keepdims=True)


def scale_free_bic(bic: float, z: np.ndarray) -> float:
    """BIC of a mixture on ``z`` as if ``z`` were first whitened to unit covariance.

    A full-covariance mixture fits whitened data exactly as well, but the likelihood of a density grows as the
    data shrinks: whitening adds N*log det(cov)/2 to the log-likelihood, so embeddings of different scale compare
    fairly only after subtracting N*log det(cov) from the BIC.
    """
    _, log_det = np.linalg.slogdet(np.cov(np.asarray(z, dtype=np.float64), rowvar=False))
    return float(bic - len(z) * log_det)


def components_by_bic(z: np.ndarray, candidates, seed: int = 0) -> int:
    """The number of mixture components, of ``candidates``, with the lowest BIC."""
    bics = {k: Mixture.fit(z, k, seed)[1] for k in candidates}
    return min(bics, key=bics.get)


def membership_weights(distances: np.ndarray, iterations: int = 64) -> np.ndarray:
    """UMAP's fuzzy membership of each point's k nearest neighbours, rows normalised to sum to one.

    distances: (M,k) ascending. UMAP's transform uses local connectivity 0 (so rho = 0) and finds each row's
    sigma by bisection such that sum_j exp(-d_j / sigma) = log2(k).
    """
    d = np.asarray(distances, dtype=np.float64)
    target = np.log2(d.shape[1])
    lo, hi = np.zeros(len(d)), np.full(len(d), np.inf)
    sigma = np.ones(len(d))
    for _ in range(iterations):
        total = np.exp(-d / sigma[:, None]).sum(1)
        too_big = total > target  # sigma too large: shrink it
        hi = np.where(too_big, sigma, hi)
        lo = np.where(too_big, lo, sigma)
        sigma = np.where(np.isinf(hi), sigma * 2, (lo + hi) / 2)
    w = np.exp(-d / sigma[:, None])
    return w / w.sum(1, keepdims=True)


class NeighbourEmbedding:
    """Places new codes in a fitted UMAP embedding: the membership-weighted mean of their k nearest training codes'
    embeddings (UMAP's transform initialisation). codes: (N,D), embedding: (N,E), the training pairs."""

    def __init__(self, codes, embedding, k: int):
        self.codes = torch.as_tensor(np.asarray(codes, dtype=np.float32))  # (N,D)
        self.embedding = np.asarray(embedding, dtype=np.float32)  # (N,E)
        self.k = int(k)

    def neighbours(self, new_codes, chunk: int = 1024) -> tuple[np.ndarray, np.ndarray]:
        """Distances and indices (M,k) of the k nearest training codes, nearest first."""
        new = torch.as_tensor(np.asarray(new_codes, dtype=np.float32))
        dists, index = [], []
        for i in range(0, len(new), chunk):
            d, j = torch.cdist(new[i : i + chunk], self.codes).topk(self.k, largest=False)
            dists.append(d)
            index.append(j)
        return torch.cat(dists).numpy(), torch.cat(index).numpy()

    def transform(self, new_codes) -> np.ndarray:
        """(M,E) embedding of new codes (M,D)."""
        return self.mean_of(new_codes, self.embedding)

    def mean_of(self, new_codes, values) -> np.ndarray:
        """(M,C): the membership-weighted mean of ``values`` (N,C), one row per training code, over each new code's
        k nearest training codes."""
        distances, index = self.neighbours(new_codes)
        w = membership_weights(distances)  # (M,k)
        return np.einsum("mk,mkc->mc", w, np.asarray(values)[index]).astype(np.float32)


class N2DClusterer:
    """The encoder, the embedding of the training codes and the mixture, as the page and the command line use them."""

    def __init__(self, encoder, placer: NeighbourEmbedding, mixture: Mixture, mapping, card: dict, extras: dict):
        self.encoder, self.placer, self.mixture = encoder.eval(), placer, mixture
        self.mapping, self.card, self.extras = np.asarray(mapping), card, extras
        self.train_posterior = mixture.predict_proba(placer.embedding)  # (N,K)

    def codes(self, images) -> np.ndarray:
        from gallery.digits import cluster

        return cluster.encode(self.encoder, images).numpy()

    def embed(self, images) -> np.ndarray:
        return self.placer.transform(self.codes(images))

    def assign(self, images) -> np.ndarray:
        """(N, clusters) probabilities of each cluster for images (N,28,28) in [0,1]: the membership-weighted mean of
        their nearest training codes' mixture posteriors."""
        return self.placer.mean_of(self.codes(images), self.train_posterior)


def load(name: str = "digits-n2d", root=None) -> N2DClusterer:
    from gallery import registry
    from gallery.digits import cluster

    def build(art: registry.Artifact) -> N2DClusterer:
        ae = cluster.AutoEncoder(art.config["dims"])
        ae.encoder.load_state_dict({k[8:]: v.float() for k, v in art.tensors.items() if k.startswith("encoder.")})
        t = art.tensors
        placer = NeighbourEmbedding(t["train.codes"].float(), t["train.embedding"].float(), art.config["n_neighbors"])
        extras = {k[4:]: v.numpy() for k, v in t.items() if k.startswith("map.")}
        extras["train_cluster"] = t["train.cluster"].numpy()
        return N2DClusterer(
            ae, placer, Mixture.from_config(art.config["mixture"]), art.config["cluster_to_label"], art.card, extras
        )

    return registry.build_from(name, build, root)
