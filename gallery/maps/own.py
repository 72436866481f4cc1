"""Your own vectors on the map: read them as the TensorFlow Embedding Projector takes them, check them, write the map.

Vector formats, told apart by their content (not their name):

- Projector TSV: one point a line, its numbers separated by tabs (spaces also do), no header;
- word2vec text: a first line ``N D``, then per line a word and its D numbers separated by spaces;
- ``.npy``: a 2-D numeric array (points x dimensions) as ``numpy.save`` writes it; never unpickled.

A metadata TSV (optional) has one row per point, in the vectors' order, and a header row when it has more than one
column (as in the Projector); a one-column file has no header, and its column is called ``label``. A word2vec file's
words become a column ``word``.

Every problem is a ``BadInput`` (a ValueError) whose message names the file and the line (text) or row (``.npy``).
The map itself is made by ``gallery.maps.project``, exactly as for the built-in data sets.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
from dataclasses import dataclass

import numpy as np

from gallery import textinput
from gallery.maps.data import MapData

MAX_POINTS = 20_000
MAX_DIMS = 2_048
MIN_POINTS = 5  # gallery.maps.project.check_method's floor
MAX_FILE_BYTES = 1_000_000_000  # a file read by the command line; the page is capped by the server's upload limit
MAX_COLUMNS = 100
NPY_MAGIC = b"\x93NUMPY"
FORMATS = {"tsv": "Projector TSV", "word2vec": "word2vec text", "npy": ".npy array"}
CSV_RESERVED = ("index", "x", "y", "z")
HOVER_COLUMNS = 8  # metadata columns shown when hovering a point


class BadInput(ValueError):
    """A file that cannot be mapped; the message says what is wrong and where."""


@dataclass
class Vectors:
    features: np.ndarray  # (N, D) float32
    format: str  # a key of FORMATS
    words: list[str] | None = None  # word2vec: one per point


@dataclass
class OwnData:
    """Vectors with their metadata columns (each one string per point), ready to map."""

    features: np.ndarray  # (N, D) float32, the original space (Euclidean distances on the map)
    columns: dict[str, list[str]]  # column name -> one value per point, in the file's order
    format: str
    name: str  # the vectors file's name
    sha256: str  # of the vectors file (and the metadata file, when there is one)

    def __len__(self) -> int:
        return len(self.features)

    @property
    def dims(self) -> int:
        return self.features.shape[1]

    def check_label(self, label: str | None) -> None:
        if label is None or label in self.columns:
            return
        if not self.columns:
            raise BadInput(f"there is no column {label!r}: these vectors have no metadata (add a metadata TSV)")
        raise BadInput(f"there is no column {label!r}; the columns are: {', '.join(self.columns)}")

    def ids(self, label: str | None = None) -> list[str]:
        """A name per point: the label column's value (with its row number where values repeat), else "point i"."""
        self.check_label(label)
        label = label or next(iter(self.columns), None)
        if label is None:
            return [f"point {i + 1}" for i in range(len(self))]
        values = self.columns[label]
        seen: dict[str, int] = {}
        for v in values:
            seen[v] = seen.get(v, 0) + 1
        return [v if seen[v] == 1 else f"{v or '(empty)'} (row {i + 1})" for i, v in enumerate(values)]

    def map_data(self, label: str | None = None, rows=None) -> MapData:
        """The points as a MapData (searchable names, metadata columns as labels), all or ``rows`` of them."""
        data = MapData(
            "own",
            self.ids(label),
            self.features,
            {k: v for k, v in list(self.columns.items())[:HOVER_COLUMNS]},
            description=f"your {len(self):,} points from {self.name} ({FORMATS[self.format]}, {self.dims:,}-d)",
            source={"file": self.name, "sha256": self.sha256},
        )
        return data if rows is None else data.subset(rows)


# ---------------------------------------------------------------------------------------------- reading


def read_file(path, what: str) -> bytes:
    """A file's bytes (decompressed when it ends in .gz), or BadInput saying why not (missing, a folder, empty, too
    large), through gallery.textinput like every other file the command line reads."""
    try:
        return textinput.read_bytes(path, MAX_FILE_BYTES, f"the {what} {path}")
    except textinput.NotText as err:
        raise BadInput(str(err)) from None


