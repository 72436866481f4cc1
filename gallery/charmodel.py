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


def stepping_dtype() -> torch.dtype:
    """bfloat16 where the CPU multiplies it natively (AVX512-BF16), else float32."""
    try:
        return torch.bfloat16 if torch.cpu._is_avx512_bf16_supported() else torch.float32
    except AttributeError:
        return torch.float32


class LSTMStepper:
    """Runs a trained unconditioned LSTM CharRNN one character at a time, as fast as a CPU allows.

    Same maths as ``CharRNN.forward``, rearranged once at construction: the embedding is folded
    into the first layer's input weights (a lookup table), each upper layer's two matrices are
    joined into one, and biases are summed. Generating one character at a time is bound by reading
    the weights from memory, and the fused CPU LSTM kernel spends milliseconds setting up each call.
    On CPUs with native bfloat16 the recurrent matrices are held in bfloat16 (half the bytes to read;
    states and gates stay float32), which changes log-probabilities by about 0.01.
    """

    def __init__(self, net: CharRNN, dtype=None):
        assert net.cfg.cell == "lstm" and not net.cfg.n_classes
        rnn, self.head = net.rnn, net.head
        self.dtype = dtype = dtype or stepping_dtype()
        with torch.no_grad():
            self.table = F.linear(net.embed.weight, rnn.weight_ih_l0, rnn.bias_ih_l0 + rnn.bias_hh_l0)  # (V, 4H)
            self.w_hh0 = rnn.weight_hh_l0.to(dtype)  # (4H, H)
            self.upper = [
                (
                    torch.cat([getattr(rnn, f"weight_ih_l{k}"), getattr(rnn, f"weight_hh_l{k}")], 1).to(dtype),
                    getattr(rnn, f"bias_ih_l{k}") + getattr(rnn, f"bias_hh_l{k}"),
                )
                for k in range(1, net.cfg.layers)
            ]  # [((4H, 2H), (4H,))]

    @staticmethod
    def _cell(gates, c):
        i, f, g, o = gates.chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        return torch.sigmoid(o) * torch.tanh(c), c

    @torch.no_grad()
    def step(self, idx, state):
        """idx (B,), state: lists [h per layer], [c per layer] each (B, H) -> logits (B, V), new state."""
        hs, cs = state
        gates = self.table[idx] + F.linear(hs[0].to(self.dtype), self.w_hh0).float()  # (B, 4H)
        h, c = self._cell(gates, cs[0])
        new_h, new_c = [h], [c]
        for (w, b), h_prev, c_prev in zip(self.upper, hs[1:], cs[1:]):
            gates = F.linear(torch.cat([h, h_prev], 1).to(self.dtype), w).float() + b
            h, c = self._cell(gates, c_prev)
            new_h.append(h)
            new_c.append(c)
        return self.head(h), (new_h, new_c)

    @staticmethod
    def from_torch_state(state):
        """nn.LSTM's (h, c), each (L, B, H) -> this class's ([h per layer], [c per layer])."""
        return list(state[0].unbind(0)), list(state[1].unbind(0))


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
    scaled = logits / temperature
    if torch.isnan(scaled).any() or torch.isposinf(scaled).any():  # a temperature so small (1e-230) it overflows
        return logits.argmax(dim=-1)  # its limit: greedy
    logits = scaled
    if top_k and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]  # (B, 1)
        logits = logits.masked_fill(logits < kth, float("-inf"))
    probs = F.softmax(logits, dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(1)
