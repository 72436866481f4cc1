"""Named features of a text, one value per character, and the LSTM cells that best predict each.

A feature's value at t describes the text once the character at t has been read, as the cell state at t does.
Yes/no features are scored by AUC (a cell may track a feature by going down: the AUC reported is
max(AUC, 1 - AUC), with the sign that says which way), counts by |Pearson correlation|.
"""

from __future__ import annotations

import re

import numpy as np

SENTENCE_END = ".!?"


def _toggle_inside(text: str, mark: str) -> np.ndarray:
    """Inside a pair of ``mark`` (a run of marks, as markdown's ``**``, is one; the opening run counts as inside,
    the closing one as outside); a line break closes an unbalanced pair."""
    out, inside = np.zeros(len(text), bool), False
    for t, ch in enumerate(text):
        if ch == "\n":
            inside = False
        elif ch == mark and (t == 0 or text[t - 1] != mark):
            inside = not inside
        out[t] = inside
    return out


def quotes(text: str) -> np.ndarray:
    return _toggle_inside(text, '"')


def emphasis(text: str) -> np.ndarray:
    """Inside markdown emphasis, *like this* or **this**."""
    return _toggle_inside(text, "*")


def parentheses(text: str) -> np.ndarray:
    """Inside at least one open parenthesis (a paragraph break resets the depth)."""
    out, depth = np.zeros(len(text), bool), 0
    for t, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == "\n":
            depth = 0
        out[t] = depth > 0
    return out


def word_position(text: str) -> np.ndarray:
    """Letters read so far in the current word (0 outside words)."""
    out, n = np.zeros(len(text), np.int32), 0
    for t, ch in enumerate(text):
        n = n + 1 if ch.isalpha() else 0
        out[t] = n
    return out


def line_position(text: str) -> np.ndarray:
    """Characters since the last line break."""
    out, n = np.zeros(len(text), np.int32), 0
    for t, ch in enumerate(text):
        n = 0 if ch == "\n" else n + 1
        out[t] = n
    return out


def after_full_stop(text: str) -> np.ndarray:
    """A capital is expected next: a sentence ended (. ! ? then spaces or a line break) and no letter since."""
    out, state = np.zeros(len(text), bool), False
    for t, ch in enumerate(text):
        if ch in SENTENCE_END:
            state = "ended"
        elif ch in " \n" and state:
            state = True
        elif state is True and ch in "\"'(":  # an opening quote or bracket before the capital
            pass
        else:
            state = False
        out[t] = state is True
    return out


_NUMBER_OR_URL = re.compile(r"https?://\S+|www\.\S+|\d+(?:[.,]\d+)*")


def number_or_url(text: str) -> np.ndarray:
    out = np.zeros(len(text), bool)
    for m in _NUMBER_OR_URL.finditer(text):
        out[m.start() : m.end()] = True
    return out


FEATURES = {  # name -> (function, kind)
    "quotes": (quotes, "yes/no"),
    "parentheses": (parentheses, "yes/no"),
    "word_position": (word_position, "count"),
    "line_position": (line_position, "count"),
    "after_full_stop": (after_full_stop, "yes/no"),
    "emphasis": (emphasis, "yes/no"),
    "number_or_url": (number_or_url, "yes/no"),
}
DESCRIPTIONS = {
    "quotes": "inside double quotes",
    "parentheses": "inside parentheses",
    "word_position": "position within the word",
    "line_position": "characters since the last line break",
    "after_full_stop": "after a full stop (a capital expected)",
    "emphasis": "inside markdown emphasis (*...*)",
    "number_or_url": "inside a number or URL",
}
MIN_POSITIVES = 20  # a yes/no feature with fewer yes (or no) characters than this is not scored


def compute(text: str) -> dict[str, np.ndarray]:
    return {name: fn(text) for name, (fn, _) in FEATURES.items()}


def auc_per_cell(ranks: np.ndarray, label: np.ndarray) -> np.ndarray:
    """ranks (N, C) of each cell's activations (see ``ranks``), label (N,) bool -> each cell's AUC (C,):
    the Mann-Whitney U statistic over the yes characters."""
    n_pos = int(label.sum())
    n_neg = len(label) - n_pos
    return (ranks[label].sum(0, dtype=np.float64) - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg)


