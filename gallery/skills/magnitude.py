"""``.magnitude`` files (Plasticity's SQLite vector format) through ``pymagnitude-lite``.

The lite fork reads light (vectors), medium (+ character n-grams for out-of-vocabulary keys) and heavy
(+ an Annoy index) files, and converts light and medium ones. It cannot write the heavy format, nor use
its index: :func:`add_approx_index` writes the index exactly as the original converter did (an Annoy
angular index, saved, lz4-framed, in ``magnitude_approx`` rows) and :func:`extract_approx_index` reads it back.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import tempfile
from pathlib import Path

import numpy as np

FORMATS = ("light", "medium", "heavy")


class MagnitudeFileError(ValueError):
    pass


def open_file(path: Path):
    """Open a .magnitude file (ValueError with a clear message when it is not one)."""
    from pymagnitude import Magnitude

    path = Path(path)
    if not path.is_file():
        raise MagnitudeFileError(f"No such file: {path}")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            db.execute("SELECT value FROM magnitude_format WHERE key='size'").fetchall()
    except sqlite3.DatabaseError as err:
        raise MagnitudeFileError(f"{path} is not a .magnitude file ({err}).") from err
    return Magnitude(str(path), eager=False, log=False)


def format_of(path: Path) -> str:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        keys = {k: v for k, v in db.execute("SELECT key, value FROM magnitude_format")}
    if keys.get("approx"):
        return "heavy"
    return "medium" if keys.get("subword") else "light"


def read_all(store) -> tuple[list[str], np.ndarray]:
    """Every key and its unit vector, in the file's order."""
    words, rows = [], []
    for key, vector in store:
        words.append(key)
        rows.append(vector)
    vectors = np.asarray(rows, dtype=np.float32).reshape(len(rows), store.dim)
    return words, vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def write_file(words: list[str], vectors: np.ndarray, path: Path, fmt: str = "light", trees: int = 50) -> Path:
    """Convert vectors to .magnitude with the (lite) original converter; ``heavy`` adds the Annoy index."""
    from pymagnitude import converter

    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {', '.join(FORMATS)}")
    path = Path(path)
    with tempfile.TemporaryDirectory() as tmp:
        text = Path(tmp) / "vectors.txt"
        with open(text, "w", encoding="utf-8") as f:
            f.write(f"{len(words)} {vectors.shape[1]}\n")
            for word, row in zip(words, vectors):
                f.write(word + " " + " ".join(f"{x:.6f}" for x in row) + "\n")
        partial = Path(tmp) / "out.magnitude"
        converter.convert(str(text), str(partial), subword=fmt != "light")
        if fmt == "heavy":
            add_approx_index(partial, trees)
        os.replace(partial, path) if partial.stat().st_dev == path.parent.stat().st_dev else _copy(partial, path)
    return path


def _copy(src: Path, dst: Path) -> None:
    import shutil

    tmp = dst.with_suffix(".tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)


def add_approx_index(path: Path, trees: int = 50) -> None:
    """Append the heavy format's approximate index to a .magnitude file, as the original converter wrote it."""
    import lz4.frame
    from annoy import AnnoyIndex

    store = open_file(path)
    _, vectors = read_all(store)
    store.close()
    index = AnnoyIndex(vectors.shape[1], "angular")
    for i, row in enumerate(vectors):
        index.add_item(i, row)
    index.set_seed(0)
    index.build(trees, n_jobs=1)
    with tempfile.TemporaryDirectory() as tmp:
        ann = Path(tmp) / "index.ann"
        index.save(str(ann))
        blob = lz4.frame.compress(ann.read_bytes())
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE `magnitude_approx` (trees INTEGER, index_file BLOB);")
        db.execute("INSERT INTO magnitude_approx(trees, index_file) VALUES (?, ?);", (trees, sqlite3.Binary(blob)))
        db.executemany(
            "INSERT INTO `magnitude_format`(key, value) VALUES (?, ?);", [("approx", 1), ("approx_trees", trees)]
        )


def extract_approx_index(path: Path, cache: Path) -> Path | None:
    """The Annoy index a heavy file carries, decompressed into ``cache`` (None for light and medium files)."""
    import lz4.frame

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        has_table = db.execute("SELECT name FROM sqlite_master WHERE name='magnitude_approx'").fetchall()
        if not has_table:
            return None
        chunks = [row[0] for row in db.execute("SELECT index_file FROM magnitude_approx ORDER BY rowid")]
    blob = b"".join(chunks)
    out = Path(cache) / f"{hashlib.sha256(blob).hexdigest()[:16]}-carried.ann"
    if not out.is_file():
        out.write_bytes(lz4.frame.decompress(blob))
    return out


class MagnitudeSubwords:
    """Out-of-vocabulary vectors of a medium or heavy file, computed by Magnitude from character n-grams."""

    def __init__(self, store):
        self.store = store

    def vector(self, word: str) -> np.ndarray | None:
        vec = np.asarray(self.store.query(word), dtype=np.float32)
        return vec if np.isfinite(vec).all() and np.linalg.norm(vec) > 0 else None