def load(vectors_path, metadata_path=None) -> OwnData:
    """Read a vectors file and its optional metadata file from disk (the command line's way in)."""
    raw = read_file(vectors_path, "vectors file")
    meta = None if metadata_path is None else read_file(metadata_path, "metadata file")
    return parse(raw, str(vectors_path), meta, None if metadata_path is None else str(metadata_path))


def parse(raw: bytes, name: str = "vectors", meta: bytes | None = None, meta_name: str | None = None) -> OwnData:
    """Vectors (and metadata) from their bytes; raises BadInput naming the line or row at fault."""
    vectors = read_vectors(raw, name)
    columns: dict[str, list[str]] = {}
    if vectors.words is not None:
        columns["word"] = vectors.words
    if meta is not None:
        for column, values in read_metadata(meta, len(vectors.features), meta_name or "metadata").items():
            columns[_unique(column, columns)] = values
    digest = hashlib.sha256(raw)
    if meta is not None:
        digest.update(hashlib.sha256(meta).digest())
    return OwnData(vectors.features, columns, vectors.format, name, digest.hexdigest())


def read_vectors(raw: bytes, name: str = "vectors") -> Vectors:
    """A Projector TSV, word2vec text or .npy array, checked: sizes, raggedness, numbers, finiteness."""
    if raw.startswith(NPY_MAGIC):
        return Vectors(_npy(raw, name), "npy")
    if raw.startswith(b"PK\x03\x04"):
        raise BadInput(f"{name} is a zip archive (an .npz?): save one array with numpy.save, or a TSV")
    if name.lower().endswith(".npy") and raw:
        raise BadInput(f"{name} is named .npy but does not start with NumPy's header: it is not a .npy file")
    head = raw[:400].split(b"\n", 2)
    first = head[0].split()
    # the binary word2vec format: a text header "N D", then from line 2 a word, a space and D float32s
    w2v_binary = (
        len(first) == 2 and all(t.isdigit() for t in first) and len(head) > 1 and re.match(rb"[^\s\x00]+ ", head[1])
    )
    try:
        lines = _lines(raw, name)
    except BadInput:
        if w2v_binary:
            raise BadInput(
                f"{name} looks like a binary word2vec file: save it as text "
                "(gensim: model.wv.save_word2vec_format(path, binary=False))"
            ) from None
        raise
    header = lines[0].split()
    if len(header) == 2 and all(t.isdigit() for t in header) and len(lines) > 1:
        n, d = int(header[0]), int(header[1])
        if len(lines[1].split()) == d + 1:
            return _word2vec(lines, n, d, name)
    return Vectors(_tsv(lines, name), "tsv")


def _lines(raw: bytes, name: str) -> list[str]:
    """The text's lines (UTF-8, a BOM and trailing blank lines dropped); empty, binary or not UTF-8 is refused with
    gallery.textinput's messages, the same as everywhere else."""
    try:
        text = textinput.decode(name, raw, MAX_FILE_BYTES)
    except textinput.NotText as err:
        raise BadInput(str(err)) from None
    lines = text.split("\n")
    lines = [s[:-1] if s.endswith("\r") else s for s in lines]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise BadInput(f"{name} is empty")
    return lines


def _check_size(n: int, d: int, name: str) -> None:
    if d > MAX_DIMS:
        raise BadInput(f"{name} has {d:,} dimensions; the limit is {MAX_DIMS:,}")
    if d < 1:
        raise BadInput(f"{name} has points with no numbers")
    if n > MAX_POINTS:
        raise BadInput(f"{name} has {n:,} points; the limit is {MAX_POINTS:,} (map a sample of them)")
    if n == 1:
        raise BadInput(f"{name} holds a single point; a map needs at least {MIN_POINTS}")
    if n < MIN_POINTS:
        raise BadInput(f"{name} holds {n} points; a map needs at least {MIN_POINTS}")


def _tsv(lines: list[str], name: str) -> np.ndarray:
    sep = "\t" if "\t" in lines[0] else None  # the Projector's tabs; else any whitespace (numpy.savetxt's spaces)
    width = len(_split(lines[0], sep))
    _check_size(len(lines), width, name)
    return _matrix(lines, 1, sep, width, name, "")


