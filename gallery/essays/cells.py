"""Inside the essay LSTM: every cell's activation at every character, named text features, and the cells
that track them (Karpathy, Johnson and Fei-Fei 2015, "Visualizing and Understanding Recurrent Networks").

The activation shown for a cell is tanh(c_t), the squashed cell state after the character at t was read
(the hidden state is o_t * tanh(c_t): the same signal gated by the output gate).

How the states are read fast: ``nn.LSTM`` returns every step's hidden state but only the last cell state.
Each layer is run on its own through the fused kernel (its hidden states for all steps), then its gates are
recomputed for all steps in one matrix product from x_t and h_{t-1}, and the cell state follows from the
elementwise recurrence c_t = f_t * c_{t-1} + i_t * g_t.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn as nn

from gallery import charmodel
from gallery.essays.data import REPLACEMENTS

CHUNK = 8192  # characters per pass, all streams together: bounds the memory of the gate tensors (CHUNK, 4H)
WARMUP = 1024  # characters each stream reads before its states count (see ``trace``)
SATURATED = (0.1, 0.9)  # a gate below the first or above the second is saturated (Karpathy et al.'s figure)
GATES = ("input", "forget", "output")


@dataclass
class Trace:
    """Per character of the text (after it was read): each layer's tanh(cell state), and gate saturation."""

    cells: np.ndarray  # (L, N, H) float16, tanh(c_t)
    saturation: dict  # gate -> (L, H, 2): share of steps below 0.1 and above 0.9, per cell


@dataclass
class Aligned:
    """A user's text mapped into the model's alphabet, character by character."""

    ids: list[int]  # what the model reads
    owner: list[int]  # per character of the original text: index into ids of its last piece, -1 before any
    mapped: list[str]  # characters replaced by others (curly quotes -> ASCII), in order of first appearance
    dropped: list[str]  # characters with no counterpart in the alphabet


def align(text: str, vocab) -> Aligned:
    """Map each character on its own (no whitespace folding), so values line up with the text as given."""
    ids, owner, mapped, dropped = [], [], {}, {}
    for ch in text:
        piece = ch if ch in vocab else REPLACEMENTS.get(ch)
        if piece is None:
            base = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
            piece = base if base and all(c in vocab for c in base) else ""
        if piece != ch:
            (mapped if piece else dropped)[ch] = True
        ids.extend(vocab.encode(piece))
        owner.append(len(ids) - 1)
    return Aligned(ids, owner, list(mapped), list(dropped))


def _layers(net: charmodel.CharRNN):
    """Per layer: a one-layer nn.LSTM with its weights, and (W_ih, W_hh, bias) for recomputing the gates."""
    rnn, out = net.rnn, []
    for k in range(net.cfg.layers):
        w_ih, w_hh = getattr(rnn, f"weight_ih_l{k}"), getattr(rnn, f"weight_hh_l{k}")
        bias = getattr(rnn, f"bias_ih_l{k}") + getattr(rnn, f"bias_hh_l{k}")
        one = nn.LSTM(w_ih.shape[1], net.cfg.hidden, 1, batch_first=True)
        one.load_state_dict(
            {
                "weight_ih_l0": w_ih,
                "weight_hh_l0": w_hh,
                "bias_ih_l0": getattr(rnn, f"bias_ih_l{k}"),
                "bias_hh_l0": getattr(rnn, f"bias_hh_l{k}"),
            }
        )
        out.append((one.eval(), w_ih, w_hh, bias))
    return out


