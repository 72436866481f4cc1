"""Projection to 2-D or 3-D, stratified sampling, faithfulness metrics and original-space neighbours.

Everything here takes a dense float matrix ``X`` (N, D) in the *original* space, where distances are
Euclidean (skill vectors and TF-IDF rows are unit length, so Euclidean order is cosine order). t-SNE and
UMAP are imported only when they are asked for: UMAP's numba code compiles on its first call in a process.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

METHODS = ("pca", "tsne", "umap")
METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "umap": "UMAP"}
# Caps on the points a method may be asked to place (the TF Embedding Projector caps t-SNE at 10k too):
# t-SNE's Barnes-Hut cost grows as N log N with a large constant (about a minute for 5k points on one core),
# and the faithfulness metrics need each sampled point's distance to every other point.
MAX_POINTS = {"pca": 100_000, "tsne": 10_000, "umap": 20_000}
PRE_PCA_DIMS = 50  # t-SNE and UMAP run on the first 50 principal components when D is larger (as is usual)
K_NEIGHBOURS = 10


@dataclass
class Projection:
    coords: np.ndarray  # (N, dims) float32
    method: str
    dims: int
    params: dict
    seconds: float
    explained_variance: list[float] = field(default_factory=list)  # PCA only: fraction per component


def check_method(method: str, dims: int, n: int) -> None:
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, not {method!r}")
    if dims not in (2, 3):
        raise ValueError(f"dims must be 2 or 3, not {dims}")
    if n < 5:
        raise ValueError(f"a map needs at least 5 points, got {n}")
    if n > MAX_POINTS[method]:
        raise ValueError(f"{METHOD_NAMES[method]} is capped at {MAX_POINTS[method]:,} points here; asked for {n:,}")


def pre_reduce(X: np.ndarray, seed: int = 0) -> np.ndarray:
    """The first ``PRE_PCA_DIMS`` principal components when X is wider than that (speeds t-SNE/UMAP, removes noise)."""
    if X.shape[1] <= PRE_PCA_DIMS or X.shape[0] <= PRE_PCA_DIMS:
        return X
    from sklearn.decomposition import PCA

    return PCA(PRE_PCA_DIMS, random_state=seed).fit_transform(X).astype(np.float32)


def project(
    X: np.ndarray,
    method: str = "pca",
    dims: int = 2,
    seed: int = 0,
    perplexity: float | None = None,
    iterations: int = 1000,
    n_neighbors: int | None = None,
    min_dist: float = 0.1,
) -> Projection:
    """Place the rows of X in ``dims`` dimensions; the same seed gives the same map.

    Perplexity defaults to 30 and UMAP's neighbours to 15, or less on very small data sets.
    """
    X = np.asarray(X, dtype=np.float32)
    n = len(X)
    check_method(method, dims, n)
    perplexity = min(30.0, (n - 1) / 3) if perplexity is None else perplexity
    n_neighbors = min(15, n - 1) if n_neighbors is None else n_neighbors
    start = time.perf_counter()
    variance: list[float] = []
    if method == "pca":
        from sklearn.decomposition import PCA

        pca = PCA(dims, random_state=seed)
        coords = pca.fit_transform(X)
        variance = [float(v) for v in pca.explained_variance_ratio_]
        params = {}
    elif method == "tsne":
        from sklearn.manifold import TSNE

        if not 2 <= perplexity < n:
            raise ValueError(f"perplexity must be at least 2 and below the number of points ({n})")
        if iterations < 250:
            raise ValueError("t-SNE needs at least 250 iterations")
        params = {"perplexity": float(perplexity), "iterations": int(iterations)}
        from threadpoolctl import threadpool_limits

        # sklearn's automatic learning rate is floored at 50, which blows small data sets apart in 3-D
        # (166 résumés: trustworthiness 0.58, no better than random); there, use N / 48 (its formula) down to 10.
        rate = "auto" if dims == 2 else max(n / 48, 10.0)
        tsne = TSNE(
            dims,
            perplexity=perplexity,
            max_iter=iterations,
            learning_rate=rate,
            init="pca",
            random_state=seed,
            n_jobs=1,
        )
        with threadpool_limits(1):  # one thread: the server is shared, and two cores oversubscribe easily
            coords = tsne.fit_transform(pre_reduce(X, seed))
    else:
        import umap

        if not 2 <= n_neighbors < n:
            raise ValueError(f"UMAP's neighbours must be at least 2 and below the number of points ({n})")
        if not 0.0 <= min_dist <= 1.0:
            raise ValueError("UMAP's minimum distance must be between 0 and 1")
        params = {"n_neighbors": int(n_neighbors), "min_dist": float(min_dist)}
        import numba

        reducer = umap.UMAP(n_components=dims, n_neighbors=n_neighbors, min_dist=min_dist, random_state=seed, n_jobs=1)
        threads = numba.get_num_threads()
        numba.set_num_threads(1)  # seeded UMAP is sequential anyway; keep its numba helpers on one thread too
        try:
            coords = reducer.fit_transform(pre_reduce(X, seed))
        finally:
            numba.set_num_threads(threads)
    return Projection(np.asarray(coords, dtype=np.float32), method, dims, params, time.perf_counter() - start, variance)


# ---------------------------------------------------------------------------------------------- sampling


def stratified_sample(labels, n: int, seed: int = 0) -> np.ndarray:
    """Sorted indices of ``n`` rows drawn so that every class keeps its share and at least one row."""
    labels = np.asarray(labels)
    total = len(labels)
    if n >= total:
        return np.arange(total)
    classes, inverse = np.unique(labels, return_inverse=True)
    if n < len(classes):
        raise ValueError(f"a sample of {n} cannot keep all {len(classes)} classes")
    rng = np.random.default_rng(seed)
    sizes = np.bincount(inverse)
    quota = np.maximum(1, np.floor(sizes * n / total)).astype(int)
    quota = np.minimum(quota, sizes)
    while quota.sum() < n:  # hand the remainder to the classes with the largest unmet share
        room = sizes * n / total - quota
        room[quota >= sizes] = -np.inf
        quota[int(np.argmax(room))] += 1
    while quota.sum() > n:
        over = np.where(quota > 1, quota - sizes * n / total, -np.inf)
        quota[int(np.argmax(over))] -= 1
    picked = [rng.choice(np.flatnonzero(inverse == c), size=q, replace=False) for c, q in enumerate(quota)]
    return np.sort(np.concatenate(picked))


# ---------------------------------------------------------------------------------------------- neighbours


def _sq_distances(X: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances from X[rows] to every row of X: (len(rows), N) float64."""
    X = np.asarray(X, dtype=np.float64)
    q = X[rows]
    d = (q**2).sum(1)[:, None] - 2 * q @ X.T + (X**2).sum(1)[None, :]
    return np.maximum(d, 0.0)