def _word2vec(lines: list[str], n: int, d: int, name: str) -> Vectors:
    body = lines[1:]
    _check_size(max(n, len(body)), d, name)
    if len(body) != n:
        raise BadInput(f"{name}: its header says {n:,} words, but {len(body):,} lines follow it")
    words, numbers = [], []
    for j, line in enumerate(body):
        word, _, rest = line.strip().partition(" ")
        if not word:
            raise BadInput(f"{name}, line {j + 2} is empty: every line after the header is a word and its numbers")
        words.append(word)
        numbers.append(rest)
    return Vectors(_matrix(numbers, 2, None, d, name, " after its word"), "word2vec", words)


def _split(line: str, sep: str | None) -> list[str]:
    return line.split(sep) if sep else line.split()


def _matrix(lines: list[str], first: int, sep: str | None, width: int, name: str, where: str) -> np.ndarray:
    """(len(lines), width) float32 from lines of numbers; ``first`` is the file's line number of ``lines[0]``.

    pandas' C parser reads a well-formed file; anything it refuses or reads as non-finite is read again line by
    line, which names the first line (and cell) at fault.
    """
    import pandas as pd

    X = None
    try:
        frame = pd.read_csv(
            io.StringIO("\n".join(lines)),
            sep="\t" if sep else r"\s+",
            header=None,
            dtype=np.float64,
            na_filter=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_NONE,
            engine="c",
        )
        X = frame.to_numpy()
        if X.shape != (len(lines), width) or not np.isfinite(X).all():
            X = None
    except (ValueError, pd.errors.ParserError, OverflowError):
        X = None
    if X is None:
        X = _matrix_line_by_line(lines, first, sep, width, name, where)
    with np.errstate(over="ignore"):
        X32 = X.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(X32).all(axis=1))
    if len(bad):
        raise BadInput(f"{name}, line {first + bad[0]}: a number beyond float32's range (about ±3.4e38)")
    return _check_spread(np.ascontiguousarray(X32), name)


def _matrix_line_by_line(lines, first, sep, width, name, where) -> np.ndarray:
    out = np.empty((len(lines), width), np.float64)
    for j, line in enumerate(lines):
        at = f"{name}, line {first + j}"
        cells = _split(line, sep)
        if not line.strip():
            raise BadInput(f"{at} is empty: every line must be a point")
        if len(cells) != width:
            said = "its header says" if where else f"line {first} has"
            raise BadInput(
                f"{at} has {len(cells):,} numbers{where}, {said} {width:,}: every point needs the same dimensions"
            )
        for c, cell in enumerate(cells):
            try:
                value = float(cell)
            except ValueError:
                hint = ""
                if "," in cell:
                    hint = ". Separate the numbers with tabs"
                elif first == 1 and j == 0:
                    hint = (
                        ". A vectors TSV has no header row and numbers only: put names and labels in a metadata TSV "
                        "(or use word2vec text: a first line 'N D', then a word and its numbers per line)"
                    )
                raise BadInput(f"{at}, column {c + 1}: {cell.strip()[:40]!r} is not a number{hint}") from None
            if not math.isfinite(value):
                what = "NaN" if math.isnan(value) else "infinity"
                raise BadInput(f"{at}, column {c + 1} is {what}: every number must be finite")
            out[j, c] = value
    return out


def _check_spread(X: np.ndarray, name: str) -> np.ndarray:
    if not np.ptp(X, axis=0).any():
        raise BadInput(f"{name}: all {len(X):,} points are the same vector, so there is nothing to map")
    return X


def _npy(raw: bytes, name: str) -> np.ndarray:
    f = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(f)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(f)
        else:
            raise BadInput(f"{name} is a .npy file of version {version[0]}.{version[1]}, which is not read here")
    except (ValueError, EOFError) as err:
        if isinstance(err, BadInput):
            raise
        raise BadInput(f"{name} has a damaged .npy header ({err})") from None
    if dtype.hasobject:
        raise BadInput(f"{name} holds Python objects (a pickle), which are never loaded here: save numbers")
    if dtype.kind not in "biuf" or dtype.fields:
        raise BadInput(f"{name} holds {dtype} values, not plain numbers")
    if len(shape) != 2:
        raise BadInput(f"{name} is an array of shape {shape}: the vectors must be 2-D, one row a point")
    _check_size(shape[0], shape[1], name)
    if len(raw) - f.tell() < math.prod(shape) * dtype.itemsize:
        raise BadInput(f"{name} is truncated: its header promises {shape[0]:,} x {shape[1]:,} values")
    try:
        X = np.load(io.BytesIO(raw), allow_pickle=False)
    except (ValueError, EOFError, OSError) as err:
        raise BadInput(f"{name} is a damaged .npy file ({err})") from None
    if X.dtype.kind == "f":
        bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
        if len(bad):
            what = "NaN" if np.isnan(X[bad[0]]).any() else "infinity"
            raise BadInput(f"{name}, row {bad[0] + 1} (counting from 1) holds {what}: every number must be finite")
    with np.errstate(over="ignore"):
        X32 = X.astype(np.float32)
    bad = np.flatnonzero(~np.isfinite(X32).all(axis=1))
    if len(bad):
        raise BadInput(f"{name}, row {bad[0] + 1}: a number beyond float32's range (about ±3.4e38)")
    return _check_spread(np.ascontiguousarray(X32), name)


