"""The rungs of the seq2seq ladder below attention (and the convolutional one beside it).

- :class:`LSTMSeq2Seq`: Sutskever et al. (2014). The whole source sentence must fit in the encoder's final
  (h, c); the decoder starts from it and never sees the source again.
- :class:`ContextSeq2Seq`: Cho et al. (2014). One context vector (the encoder's final GRU state) is handed to
  every decoder step and to the output layer, so the decoder need not carry it in its own state.
- :class:`ConvSeq2Seq`: Gehring et al. (2017). Gated convolutions instead of recurrence, with attention in
  every decoder layer ("multi-step attention").

They expose the decoding interface described in :mod:`gallery.translate.models`. The two models without
attention also give ``context_vector``: the one vector the decoder receives.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from gallery.translate.tokenizer import PAD


@dataclass
class Seq2SeqConfig:
    vocab: int
    embed: int = 256
    hidden: int = 512
    layers: int = 2
    dropout: float = 0.3
    reverse_source: bool = True


@dataclass
class ContextConfig:
    vocab: int
    embed: int = 256
    hidden: int = 512
    dropout: float = 0.3


@dataclass
class ConvConfig:
    vocab: int
    embed: int = 256
    hidden: int = 256
    enc_layers: int = 6
    dec_layers: int = 6
    kernel: int = 3
    dropout: float = 0.2
    max_len: int = 256


def packed_run(rnn: nn.RNNBase, embedded, lengths):
    """Run ``rnn`` over a padded batch without reading the padding; returns its final state."""
    packed = nn.utils.rnn.pack_padded_sequence(embedded, lengths.cpu(), batch_first=True, enforce_sorted=False)
    return rnn(packed)[1]


def reverse_padded(src, src_len):
    """Each row's first ``src_len`` tokens in reverse order, the padding left where it was. (B, S) -> (B, S)"""
    positions = torch.arange(src.size(1), device=src.device)[None]  # (1, S)
    index = src_len[:, None].to(src.device) - 1 - positions
    return src.gather(1, torch.where(index >= 0, index, positions))


# ---------------------------------------------------------------- Sutskever: LSTM encoder-decoder


class LSTMSeq2Seq(nn.Module):
    """Two-layer LSTM encoder and decoder; the decoder starts from the encoder's final (h, c) and nothing else."""

    kind = "seq2seq"

    def __init__(self, cfg: Seq2SeqConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab, cfg.embed, padding_idx=PAD)
        self.encoder = nn.LSTM(cfg.embed, cfg.hidden, cfg.layers, batch_first=True, dropout=cfg.dropout)
        self.decoder = nn.LSTM(cfg.embed, cfg.hidden, cfg.layers, batch_first=True, dropout=cfg.dropout)
        self.pre_output = nn.Linear(cfg.hidden, cfg.embed)
        self.dropout = nn.Dropout(cfg.dropout)

    def encode(self, src, src_len):
        # src: (B, S) ids padded with PAD; src_len: (B,)
        if self.cfg.reverse_source:
            src = reverse_padded(src, src_len)
        h, c = packed_run(self.encoder, self.dropout(self.embedding(src)), src_len)  # (layers, B, H) each
        return {"h": h.transpose(0, 1), "c": c.transpose(0, 1)}  # batch first: (B, layers, H)

    def initial_state(self, memory):
        return memory["h"], memory["c"]

    def select_state(self, state, rows):
        return tuple(t.index_select(0, rows) for t in state)

    def _decode(self, tokens, state):
        """tokens (B, T) -> logits (B, T, V) and the new (h, c), each (B, layers, H)."""
        h, c = (t.transpose(0, 1).contiguous() for t in state)
        out, (h, c) = self.decoder(self.dropout(self.embedding(tokens)), (h, c))  # out: (B, T, H)
        features = torch.tanh(self.pre_output(self.dropout(out)))  # (B, T, E)
        return F.linear(self.dropout(features), self.embedding.weight), (h.transpose(0, 1), c.transpose(0, 1))

    def forward(self, src, src_len, tgt_in):
        return self._decode(tgt_in, self.initial_state(self.encode(src, src_len)))[0]

    def step(self, memory, prefix, state):
        logits, state = self._decode(prefix[:, -1:], state)
        return logits[:, -1].float().log_softmax(-1), state

    @torch.no_grad()
    def context_vector(self, src, src_len) -> dict:
        """What the decoder is given: the final hidden and cell state of each encoder layer, (B, layers, H)."""
        return self.encode(src, src_len)


