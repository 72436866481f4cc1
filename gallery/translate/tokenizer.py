"""Tokenisers sharing one vocabulary between German and English: subword pieces (sentencepiece BPE) or words.

Both lowercase their input (the models are trained and scored on lowercased text), reserve the same
special ids, and can say which tokens of a sentence make up each word, so that attention over pieces can
be shown over whole words.
"""

from __future__ import annotations

import io
import re
from collections import Counter

PAD, UNK, BOS, EOS = 0, 1, 2, 3
SPECIALS = ("<pad>", "<unk>", "<s>", "</s>")
WORD_PATTERN = re.compile(r"[\w']+|[^\w\s]")


def normalise(text: str) -> str:
    """Lowercase, drop control characters (NUL and friends), squeeze whitespace."""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.lower().split())


class SubwordTokenizer:
    kind = "subword"

    def __init__(self, model_proto: bytes):
        import sentencepiece as spm

        self.model_proto = bytes(model_proto)
        self.sp = spm.SentencePieceProcessor(model_proto=self.model_proto)

    @classmethod
    def train(cls, sentences: list[str], vocab_size: int, threads: int = 1) -> SubwordTokenizer:
        """Joint BPE over the given (training-split) sentences; deterministic for a given input."""
        import sentencepiece as spm

        buffer = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter([normalise(s) for s in sentences]),
            model_writer=buffer,
            vocab_size=vocab_size,
            model_type="bpe",
            character_coverage=1.0,
            pad_id=PAD,
            unk_id=UNK,
            bos_id=BOS,
            eos_id=EOS,
            num_threads=threads,
            minloglevel=2,
            hard_vocab_limit=False,
        )
        return cls(buffer.getvalue())

    def __len__(self) -> int:
        return self.sp.get_piece_size()

    def encode(self, text: str) -> list[int]:
        return self.sp.encode(normalise(text))

    def decode(self, ids: list[int]) -> str:
        return self.sp.decode([i for i in ids if i > EOS])

    def token(self, i: int) -> str:
        return SPECIALS[i] if i <= EOS else self.sp.id_to_piece(i)

    def starts_word(self, i: int) -> bool:
        return i <= EOS or self.sp.id_to_piece(i).startswith("\u2581")


class WordTokenizer:
    """Words and punctuation marks; words seen fewer than ``min_count`` times in training become <unk>."""

    kind = "words"

    def __init__(self, words: list[str]):
        self.words = list(words)  # ids 0-3 are the specials
        self.index = {w: i for i, w in enumerate(self.words)}

    @classmethod
    def train(cls, sentences: list[str], vocab_size: int, min_count: int = 2) -> WordTokenizer:
        counts = Counter(w for s in sentences for w in WORD_PATTERN.findall(normalise(s)))
        kept = [w for w, c in counts.most_common(vocab_size - len(SPECIALS)) if c >= min_count]
        return cls([*SPECIALS, *kept])

    def __len__(self) -> int:
        return len(self.words)

    def encode(self, text: str) -> list[int]:
        return [self.index.get(w, UNK) for w in WORD_PATTERN.findall(normalise(text))]

    def decode(self, ids: list[int]) -> str:
        text = " ".join(self.words[i] for i in ids if i > EOS or i == UNK)
        return re.sub(r" ([.,!?;:])", r"\1", text)

    def token(self, i: int) -> str:
        return self.words[i]

    def starts_word(self, i: int) -> bool:
        return True


def from_config(config: dict, tensors: dict):
    """Rebuild the tokeniser an artifact was trained with (the BPE model is stored as bytes in its weights)."""
    if config["tokenisation"] == "subword":
        return SubwordTokenizer(tensors["tokenizer.model_proto"].numpy().tobytes())
    return WordTokenizer(config["words"])


def word_groups(tok, ids: list[int]) -> list[list[int]]:
    """Positions of ``ids`` grouped into words (a new word at each piece starting with '▁' and at specials)."""
    groups: list[list[int]] = []
    for pos, i in enumerate(ids):
        if not groups or tok.starts_word(i) or ids[pos - 1] <= EOS:
            groups.append([pos])
        else:
            groups[-1].append(pos)
    return groups


def group_text(tok, ids: list[int], group: list[int]) -> str:
    pieces = [tok.token(ids[p]) for p in group]
    return "".join(pieces).replace("\u2581", "") if tok.kind == "subword" else " ".join(pieces)
