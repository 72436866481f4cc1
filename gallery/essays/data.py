"""Cleaning and splitting the Paul Graham essays.

Unlike the notebook, case and paragraph breaks are kept: the model must learn
capitals, sentence starts and paragraph structure, which makes the task harder
(a larger alphabet, longer-range structure) but the output reads like prose.
"""

from __future__ import annotations

import csv
import random
import re
import string
import sys
import unicodedata
from pathlib import Path

from gallery import DATA_ROOT

# The alphabet: newline plus printable ASCII. Cleaning maps every text into it.
ALPHABET = "\n" + "".join(chr(i) for i in range(32, 127))
DEFAULT_DATA_DIR = DATA_ROOT / "paul_graham"
CSV_NAME = "paul_graham_essays.csv"

REPLACEMENTS = {
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2014": "--",
    "\u2013": "-",
    "\u2026": "...",
    "\u00a0": " ",
    "\u00d7": "x",
    "\t": " ",
    "\r": "",
}
_ALLOWED = set(ALPHABET)


def clean_text(text: str) -> str:
    """Map text into ALPHABET, keeping case, light markdown and paragraph breaks.

    - typographic quotes and dashes become ASCII; accents are stripped (cafe);
    - markdown backslash escapes (``\\[``, ``\\*``) become the bare character;
    - spaces at line ends go, runs of spaces become one, 3+ newlines become 2;
    - anything still outside the alphabet is dropped.
    """
    text = unicodedata.normalize("NFKC", text)
    text = "".join(REPLACEMENTS.get(c, c) for c in text)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    text = re.sub(r"\\([" + re.escape(string.punctuation) + r"])", r"\1", text)
    text = "".join(c for c in text if c in _ALLOWED)
    text = re.sub(r" {2,}", " ", text)
    text = re.sub(r" +\n", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def load_essays(data_dir: Path | None = None) -> list[dict]:
    """Read the CSV -> list of {"id", "title", "text"} with cleaned, non-empty text."""
    path = Path(data_dir or DEFAULT_DATA_DIR) / CSV_NAME
    csv.field_size_limit(sys.maxsize)
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    essays = [{"id": r["id"], "title": r["title"], "text": clean_text(r["text"])} for r in rows]
    return [e for e in essays if e["text"]]


def split_essays(essays: list[dict], val_fraction: float = 0.1, seed: int = 0) -> tuple[list[dict], list[dict]]:
    """Hold out whole essays for validation (never mixed into training)."""
    order = sorted(essays, key=lambda e: e["id"])
    random.Random(seed).shuffle(order)
    n_val = max(1, round(len(order) * val_fraction))
    return order[n_val:], order[:n_val]


def join(essays: list[dict]) -> str:
    """Concatenate essays, separated by a paragraph break."""
    return "\n\n".join(e["text"] for e in essays)
