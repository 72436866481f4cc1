"""Name models (vanilla RNN, GRU, bigram), batched sampling and scoring.

Every model maps (characters so far, label) to next-character logits, so one
sampler and one scorer serve them all. For the built-in models the label is the
gender and "." is both the start and the end of a name: ``.ravi.`` is trained as
5 predictions (r, a, v, i, end). A model trained on a visitor's own list
(``gallery.names.own``) carries its own vocabulary (index 0, a newline, is its
start and end mark) and its own labels; the functions here read both from the
:class:`NameModel`, or take them as arguments, defaulting to the built-in ones.
"""

from __future__ import annotations

import unicodedata
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

    @staticmethod
    def count(pairs, vocab: CharVocab = VOCAB, labels=GENDERS) -> torch.Tensor:
        """(name, label) pairs -> how often each character follows each other, per label: (G, V, V)."""
        V, index = len(vocab), {label: i for i, label in enumerate(labels)}
        flat = []
        for name, label in pairs:
            ids, base = [END] + vocab.encode(name) + [END], index[label] * V * V
            flat.extend(base + a * V + b for a, b in zip(ids, ids[1:]))
        counts = torch.bincount(torch.tensor(flat, dtype=torch.long), minlength=len(labels) * V * V)
        return counts.view(len(labels), V, V).float()

    @classmethod
    def fit(cls, pairs, alpha: float, vocab: CharVocab = VOCAB, labels=GENDERS, counts=None) -> Bigram:
        counts = (cls.count(pairs, vocab, labels) if counts is None else counts) + float(alpha)
        return cls(torch.log(counts / counts.sum(-1, keepdim=True)))

    def forward(self, idx, cls, state=None):
        """idx (B, T), cls (B,) -> logits (B, T, V); a bigram needs no state."""
        return self.logp[cls[:, None], idx], None


BIGRAM_ALPHAS = (0.01, 0.03, 0.1, 0.3, 1.0)


@torch.no_grad()
def mean_nll(net: nn.Module, pairs, vocab: CharVocab = VOCAB, labels=GENDERS, batch: int = 4096) -> float:
    """Nats per character over (name, label) pairs, end steps counted; in batches, so a long list fits in memory."""
    total, steps = 0.0, 0
    for i in range(0, len(pairs), batch):
        chunk = pairs[i : i + batch]
        nll, n = nll_per_name(net, [p[0] for p in chunk], [p[1] for p in chunk], vocab, labels)
        total, steps = total + nll.sum().item(), steps + int(n.sum())
    return total / steps


def fit_bigram(train, val, vocab: CharVocab = VOCAB, labels=GENDERS) -> tuple[Bigram, float]:
    """Choose the add-alpha smoothing on ``val``, fit on ``train`` -> (bigram, alpha)."""
    best, counts = None, Bigram.count(train, vocab, labels)
    for alpha in BIGRAM_ALPHAS:
        net = Bigram.fit(train, alpha, vocab, labels, counts)
        score = mean_nll(net, val, vocab, labels)
        if best is None or score < best[1]:
            best = (net, score, alpha)
    return best[0], best[2]


@dataclass
class NameModel:
    net: nn.Module
    kind: str
    card: dict
    train_names: frozenset
    vocab: CharVocab = VOCAB
    labels: tuple = GENDERS  # the classes the model conditions on; ("",) for an unlabelled list
    max_len: int = MAX_LEN  # the longest name it writes
    own: bool = False  # trained on a visitor's list: any script, no lowercasing, "label" instead of "gender"
    label_prior: tuple | None = None  # how often each label was in the list (sampling "either"); None: uniform

    @property
    def labelled(self) -> bool:
        return self.labels != ("",)


def build_net(config: dict, tensors: dict | None = None) -> nn.Module:
    if config["kind"] == "bigram":
        size, classes = len(config.get("vocab", VOCAB.chars)), len(config.get("labels", GENDERS))
        return Bigram(tensors["logp"] if tensors else torch.zeros(classes, size, size)).eval()
    return charmodel.build(config["model"], tensors)


def load(name: str = DEFAULT_ARTIFACT, root=None) -> NameModel:
    return build_from(
        name,
        lambda art: NameModel(
            build_net(art.config, art.tensors), art.config["kind"], art.card, frozenset(art.config["train_names"])
        ),
        root,
    )


def gender_ids(genders, labels=GENDERS) -> torch.Tensor:
    index = {label: i for i, label in enumerate(labels)}
    return torch.tensor([index[g] for g in genders])


def encode_batch(names: list[str], vocab: CharVocab = VOCAB) -> tuple[torch.Tensor, torch.Tensor]:
    """names -> inputs x (B, T) starting with END, targets y (B, T) ending with END, padded with -1."""
    T = max(len(n) for n in names) + 1
    x = torch.full((len(names), T), END)
    y = torch.full((len(names), T), -1)
    for i, name in enumerate(names):
        ids = torch.tensor(vocab.encode(name), dtype=torch.long)
        x[i, 1 : len(ids) + 1] = ids
        y[i, : len(ids)] = ids
        y[i, len(ids)] = END
    return x, y


