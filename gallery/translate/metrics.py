"""Scores: sacreBLEU and chrF on lowercased, detokenised text; perplexity per target token."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from gallery.translate.tokenizer import PAD


def bleu_chrf(hypotheses: list[str], references: list[str]) -> dict:
    """Corpus BLEU and chrF, both lowercased (the models write lowercase), with sacreBLEU's signatures."""
    from sacrebleu.metrics import BLEU, CHRF

    if len(hypotheses) != len(references):
        raise ValueError(f"{len(hypotheses)} translations but {len(references)} references")
    refs = [[r.lower() for r in references]]
    hyps = [h.lower() for h in hypotheses]
    bleu, chrf = BLEU(lowercase=True), CHRF(lowercase=True)
    return {
        "bleu": round(bleu.corpus_score(hyps, refs).score, 2),
        "chrf": round(chrf.corpus_score(hyps, refs).score, 2),
        "n": len(hyps),
        "bleu_signature": str(bleu.get_signature()),
        "chrf_signature": str(chrf.get_signature()),
    }


@torch.no_grad()
def perplexity(model, batches) -> float:
    """exp(mean cross-entropy per target token, EOS included) over (src, src_len, tgt_in, tgt_out) batches."""
    total, count = 0.0, 0
    for src, src_len, tgt_in, tgt_out in batches:
        logits = model(src, src_len, tgt_in).float()  # (B, T, V)
        total += F.cross_entropy(logits.transpose(1, 2), tgt_out, ignore_index=PAD, reduction="sum").item()
        count += (tgt_out != PAD).sum().item()
    return math.exp(total / max(count, 1))


LENGTH_BUCKETS = ((1, 8), (9, 12), (13, 16), (17, 20), (21, None))  # German words; None: no upper bound


def bucket_name(low: int, high: int | None) -> str:
    return f"{low}-{high}" if high else f"{low}+"


def length_bucket(sentence: str) -> str:
    """The bucket of a German sentence by its whitespace-separated words (an empty line counts as one word)."""
    words = max(1, len(sentence.split()))
    for low, high in LENGTH_BUCKETS:
        if words >= low and (high is None or words <= high):
            return bucket_name(low, high)
    raise AssertionError("the buckets cover every length")


def by_length(sources: list[str], hypotheses: list[str], references: list[str]) -> dict:
    """BLEU and chrF of the sentences in each source-length bucket: {bucket: {"bleu", "chrf", "n"}}, in bucket
    order; an empty bucket is left out (Bahdanau et al. 2015, figure 2, on one test set)."""
    groups: dict[str, list[int]] = {bucket_name(lo, hi): [] for lo, hi in LENGTH_BUCKETS}
    for i, source in enumerate(sources):
        groups[length_bucket(source)].append(i)
    return {
        name: {
            k: v
            for k, v in bleu_chrf([hypotheses[i] for i in rows], [references[i] for i in rows]).items()
            if k in ("bleu", "chrf", "n")
        }
        for name, rows in groups.items()
        if rows
    }
