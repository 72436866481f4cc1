"""Name models (vanilla RNN, GRU, bigram), batched sampling and scoring.

Every model maps (characters so far, gender) to next-character logits, so one
sampler and one scorer serve them all. "." is both the start and the end of a
name: ``.ravi.`` is trained as 5 predictions (r, a, v, i, end).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from gallery import charmodel
from gallery.names.data import GENDERS, LETTERS, MAX_LEN
from gallery.registry import build_from
from gallery.text import CharVocab

VOCAB = CharVocab("." + LETTERS)
END = 0
MODELS = ("gru", "rnn", "bigram")  # the first is the default
DEFAULT_ARTIFACT = f"names-{MODELS[0]}"
MAX_SAMPLES = 1000


class Bigram(nn.Module):
    """Count-based baseline: P(next | previous char, gender) from smoothed counts."""

    def __init__(self, logp: torch.Tensor):
        super().__init__()
        self.register_buffer("logp", logp)  # (G, V, V) log-probabilities

    @classmethod
    def fit(cls, pairs, alpha: float) -> Bigram:
        counts = torch.full((len(GENDERS), len(VOCAB), len(VOCAB)), float(alpha))
        for name, gender in pairs:
            ids = [END] + VOCAB.encode(name) + [END]
            for a, b in zip(ids, ids[1:]):
                counts[GENDERS.index(gender), a, b] += 1
        return cls(torch.log(counts / counts.sum(-1, keepdim=True)))

    def forward(self, idx, cls, state=None):
        """idx (B, T), cls (B,) -> logits (B, T, V); a bigram needs no state."""
        return self.logp[cls[:, None], idx], None


@dataclass
class NameModel:
    net: nn.Module
    kind: str
    card: dict
    train_names: frozenset


def build_net(config: dict, tensors: dict | None = None) -> nn.Module:
    if config["kind"] == "bigram":
        return Bigram(tensors["logp"] if tensors else torch.zeros(len(GENDERS), len(VOCAB), len(VOCAB))).eval()
    return charmodel.build(config["model"], tensors)


def load(name: str = DEFAULT_ARTIFACT, root=None) -> NameModel:
    return build_from(
        name,
        lambda art: NameModel(
            build_net(art.config, art.tensors), art.config["kind"], art.card, frozenset(art.config["train_names"])
        ),
        root,
    )


def gender_ids(genders) -> torch.Tensor:
    return torch.tensor([GENDERS.index(g) for g in genders])


def encode_batch(names: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """names -> inputs x (B, T) starting with END, targets y (B, T) ending with END, padded with -1."""
    T = max(len(n) for n in names) + 1
    x = torch.full((len(names), T), END)
    y = torch.full((len(names), T), -1)
    for i, name in enumerate(names):
        ids = torch.tensor(VOCAB.encode(name), dtype=torch.long)
        x[i, 1 : len(ids) + 1] = ids
        y[i, : len(ids)] = ids
        y[i, len(ids)] = END
    return x, y


def nll_per_name(net: nn.Module, names: list[str], genders: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Total NLL in nats of each name including its end step -> (nll (B,), steps (B,))."""
    device = next(iter(net.state_dict().values())).device  # trainers may run on a GPU
    x, y = (t.to(device) for t in encode_batch(names))
    logits, _ = net(x, gender_ids(genders).to(device))  # (B, T, V)
    nll = F.cross_entropy(logits.transpose(1, 2), y.clamp(min=0), reduction="none")  # (B, T)
    mask = y >= 0
    return (nll * mask).sum(1), mask.sum(1)


@torch.no_grad()
def score(model: NameModel, names: list[str], genders: list[str]) -> list[float]:
    """Nats per character (end step included) of already-clean names."""
    if not names:
        return []
    nll, steps = nll_per_name(model.net, names, genders)
    return (nll / steps).tolist()


def check_prefix(prefix: str) -> str:
    """Lowercase and validate a "starts with" prefix; raise ValueError naming the allowed characters."""
    prefix = (prefix or "").strip().lower()
    bad = [c for c in dict.fromkeys(prefix) if c not in LETTERS]
    if bad:
        raise ValueError(f"The model does not know {', '.join(repr(c) for c in bad)}. Use only the letters a-z.")
    if len(prefix) >= MAX_LEN:
        raise ValueError(f"The prefix must be shorter than {MAX_LEN} letters.")
    return prefix


