"""Multi30k (task 1) German-English caption pairs, read from ``../shared/data/multi30k``."""

from __future__ import annotations

import gzip
from pathlib import Path

from gallery import DATA_ROOT

DEFAULT_DATA_DIR = DATA_ROOT / "multi30k"
SPLITS = ("train", "val", "test_2016_flickr")
LICENCE = {
    "data": "Multi30k task 1 (German-English Flickr30k captions), github.com/multi30k/dataset",
    "licence": "research use (Flickr30k captions)",
    "citation": "Elliott, Frank, Sima'an and Specia (2016), Multi30K: Multilingual English-German Image Descriptions",
}


def read_lines(path: Path) -> list[str]:
    """One sentence per line, plain or ``.gz``; trailing whitespace stripped."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8", errors="replace") as f:
        return [line.rstrip("\r\n").strip() for line in f]


def split_files(data_dir: Path | None, split: str) -> tuple[Path, Path]:
    folder = Path(data_dir or DEFAULT_DATA_DIR)
    return folder / f"{split}.de.gz", folder / f"{split}.en.gz"


def load_split(data_dir: Path | None, split: str) -> list[tuple[str, str]]:
    """(German, English) pairs of one split, in file order."""
    de_path, en_path = split_files(data_dir, split)
    german, english = read_lines(de_path), read_lines(en_path)
    if len(german) != len(english):
        raise ValueError(f"{de_path.name} has {len(german)} lines but {en_path.name} has {len(english)}")
    return list(zip(german, english))