# ---------------------------------------------------------------- Cho: the context at every step


class ContextSeq2Seq(nn.Module):
    """GRU encoder; the GRU decoder starts from the context vector and also reads it at every step, as does
    the output layer: s_t = GRU([e(y_t-1); c], s_t-1), p(y_t) from [s_t; c; e(y_t-1)]."""

    kind = "context"

    def __init__(self, cfg: ContextConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab, cfg.embed, padding_idx=PAD)
        self.encoder = nn.GRU(cfg.embed, cfg.hidden, batch_first=True)
        self.decoder = nn.GRU(cfg.embed + cfg.hidden, cfg.hidden, batch_first=True)
        self.pre_output = nn.Linear(2 * cfg.hidden + cfg.embed, cfg.embed)
        self.dropout = nn.Dropout(cfg.dropout)

    def encode(self, src, src_len):
        last = packed_run(self.encoder, self.dropout(self.embedding(src)), src_len)  # (1, B, H)
        return {"context": last[0]}  # (B, H)

    def initial_state(self, memory):
        return memory["context"]

    def select_state(self, state, rows):
        return state.index_select(0, rows)

    def _decode(self, context, tokens, hidden):
        """tokens (B, T), context and hidden (B, H) -> logits (B, T, V) and the last hidden (B, H)."""
        embedded = self.dropout(self.embedding(tokens))  # (B, T, E)
        every_step = context[:, None].expand(-1, tokens.size(1), -1)  # the same (B, H) at each of the T steps
        out, last = self.decoder(torch.cat([embedded, every_step], -1), hidden[None].contiguous())  # (B, T, H)
        features = torch.tanh(self.pre_output(torch.cat([self.dropout(out), every_step, embedded], -1)))
        return F.linear(self.dropout(features), self.embedding.weight), last[0]

    def forward(self, src, src_len, tgt_in):
        memory = self.encode(src, src_len)
        return self._decode(memory["context"], tgt_in, memory["context"])[0]

    def step(self, memory, prefix, state):
        logits, state = self._decode(memory["context"], prefix[:, -1:], state)
        return logits[:, -1].float().log_softmax(-1), state

    @torch.no_grad()
    def context_vector(self, src, src_len) -> dict:
        """What the decoder is given at every step: the context vector, (B, H)."""
        return self.encode(src, src_len)


# ---------------------------------------------------------------- Gehring: convolutional seq2seq

HALF = math.sqrt(0.5)  # keeps the variance of a sum of two terms unchanged


