"""Loading the essay LSTM, generating text from it (streamed), and scoring text."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from gallery import charmodel
from gallery.essays import stepping
from gallery.essays.data import clean_text
from gallery.registry import build_from
from gallery.text import CharVocab

DEFAULT_ARTIFACT = "essays-lstm"
MAX_LENGTH = 3000  # characters per request: keeps a page responsive
MAX_PROMPT = 2000
PARAGRAPH = "\n\n"


@dataclass
class EssayModel:
    net: charmodel.CharRNN
    vocab: CharVocab
    card: dict
    precision: str = "auto"  # weights while stepping: see gallery.essays.stepping (auto: what this CPU is fast at)

    def __post_init__(self):
        self.stepper = stepping.Stepper(self.net, self.precision)
        self.precision = self.stepper.precision  # the concrete one "auto" resolved to


@dataclass
class Prompt:
    text: str  # what the model is conditioned on (cleaned, never empty)
    note: str  # a sentence for the user, or ""


@dataclass
class Step:
    char: str
    prob: float  # probability the model gave the chosen character (at temperature 1)
    top: list[tuple[str, float]]  # the most likely next characters at that position


def load(name: str = DEFAULT_ARTIFACT, root=None, precision: str = "auto") -> EssayModel:
    """Load an essay artifact; ``precision`` ("auto", "bfloat16", "float16", "int8", "float32") sets the
    weights used when generating (scoring always uses the float32 network)."""
    stepping.resolve(precision)  # an unknown precision fails before the weights are read
    return build_from(
        name,
        lambda art: EssayModel(
            charmodel.build(art.config["model"], art.tensors), CharVocab(art.config["vocab"]), art.card, precision
        ),
        root,
    )


def prepare_prompt(text: str, vocab: CharVocab) -> Prompt:
    """Clean a user prompt the way training text was cleaned; empty means a paragraph break."""
    raw = text or ""
    outside = [c for c in vocab.unknown(raw) if c not in "\r\t"]
    cleaned = "".join(c for c in clean_text(raw) if c in vocab)
    notes = []
    if len(cleaned) > MAX_PROMPT:
        cleaned = cleaned[-MAX_PROMPT:]
        notes.append(f"Only the last {MAX_PROMPT} characters of the prompt are used.")
    if outside:
        notes.append("Characters outside the model's alphabet were mapped to ASCII or dropped: " + " ".join(outside))
    if not cleaned:
        cleaned = PARAGRAPH
        notes.append("The prompt was empty, so the text starts from a paragraph break.")
    return Prompt(cleaned, " ".join(notes))


def stream(
    model: EssayModel,
    prompt: str,
    length: int = 300,
    temperature: float = 0.8,
    top_k: int = 0,
    seed: int = 0,
    top: int = 0,
    top_p: float = 1.0,
) -> Iterator[Step]:
    """Yield generated characters one at a time, carrying the LSTM state (constant work per char).

    ``prompt`` must already be in the vocabulary (see :func:`prepare_prompt`).
    ``temperature`` 0 is greedy decoding. ``top_k`` keeps the k likeliest characters, ``top_p`` (nucleus
    sampling, Holtzman et al. 2020) the fewest whose probabilities add up to p; both apply after the temperature.
    ``top`` > 0 also reports the top next characters.
    """
    if temperature < 0 or top_k < 0:
        raise ValueError("Temperature and top-k must not be negative.")
    if not 0 < top_p <= 1:
        raise ValueError("Top-p must be above 0 and at most 1 (1 = off).")
    length = max(0, min(int(length), MAX_LENGTH))
    gen = torch.Generator().manual_seed(int(seed))
    ids = torch.tensor([model.vocab.encode(prompt)])  # (1, P)
    with torch.no_grad():  # only here: the stepper's tensors carry no autograd, and toggling per character costs
        logits, state = model.net(ids)  # the prompt in one pass
    logits, state = logits[:, -1], stepping.Stepper.from_torch_state(state)  # (1, V)
    chars = model.vocab.chars
    for _ in range(length):
        probs = F.softmax(logits[0], dim=-1)  # (V,) at temperature 1, reported with the character
        nxt = _pick(logits[0], probs, temperature, top_k, gen, top_p)  # (1,)
        best = []
        if top:
            p, i = torch.topk(probs, top)
            best = [(chars[j], q) for q, j in zip(p.tolist(), i.tolist())]
        k = int(nxt)
        yield Step(chars[k], float(probs[k]), best)
        logits, state = model.stepper.step(nxt, state)


def _pick(logits, probs, temperature: float, top_k: int, gen, top_p: float = 1.0):
    """One character index (shape (1,)) from logits (V,): greedy at temperature 0, else sampled.

    Same distribution as ``charmodel.pick_next`` and the same draw as ``torch.multinomial``'s
    one-sample path (the exponential race: argmax of p / q with q ~ Exp(1)), without its
    per-call input checks, which cost as much as the sampling (probabilities here come from a softmax).
    """
    if temperature <= 0:
        return logits.argmax(-1, keepdim=True)
    if temperature != 1:
        probs = F.softmax(logits / temperature, dim=-1)
    if top_k and top_k < len(probs):
        probs = probs.masked_fill(probs < torch.topk(probs, top_k).values[-1], 0.0)
    if top_p < 1:
        probs = nucleus(probs, top_p)
    return torch.div(probs, torch.empty_like(probs).exponential_(1, generator=gen)).argmax(-1, keepdim=True)


def nucleus(probs, top_p: float):
    """Zero all but the smallest set of likeliest entries of probs (V,) whose sum reaches ``top_p``
    (the likeliest is always kept). Not renormalised: the exponential race does not need it."""
    sorted_p, order = torch.sort(probs, descending=True)
    before = torch.cumsum(sorted_p, 0) - sorted_p  # (V,) mass of the likelier entries
    drop = order[before >= top_p * sorted_p.sum()]
    return probs.index_fill(0, drop, 0.0)


def generate(model: EssayModel, prompt: str, **kwargs) -> str:
    return "".join(step.char for step in stream(model, prompt, **kwargs))


@torch.no_grad()
def nats_per_char(net: charmodel.CharRNN, ids: torch.Tensor, chunk: int = 1024, streams: int = 1) -> float:
    """Mean cross-entropy (nats) of predicting ids[1:] from what precedes them.

    The text is cut into ``streams`` contiguous pieces advanced together in chunks,
    carrying state across chunks, so every character sees its full history within its
    stream. With one stream this is exactly the training loss on the whole sequence.
    """
    ids = ids.long()
    per = (len(ids) - 1) // streams
    if per < 1:
        raise ValueError("need at least two characters to score")
    x = ids[: per * streams].view(streams, per)  # (S, per)
    y = ids[1 : per * streams + 1].view(streams, per)  # (S, per)
    state, total = None, 0.0
    for t in range(0, per, chunk):
        logits, state = net(x[:, t : t + chunk], state=state)  # (S, c, V)
        total += F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), y[:, t : t + chunk].reshape(-1), reduction="sum"
        ).item()
    return total / (per * streams)


def score(model: EssayModel, text: str, per_char: bool = False) -> dict:
    """Score plain text with the same cleaning as training. With ``per_char``, each predicted character's nats
    and rank (1 = the model's likeliest) are added; the nats add up to ``total_nats``."""
    cleaned = "".join(c for c in clean_text(text) if c in model.vocab)
    if len(cleaned) < 2:
        raise ValueError("the text has fewer than two usable characters after cleaning")
    ids = torch.tensor(model.vocab.encode(cleaned))
    nats, ranks = char_nats_and_ranks(model.net, ids)  # (N-1,) each
    total = float(nats.sum())
    out = {
        "chars": len(cleaned) - 1,
        "nats_per_char": round(total / len(nats), 4),
        "bits_per_char": round(total / len(nats) / math.log(2), 4),
        "total_nats": round(total, 4),
    }
    if per_char:
        out["text"] = cleaned
        out["per_char"] = [
            {"char": c, "nats": round(float(n), 6), "rank": int(r)}
            for c, n, r in zip(cleaned[1:], nats.tolist(), ranks.tolist())
        ]
    return out


@torch.no_grad()
def char_nats_and_ranks(net: charmodel.CharRNN, ids: torch.Tensor, chunk: int = 2048):
    """For each of ids[1:], from one pass over the text: its nats (N-1,) float64 and the rank of its
    probability among all characters (N-1,) int, 1 being the likeliest (ties counted in its favour)."""
    nats, ranks, state = [], [], None
    x, y = ids[None, :-1].long(), ids[1:].long()
    for t in range(0, x.shape[1], chunk):
        logits, state = net(x[:, t : t + chunk], state=state)  # (1, c, V)
        logp = F.log_softmax(logits[0].double(), dim=-1)  # (c, V)
        target = logp.gather(1, y[t : t + chunk, None])  # (c, 1)
        nats.append(-target[:, 0])
        ranks.append(1 + (logp > target).sum(1))
    return torch.cat(nats), torch.cat(ranks)
