"""Cleaning, deduplicating and splitting the Indian names data.

Rows look like ``smt. shyani devi,f,indian``: honorifics, surnames, aliases
("roop chand @ mamu"), Devanagari and U+FFFD noise. We keep the given name: the
first word that is not an honorific, if it is made of a-z only.
"""

from __future__ import annotations

import csv
import random
import re
import unicodedata
from collections import Counter
from pathlib import Path

from gallery import DATA_ROOT

DEFAULT_DATA_DIR = DATA_ROOT / "indian_names"
CSV_FILES = ("Indian-Female-Names.csv", "Indian-Male-Names.csv")
GENDERS = ("female", "male")
LETTERS = "abcdefghijklmnopqrstuvwxyz"
MIN_LEN, MAX_LEN = 2, 20
HONORIFICS = {
    "smt",
    "shri",
    "sri",
    "shree",
    "sh",
    "mr",
    "mrs",
    "ms",
    "miss",
    "km",
    "kum",
    "kumari",
    "ku",
    "dr",
    "late",
    "md",
    "mohd",
    "mohammad",
    "mohammed",
    "sushri",
    "master",
    "baby",
}
_SEPARATORS = re.compile(r"[\s.,@/&()\-:`+\[\]\\$]+")


def clean_name(raw: str) -> str | None:
    """Return the given name in lowercase a-z, or None if the row has no usable name."""
    text = unicodedata.normalize("NFKC", raw or "").lower()  # a U+FFFD inside a word makes it unusable
    for word in _SEPARATORS.split(text):
        if not word or word in HONORIFICS:
            continue
        if MIN_LEN <= len(word) <= MAX_LEN and all(c in LETTERS for c in word):
            return word
        return None  # first real word is unusable (digits, Devanagari, too long...)
    return None


def parse_gender(value: str) -> str | None:
    value = (value or "").strip().lower()
    return {"f": "female", "female": "female", "m": "male", "male": "male"}.get(value)


def load_pairs(data_dir: Path | None = None) -> list[tuple[str, str]]:
    """Read both CSVs -> deduplicated (name, gender) pairs.

    A name listed under both genders keeps only its majority gender (both on a tie),
    since a row count of 3 "kiran, female" against 1 "kiran, male" is mostly labelling noise.
    """
    counts: Counter = Counter()
    for file_name in CSV_FILES:
        with open(Path(data_dir or DEFAULT_DATA_DIR) / file_name, encoding="utf-8", errors="replace", newline="") as f:
            for row in csv.DictReader(f):
                name, gender = clean_name(row.get("name")), parse_gender(row.get("gender"))
                if name and gender:
                    counts[name, gender] += 1
    pairs = []
    for name in sorted({n for n, _ in counts}):
        by_gender = {g: counts[name, g] for g in GENDERS if counts[name, g]}
        top = max(by_gender.values())
        pairs += [(name, g) for g, c in by_gender.items() if c == top]
    return pairs


def split_pairs(pairs, seed: int = 0, fractions=(0.8, 0.1)) -> dict[str, list[tuple[str, str]]]:
    """Split by distinct name (a name never sits in two splits) -> {"train", "val", "test"}."""
    names = sorted({n for n, _ in pairs})
    random.Random(seed).shuffle(names)
    n_train, n_val = int(len(names) * fractions[0]), int(len(names) * fractions[1])
    which = {n: "train" for n in names[:n_train]}
    which.update({n: "val" for n in names[n_train : n_train + n_val]})
    which.update({n: "test" for n in names[n_train + n_val :]})
    splits = {"train": [], "val": [], "test": []}
    for name, gender in pairs:
        splits[which[name]].append((name, gender))
    return splits
