"""A visitor's own text scored by the essay LSTM and the 5-gram: GLTR's view (Gehrmann et al. 2019), per character.

GLTR colours each token by the rank the model gave it: text a model finds predictable is mostly its top-ranked
choices. Here the tokens are characters and the buckets are top-1, top-5, top-20 and beyond.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from gallery.essays import model as essay_model
from gallery.essays.ngram import NGram
from gallery.registry import build_from

MAX_CHARS = 20_000
BUCKETS = ((1, "top 1"), (5, "top 5"), (20, "top 20"), (math.inf, "beyond"))
NGRAM_ARTIFACT = "essays-ngram5"


def load_ngram(name: str = NGRAM_ARTIFACT, root=None) -> NGram:
    return build_from(
        name, lambda art: NGram.from_tensors(art.tensors, art.config["alphabet"], art.config["discount"]), root
    )


def bucket(rank: int) -> str:
    return next(label for limit, label in BUCKETS if rank <= limit)


@dataclass
class Scored:
    text: str  # the cleaned text; characters 1.. were predicted
    nats: list[float]  # LSTM nats of text[1:]
    ranks: list[int]  # LSTM rank of text[1:] (1 = its likeliest)
    ngram_nats: list[float] | None  # the n-gram's, on the same characters
    note: str  # what cleaning changed, or ""

    def per_char(self, nats: list[float]) -> float:
        return sum(nats) / len(nats)

    def bucket_shares(self) -> dict[str, float]:
        counts = {label: 0 for _, label in BUCKETS}
        for r in self.ranks:
            counts[bucket(r)] += 1
        return {k: v / len(self.ranks) for k, v in counts.items()}

    def surprising_words(self, k: int = 10) -> list[dict]:
        """The words whose characters cost the LSTM the most nats in all, each once, costliest first."""
        best: dict[str, float] = {}
        for m in re.finditer(r"[A-Za-z][A-Za-z']*", self.text):
            start = max(m.start(), 1)  # the first character of the text was not predicted
            if start >= m.end():
                continue
            cost = sum(self.nats[start - 1 : m.end() - 1])
            best[m.group()] = max(cost, best.get(m.group(), 0.0))
        top = sorted(best.items(), key=lambda kv: -kv[1])[:k]
        return [{"word": w, "nats": round(c, 2)} for w, c in top]


def score(model: essay_model.EssayModel, text: str, ngram: NGram | None = None) -> Scored:
    """Check and score a visitor's text; a ValueError says what is wrong with it."""
    if not text or not text.strip():
        raise ValueError("The text is empty: paste or upload some text.")
    if len(text) > MAX_CHARS:
        raise ValueError(f"The text has {len(text):,} characters; at most {MAX_CHARS:,} can be scored.")
    outside = sorted({c for c in text if c not in model.vocab and c not in "\r\t"})
    result = essay_model.score(model, text, per_char=True)
    cleaned, rows = result["text"], result["per_char"]
    note = "Characters outside the model's alphabet were mapped to ASCII or dropped: " + " ".join(outside)
    ngram_nats = ngram.nats_each(cleaned)[1:] if ngram is not None else None
    return Scored(cleaned, [r["nats"] for r in rows], [r["rank"] for r in rows], ngram_nats, note if outside else "")