def read_metadata(raw: bytes, n_points: int, name: str = "metadata") -> dict[str, list[str]]:
    """Metadata columns (name -> one string per point); a header row when there is more than one column."""
    lines = _lines(raw, name)
    several = "\t" in lines[0]
    if several:
        names: list[str] = []
        for j, column in enumerate(lines[0].split("\t")):
            names.append(_unique(column.strip() or f"column {j + 1}", names))
        body, first = lines[1:], 2
    else:
        names, body, first = ["label"], lines, 1
    if len(names) > MAX_COLUMNS:
        raise BadInput(f"{name} has {len(names):,} columns; the limit is {MAX_COLUMNS}")
    if len(body) != n_points:
        said = f"{name} has {len(body):,} rows{' after its header' if several else ''}, but the vectors have "
        said += f"{n_points:,} points: one row per point, in the same order"
        if not several and len(body) == n_points + 1:
            said += (
                ". A one-column metadata file has no header row (as in the Embedding Projector): drop the first line"
            )
        elif several and len(body) + 1 == n_points:
            said += " (if its first line is a point's row, add a header row naming the columns above it)"
        raise BadInput(said)
    columns: list[list[str]] = [[] for _ in names]
    for j, line in enumerate(body):
        cells = line.split("\t") if several else [line]
        if len(cells) != len(names):
            raise BadInput(
                f"{name}, line {first + j} has {len(cells)} cells, its header {len(names)}: one cell per column"
            )
        for column, cell in zip(columns, cells, strict=True):
            column.append(cell.strip())
    return dict(zip(names, columns, strict=True))


def _unique(name: str, taken) -> str:
    out, i = name, 2
    while out in taken:
        out, i = f"{name} ({i})", i + 1
    return out


# ---------------------------------------------------------------------------------------------- sampling and output


def sample_rows(total: int, n: int | None, seed: int = 0) -> np.ndarray:
    """All rows, or ``n`` of them drawn at random (the same seed, the same sample), in the file's order."""
    if n is None or n >= total:
        return np.arange(total)
    if n < 1:
        raise BadInput("the sample size must be at least 1")
    return np.sort(np.random.default_rng(seed).choice(total, n, replace=False))


def csv_header(columns, label: str | None) -> list[str]:
    """The CSV's names for the metadata columns: the label column becomes ``label``; another column named ``index``,
    ``x``, ``y``, ``z`` (or ``label``, when a label column is chosen) gets " (metadata)" appended."""
    reserved = set(CSV_RESERVED) | ({"label"} if label is not None else set())
    out: list[str] = []
    for column in columns:
        if column == label:
            out.append("label")
        else:
            name = f"{column} (metadata)" if column in reserved else column
            out.append(_unique(name, [*out, *reserved]))
    return out


def to_csv(data: OwnData, coords: np.ndarray, rows: np.ndarray, label: str | None = None) -> str:
    """The map as CSV: every metadata column, then x, y (and z); rows in the file's order. A sample (fewer rows than
    the file) starts with ``index``, each point's row in the file counting from 0."""
    data.check_label(label)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    sampled = len(rows) < len(data)
    writer.writerow(
        ["index"] * sampled + csv_header(data.columns, label) + ["x", "y", "z"][: coords.shape[1]],
    )
    values = list(data.columns.values())
    for j, r in enumerate(rows):
        writer.writerow([int(r)] * sampled + [v[r] for v in values] + [f"{c:.6g}" for c in coords[j]])
    return buf.getvalue()
