"""Skill vectors: a vocabulary, a matrix of unit vectors, and (for fastText) subword buckets.

``SkillVectors`` is what every search backend and the page work on. It answers three questions:
the vector of a skill (or why there is none), gensim-style ``most_similar`` combinations, and the
closest spellings of an unknown skill.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import numpy as np

from gallery.skills.corpus import phrase_token

FNV_OFFSET, FNV_PRIME = 2166136261, 16777619
MAX_SKILL_CHARS = 100  # the corpus keeps skills of at most 60


class UnknownSkill(ValueError):
    """No vector for a skill; carries the closest spellings in the vocabulary."""

    def __init__(self, skill: str, suggestions: list[str]):
        self.skill, self.suggestions = skill, suggestions
        hint = f" Closest spellings: {', '.join(suggestions)}." if suggestions else ""
        super().__init__(f"'{skill}' is not in the vocabulary.{hint}")


def ft_hash(data: bytes) -> int:
    """fastText's FNV-1a hash, bytes read as signed chars (as gensim and Facebook's fastText do)."""
    h = FNV_OFFSET
    for b in data:
        h = ((h ^ ((b - 256) & 0xFFFFFFFF if b > 127 else b)) * FNV_PRIME) & 0xFFFFFFFF
    return h


def char_ngrams(word: str, min_n: int, max_n: int) -> list[bytes]:
    """Character n-grams of ``<word>``, as fastText forms them (counted in characters, hashed as UTF-8)."""
    chars = f"<{word}>"
    return [chars[i : i + n].encode("utf-8") for n in range(min_n, max_n + 1) for i in range(len(chars) - n + 1)]


@dataclass
class Subwords:
    """fastText's hashed n-gram vectors: an unknown word's vector is the mean of its n-grams' rows."""

    buckets: np.ndarray  # (B, D)
    min_n: int
    max_n: int

    def vector(self, word: str) -> np.ndarray | None:
        rows = [ft_hash(g) % len(self.buckets) for g in char_ngrams(word, self.min_n, self.max_n)]
        return self.buckets[rows].mean(axis=0) if rows else None


@dataclass
class Lookup:
    vector: np.ndarray  # (D,), unit length
    token: str
    source: str  # "vocabulary" | "subwords" | "words" (mean of a phrase's word vectors)


@dataclass
class SkillVectors:
    words: list[str]
    vectors: np.ndarray  # (V, D) float32, rows of unit length
    counts: np.ndarray | None = None  # (V,) corpus frequency, for suggestions
    subwords: Subwords | None = None
    index: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self):
        norms = np.linalg.norm(self.vectors, axis=1, keepdims=True)
        self.vectors = (self.vectors / np.maximum(norms, 1e-12)).astype(np.float32)
        self.index = {w: i for i, w in enumerate(self.words)}

    @property
    def dim(self) -> int:
        return self.vectors.shape[1]

    def __contains__(self, skill: str) -> bool:
        return phrase_token(skill) in self.index

    def lookup(self, skill: str) -> Lookup:
        """The unit vector for a skill: its token, else fastText subwords, else the mean of its words' vectors."""
        token = phrase_token(skill)
        if not token:
            raise ValueError("Type a skill.")
        if len(token) > MAX_SKILL_CHARS:
            raise ValueError(f"A skill has at most {MAX_SKILL_CHARS} characters; this one has {len(token)}.")
        if token in self.index:
            return Lookup(self.vectors[self.index[token]], token, "vocabulary")
        if self.subwords is not None:
            vec = self.subwords.vector(token)
            if vec is not None and np.linalg.norm(vec) > 0:
                return Lookup(vec / np.linalg.norm(vec), token, "subwords")
        parts = token.split("_")
        if len(parts) > 1 and all(p in self.index for p in parts):
            vec = self.vectors[[self.index[p] for p in parts]].mean(axis=0)
            return Lookup(vec / np.linalg.norm(vec), token, "words")
        raise UnknownSkill(skill, self.suggest(token))

    def suggest(self, token: str, n: int = 5) -> list[str]:
        """Closest spellings in the vocabulary (frequent skills first among equally close ones)."""
        token = phrase_token(token)
        pool = self.words if len(self.words) <= 20000 else self.words[:20000]
        close = difflib.get_close_matches(token, pool, n=n, cutoff=0.6)
        starts = [w for w in pool if w.startswith(token) and w not in close][: max(0, n - len(close))]
        return close + starts

    def complete(self, prefix: str, n: int = 10) -> list[str]:
        """Vocabulary skills starting with a prefix, most frequent first (the page's suggestions)."""
        token = phrase_token(prefix)
        return [w for w in self.words if w.startswith(token)][:n] if token else []

    def combine(self, positive: list[str], negative: list[str] = ()) -> tuple[np.ndarray, list[Lookup]]:
        """gensim's ``most_similar`` query: the mean of positive unit vectors minus negative ones, normalised."""
        if not positive:
            raise ValueError("Give at least one skill.")
        found = [self.lookup(s) for s in positive], [self.lookup(s) for s in negative]
        total = sum(x.vector for x in found[0]) - sum((x.vector for x in found[1]), np.zeros(self.dim))
        norm = np.linalg.norm(total)
        if norm < 1e-9:
            raise ValueError("The positive and negative skills cancel out; change one of them.")
        return (total / norm).astype(np.float32), found[0] + found[1]

    def similarity(self, a: str, b: str) -> float:
        return float(self.lookup(a).vector @ self.lookup(b).vector)

    def odd_one_out(self, skills: list[str]) -> str:
        """The skill least similar to the mean of the others (gensim's ``doesnt_match``)."""
        if len(skills) < 3:
            raise ValueError("Give at least three skills.")
        vecs = np.stack([self.lookup(s).vector for s in skills])
        mean = vecs.mean(axis=0)
        return skills[int(np.argmin(vecs @ (mean / np.linalg.norm(mean))))]