@torch.no_grad()
def sample(
    model: NameModel,
    n: int = 10,
    gender: str = "either",
    prefix: str = "",
    temperature: float = 1.0,
    top_k: int = 0,
    max_len: int = MAX_LEN,
    seed: int = 0,
) -> list[dict]:
    """Sample ``n`` names together (one batched step per character) -> [{"name", "gender", "nll_per_char", "novel"}]."""
    if not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"Ask for between 1 and {MAX_SAMPLES} names.")
    if gender not in (*GENDERS, "either"):
        raise ValueError(f"Gender must be one of {', '.join(GENDERS)} or either.")
    if temperature <= 0:
        raise ValueError("Temperature must be above 0.")
    prefix = check_prefix(prefix)
    max_len = max(len(prefix) + 1, min(int(max_len), MAX_LEN))
    gen = torch.Generator().manual_seed(int(seed))
    if gender == "either":
        cls = torch.randint(0, len(GENDERS), (n,), generator=gen)  # (B,)
    else:
        cls = torch.full((n,), GENDERS.index(gender))
    start = torch.tensor([[END] + VOCAB.encode(prefix)]).expand(n, -1)  # (B, 1 + P)
    logits, state = model.net(start, cls)  # (B, 1 + P, V)
    # The likelihood is accumulated while sampling (at temperature 1), so no second pass is needed.
    prefix_logp = F.log_softmax(logits[:, :-1], -1).gather(2, start[:, 1:, None]).sum((1, 2))  # (B,)
    nll = -prefix_logp
    logits = logits[:, -1]  # (B, V)
    out = torch.zeros(n, max_len - len(prefix), dtype=torch.long)  # generated ids, END-padded
    rows = torch.arange(n)  # the rows still writing; finished names drop out of the batch
    for t in range(out.shape[1]):
        nxt = charmodel.pick_next(logits, temperature, top_k, gen)  # (A,)
        nll[rows] -= F.log_softmax(logits, -1).gather(1, nxt[:, None]).squeeze(1)
        out[rows, t] = nxt
        going = nxt != END
        if not going.any():
            break
        rows, nxt, state = rows[going], nxt[going], charmodel.select_rows(state, going)
        logits, state = model.net(nxt[:, None], cls[rows], state)
        logits = logits[:, -1]
    else:  # names cut at max_len: score their end step too, as score() does
        nll[rows] -= F.log_softmax(logits, -1)[:, END]
    names = [prefix + VOCAB.decode(row).split(".")[0] for row in out.tolist()]
    genders = [GENDERS[c] for c in cls.tolist()]
    scores = (nll / torch.tensor([len(nm) + 1 for nm in names])).tolist()
    return [
        {"name": nm, "gender": g, "nll_per_char": round(s, 4), "novel": nm not in model.train_names}
        for nm, g, s in zip(names, genders, scores)
    ]


@torch.no_grad()
def next_char_steps(model: NameModel, name: str, gender: str, top: int = 5) -> list[dict]:
    """For each step of ``name``: the context, the character that came, its probability, and the top-k."""
    x, y = encode_batch([name])
    logits, _ = model.net(x, gender_ids([gender]))
    probs = F.softmax(logits[0], dim=-1)  # (T, V)
    label = lambda i: "end" if i == END else VOCAB.chars[i]  # noqa: E731
    steps = []
    for t, target in enumerate(y[0].tolist()):
        p, idx = torch.topk(probs[t], top)
        steps.append(
            {
                "context": name[:t],
                "next": label(target),
                "p_next": float(probs[t, target]),
                "top": [(label(int(i)), float(q)) for q, i in zip(p, idx)],
            }
        )
    return steps


@torch.no_grad()
def gender_accuracy(net: nn.Module, pairs) -> float:
    """Fraction of names more likely under their own gender than under the other."""
    names = [n for n, _ in pairs]
    own, _ = nll_per_name(net, names, [g for _, g in pairs])
    other, _ = nll_per_name(net, names, [GENDERS[1 - GENDERS.index(g)] for _, g in pairs])
    return (own < other).float().mean().item()