def trace(net: charmodel.CharRNN, ids, streams: int = 1, warmup: int = WARMUP) -> Trace:
    """Read ``ids`` (N,) from a zero state; return every layer's tanh(c_t) and its gates' saturation.

    With ``streams`` > 1 the text is cut into that many pieces read side by side (several times faster on a CPU):
    each piece but the first is read from ``warmup`` characters earlier, and those characters' states are
    dropped, so every state has seen at least ``warmup`` characters of history instead of all of it."""
    assert net.cfg.cell == "lstm" and not net.cfg.n_classes
    ids = torch.as_tensor(ids, dtype=torch.long)
    n = len(ids)
    streams = max(1, min(int(streams), n // max(1, 2 * warmup)))  # pieces at least twice the warm-up
    piece = -(-n // streams)  # ceil
    starts = [max(0, s * piece - warmup) for s in range(streams)]
    ends = [min(n, (s + 1) * piece) for s in range(streams)]
    length = max(e - b for b, e in zip(starts, ends))
    batch = torch.zeros(streams, length, dtype=torch.long)
    keep = torch.zeros(streams, length, dtype=torch.bool)  # (S, T): the states that are returned
    for s, (b, e) in enumerate(zip(starts, ends)):
        batch[s, : e - b] = ids[b:e]
        keep[s, s * piece - b : e - b] = True
    cells, saturation = _trace_batch(net, batch, keep)
    return Trace(cells[:, keep].numpy().astype(np.float16), {g: v.numpy() for g, v in saturation.items()})


@torch.no_grad()
def _trace_batch(net, batch, keep):
    """batch (S, T) of ids, keep (S, T) -> tanh(c) (L, S, T, H), and the saturated share of the kept steps."""
    big_l, h = net.cfg.layers, net.cfg.hidden
    n_streams, length = batch.shape
    cells = torch.zeros(big_l, n_streams, length, h)
    low_high = {g: torch.zeros(big_l, h, 2) for g in GATES}  # counts of saturated kept steps
    layers = _layers(net)
    state = [(torch.zeros(1, n_streams, h), torch.zeros(1, n_streams, h)) for _ in layers]
    for start in range(0, length, max(1, CHUNK // n_streams)):
        x = net.embed(batch[:, start : start + max(1, CHUNK // n_streams)])  # (S, T, E)
        kept = keep[:, start : start + x.shape[1]]  # (S, T)
        for k, (one, w_ih, w_hh, bias) in enumerate(layers):
            h_prev, c_prev = state[k]
            hs, _ = one(x, state[k])  # (S, T, H)
            before = torch.cat([h_prev.transpose(0, 1), hs[:, :-1]], 1)  # (S, T, H): h_{t-1}
            gates = x @ w_ih.T + before @ w_hh.T + bias  # (S, T, 4H)
            i, f, g, o = gates.chunk(4, dim=2)
            i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
            c = _cell_states(f, i * torch.tanh(g), c_prev[0])  # (S, T, H)
            cells[k, :, start : start + c.shape[1]] = torch.tanh(c)
            for name, gate in zip(GATES, (i, f, o)):
                low_high[name][k, :, 0] += (gate[kept] < SATURATED[0]).sum(0)
                low_high[name][k, :, 1] += (gate[kept] > SATURATED[1]).sum(0)
            state[k] = (hs[:, -1][None].contiguous(), c[:, -1][None].contiguous())
            x = hs  # the next layer reads this one's hidden states (no dropout at inference)
    return cells, {g: v / max(1, int(keep.sum())) for g, v in low_high.items()}


def _cell_states(f, ig, c0):
    """c_t = f_t * c_{t-1} + (i*g)_t for all t: f, ig (S, T, H), c0 (S, H) -> (S, T, H).

    A Hillis-Steele scan with the associative step (f1, u1) then (f2, u2) = (f1 f2, f2 u1 + u2): log2(T)
    whole-array passes instead of T small ones, and only products of gates (no division), so it is stable."""
    a, b = f.clone(), ig.clone()
    b[:, 0] += f[:, 0] * c0
    shift = 1
    while shift < a.shape[1]:
        b[:, shift:] = a[:, shift:] * b[:, :-shift] + b[:, shift:]
        a[:, shift:] = a[:, shift:] * a[:, :-shift]
        shift *= 2
    return b


def saturation_summary(saturation: dict) -> dict:
    """Per gate and layer: the mean share of steps a cell's gate is below 0.1 and above 0.9."""
    return {
        g: [
            {"layer": k + 1, "below": round(float(v[k, :, 0].mean()), 4), "above": round(float(v[k, :, 1].mean()), 4)}
            for k in range(v.shape[0])
        ]
        for g, v in saturation.items()
    }


def held_out_finder(net: charmodel.CharRNN, vocab, pick_text: str, test_text: str, top: int = 5) -> dict:
    """The card's cell finder: cells picked on ``pick_text``, then scored on ``test_text`` they were not picked
    on; with each layer's gate saturation on the test text."""
    from gallery.essays import features

    streams = max(1, len(pick_text) // 8192)
    picked_trace = trace(net, vocab.encode(pick_text), streams=streams)
    picked = features.best_cells(picked_trace.cells, pick_text, top=top)
    del picked_trace
    test_trace = trace(net, vocab.encode(test_text), streams=max(1, len(test_text) // 8192))
    rows = {}
    for name, found in picked.items():
        if isinstance(found, dict):  # absent from the picking text
            rows[name] = found
            continue
        best = found[0]
        held_out = features.score_of(test_trace.cells, test_text, name, best["layer"], best["cell"])
        key = "auc" if "auc" in best else "corr"
        rows[name] = {**best, f"held_out_{key}": round(held_out, 4), "top": found}
    return {
        "activation": "tanh of the cell state, after the character is read",
        "picked_on_chars": len(pick_text),
        "held_out_chars": len(test_text),
        "warmup_chars": WARMUP,
        "features": rows,
        "gate_saturation": saturation_summary(test_trace.saturation),
    }


MAX_CHARS = 200_000  # a text read for its cells (the page takes 20,000)
EXACT_CHARS = 4096  # texts up to this long are read as one stream (exact); longer ones in pieces with a warm-up


@dataclass
class Reading:
    """A user's text read by the model: what it read, its trace, and how each original character maps to it."""

    text: str  # the model's text (the alphabet's characters)
    aligned: Aligned
    trace: Trace


def read(net: charmodel.CharRNN, vocab, text: str, max_chars: int = MAX_CHARS) -> Reading:
    """Check, align and trace a user's text; a ValueError says what is wrong with it."""
    if not text or not text.strip():
        raise ValueError("The text is empty: paste or upload some text.")
    if len(text) > max_chars:
        raise ValueError(f"The text has {len(text):,} characters; at most {max_chars:,} can be read.")
    aligned = align(text, vocab)
    if len(aligned.ids) < 2:
        raise ValueError("The text has fewer than two characters the model can read.")
    streams = 1 if len(aligned.ids) <= EXACT_CHARS else len(aligned.ids) // EXACT_CHARS + 1
    return Reading(vocab.decode(aligned.ids), aligned, trace(net, aligned.ids, streams=streams))


def values_per_char(reading: Reading, layer: int, cell: int) -> list[float]:
    """One cell's tanh(c) after each character of the original text (0 before the first readable one)."""
    big_l, _, hidden = reading.trace.cells.shape
    if not 1 <= layer <= big_l or not 0 <= cell < hidden:
        raise ValueError(f"No such cell: layers are 1 to {big_l}, cells 0 to {hidden - 1}.")
    series = reading.trace.cells[layer - 1, :, cell].astype(float)
    return [round(float(series[j]), 4) if j >= 0 else 0.0 for j in reading.aligned.owner]


def mapping_note(aligned: Aligned) -> str:
    notes = []
    if aligned.mapped:
        notes.append("Mapped into the model's alphabet: " + " ".join(aligned.mapped))
    if aligned.dropped:
        notes.append("Not in the model's alphabet, skipped: " + " ".join(aligned.dropped))
    return ". ".join(notes)
