"""Count-based character baselines: unigram and an interpolated absolute-discounting n-gram."""

from __future__ import annotations

import math
import random
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

    def to_tensors(self) -> dict:
        """The counts as tensors, one pair per context length n: ``grams_n`` (M, n + 1) uint8 character codes
        (the context then the character) and ``counts_n`` (M,) int32. Safe to store (no pickle)."""
        import torch

        out = {}
        for n, table in enumerate(self.counts):
            rows = [(h + c, k) for h, counter in table.items() for c, k in counter.items()]
            out[f"grams_{n}"] = torch.tensor([[ord(ch) for ch in g] for g, _ in rows], dtype=torch.uint8)
            out[f"counts_{n}"] = torch.tensor([k for _, k in rows], dtype=torch.int32)
        return out

    @classmethod
    def from_tensors(cls, tensors: dict, alphabet: str, discount: float = 0.75) -> NGram:
        order = sum(1 for k in tensors if k.startswith("counts_"))
        model = cls(order, alphabet, discount)
        for n in range(order):
            grams, counts = tensors[f"grams_{n}"].tolist(), tensors[f"counts_{n}"].tolist()
            table = model.counts[n]
            for codes, k in zip(grams, counts):
                table["".join(map(chr, codes[:-1]))][chr(codes[-1])] = k
        model.totals = [{h: sum(c.values()) for h, c in t.items()} for t in model.counts]
        return model

    def nats_each(self, text: str) -> list[float]:
        """Each character's nats, predicted from the ones before it."""
        k = self.order - 1
        return [-math.log(self.prob(text[max(0, i - k) : i], text[i])) for i in range(len(text))]

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

    def sample(self, prompt: str, length: int, temperature: float = 1.0, rng: random.Random | None = None) -> str:
        """Continue ``prompt`` by ``length`` characters drawn from p(c | last order-1 characters) ** (1 / T)."""
        rng, text, k = rng or random.Random(0), prompt, self.order - 1
        for _ in range(length):
            context = text[max(0, len(text) - k) :]
            weights = [self.prob(context, c) ** (1 / temperature) for c in self.alphabet]
            text += rng.choices(self.alphabet, weights=weights)[0]
        return text[len(prompt) :]
