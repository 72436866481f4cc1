"""The translators: a GRU encoder-decoder with additive (Bahdanau) attention and a Transformer here, and the
rungs below attention (and ConvS2S) in :mod:`gallery.translate.ladder`.

All expose the same decoding interface, used by :mod:`gallery.translate.decode`:

- ``encode(src, src_len) -> memory``: a dict of tensors whose first dimension is the batch,
- ``initial_state(memory)`` and ``step(memory, prefix, state) -> (log_probs, state)``: one decoding step,
- ``select_state(state, rows)``: reorder a decoding state (beam search),
- ``forward(src, src_len, tgt_in) -> logits`` (teacher forcing, for training),
- ``attention(src, src_len, tgt_in)``: the attention weights behind a given output, for the heatmaps.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from gallery.translate import ladder
from gallery.translate.tokenizer import PAD


@dataclass
class AttentionConfig:
    vocab: int
    embed: int = 256
    enc_hidden: int = 512
    dec_hidden: int = 512
    dropout: float = 0.3


@dataclass
class TransformerConfig:
    vocab: int
    d_model: int = 256
    heads: int = 8
    layers: int = 3
    ff: int = 1024
    dropout: float = 0.2
    max_len: int = 256


# ---------------------------------------------------------------- GRU + Bahdanau attention


class AdditiveAttention(nn.Module):
    """score(s, h_j) = v . tanh(W_s s + W_h h_j); padded source positions get exactly zero weight."""

    def __init__(self, enc_dim: int, dec_dim: int):
        super().__init__()
        self.enc_proj = nn.Linear(enc_dim, dec_dim, bias=False)
        self.dec_proj = nn.Linear(dec_dim, dec_dim)
        self.v = nn.Linear(dec_dim, 1, bias=False)

    def forward(self, keys, hidden, mask):
        # keys: (B, S, A) = enc_proj(encoder outputs), precomputed once; hidden: (B, H); mask: (B, S) True = real
        energy = self.v(torch.tanh(keys + self.dec_proj(hidden).unsqueeze(1))).squeeze(-1)  # (B, S)
        return energy.masked_fill(~mask, float("-inf")).softmax(dim=-1)


class AttentionSeq2Seq(nn.Module):
    """Bidirectional GRU encoder, GRU decoder attending over the encoder's states at every step.

    One embedding table is shared by source, target and the output layer (the vocabulary is shared).
    """

    kind = "attention"

    def __init__(self, cfg: AttentionConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab, cfg.embed, padding_idx=PAD)
        self.encoder = nn.GRU(cfg.embed, cfg.enc_hidden, batch_first=True, bidirectional=True)
        self.bridge = nn.Linear(2 * cfg.enc_hidden, cfg.dec_hidden)
        self.attend = AdditiveAttention(2 * cfg.enc_hidden, cfg.dec_hidden)
        self.decoder = nn.GRUCell(cfg.embed + 2 * cfg.enc_hidden, cfg.dec_hidden)
        self.pre_output = nn.Linear(cfg.dec_hidden + 2 * cfg.enc_hidden + cfg.embed, cfg.embed)
        self.dropout = nn.Dropout(cfg.dropout)

    def encode(self, src, src_len):
        # src: (B, S) token ids, padded with PAD; src_len: (B,)
        embedded = self.dropout(self.embedding(src))  # (B, S, E)
        packed = nn.utils.rnn.pack_padded_sequence(embedded, src_len.cpu(), batch_first=True, enforce_sorted=False)
        packed_out, last = self.encoder(packed)  # last: (2, B, H)
        states, _ = nn.utils.rnn.pad_packed_sequence(packed_out, batch_first=True, total_length=src.size(1))
        hidden = torch.tanh(self.bridge(torch.cat([last[0], last[1]], dim=-1)))  # (B, H_dec)
        return {"states": states, "keys": self.attend.enc_proj(states), "mask": src != PAD, "hidden": hidden}

    def initial_state(self, memory):
        return memory["hidden"]

    def select_state(self, state, rows):
        return state.index_select(0, rows)

    def _step(self, memory, token, hidden):
        """One decoder step: returns logits (B, V), the new hidden (B, H) and the attention (B, S)."""
        embedded = self.dropout(self.embedding(token))  # (B, E)
        weights = self.attend(memory["keys"], hidden, memory["mask"])  # (B, S)
        context = torch.bmm(weights.unsqueeze(1), memory["states"]).squeeze(1)  # (B, 2H_enc)
        hidden = self.decoder(torch.cat([embedded, context], dim=-1), hidden)
        features = torch.tanh(self.pre_output(torch.cat([hidden, context, embedded], dim=-1)))  # (B, E)
        logits = F.linear(self.dropout(features), self.embedding.weight)  # (B, V)
        return logits, hidden, weights

    def step(self, memory, prefix, state):
        logits, hidden, _ = self._step(memory, prefix[:, -1], state)
        return logits.float().log_softmax(-1), hidden

    def _teacher_forced(self, src, src_len, tgt_in):
        memory = self.encode(src, src_len)
        hidden, all_logits, all_weights = memory["hidden"], [], []
        for t in range(tgt_in.size(1)):
            logits, hidden, weights = self._step(memory, tgt_in[:, t], hidden)
            all_logits.append(logits)
            all_weights.append(weights)
        return torch.stack(all_logits, 1), torch.stack(all_weights, 1)  # (B, T, V), (B, T, S)

    def forward(self, src, src_len, tgt_in):
        return self._teacher_forced(src, src_len, tgt_in)[0]

    @torch.no_grad()
    def attention(self, src, src_len, tgt_in) -> dict:
        """{"cross": (B, 1, 1, T, S)}: one layer, one head of additive attention."""
        return {"cross": self._teacher_forced(src, src_len, tgt_in)[1][:, None, None]}


# ---------------------------------------------------------------- Transformer


class MultiHeadAttention(nn.Module):
    """Scaled dot-product attention over ``heads`` heads.

    Given a list ``record``, the weights are computed explicitly and appended to it; the module itself keeps no
    state, so one model can serve many threads (the app's visitors) at once.
    """

    def __init__(self, d_model: int, heads: int, dropout: float):
        super().__init__()
        self.heads, self.dropout = heads, dropout
        self.q, self.k, self.v, self.out = (nn.Linear(d_model, d_model) for _ in range(4))

    def _split(self, x):  # (B, L, D) -> (B, heads, L, D / heads)
        B, L, D = x.shape
        return x.view(B, L, self.heads, D // self.heads).transpose(1, 2)

    def forward(self, query, key, mask, record: list | None = None):
        # query: (B, T, D); key: (B, S, D); mask: bool, broadcastable to (B, heads, T, S), True = may attend
        B, T, D = query.shape
        q, k, v = self._split(self.q(query)), self._split(self.k(key)), self._split(self.v(key))
        if record is not None:
            scores = q @ k.transpose(-2, -1) / math.sqrt(D // self.heads)  # (B, h, T, S)
            weights = scores.masked_fill(~mask, float("-inf")).softmax(-1)
            record.append(weights.detach())
            mixed = weights @ v
        else:
            p = self.dropout if self.training else 0.0
            mixed = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return self.out(mixed.transpose(1, 2).reshape(B, T, D))

    def attend_cached(self, query, cache: dict):
        """Self-attention of one new position (B, 1, D) over itself and the positions kept in ``cache``,
        which it extends: decoding then costs one position per step instead of the whole prefix."""
        B, _, D = query.shape
        k, v = self._split(self.k(query)), self._split(self.v(query))  # (B, h, 1, D/h)
        if cache:
            k, v = torch.cat([cache["k"], k], dim=2), torch.cat([cache["v"], v], dim=2)
        cache["k"], cache["v"] = k, v
        mixed = F.scaled_dot_product_attention(self._split(self.q(query)), k, v)  # (B, h, 1, D/h)
        return self.out(mixed.transpose(1, 2).reshape(B, 1, D))


class EncoderLayer(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.self_attn = MultiHeadAttention(cfg.d_model, cfg.heads, cfg.dropout)
        self.ff = nn.Sequential(nn.Linear(cfg.d_model, cfg.ff), nn.ReLU(), nn.Linear(cfg.ff, cfg.d_model))
        self.norm1, self.norm2 = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, mask, record: dict | None = None):  # pre-norm residual blocks
        h = self.norm1(x)
        x = x + self.drop(self.self_attn(h, h, mask, None if record is None else record["encoder"]))
        return x + self.drop(self.ff(self.norm2(x)))


class DecoderLayer(nn.Module):
    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.self_attn = MultiHeadAttention(cfg.d_model, cfg.heads, cfg.dropout)
        self.cross_attn = MultiHeadAttention(cfg.d_model, cfg.heads, cfg.dropout)
        self.ff = nn.Sequential(nn.Linear(cfg.d_model, cfg.ff), nn.ReLU(), nn.Linear(cfg.ff, cfg.d_model))
        self.norm1, self.norm2, self.norm3 = (nn.LayerNorm(cfg.d_model) for _ in range(3))
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, memory, self_mask, cross_mask, record: dict | None = None):
        h = self.norm1(x)
        x = x + self.drop(self.self_attn(h, h, self_mask, None if record is None else record["decoder"]))
        x = x + self.drop(
            self.cross_attn(self.norm2(x), memory, cross_mask, None if record is None else record["cross"])
        )
        return x + self.drop(self.ff(self.norm3(x)))

    def step(self, x, memory, cross_mask, cache: dict):
        """The same layer for one new position (B, 1, D), reusing the earlier positions' keys and values."""
        x = x + self.self_attn.attend_cached(self.norm1(x), cache)
        x = x + self.cross_attn(self.norm2(x), memory, cross_mask)
        return x + self.ff(self.norm3(x))


def sinusoids(length: int, dim: int) -> torch.Tensor:
    position = torch.arange(length).unsqueeze(1)
    rate = torch.exp(torch.arange(0, dim, 2) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2], table[:, 1::2] = torch.sin(position * rate), torch.cos(position * rate)
    return table  # (length, dim)


class TransformerSeq2Seq(nn.Module):
    """Pre-norm Transformer encoder-decoder; source, target and output share one embedding table."""

    kind = "transformer"

    def __init__(self, cfg: TransformerConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab, cfg.d_model, padding_idx=PAD)
        self.register_buffer("positions", sinusoids(cfg.max_len, cfg.d_model), persistent=False)
        self.encoder = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.layers))
        self.decoder = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.layers))
        self.enc_norm, self.dec_norm = nn.LayerNorm(cfg.d_model), nn.LayerNorm(cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)
        nn.init.normal_(self.embedding.weight, std=cfg.d_model**-0.5)

    def embed(self, tokens):  # (B, L) -> (B, L, D)
        x = self.embedding(tokens) * math.sqrt(self.cfg.d_model)
        return self.drop(x + self.positions[: tokens.size(1)])

    def encode(self, src, src_len=None, record: dict | None = None):
        mask = (src != PAD)[:, None, None, :]  # (B, 1, 1, S)
        x = self.embed(src)
        for layer in self.encoder:
            x = layer(x, mask, record)
        return {"memory": self.enc_norm(x), "mask": mask}

    def decode(self, memory, tgt_in, record: dict | None = None):
        T = tgt_in.size(1)
        causal = torch.ones(T, T, dtype=torch.bool, device=tgt_in.device).tril()[None, None]  # (1, 1, T, T)
        x = self.embed(tgt_in)
        for layer in self.decoder:
            x = layer(x, memory["memory"], causal, memory["mask"], record)
        return F.linear(self.dec_norm(x), self.embedding.weight)  # (B, T, V)

    def forward(self, src, src_len, tgt_in, record: dict | None = None):
        return self.decode(self.encode(src, src_len, record), tgt_in, record)

    def initial_state(self, memory):
        return [{} for _ in self.decoder]  # per layer: the self-attention keys and values written so far

    def select_state(self, state, rows):
        return [{name: t.index_select(0, rows) for name, t in cache.items()} for cache in state]

    def step(self, memory, prefix, state):
        """Log-probs of the next piece after ``prefix`` (N, t+1), feeding only its last piece through the
        decoder; ``state`` holds what the earlier pieces left in each layer (the same result as ``decode``)."""
        t = prefix.size(1) - 1
        x = self.embedding(prefix[:, -1:]) * math.sqrt(self.cfg.d_model) + self.positions[t]  # (N, 1, D)
        for layer, cache in zip(self.decoder, state):
            x = layer.step(x, memory["memory"], memory["mask"], cache)
        logits = F.linear(self.dec_norm(x[:, -1]), self.embedding.weight)  # (N, V)
        return logits.float().log_softmax(-1), state

    @torch.no_grad()
    def attention(self, src, src_len, tgt_in) -> dict:
        """Every layer's and head's weights: {"encoder": (B, L, h, S, S), "decoder": (B, L, h, T, T),
        "cross": (B, L, h, T, S)}."""
        record = {"encoder": [], "decoder": [], "cross": []}  # one list per kind, a layer's weights per entry
        self.forward(src, src_len, tgt_in, record)
        return {name: torch.stack(weights, dim=1) for name, weights in record.items()}


MODELS = {
    "seq2seq": (ladder.LSTMSeq2Seq, ladder.Seq2SeqConfig),
    "context": (ladder.ContextSeq2Seq, ladder.ContextConfig),
    "attention": (AttentionSeq2Seq, AttentionConfig),
    "convs2s": (ladder.ConvSeq2Seq, ladder.ConvConfig),
    "transformer": (TransformerSeq2Seq, TransformerConfig),
}


def build(kind: str, cfg: dict) -> nn.Module:
    model_class, config_class = MODELS[kind]
    return model_class(config_class(**cfg))


def config_dict(model: nn.Module) -> dict:
    return asdict(model.cfg)


def num_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
