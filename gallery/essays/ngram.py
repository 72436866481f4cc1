"""Count-based character baselines: unigram and an interpolated absolute-discounting n-gram."""

from __future__ import annotations

import math
from collections import Counter, defaultdict


def unigram_nats(train: str, test: str, alphabet: str) -> float:
    """Add-one smoothed character frequencies; nats per character on ``test``."""
    counts = Counter(train)
    total = len(train) + len(alphabet)
    return -sum(math.log((counts[c] + 1) / total) for c in test) / len(test)


class NGram:
    """Interpolated absolute discounting (the core of Kneser-Ney, without continuation counts).

    p_n(c | h) = max(N(h c) - D, 0) / N(h) + D * T(h) / N(h) * p_{n-1}(c | h[1:])
    where T(h) is the number of distinct characters seen after h; p_0 is uniform.
    """

    def __init__(self, order: int, alphabet: str, discount: float = 0.75):
        self.order, self.alphabet, self.discount = order, alphabet, discount
        self.counts = [defaultdict(Counter) for _ in range(order)]  # [n][context] -> Counter

    def fit(self, text: str) -> NGram:
        for n in range(self.order):  # context length n
            table = self.counts[n]
            for i in range(n, len(text)):
                table[text[i - n : i]][text[i]] += 1
        self.totals = [{h: sum(c.values()) for h, c in t.items()} for t in self.counts]
        return self

    def prob(self, context: str, ch: str) -> float:
        p = 1.0 / len(self.alphabet)
        for n in range(self.order):
            h = context[len(context) - n :] if n else ""
            if n > len(context) or h not in self.counts[n]:
                break
            seen, total = self.counts[n][h], self.totals[n][h]
            p = max(seen[ch] - self.discount, 0) / total + self.discount * len(seen) / total * p
        return p

    def nats(self, text: str) -> float:
        """Nats per character of ``text`` (each character predicted from the ones before it)."""
        k = self.order - 1
        return -sum(math.log(self.prob(text[max(0, i - k) : i], text[i])) for i in range(len(text))) / len(text)
