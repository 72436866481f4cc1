"""Load a trained translator and use it: translate text, and read the attention behind a translation."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import torch

from gallery.registry import build_from
from gallery.translate import decode, models
from gallery.translate.tokenizer import BOS, EOS, UNK, from_config, group_text, word_groups

MODELS = ("seq2seq", "context", "attention", "convs2s", "transformer")  # the ladder, in order
ATTENDS = ("attention", "convs2s", "transformer")  # the models with attention weights to show
MAX_CHARS = 1000  # longer text is cut before tokenising
GERMAN_HINTS = {
    "der",
    "die",
    "das",
    "ein",
    "eine",
    "einem",
    "einer",
    "eines",
    "und",
    "mit",
    "auf",
    "ist",
    "sind",
    "im",
    "den",
    "dem",
    "des",
    "zu",
    "von",
    "sich",
    "nicht",
    "ich",
    "wir",
    "auch",
    "beim",
    "vor",
}
ENGLISH_HINTS = {
    "the",
    "a",
    "an",
    "and",
    "with",
    "on",
    "is",
    "are",
    "of",
    "to",
    "at",
    "his",
    "her",
    "their",
    "while",
    "from",
    "this",
    "that",
    "he",
    "she",
    "they",
    "it",
}


@dataclass
class Translator:
    name: str
    model: torch.nn.Module
    tok: object
    config: dict
    card: dict


@dataclass
class Translation:
    text: str
    src_ids: list[int]  # source pieces + EOS
    out_ids: list[int]  # generated pieces, EOS included when the model ended the sentence
    notes: list[str] = field(default_factory=list)


def load(model: str = "transformer", root=None) -> Translator:
    if model not in MODELS:
        raise ValueError(f"Unknown model '{model}': choose one of {', '.join(MODELS)}.")
    name = f"translate-{model}"

    def build(art):
        tensors = dict(art.tensors)
        tok = from_config(art.config, {"tokenizer.model_proto": tensors.pop("tokenizer.model_proto", None)})
        net = models.build(art.config["kind"], art.config["model"])
        net.load_state_dict(tensors)
        return Translator(name, net.eval(), tok, art.config, art.card)

    torch.set_num_threads(1)
    return build_from(name, build, root)


def language_hint(text: str) -> str | None:
    """A note when the text reads as English rather than German (counting common function words)."""
    words = re.findall(r"\w+", text.lower())
    english, german = sum(w in ENGLISH_HINTS for w in words), sum(w in GERMAN_HINTS for w in words)
    if english >= 2 and english > german:
        return "This looks like English; the models translate from German, so expect a garbled echo."
    return None


def prepare(tr: Translator, text: str) -> tuple[list[int], list[str]]:
    """Source ids (capped, EOS appended) and notes for the reader; ValueError on input with nothing to translate."""
    if not isinstance(text, str) or not text.strip() or not re.search(r"\w", text):
        raise ValueError("Type a German sentence to translate (it has no words).")
    notes = []
    if len(text) > MAX_CHARS:
        text, notes = text[:MAX_CHARS], [f"Only the first {MAX_CHARS} characters were read."]
    ids = tr.tok.encode(text)
    if len(ids) > decode.MAX_SOURCE_TOKENS:
        ids = ids[: decode.MAX_SOURCE_TOKENS]
        notes.append(f"Only the first {decode.MAX_SOURCE_TOKENS} tokens were translated (captions are short).")
    if UNK in ids:
        notes.append("Some characters were never seen in training and are read as <unk>.")
    hint = language_hint(text)
    if hint:
        notes.append(hint)
    return ids + [EOS], notes


def translate(tr: Translator, text: str, beam: int | None = None) -> Translation:
    beam = int(beam or 1)
    if not 1 <= beam <= 20:
        raise ValueError("The beam must be between 1 and 20.")
    src_ids, notes = prepare(tr, text)
    alpha = tr.config.get("length_penalty", 0.6)
    out = decode.translate_ids(tr.model, [src_ids], beam=beam, alpha=alpha)[0]
    if not out or out[-1] != EOS:
        notes.append("The model did not finish the sentence within its length limit.")
    return Translation(tr.tok.decode(out), src_ids, out, notes)


def translate_many(tr: Translator, sentences: list[str], beam: int = 1, batch_size: int = 64) -> list[str]:
    """One translation per sentence, in order; an empty line translates to an empty line."""
    alpha = tr.config.get("length_penalty", 0.6)
    sources = [tr.tok.encode(s[:MAX_CHARS])[: decode.MAX_SOURCE_TOKENS] + [EOS] for s in sentences]
    outs = decode.translate_ids(tr.model, sources, beam=beam, alpha=alpha, batch_size=batch_size)
    return [tr.tok.decode(o) if s.strip() else "" for s, o in zip(sentences, outs)]


def attention(tr: Translator, result: Translation) -> dict[str, np.ndarray]:
    """Weights behind a translation, over tokens: "cross" (layers, heads, T, S) for the models that attend; the
    Transformer adds "encoder" (layers, heads, S, S) and "decoder" (layers, heads, T, T). ValueError for the
    two models without attention."""
    if tr.model.kind not in ATTENDS:
        raise ValueError(f"{tr.name} has no attention: its decoder gets one vector (see context_vector).")
    src, src_len = decode.pad_batch([result.src_ids])
    tgt_in, _ = decode.pad_batch([[BOS, *result.out_ids[:-1]]])
    weights = tr.model.attention(src, src_len, tgt_in)
    return {kind: w[0].float().numpy() for kind, w in weights.items()}


def context_vector(tr: Translator, result: Translation) -> dict[str, np.ndarray]:
    """The one vector a model without attention hands its decoder for this source: {"context": (H,)} for the
    context model; {"h": (layers, H), "c": (layers, H)} for the LSTM encoder-decoder."""
    if tr.model.kind in ATTENDS:
        raise ValueError(f"{tr.name} attends over every source position; it has no single context vector.")
    src, src_len = decode.pad_batch([result.src_ids])
    return {name: t[0].float().numpy() for name, t in tr.model.context_vector(src, src_len).items()}


def tokens(tr: Translator, ids: list[int]) -> list[str]:
    return [tr.tok.token(i) for i in ids]


def words(tr: Translator, ids: list[int]) -> tuple[list[str], list[list[int]]]:
    groups = word_groups(tr.tok, ids)
    return [group_text(tr.tok, ids, g) for g in groups], groups


def word_attention(weights: np.ndarray, row_groups, column_groups) -> np.ndarray:
    """(T, S) over tokens -> over words: columns summed within a word, rows averaged (rows still sum to one)."""
    return decode.merge_to_words(torch.from_numpy(weights), column_groups, row_groups).numpy()
