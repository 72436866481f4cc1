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
