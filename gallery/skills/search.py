"""Nearest-neighbour search behind one interface: ``neighbors(vector, k) -> [(word, cosine), ...]``.

Backends: exact (a normalised matrix product), Faiss (flat = exact, HNSW = approximate), Annoy
(angular, approximate) and Magnitude (``pymagnitude-lite`` on a ``.magnitude`` file; exact through its
own ``most_similar``, approximate through Annoy, reusing the index a heavy file carries).
Indexes are built on first use and cached on disk outside the repository (``cache_dir()``).
"""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np

BACKENDS = ("exact", "faiss", "annoy", "magnitude")


def cache_dir() -> Path:
    root = Path(os.environ.get("GALLERY_CACHE", Path.home() / ".cache" / "dl-gallery")) / "skills"
    root.mkdir(parents=True, exist_ok=True)
    return root


def fingerprint(vectors: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(vectors).tobytes()).hexdigest()[:16]


class ExactSearch:
    """Cosine similarity to every vector at once: one (V, D) x (D,) product."""

    name, approximate = "exact", False

    def __init__(self, words: list[str], vectors: np.ndarray):
        start = time.perf_counter()
        self.words, self.vectors = words, np.ascontiguousarray(vectors, dtype=np.float32)  # unit rows
        self.build_seconds = time.perf_counter() - start

    def neighbors(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        scores = self.vectors @ vector.astype(np.float32)  # (V,)
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(self.words[i], float(scores[i])) for i in top]


class FaissSearch:
    """Faiss on unit vectors with inner product: ``flat`` is exact, ``hnsw`` a graph index (approximate)."""

    approximate = property(lambda self: self.kind != "flat")

    def __init__(self, words: list[str], vectors: np.ndarray, kind: str = "hnsw", ef_search: int = 128):
        import faiss

        self.words, self.kind, self.name = words, kind, f"faiss-{kind}"
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        start = time.perf_counter()
        if kind == "flat":
            self.index = faiss.IndexFlatIP(vectors.shape[1])
            self.index.add(vectors)
        else:
            path = cache_dir() / f"{fingerprint(vectors)}-hnsw32.faiss"
            if path.is_file():
                self.index = faiss.read_index(str(path))
            else:
                self.index = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
                self.index.hnsw.efConstruction = 80
                self.index.add(vectors)
                faiss.write_index(self.index, str(path) + ".tmp")
                os.replace(str(path) + ".tmp", path)
            self.index.hnsw.efSearch = ef_search
        self.build_seconds = time.perf_counter() - start

    def neighbors(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        scores, ids = self.index.search(vector.astype(np.float32)[None, :], k)
        return [(self.words[i], float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]


def annoy_cosine(distance: float) -> float:
    """Annoy's angular distance is sqrt(2 - 2 cos) between unit vectors."""
    return 1.0 - distance * distance / 2.0


class AnnoySearch:
    """Annoy's forest of random-projection trees (angular metric)."""

    name, approximate = "annoy", True

    def __init__(self, words: list[str], vectors: np.ndarray, trees: int = 50, index_path: Path | None = None):
        from annoy import AnnoyIndex

        self.words = words
        start = time.perf_counter()
        self.index = AnnoyIndex(vectors.shape[1], "angular")
        path = index_path or cache_dir() / f"{fingerprint(vectors)}-annoy{trees}.ann"
        if Path(path).is_file():
            self.index.load(str(path))
        else:
            for i, row in enumerate(vectors):
                self.index.add_item(i, row)
            self.index.set_seed(0)
            self.index.build(trees, n_jobs=1)
            self.index.save(str(path) + ".tmp")
            os.replace(str(path) + ".tmp", path)
            self.index.unload()
            self.index.load(str(path))  # memory-mapped, shared between processes
        self.build_seconds = time.perf_counter() - start

    def neighbors(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        search_k = 10 * self.index.get_n_trees() * k  # 10x Annoy's default: recall ~0.99 here for ~1 ms
        ids, dists = self.index.get_nns_by_vector(vector, k, search_k=search_k, include_distances=True)
        return [(self.words[i], annoy_cosine(d)) for i, d in zip(ids, dists)]


class MagnitudeSearch:
    """Search a ``.magnitude`` file with pymagnitude-lite.

    Exact: Magnitude's own ``most_similar``. Approximate: the lite fork has no ``most_similar_approx``,
    so an Annoy index answers instead: the one a heavy file carries when present, else one built from
    the file's vectors and cached.
    """

    def __init__(self, path: Path, approximate: bool = False):
        from gallery.skills import magnitude

        start = time.perf_counter()
        self.path, self.approximate = Path(path), approximate
        self.name = "magnitude-approx" if approximate else "magnitude"
        self.store = magnitude.open_file(self.path)
        self.annoy = None
        if approximate:
            words, vectors = magnitude.read_all(self.store)
            carried = magnitude.extract_approx_index(self.path, cache_dir())
            self.annoy = AnnoySearch(words, vectors, index_path=carried)
            self.carried_index = carried is not None
        else:
            self.store.get_vectors_mmap()  # Magnitude builds its vector memory-map lazily: do it now, not on a query
        self.build_seconds = time.perf_counter() - start

    def neighbors(self, vector: np.ndarray, k: int) -> list[tuple[str, float]]:
        if self.annoy is not None:
            return self.annoy.neighbors(vector, k)
        found = self.store.most_similar(vector.astype(np.float32), topn=k)
        return [(key, float(score)) for key, score in found]


def make_backend(name: str, words: list[str], vectors: np.ndarray, approximate: bool = False, magnitude_path=None):
    """One backend by name; ``approximate`` picks Faiss HNSW over Faiss flat, and Annoy inside Magnitude."""
    if name == "exact":
        return ExactSearch(words, vectors)
    if name == "faiss":
        return FaissSearch(words, vectors, "hnsw" if approximate else "flat")
    if name == "annoy":
        return AnnoySearch(words, vectors)
    if name == "magnitude":
        if magnitude_path is None:
            raise ValueError("The Magnitude backend needs a .magnitude file.")
        return MagnitudeSearch(magnitude_path, approximate)
    raise ValueError(f"backend must be one of {', '.join(BACKENDS)}")