def ranks(acts: np.ndarray) -> np.ndarray:
    """acts (N, C) -> 1-based ranks within each column, ties given their group's average rank (N, C)."""
    n = len(acts)
    up, down = np.empty(acts.shape, np.float32), np.empty(acts.shape, np.float32)
    np.put_along_axis(up, np.argsort(acts, axis=0, kind="stable"), np.arange(1, n + 1, dtype=np.float32)[:, None], 0)
    # ties keep index order both ways, so the mean of the two rankings is each tie group's average rank
    np.put_along_axis(down, np.argsort(-acts, axis=0, kind="stable"), np.arange(n, 0, -1, dtype=np.float32)[:, None], 0)
    return (up + down) / 2


def corr_per_cell(acts: np.ndarray, values: np.ndarray) -> np.ndarray:
    """acts (N, C), values (N,) -> Pearson correlation of each cell with the values (C,)."""
    a = acts - acts.mean(0)
    v = values - values.mean()
    denom = np.sqrt((a * a).sum(0) * (v * v).sum()) + 1e-12
    return (a * v[:, None]).sum(0) / denom


def score_cells(cells: np.ndarray, feats: dict, block: int = 256) -> dict:
    """cells (L, N, H), feats name -> values (N,) -> name -> signed score per cell, flattened (L*H,):
    AUC - 0.5 for yes/no features, the correlation for counts.

    Cells are ranked ``block`` at a time (once for every yes/no feature), which bounds the memory (N, block)."""
    big_l, n, h = cells.shape
    acts = cells.transpose(1, 0, 2).reshape(n, big_l * h)  # (N, L*H), float16
    out = {name: [] for name in feats}
    for j in range(0, big_l * h, block):
        a = acts[:, j : j + block].astype(np.float32)
        r = ranks(a) if any(FEATURES[name][1] == "yes/no" for name in feats) else None
        for name, values in feats.items():
            if FEATURES[name][1] == "yes/no":
                out[name].append(auc_per_cell(r, values.astype(bool)) - 0.5)
            else:
                out[name].append(corr_per_cell(a, values.astype(np.float32)))
    return {name: np.concatenate(parts) for name, parts in out.items()}


def usable(values: np.ndarray, kind: str) -> bool:
    if kind == "yes/no":
        return MIN_POSITIVES <= int(values.sum()) <= len(values) - MIN_POSITIVES
    return float(values.std()) > 0


def best_cells(cells: np.ndarray, text: str, top: int = 1, names=None) -> dict:
    """For each feature: the ``top`` cells that predict it best on this text, best first.

    Rows: {"layer", "cell"} (1-based layer, 0-based cell) with "auc" (and "direction": "up" when the cell is
    higher where the feature holds) or "corr" (signed). A feature the text does not exercise is
    {"absent": reason}."""
    hidden = cells.shape[2]
    feats = compute(text)
    out, scored = {}, {}
    for name in names or FEATURES:
        kind = FEATURES[name][1]
        if usable(feats[name], kind):
            scored[name] = feats[name]
        else:
            out[name] = {"absent": f"too few characters {'with and without it' if kind == 'yes/no' else 'vary'}"}
    for name, signed in score_cells(cells, scored).items():
        rows = []
        for j in np.argsort(-np.abs(signed))[:top]:
            row = {"layer": int(j // hidden) + 1, "cell": int(j % hidden)}
            if FEATURES[name][1] == "yes/no":
                row |= {"auc": round(0.5 + abs(float(signed[j])), 4), "direction": "up" if signed[j] > 0 else "down"}
            else:
                row["corr"] = round(float(signed[j]), 4)
            rows.append(row)
        out[name] = rows
    return {name: out[name] for name in names or FEATURES}


def score_of(cells: np.ndarray, text: str, name: str, layer: int, cell: int) -> float:
    """One named cell's AUC (the better of both directions) or |correlation| for a feature on a text."""
    fn, kind = FEATURES[name]
    acts = cells[layer - 1, :, cell : cell + 1].astype(np.float32)  # (N, 1)
    if kind == "yes/no":
        return 0.5 + abs(float(auc_per_cell(ranks(acts), fn(text).astype(bool))[0]) - 0.5)
    return abs(float(corr_per_cell(acts, fn(text).astype(np.float32))[0]))
