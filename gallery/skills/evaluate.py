"""Related-skill retrieval: hit@k on pairs written by hand (``related_skills.tsv``).

For a pair (a, b), query with a and find the rank of b among every vocabulary token (a and its own
words excluded, as gensim's ``most_similar`` excludes its inputs); then the same from b to a. hit@k is
the fraction of these directed queries with rank <= k. A skill without a vector counts as a miss.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gallery.skills.corpus import phrase_token
from gallery.skills.vectors import SkillVectors, UnknownSkill

PAIRS_FILE = Path(__file__).with_name("related_skills.tsv")


def load_pairs(path: Path = PAIRS_FILE) -> list[tuple[str, str, str]]:
    """(field, skill, related skill) rows."""
    rows = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            field, a, b = line.split("\t")
            rows.append((field, a, b))
    return rows


def rank_of(sv: SkillVectors, query: str, target: str) -> int | None:
    """1-based rank of ``target`` among the neighbours of ``query``; None when either has no vector."""
    try:
        q, t = sv.lookup(query), sv.lookup(target)
    except UnknownSkill:
        return None
    scores = sv.vectors @ q.vector  # (V,)
    excluded = {q.token, t.token, *q.token.split("_")}
    mask = np.ones(len(scores), dtype=bool)
    mask[[sv.index[w] for w in excluded if w in sv.index]] = False
    return 1 + int((scores[mask] > float(q.vector @ t.vector)).sum())


def evaluate(sv: SkillVectors, pairs=None, ks=(10, 50)) -> dict:
    pairs = load_pairs() if pairs is None else pairs
    ranks = [rank_of(sv, a, b) for _, a, b in pairs] + [rank_of(sv, b, a) for _, a, b in pairs]
    found = sum(phrase_token(a) in sv.index and phrase_token(b) in sv.index for _, a, b in pairs)
    out = {f"hit@{k}": round(sum(r is not None and r <= k for r in ranks) / len(ranks), 4) for k in ks}
    out["in_vocabulary"] = round(found / len(pairs), 4)
    out["pairs"] = len(pairs)
    return out
