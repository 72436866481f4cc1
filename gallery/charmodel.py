"""A character-level recurrent language model shared by the names and essays demos.

One class covers the notebook's vanilla RNN, a GRU and an LSTM, optionally
conditioned on a class (the names demo conditions on gender by concatenating a
learned class embedding to every input character).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F


@dataclass
class CharRNNConfig:
    vocab_size: int
    cell: str = "lstm"  # "rnn" | "gru" | "lstm"
    embed_dim: int = 32
    hidden: int = 256
    layers: int = 1
    dropout: float = 0.0
    n_classes: int = 0  # 0: unconditioned
    class_dim: int = 16


CELLS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}


class CharRNN(nn.Module):
    def __init__(self, cfg: CharRNNConfig):
        super().__init__()
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.embed_dim)
        in_dim = cfg.embed_dim
        if cfg.n_classes:
            self.class_embed = nn.Embedding(cfg.n_classes, cfg.class_dim)
            in_dim += cfg.class_dim
            # The class also sets the initial hidden state, so it shapes the first letter directly.
            self.class_to_state = nn.Linear(cfg.class_dim, cfg.layers * cfg.hidden)
        self.rnn = CELLS[cfg.cell](
            in_dim, cfg.hidden, cfg.layers, batch_first=True, dropout=cfg.dropout if cfg.layers > 1 else 0.0
        )
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(cfg.hidden, cfg.vocab_size)

    def forward(self, idx, cls=None, state=None):
        """idx (B, T) int64, cls (B,) int64 or None -> logits (B, T, V), new state."""
        x = self.embed(idx)  # (B, T, E)
        if self.cfg.n_classes:
            c = self.class_embed(cls)  # (B, C)
            x = torch.cat([x, c[:, None, :].expand(-1, idx.shape[1], -1)], dim=-1)  # (B, T, E + C)
            if state is None:
                state = self.initial_state(c)
        out, state = self.rnn(x, state)  # (B, T, H)
        return self.head(self.drop(out)), state

    def initial_state(self, c):
        """Class embedding (B, C) -> initial hidden state (layers, B, H); zero cell state for an LSTM."""
        h0 = torch.tanh(self.class_to_state(c)).view(len(c), self.cfg.layers, self.cfg.hidden).transpose(0, 1)
        h0 = h0.contiguous()
        return (h0, torch.zeros_like(h0)) if self.cfg.cell == "lstm" else h0

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def build(config: dict, tensors: dict | None = None) -> CharRNN:
    """Rebuild a CharRNN from its config dict (and weights), in eval mode."""
    model = CharRNN(CharRNNConfig(**config))
    if tensors is not None:
        model.load_state_dict(tensors)
    return model.eval()


def config_dict(model: CharRNN) -> dict:
    return asdict(model.cfg)


def select_rows(state, keep):
    """Keep some batch rows of a recurrent state: None, a tensor (L, B, H), or an LSTM's (h, c) pair."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s[:, keep] for s in state)
    return state[:, keep]


def pick_next(logits, temperature: float = 1.0, top_k: int = 0, generator=None):
    """Sample one index per row. logits (B, V) -> (B,). temperature 0 means greedy."""
    if temperature <= 0:
        return logits.argmax(dim=-1)
    logits = logits / temperature
    if top_k and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = F.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)
