"""Load the committed skill embeddings (``pretrained/skills-<model>/``) or a ``.magnitude`` file.

Loading reads safetensors with numpy: the page never imports torch or gensim.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gallery import registry
from gallery.skills import magnitude
from gallery.skills.search import cache_dir, fingerprint, make_backend
from gallery.skills.vectors import SkillVectors, Subwords

MODELS = ("word2vec", "fasttext", "glove")


@dataclass
class SkillModel:
    name: str  # "word2vec", ..., or the .magnitude file's name
    vectors: SkillVectors
    card: dict
    magnitude_path: Path | None = None  # made on demand for our models; the file itself for --vectors

    def backend(self, name: str, approximate: bool = False):
        path = None
        if name == "magnitude":
            path = self.magnitude_path or self.ensure_magnitude_file()
        engine = make_backend(name, self.vectors.words, self.vectors.vectors, approximate, path)
        engine.neighbors(self.vectors.vectors[0], 10)  # the first search pays page faults: keep it out of query times
        return engine

    def ensure_magnitude_file(self) -> Path:
        """Our vectors converted to .magnitude once, cached outside the repository (medium for fastText)."""
        fmt = "medium" if self.vectors.subwords is not None else "light"
        path = cache_dir() / f"{self.name}-{fingerprint(self.vectors.vectors)}-{fmt}.magnitude"
        if not path.is_file():
            magnitude.write_file(self.vectors.words, self.vectors.vectors, path, fmt)
        self.magnitude_path = path
        return path


def load(model: str = "word2vec", root=None) -> SkillModel:
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    if model not in MODELS:
        raise ValueError(f"model must be one of {', '.join(MODELS)}")
    name = f"skills-{model}"
    folder = registry.check_artifact(name, root)
    try:
        tensors = load_file(folder / registry.WEIGHTS_FILE)
        config = registry.read_json(folder / "config.json")
        subwords = None
        if "buckets" in tensors:
            subwords = Subwords(tensors["buckets"].astype(np.float32), config["min_n"], config["max_n"])
        sv = SkillVectors(config["words"], tensors["vectors"].astype(np.float32), tensors["counts"], subwords)
    except (SafetensorError, OSError, KeyError, ValueError) as err:
        raise registry.ArtifactError(name, f"does not fit the current code ({err})") from err
    return SkillModel(model, sv, registry.read_json(folder / "card.json"))


def load_magnitude(path: Path) -> SkillModel:
    """Any .magnitude file: light (vectors only), medium (n-gram vectors for unknown keys), heavy (+ index)."""
    path = Path(path)
    store = magnitude.open_file(path)
    fmt = magnitude.format_of(path)
    words, vectors = magnitude.read_all(store)
    oov = magnitude.MagnitudeSubwords(store) if fmt != "light" else None
    card = {"model": f"{fmt} .magnitude file", "file": str(path)}
    return SkillModel(path.name, SkillVectors(words, vectors, None, oov), card, magnitude_path=path)
