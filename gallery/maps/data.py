"""The data sets on the maps, and the map artifacts (``pretrained/maps-<dataset>/``).

A map artifact holds the points' original-space features (float16, or the digits' uint8 pixels), thumbnails
where the points are images, the precomputed 2-D maps (``coords.pca``, ``coords.tsne``, ``coords.umap``),
and in ``config.json`` the points' names and labels, the methods' settings and their faithfulness.
It is read with numpy only: the page imports neither torch nor UMAP to show a default map.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from gallery import registry

DATASETS = {  # artifact suffix -> what the map shows
    "skills-word2vec": "the 3,000 most frequent job skills, word2vec vectors",
    "skills-fasttext": "the 3,000 most frequent job skills, fastText vectors",
    "skills-glove": "the 3,000 most frequent job skills, GloVe vectors",
    "digits": "5,000 MNIST test digits (500 per digit), raw pixels (784-d)",
    "vae-digits": "the same 5,000 digits as the digit VAE's latent means (20-d)",
    "vae-faces": "UTKFace faces as the face VAE's latent means",
    "resumes": "the 166 distinct résumés as TF-IDF documents",
}
SOURCE_ARTIFACT = {  # the model artifact a data set needs, besides ../shared/data
    "skills-word2vec": "skills-word2vec",
    "skills-fasttext": "skills-fasttext",
    "skills-glove": "skills-glove",
    "vae-digits": "vae-digits",
    "vae-faces": "vae-faces",
}
AGE_BANDS = ((0, 12, "0-12"), (13, 19, "13-19"), (20, 34, "20-34"), (35, 54, "35-54"), (55, 200, "55+"))


@dataclass
class MapData:
    """Points in their original space, with names, labels and (for images) thumbnails."""

    name: str
    ids: list[str]  # one name per point: shown on hover, searched by the search box
    features: np.ndarray  # (N, D) float32, original space (Euclidean distances)
    labels: dict[str, list[str]] = field(default_factory=dict)  # label kind -> one label per point
    images: np.ndarray | None = None  # (N, H, W) or (N, H, W, 3) uint8 thumbnails
    texts: list[str] | None = None  # a longer hover text per point (résumé openings)
    weights: list[int] | None = None  # a size per point (skill frequency), for ordering cluster members
    description: str = ""
    source: dict = field(default_factory=dict)  # what it was made from (files, artifacts)

    def __post_init__(self):
        n = len(self.ids)
        if len(self.features) != n or any(len(v) != n for v in self.labels.values()):
            raise ValueError("ids, features and labels must have one entry per point")

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, rows) -> MapData:
        rows = np.asarray(rows)
        pick = lambda seq: None if seq is None else [seq[i] for i in rows]  # noqa: E731
        return MapData(
            self.name,
            pick(self.ids),
            self.features[rows],
            {k: pick(v) for k, v in self.labels.items()},
            None if self.images is None else self.images[rows],
            pick(self.texts),
            pick(self.weights),
            self.description,
            self.source,
        )

    def sample_rows(self, n: int, seed: int = 0) -> np.ndarray:
        """``n`` rows: stratified by the first label kind when there is one, else the first ``n`` (most frequent)."""
        from gallery.maps.project import stratified_sample

        if n < 1:
            raise ValueError("the sample size must be at least 1")
        if n >= len(self):
            return np.arange(len(self))
        if self.labels:
            return stratified_sample(next(iter(self.labels.values())), n, seed)
        return np.arange(n)

    def find(self, query: str, limit: int = 20) -> list[int]:
        """Points whose name equals the query (case-insensitive), then those that contain it."""
        q = query.strip().lower().replace(" ", "_") if self.name.startswith("skills") else query.strip().lower()
        if not q:
            return []
        names = [i.lower() for i in self.ids]
        exact = [i for i, s in enumerate(names) if s == q]
        starts = [i for i, s in enumerate(names) if s.startswith(q) and i not in exact]
        within = [i for i, s in enumerate(names) if q in s and not s.startswith(q)]
        return (exact + starts + within)[:limit]


# ---------------------------------------------------------------------------------------------- builders


def skills_data(model: str, n: int = 3000, root=None) -> MapData:
    """The ``n`` most frequent skills of a skill-embedding artifact (rare skills are mostly noise)."""
    from gallery.skills.model import load

    sm = load(model, root)
    sv = sm.vectors
    counts = np.asarray(sv.counts if sv.counts is not None else np.zeros(len(sv.words)))
    top = np.argsort(-counts, kind="stable")[: min(n, len(sv.words))]
    return MapData(
        f"skills-{model}",
        [sv.words[i] for i in top],
        sv.vectors[top].astype(np.float32),
        weights=[int(counts[i]) for i in top],
        description=f"the {len(top):,} most frequent job skills, {model} vectors ({sv.dim}-d, unit length)",
        source={"artifact": f"skills-{model}", "weights_sha256": sm.card.get("weights_sha256")},
    )


def digit_sample(mnist: dict, n: int = 5000, seed: int = 0) -> np.ndarray:
    from gallery.maps.project import stratified_sample

    return stratified_sample(mnist["y_test"], n, seed)


def digits_data(mnist: dict, rows: np.ndarray) -> MapData:
    images, y = mnist["x_test"][rows], mnist["y_test"][rows]
    return MapData(
        "digits",
        [f"test #{i}" for i in rows],
        images.reshape(len(rows), -1).astype(np.float32) / 255.0,
        {"digit": [str(int(d)) for d in y]},
        images=images,
        description=f"{len(rows):,} MNIST test digits (a stratified sample), raw pixels in [0, 1] (784-d)",
    )


def vae_digits_data(mnist: dict, rows: np.ndarray, root=None) -> MapData:
    """The digit VAE's encoder means. It is conditional (told the digit), so its latent holds style, not class."""
    from gallery.vae.model import load

    vae = load("vae-digits", root)
    images, y = mnist["x_test"][rows], mnist["y_test"][rows]
    means = np.concatenate([vae.encode(images[s : s + 500], y[s : s + 500]) for s in range(0, len(rows), 500)])
    return MapData(
        "vae-digits",
        [f"test #{i}" for i in rows],
        means.astype(np.float32),
        {"digit": [str(int(d)) for d in y]},
        images=images,
        description=f"the same {len(rows):,} MNIST test digits as the conditional VAE's latent means "
        f"({means.shape[1]}-d); the encoder is told the digit, so the latent codes style (slant, width, "
        "thickness) rather than class",
        source={"artifact": "vae-digits", "weights_sha256": vae.card.get("weights_sha256")},
    )


