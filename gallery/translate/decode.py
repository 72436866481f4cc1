"""Greedy and beam-search decoding (batched), and attention over the words of a translation."""

from __future__ import annotations

import torch

from gallery.translate.tokenizer import BOS, EOS, PAD

MAX_SOURCE_TOKENS = 100  # longer inputs are cut (and the page says so)


def output_limit(src_len: torch.Tensor) -> int:
    return int(src_len.max().item() * 1.5) + 10


def pad_batch(sequences: list[list[int]], device=None) -> tuple[torch.Tensor, torch.Tensor]:
    """Token lists -> (B, L) padded ids and (B,) lengths."""
    lengths = torch.tensor([len(s) for s in sequences])
    batch = torch.full((len(sequences), int(lengths.max())), PAD, dtype=torch.long)
    for i, s in enumerate(sequences):
        batch[i, : len(s)] = torch.tensor(s, dtype=torch.long)
    return batch.to(device), lengths.to(device)


def strip(tokens: list[int]) -> list[int]:
    """Generated ids up to and including the first EOS (PADs after it dropped)."""
    return tokens[: tokens.index(EOS) + 1] if EOS in tokens else tokens


@torch.no_grad()
def greedy(model, src, src_len, max_len: int | None = None) -> list[list[int]]:
    """The likeliest token at each step, for every sentence of the batch at once."""
    memory = model.encode(src, src_len)
    state = model.initial_state(memory)
    tokens = torch.full((src.size(0), 1), BOS, dtype=torch.long, device=src.device)
    done = torch.zeros(src.size(0), dtype=torch.bool, device=src.device)
    for _ in range(max_len or output_limit(src_len)):
        log_probs, state = model.step(memory, tokens, state)  # (B, V)
        nxt = log_probs.argmax(-1).masked_fill(done, PAD)
        tokens = torch.cat([tokens, nxt[:, None]], dim=1)
        done |= nxt == EOS
        if done.all():
            break
    return [strip(row[1:]) for row in tokens.tolist()]


@torch.no_grad()
def beam_search(model, src, src_len, beam: int = 5, alpha: float = 0.6, max_len: int | None = None):
    """Keep the ``beam`` best prefixes of each sentence; pick the best finished one by length-penalised score.

    A finished hypothesis stays in its beam with a frozen score (its only continuation is PAD at no cost).
    Length penalty (Wu et al., 2016): score / ((5 + length) / 6) ** alpha. ``beam=1`` is exactly greedy.
    """
    B, k, device = src.size(0), beam, src.device
    rows_of = torch.arange(B, device=device).repeat_interleave(k)  # (B*k,)
    memory = {name: t.index_select(0, rows_of) for name, t in model.encode(src, src_len).items()}
    state = model.initial_state(memory)
    tokens = torch.full((B * k, 1), BOS, dtype=torch.long, device=device)
    scores = torch.zeros(B, k, device=device)
    scores[:, 1:] = float("-inf")  # all beams start as the same empty prefix: expand only the first
    done = torch.zeros(B * k, dtype=torch.bool, device=device)
    lengths = torch.zeros(B * k, device=device)
    for _ in range(max_len or output_limit(src_len)):
        log_probs, state = model.step(memory, tokens, state)  # (B*k, V)
        V = log_probs.size(-1)
        log_probs[done] = float("-inf")
        log_probs[done, PAD] = 0.0
        top, flat = (scores.view(-1, 1) + log_probs).view(B, k * V).topk(k, dim=-1)  # (B, k)
        rows = (torch.arange(B, device=device)[:, None] * k + flat // V).view(-1)  # which prefix each extends
        new = (flat % V).view(-1)
        tokens = torch.cat([tokens[rows], new[:, None]], dim=1)
        state = model.select_state(state, rows)
        lengths = lengths[rows] + (~done[rows]).float()
        done = done[rows] | (new == EOS)
        scores = top
        if done.all():
            break
    penalised = scores.view(-1) / ((5 + lengths) / 6) ** alpha
    best = penalised.view(B, k).argmax(-1) + torch.arange(B, device=device) * k
    return [strip(tokens[i, 1:].tolist()) for i in best.tolist()]


def translate_ids(model, sources: list[list[int]], beam: int = 1, alpha: float = 0.6, batch_size: int = 64):
    """Translate many token lists, batched by length; results in the input order."""
    device = next(model.parameters()).device
    order = sorted(range(len(sources)), key=lambda i: len(sources[i]))
    results: list[list[int]] = [[] for _ in sources]
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        src, src_len = pad_batch([sources[i] for i in chunk], device)
        outs = greedy(model, src, src_len) if beam == 1 else beam_search(model, src, src_len, beam, alpha)
        for i, out in zip(chunk, outs):
            results[i] = out
    return results


def merge_to_words(weights: torch.Tensor, src_groups, tgt_groups) -> torch.Tensor:
    """(T, S) attention over pieces -> (words_T, words_S): sum over a source word's pieces (a word receives
    what its pieces received), average over a target word's pieces (each piece's row sums to one, so the
    average does too)."""
    summed = torch.stack([weights[:, g].sum(-1) for g in src_groups], dim=-1)  # (T, words_S)
    return torch.stack([summed[g].mean(0) for g in tgt_groups], dim=0)  # (words_T, words_S)
