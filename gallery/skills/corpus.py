"""The skill corpus: one job posting = one unordered "sentence" of skills.

Raw cells look like ``Asp.Net MVC 4 &amp; 5``, ``call nisha 8750023434`` or ``  Core   PHP``; cleaning
unescapes HTML entities, drops cells that carry contact details, lower-cases and squeezes spaces, and
removes repeated skills within a posting and repeated postings.

Multi-word skills become tokens in one of three ways (``TOKENISATIONS``); the trainer measures them
and records the choice on the card:

- ``phrase``: ``core php`` -> ``core_php`` (one token per skill),
- ``words``: ``core php`` -> ``core``, ``php``,
- ``both``: the phrase token and its words.
"""

from __future__ import annotations

import csv
import gzip
import html
import re
from pathlib import Path

TOKENISATIONS = ("phrase", "words", "both")
MAX_SKILL_CHARS = 60  # longer cells are sentences ("NEED BE MECHANICAL 2016 PASSED OUT ..."), not skills

_PHONE = re.compile(r"(?:\+?\d[\d\s-]{8,}\d)")  # 10-digit mobile numbers, with or without spaces
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
_CONTACT_WORDS = re.compile(r"\b(call|contact|ct|mobile|mob|whatsapp|ph|phone)\b.*\d{5,}", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_EDGE_PUNCT = re.compile(r"^[\s,;:\-_/|'\"*]+|[\s,;:.\-_/|'\"*]+$")  # keeps a leading "." (".net")


def has_contact_details(cell: str) -> bool:
    """True for cells like ``call Nisha 8750023434``, ``9599297239`` or ``hr@firm.com``."""
    return bool(_PHONE.search(cell) or _EMAIL.search(cell) or _CONTACT_WORDS.search(cell))


def clean_skill(cell: str) -> str | None:
    """Normalise one cell; None when it is empty, a contact detail or too long to be a skill."""
    text = html.unescape(html.unescape(cell))  # some cells are escaped twice (&amp;amp;)
    if has_contact_details(text):
        return None
    text = _EDGE_PUNCT.sub("", _SPACES.sub(" ", text.lower()))
    if not text or len(text) > MAX_SKILL_CHARS or not any(ch.isalpha() for ch in text):
        return None
    return text


def phrase_token(skill: str) -> str:
    """``machine learning`` -> ``machine_learning``: how a multi-word skill is one token."""
    return _SPACES.sub(" ", skill.strip().lower()).replace(" ", "_")


def tokens_of(skill: str, tokenisation: str) -> list[str]:
    words = skill.split()
    if tokenisation == "phrase" or len(words) == 1:
        return [phrase_token(skill)]
    if tokenisation == "words":
        return words
    if tokenisation == "both":
        return [phrase_token(skill), *words]
    raise ValueError(f"tokenisation must be one of {', '.join(TOKENISATIONS)}")


def read_postings(path: Path) -> list[list[str]]:
    """Cleaned, de-duplicated skill lists, one per distinct posting (the job id column is dropped)."""
    opener = gzip.open if str(path).endswith(".gz") else open
    seen, postings = set(), []
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as f:
        for row in csv.reader(f):
            skills = list(dict.fromkeys(s for s in map(clean_skill, row[1:]) if s))  # ordered set
            key = tuple(sorted(skills))
            if len(skills) >= 2 and key not in seen:  # a lone skill has no context to learn from
                seen.add(key)
                postings.append(skills)
    return postings


def sentences(postings: list[list[str]], tokenisation: str = "phrase") -> list[list[str]]:
    return [list(dict.fromkeys(t for s in skills for t in tokens_of(s, tokenisation))) for skills in postings]


def count_dropped_contacts(path: Path) -> int:
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", errors="replace", newline="") as f:
        return sum(has_contact_details(html.unescape(c)) for row in csv.reader(f) for c in row[1:] if c)