METRICS = ("euclidean", "cosine")


def neighbours(
    X: np.ndarray, i: int, k: int = K_NEIGHBOURS, metric: str = "euclidean"
) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` nearest rows to row ``i`` in the original space, itself excluded (exact): (indices, distances).

    ``metric="cosine"``: the distance is 1 - cos(angle) (a zero vector is at distance 1 from everything).
    """
    if not 0 <= i < len(X):
        raise ValueError(f"point {i} is out of range (0-{len(X) - 1})")
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {', '.join(METRICS)}, not {metric!r}")
    k = min(k, len(X) - 1)
    if metric == "cosine":
        X = np.asarray(X, dtype=np.float64)
        norms = np.linalg.norm(X, axis=1)
        unit = X / np.where(norms > 0, norms, 1.0)[:, None]
        d = 1.0 - unit @ unit[i]
        d[i] = np.inf
        order = np.argsort(d, kind="stable")[:k]
        return order, np.clip(d[order], 0.0, 2.0)
    d = _sq_distances(X, np.array([i]))[0]
    d[i] = np.inf
    order = np.argsort(d, kind="stable")[:k]
    return order, np.sqrt(d[order])


def knn_indices(X: np.ndarray, rows: np.ndarray, k: int) -> np.ndarray:
    """(len(rows), k) indices of each row's k nearest neighbours in X, itself excluded (exact)."""
    out = []
    for start in range(0, len(rows), 512):
        chunk = rows[start : start + 512]
        d = _sq_distances(X, chunk)
        d[np.arange(len(chunk)), chunk] = np.inf
        part = np.argpartition(d, k, axis=1)[:, :k]
        order = np.take_along_axis(d, part, 1).argsort(axis=1, kind="stable")
        out.append(np.take_along_axis(part, order, 1))
    return np.concatenate(out)


# ---------------------------------------------------------------------------------------------- faithfulness


def _scan(X: np.ndarray, Y: np.ndarray, k: int, rows: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """One pass over ``rows``: the trustworthiness penalty sum, and their k-NN in X and in Y (one distance
    computation per chunk in the original space, which is the expensive part)."""
    X, Y = np.asarray(X, dtype=np.float64), np.asarray(Y, dtype=np.float64)
    sq = (X**2).sum(1)
    penalty, high, low = 0.0, [], []
    for start in range(0, len(rows), 256):
        chunk = rows[start : start + 256]
        q = X[chunk]
        d = np.maximum((q**2).sum(1)[:, None] - 2 * q @ X.T + sq[None, :], 0.0)
        d[np.arange(len(chunk)), chunk] = np.inf  # itself last, as sklearn ranks it
        part = np.argpartition(d, k, axis=1)[:, :k]
        high.append(np.take_along_axis(part, np.take_along_axis(d, part, 1).argsort(1, kind="stable"), 1))
        map_nn = knn_indices(Y, chunk, k)  # neighbours in the map
        low.append(map_nn)
        d_map = np.take_along_axis(d, map_nn, 1)  # (chunk, k) their original-space distances
        ranks = 1 + (d[:, None, :] < d_map[:, :, None]).sum(-1)  # their ranks in the original space
        r = ranks - k
        penalty += float(r[r > 0].sum())
    return penalty, np.concatenate(high), np.concatenate(low)


def trustworthiness_sampled(X: np.ndarray, Y: np.ndarray, k: int, rows: np.ndarray) -> float:
    """sklearn's trustworthiness, with the sum over the points in ``rows`` only (all rows: exactly sklearn's).

    T = 1 - 2 / (n k (2N - 3k - 1)) * sum_i sum_{j in map-kNN(i) \\ kNN(i)} (rank_i(j) - k),
    where rank_i(j) is j's rank among i's neighbours in the original space and n = len(rows).
    """
    N = len(X)
    if k >= N / 2:
        raise ValueError(f"k ({k}) must be below half the number of points ({N})")
    return _trust(_scan(X, Y, k, rows)[0], len(rows), N, k)


def _trust(penalty: float, n: int, N: int, k: int) -> float:
    return 1.0 - 2.0 / (n * k * (2.0 * N - 3.0 * k - 1.0)) * penalty


def faithfulness(
    X: np.ndarray,
    Y: np.ndarray,
    k: int = K_NEIGHBOURS,
    sample: int = 3000,
    seed: int = 0,
    labels=None,
    keep_neighbours: bool = False,
) -> dict:
    """How well a map keeps neighbourhoods: trustworthiness and the mean fraction of k-NN kept.

    Up to ``sample`` points, sklearn.manifold.trustworthiness itself; beyond, the same sum over a random
    sample of points (each still ranked against all N points), which keeps memory at sample x N.
    ``labels`` (one per row): also the k-NN label agreement (``label_agreement``). ``keep_neighbours``: also the
    measured rows and their k-NN in X and in Y (``neighbours``: (rows, knn_original, knn_map)), from which
    ``label_agreement`` gives the agreement of any labelling later without another pass over X.
    """
    N = len(X)
    if len(Y) != N:
        raise ValueError("X and Y must have the same number of rows")
    k = min(k, (N - 1) // 2)  # trustworthiness needs k < N / 2
    if k < 1:
        raise ValueError("faithfulness needs at least 3 points")
    rows = np.arange(N) if N <= sample else np.sort(np.random.default_rng(seed).choice(N, sample, replace=False))
    penalty, high, low = _scan(X, Y, k, rows)
    if N <= sample:
        from sklearn.manifold import trustworthiness

        trust = float(trustworthiness(np.asarray(X, np.float64), np.asarray(Y, np.float64), n_neighbors=k))
    else:
        trust = _trust(penalty, len(rows), N, k)
    overlap = float(np.mean([len(set(a) & set(b)) / k for a, b in zip(high, low, strict=True)]))
    out = {"trustworthiness": trust, "knn_overlap": overlap, "k": k, "points_measured": len(rows)}
    if labels is not None:
        out |= label_agreement(labels, rows, high, low)
    if keep_neighbours:
        out["neighbours"] = (rows, high, low)
    return out


def label_agreement(labels, rows: np.ndarray, knn_original: np.ndarray, knn_map: np.ndarray) -> dict:
    """The mean share of a point's k nearest neighbours on the map that carry its label (``label_agreement``), the
    same in the original space (``label_agreement_original``, what a perfect map would keep) and by chance (two
    points drawn at random: the sum of the squared label shares, ``label_agreement_chance``)."""
    labels = np.asarray(labels)
    if len(labels) <= max(int(np.max(rows)), int(np.max(knn_original)), int(np.max(knn_map))):
        raise ValueError("there must be one label per point")
    own = labels[rows][:, None]
    shares = np.unique(labels, return_counts=True)[1] / len(labels)
    return {
        "label_agreement": float(np.mean(labels[knn_map] == own)),
        "label_agreement_original": float(np.mean(labels[knn_original] == own)),
        "label_agreement_chance": float(np.sum(shares**2)),
    }


# ---------------------------------------------------------------------------------------------- clusters


def kmeans(X: np.ndarray, k: int, seed: int = 0) -> np.ndarray:
    """KMeans cluster of each row, computed in the original space (PCA-50 when wider), numbered by size."""
    from sklearn.cluster import KMeans

    if not 2 <= k <= min(50, len(X) - 1):
        raise ValueError(f"k must be between 2 and {min(50, len(X) - 1)}")
    labels = KMeans(k, n_init=3, random_state=seed).fit_predict(pre_reduce(np.asarray(X, np.float32), seed))
    sizes = np.bincount(labels, minlength=k)
    rename = np.empty(k, dtype=np.int64)
    rename[np.argsort(-sizes, kind="stable")] = np.arange(k)
    return rename[labels]
