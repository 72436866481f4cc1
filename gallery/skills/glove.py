"""GloVe (Pennington et al., 2014), vectorised in PyTorch: gensim has none, and the old packages no longer build.

1. Count co-occurrences X_ij over each posting. Skill lists are unordered, so every pair in a posting
   counts 1 (GloVe's 1/distance weighting assumes word order).
2. Minimise  sum_ij f(X_ij) (w_i . c_j + b_i + b'_j - log X_ij)^2  with f(x) = min(1, (x / x_max)^alpha),
   by AdaGrad over shuffled mini-batches of the non-zero entries.
3. The vector of word i is w_i + c_i.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch


@dataclass
class GloveConfig:
    dim: int = 100
    epochs: int = 50
    lr: float = 0.05
    x_max: float = 10.0  # the paper's 100 suits billions of tokens; these counts are small
    alpha: float = 0.75
    batch: int = 65536
    seed: int = 0


def cooccurrence(sentences: list[list[str]], index: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Symmetric co-occurrence counts within each sentence: (rows, cols, counts), diagonal excluded."""
    keys = []
    n = len(index)
    for sentence in sentences:
        ids = np.array(sorted({index[t] for t in sentence if t in index}), dtype=np.int64)
        if len(ids) < 2:
            continue
        i, j = np.meshgrid(ids, ids, indexing="ij")
        off = i != j
        keys.append(i[off] * n + j[off])
    if not keys:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    uniq, counts = np.unique(np.concatenate(keys), return_counts=True)
    return uniq // n, uniq % n, counts.astype(np.float32)


def train(rows, cols, counts, vocab_size: int, cfg: GloveConfig, progress=None) -> tuple[np.ndarray, list[float]]:
    """Fit GloVe; returns the (V, D) vectors w + c and the mean weighted loss of each epoch."""
    gen = torch.Generator().manual_seed(cfg.seed)
    scale = 0.5 / cfg.dim
    w = ((torch.rand(vocab_size, cfg.dim, generator=gen) - 0.5) * scale).requires_grad_()
    c = ((torch.rand(vocab_size, cfg.dim, generator=gen) - 0.5) * scale).requires_grad_()
    bw = torch.zeros(vocab_size, requires_grad=True)
    bc = torch.zeros(vocab_size, requires_grad=True)
    opt = torch.optim.Adagrad([w, c, bw, bc], lr=cfg.lr)
    i_all, j_all = torch.from_numpy(np.asarray(rows)), torch.from_numpy(np.asarray(cols))
    x = torch.from_numpy(np.asarray(counts, dtype=np.float32))
    log_x, weight = torch.log(x), torch.clamp((x / cfg.x_max) ** cfg.alpha, max=1.0)
    history = []
    for epoch in range(cfg.epochs):
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for start in range(0, len(x), cfg.batch):
            b = order[start : start + cfg.batch]
            i, j = i_all[b], j_all[b]
            pred = (w[i] * c[j]).sum(dim=1) + bw[i] + bc[j]  # (B,)
            loss = (weight[b] * (pred - log_x[b]) ** 2).sum()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
        history.append(total / max(len(x), 1))
        if progress:
            progress(epoch, history[-1])
    return (w + c).detach().numpy(), history