def age_band(age: int) -> str:
    return next(name for lo, hi, name in AGE_BANDS if lo <= age <= hi)


def vae_faces_data(faces, n: int = 3000, seed: int = 0, root=None) -> MapData:
    """The face VAE's encoder means of a sample of faces (stratified by gender x ethnicity), with 32x32 thumbnails."""
    from PIL import Image

    from gallery.maps.project import stratified_sample
    from gallery.vae.data import RACES
    from gallery.vae.model import load

    vae = load("vae-faces", root)
    rows = stratified_sample([f"{g}-{r}" for g, r in zip(faces.gender, faces.race, strict=True)], n, seed)
    images = faces.images[rows]
    means = np.concatenate([vae.encode(images[s : s + 200]) for s in range(0, len(rows), 200)])
    thumbs = np.stack([np.asarray(Image.fromarray(im).resize((32, 32), Image.BILINEAR)) for im in images])
    return MapData(
        "vae-faces",
        [faces.names[i] for i in rows],
        means.astype(np.float32),
        {
            "gender": ["female" if faces.gender[i] else "male" for i in rows],
            "age band": [age_band(int(faces.age[i])) for i in rows],
            "ethnicity": [RACES[int(faces.race[i])] for i in rows],
        },
        images=thumbs,
        description=f"{len(rows):,} UTKFace faces as the face VAE's latent means ({means.shape[1]}-d)",
        source={"artifact": "vae-faces", "weights_sha256": vae.card.get("weights_sha256")},
    )


def resumes_data(data_dir=None) -> MapData:
    """The distinct résumés (repaired and deduplicated by gallery.text.resumes) as unit-length TF-IDF rows."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    from gallery.text import resumes

    texts, cats = resumes.load_resumes(data_dir)
    tfidf = TfidfVectorizer(
        sublinear_tf=True, min_df=2, max_df=0.9, stop_words="english", token_pattern=resumes.TOKEN_PATTERN
    )
    X = tfidf.fit_transform(texts).toarray().astype(np.float32)
    counter: dict[str, int] = {}
    ids = []
    for c in cats:
        counter[c] = counter.get(c, 0) + 1
        ids.append(f"{c} #{counter[c]}")
    return MapData(
        "resumes",
        ids,
        X,
        {"category": list(cats)},
        texts=[" ".join(t.split())[:200] for t in texts],
        description=f"the {len(texts)} distinct résumés as TF-IDF documents ({X.shape[1]:,} words, sublinear tf, "
        "rows of unit length)",
    )


# ---------------------------------------------------------------------------------------------- artifacts


@dataclass
class MapArtifact:
    name: str  # maps-<dataset>
    data: MapData
    coords: dict[str, np.ndarray]  # method -> (N, 2) float32
    config: dict
    card: dict

    @property
    def dataset(self) -> str:
        return self.name.removeprefix("maps-")


def artifact_name(dataset: str) -> str:
    return f"maps-{dataset}"


def load_map(dataset: str, root=None) -> MapArtifact:
    """Read ``pretrained/maps-<dataset>/`` (numpy only); raises ArtifactError naming the rebuild command."""
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    name = artifact_name(dataset)
    folder = registry.check_artifact(name, root)
    try:
        t = load_file(folder / registry.WEIGHTS_FILE)
        config = registry.read_json(folder / "config.json")
        images = t.get("images")
        if "features" in t:
            features = t["features"].astype(np.float32)
        else:  # digits: the pixels are the features
            features = images.reshape(len(images), -1).astype(np.float32) / 255.0
        data = MapData(
            dataset,
            config["ids"],
            features,
            config.get("labels", {}),
            images,
            config.get("texts"),
            config.get("weights"),
            config.get("description", ""),
            config.get("source", {}),
        )
        coords = {k.removeprefix("coords."): v.astype(np.float32) for k, v in t.items() if k.startswith("coords.")}
        if not coords:
            raise KeyError("coords")
    except (SafetensorError, OSError, KeyError, ValueError) as err:
        raise registry.ArtifactError(name, f"does not fit the current code ({err})") from err
    return MapArtifact(name, data, coords, config, registry.read_json(folder / "card.json"))


def available(root=None) -> dict[str, str | None]:
    """Every data set -> None when its map artifact is intact, else why not (with the rebuild command)."""
    out = {}
    for dataset in DATASETS:
        try:
            registry.check_artifact(artifact_name(dataset), root)
            out[dataset] = None
        except registry.ArtifactError as err:
            out[dataset] = str(err)
    return out
