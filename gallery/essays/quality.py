"""How much of what the essay model writes is made of real words: the issue's word-level floor."""

from __future__ import annotations

import re
from collections import Counter

WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
SAMPLE_PROMPT = "The best way to"
SAMPLE_SEEDS = (0, 1, 2, 3, 4)
SAMPLE_CHARS = 1000


def word_counts(text: str) -> Counter:
    """Lower-cased words (letters, with one inner apostrophe) -> how often they occur."""
    return Counter(w.lower() for w in WORD.findall(text))


def known_word_share(samples: list[str], counts: Counter, min_count: int = 2) -> float:
    """Share of the words in ``samples`` that occur at least ``min_count`` times in the training text."""
    words = [w.lower() for s in samples for w in WORD.findall(s)]
    if not words:
        return 0.0
    return sum(counts[w] >= min_count for w in words) / len(words)