def nll_per_name(
    net: nn.Module, names: list[str], genders: list[str], vocab: CharVocab = VOCAB, labels=GENDERS
) -> tuple[torch.Tensor, torch.Tensor]:
    """Total NLL in nats of each name including its end step -> (nll (B,), steps (B,))."""
    device = next(iter(net.state_dict().values())).device  # trainers may run on a GPU
    x, y = (t.to(device) for t in encode_batch(names, vocab))
    logits, _ = net(x, gender_ids(genders, labels).to(device))  # (B, T, V)
    nll = F.cross_entropy(logits.transpose(1, 2), y.clamp(min=0), reduction="none")  # (B, T)
    mask = y >= 0
    return (nll * mask).sum(1), mask.sum(1)


@torch.no_grad()
def score(model: NameModel, names: list[str], genders: list[str]) -> list[float]:
    """Nats per character (end step included) of already-clean names."""
    if not names:
        return []
    nll, steps = nll_per_name(model.net, names, genders, model.vocab, model.labels)
    return (nll / steps).tolist()


def normalise(model: NameModel | None, text: str) -> str:
    """How a typed name is read: lowercased for the built-in models (a-z); NFC-normalised, case kept, for one
    trained on a visitor's list (any script)."""
    text = (text or "").strip()
    return unicodedata.normalize("NFC", text) if model is not None and model.own else text.lower()


def unknown_chars_message(model: NameModel | None, bad: list[str]) -> str:
    shown = ", ".join(repr(c) for c in bad[:10]) + (" ..." if len(bad) > 10 else "")
    if model is None or not model.own:
        return f"The model does not know {shown}. Use only the letters a-z."
    known = model.vocab.chars[1:]
    listed = known[:80] + (" ..." if len(known) > 80 else "")
    return f"The model never saw {shown} in its list. It knows these characters: {listed}"


def check_prefix(prefix: str, model: NameModel | None = None) -> str:
    """Normalise and validate a "starts with" prefix; raise ValueError naming the allowed characters."""
    prefix = normalise(model, prefix)
    vocab, max_len = (model.vocab, model.max_len) if model is not None else (VOCAB, MAX_LEN)
    bad = [c for c in dict.fromkeys(prefix) if c not in vocab or vocab.index[c] == END]
    if bad:
        raise ValueError(unknown_chars_message(model, bad))
    if len(prefix) >= max_len:
        unit = "characters" if model is not None and model.own else "letters"
        raise ValueError(f"The prefix must be shorter than {max_len} {unit}.")
    return prefix


@torch.no_grad()
def sample(
    model: NameModel,
    n: int = 10,
    gender: str = "either",
    prefix: str = "",
    temperature: float = 1.0,
    top_k: int = 0,
    max_len: int | None = None,
    seed: int = 0,
) -> list[dict]:
    """Sample ``n`` names together (one batched step per character) -> [{"name", "gender", "nll_per_char", "novel"}].

    ``gender`` is the label to condition on ("either": any, drawn per name); a model trained on a visitor's list
    answers with "label" instead of "gender" (None for a list without labels). ``max_len`` defaults to the model's.
    """
    if not 1 <= n <= MAX_SAMPLES:
        raise ValueError(f"Ask for between 1 and {MAX_SAMPLES} names.")
    any_label = gender in ("either", None) or (model.own and gender == "")
    if not any_label and gender not in model.labels:
        if not model.own:
            raise ValueError(f"Gender must be one of {', '.join(GENDERS)} or either.")
        if not model.labelled:
            raise ValueError(f"This model was trained on a list without labels: leave the label out, not {gender!r}.")
        raise ValueError(f"The label must be one of {', '.join(map(repr, model.labels))} or either, not {gender!r}.")
    if not temperature > 0:
        raise ValueError("Temperature must be above 0.")
    prefix = check_prefix(prefix, model)
    max_len = max(len(prefix) + 1, min(int(model.max_len if max_len is None else max_len), model.max_len))
    gen = torch.Generator().manual_seed(int(seed))
    if not any_label:
        cls = torch.full((n,), model.labels.index(gender))
    elif model.label_prior is not None:
        cls = torch.multinomial(torch.tensor(model.label_prior, dtype=torch.float), n, True, generator=gen)  # (B,)
    else:
        cls = torch.randint(0, len(model.labels), (n,), generator=gen)  # (B,)
    start = torch.tensor([[END] + model.vocab.encode(prefix)]).expand(n, -1)  # (B, 1 + P)
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
    end = model.vocab.chars[END]
    names = [prefix + model.vocab.decode(row).split(end)[0] for row in out.tolist()]
    genders = [model.labels[c] for c in cls.tolist()]
    scores = (nll / torch.tensor([len(nm) + 1 for nm in names])).tolist()
    key = "label" if model.own else "gender"
    return [
        {
            "name": nm,
            key: (g if model.labelled else None),
            "nll_per_char": round(s, 4),
            "novel": nm not in model.train_names,
        }
        for nm, g, s in zip(names, genders, scores)
    ]


@torch.no_grad()
def next_char_steps(model: NameModel, name: str, gender: str, top: int = 5) -> list[dict]:
    """For each step of ``name``: the context, the character that came, its probability, and the top-k."""
    x, y = encode_batch([name], model.vocab)
    logits, _ = model.net(x, gender_ids([gender if model.labelled else ""], model.labels))
    probs = F.softmax(logits[0], dim=-1)  # (T, V)
    label = lambda i: "end" if i == END else model.vocab.chars[i].replace(" ", "\u2423")  # noqa: E731  (␣ for space)
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