class ConvEncoder(nn.Module):
    def __init__(self, cfg: ConvConfig):
        super().__init__()
        self.emb2hid, self.hid2emb = nn.Linear(cfg.embed, cfg.hidden), nn.Linear(cfg.hidden, cfg.embed)
        self.convs = nn.ModuleList(
            nn.Conv1d(cfg.hidden, 2 * cfg.hidden, cfg.kernel, padding=cfg.kernel // 2) for _ in range(cfg.enc_layers)
        )
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(self, embedded, mask):
        # embedded: (B, S, E) token + position; mask: (B, S) True = real token
        keep = mask[:, None].to(embedded.dtype)  # (B, 1, S): padding is zeroed before every convolution
        x = self.emb2hid(embedded).transpose(1, 2) * keep  # (B, H, S)
        for conv in self.convs:
            x = (F.glu(conv(self.dropout(x)), dim=1) + x) * HALF * keep
        conved = self.hid2emb(x.transpose(1, 2))  # (B, S, E): the attention's keys
        return conved, (conved + embedded) * HALF  # keys and values


class ConvDecoderLayer(nn.Module):
    def __init__(self, cfg: ConvConfig):
        super().__init__()
        self.conv = nn.Conv1d(cfg.hidden, 2 * cfg.hidden, cfg.kernel)
        self.hid2emb, self.emb2hid = nn.Linear(cfg.hidden, cfg.embed), nn.Linear(cfg.embed, cfg.hidden)

    def forward(self, window, embedded, memory):
        """window: (B, H, k - 1 + T) this layer's input, left-padded so that position t sees only t-k+1..t;
        embedded: (B, T, E) the target pieces; returns the output (B, H, T) and the attention (B, T, S)."""
        gated = F.glu(self.conv(window), dim=1)  # (B, H, T)
        query = (self.hid2emb(gated.transpose(1, 2)) + embedded) * HALF  # (B, T, E)
        scores = query @ memory["keys"].transpose(1, 2)  # (B, T, S)
        weights = scores.masked_fill(~memory["mask"][:, None], float("-inf")).softmax(-1)
        attended = self.emb2hid(weights @ memory["values"]).transpose(1, 2)  # (B, H, T)
        residual = window[:, :, -gated.size(2) :]
        return ((gated + attended) * HALF + residual) * HALF, weights


class ConvSeq2Seq(nn.Module):
    """Convolutional encoder and causal convolutional decoder, every decoder layer attending over the source."""

    kind = "convs2s"

    def __init__(self, cfg: ConvConfig):
        super().__init__()
        self.cfg = cfg
        self.embedding = nn.Embedding(cfg.vocab, cfg.embed, padding_idx=PAD)
        self.positions = nn.Embedding(cfg.max_len, cfg.embed)
        self.encoder = ConvEncoder(cfg)
        self.emb2hid, self.hid2emb = nn.Linear(cfg.embed, cfg.hidden), nn.Linear(cfg.hidden, cfg.embed)
        self.layers = nn.ModuleList(ConvDecoderLayer(cfg) for _ in range(cfg.dec_layers))
        self.dropout = nn.Dropout(cfg.dropout)

    def embed(self, tokens, start: int = 0):  # (B, L) -> (B, L, E)
        where = torch.arange(start, start + tokens.size(1), device=tokens.device).clamp(max=self.cfg.max_len - 1)
        return self.dropout(self.embedding(tokens) + self.positions(where))

    def encode(self, src, src_len=None):
        mask = src != PAD  # (B, S)
        keys, values = self.encoder(self.embed(src), mask)
        return {"keys": keys, "values": values, "mask": mask}

    def _decode(self, memory, tokens, state=None, start: int = 0):
        """Decoder layers over ``tokens`` (B, T); ``state`` holds each layer's last k-1 inputs (cached decoding).
        Returns logits (B, T, V), the attention of every layer (B, layers, T, S) and the new state."""
        embedded = self.embed(tokens, start)  # (B, T, E)
        x = self.emb2hid(embedded).transpose(1, 2)  # (B, H, T)
        history = state or [x.new_zeros(x.size(0), x.size(1), self.cfg.kernel - 1) for _ in self.layers]
        new_state, all_weights = [], []
        for layer, past in zip(self.layers, history):
            window = torch.cat([past, self.dropout(x)], dim=2)  # (B, H, k - 1 + T)
            new_state.append(window[:, :, -(self.cfg.kernel - 1) :])
            x, weights = layer(window, embedded, memory)
            all_weights.append(weights)
        features = self.hid2emb(x.transpose(1, 2))  # (B, T, E)
        logits = F.linear(self.dropout(features), self.embedding.weight)
        return logits, torch.stack(all_weights, 1), new_state

    def forward(self, src, src_len, tgt_in):
        return self._decode(self.encode(src, src_len), tgt_in)[0]

    def initial_state(self, memory):
        return None  # filled with zeros (the left padding) at the first step

    def select_state(self, state, rows):
        return [t.index_select(0, rows) for t in state]

    def step(self, memory, prefix, state):
        logits, _, state = self._decode(memory, prefix[:, -1:], state, start=prefix.size(1) - 1)
        return logits[:, -1].float().log_softmax(-1), state

    @torch.no_grad()
    def attention(self, src, src_len, tgt_in) -> dict:
        """{"cross": (B, layers, 1, T, S)}: one head per decoder layer."""
        return {"cross": self._decode(self.encode(src, src_len), tgt_in)[1][:, :, None]}
