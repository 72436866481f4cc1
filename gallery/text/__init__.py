"""Text helpers shared by the slices, and the text lab.

This module keeps it light: :class:`CharVocab` (the mapping between text and integer ids used by the
character models). The text lab lives in submodules, imported only when needed: ``resumes`` (data, repair,
uploads), ``models`` (the eight classifiers), ``evaluate`` (cross-validation), ``classify`` (the committed
artifact), ``basics`` (bag of words and TF-IDF for the NLP basics page) and ``cli``.
"""

from __future__ import annotations


class CharVocab:
    """Characters <-> ids. ``chars`` is the ordered alphabet stored in an artifact's config."""

    def __init__(self, chars: str):
        if len(set(chars)) != len(chars):
            raise ValueError("vocabulary characters must be unique")
        self.chars = chars
        self.index = {c: i for i, c in enumerate(chars)}

    def __len__(self) -> int:
        return len(self.chars)

    def __contains__(self, ch: str) -> bool:
        return ch in self.index

    def encode(self, text: str) -> list[int]:
        return [self.index[c] for c in text]

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def unknown(self, text: str) -> list[str]:
        """Characters of ``text`` outside the vocabulary, in order of first appearance."""
        return list(dict.fromkeys(c for c in text if c not in self.index))
