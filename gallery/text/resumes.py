"""The résumé data set: reading, repairing, deduplicating, cross-validation folds, and user uploads.

The CSV (``Category,Resume``) is UTF-8 whose multi-byte characters were damaged on the way: most bullets
(``•`` = ``e2 80 a2``) lost their middle byte to a ``?``. We read bytes, repair what can be repaired, and
drop what cannot. Only 166 of the 962 rows are distinct, so rows are deduplicated *before* any split:
otherwise copies of a test résumé sit in training and cross-validation measures memory, not skill.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import numpy as np

from gallery import DATA_ROOT, textinput

DEFAULT_DATA_DIR = DATA_ROOT / "resumes"
CSV_NAME = "UpdatedResumeDataSet.csv"
TOKEN_PATTERN = r"(?u)\b\w[\w+#]*"  # keeps c++, c#, and one-letter skills such as R and C
MAX_UPLOAD_BYTES = 5_000_000  # a PDF or text file larger than this is refused
MAX_CHARS = 40_000  # text longer than this is refused (the longest résumé in the data has about 15,000)
MIN_WORDS = 5

# A UTF-8 lead byte, the '?' that replaced a lost byte, then any surviving continuation bytes.
_BROKEN = re.compile(rb"[\xc2-\xf4]\?[\x80-\xbf]*|[\xe2-\xf4][\x80-\xbf]\?")
_BULLETS = "\u2022\u25cf\u25aa\u25b6\u2756\u27a2\u2713\u00b7\uf0b7\uf0a7\uf076\uf0d8\uf0fc"


def repair_bytes(raw: bytes) -> str:
    """Decode the data set's damaged UTF-8: broken sequences become a bullet, the rest decodes normally."""
    raw = _BROKEN.sub(lambda m: b"\n\xe2\x80\xa2 " if m.group().startswith((b"\xe2", b"\xef")) else b" ", raw)
    return clean_text(raw.decode("utf-8", errors="replace"))


def clean_text(text: str) -> str:
    """Normalise text for reading and for the models: one bullet style, plain spaces, no stray bytes."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\ufffd", " ")
    text = "".join("\u2022" if c in _BULLETS else c for c in text)
    text = "".join(c for c in text if c in "\n\t" or unicodedata.category(c)[0] != "C")
    text = re.sub(r"[ \t\u00a0]+", " ", text)
    text = re.sub(r"(\u2022\s*)+", "\u2022 ", text)
    text = re.sub(r" *\n *", "\n", text)
    text = re.sub(r"\n{3,}", "\n\n", text)
    return text.strip()


def load_rows(data_dir: Path | None = None) -> list[tuple[str, str]]:
    """Every row of the CSV as (category, repaired text), duplicates included."""
    path = Path(data_dir or DEFAULT_DATA_DIR) / CSV_NAME
    raw = path.read_bytes()
    text = raw.decode("latin-1")  # one char per byte: the csv module splits, we repair each field's bytes
    rows = list(csv.reader(io.StringIO(text, newline="")))
    header, body = rows[0], rows[1:]
    if [h.strip() for h in header[:2]] != ["Category", "Resume"]:
        raise ValueError(f"{path} should start with the header Category,Resume")
    return [(cat.strip(), repair_bytes(res.encode("latin-1"))) for cat, res in body]


def dedupe(rows: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Distinct (category, résumé) rows in order of first appearance; whitespace-insensitive."""
    seen, out = set(), []
    for cat, res in rows:
        key = (cat, " ".join(res.split()).lower())
        if key not in seen:
            seen.add(key)
            out.append((cat, res))
    return out


def load_resumes(data_dir: Path | None = None, distinct: bool = True) -> tuple[list[str], list[str]]:
    """(texts, categories): the distinct résumés (default) or all rows (the leaky naive setting)."""
    rows = load_rows(data_dir)
    if distinct:
        rows = dedupe(rows)
    return [r for _, r in rows], [c for c, _ in rows]


def cv_folds(labels, n_splits: int, n_repeats: int, seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """Repeated stratified k-fold: (train indices, test indices) for every fold of every repeat."""
    from sklearn.model_selection import RepeatedStratifiedKFold

    smallest = min(np.unique(labels, return_counts=True)[1])
    if n_splits > smallest:
        raise ValueError(
            f"{n_splits} folds need at least {n_splits} examples per category; the smallest has {smallest}"
        )
    rskf = RepeatedStratifiedKFold(n_splits=n_splits, n_repeats=n_repeats, random_state=seed)
    return list(rskf.split(np.zeros(len(labels)), labels))


# ---------------------------------------------------------------------------------------------------- uploads


def check_text(text: str) -> str:
    """Validate text pasted or extracted from a file; returns it cleaned, or raises ValueError saying why."""
    if text is None or not text.strip():
        raise ValueError("The résumé is empty: paste some text or upload a .txt or .pdf file.")
    if len(text) > MAX_CHARS:
        raise ValueError(
            f"The text is {len(text):,} characters long; the limit is {MAX_CHARS:,}. Paste the first pages only."
        )
    text = clean_text(text)
    words = re.findall(r"[^\W\d_]{2,}", text)
    if len(words) < MIN_WORDS:
        raise ValueError(f"Too few words to classify ({len(words)}); give at least {MIN_WORDS}.")
    return text


def read_upload(name: str, data: bytes) -> str:
    """Text of an uploaded .txt or .pdf file, validated; raises ValueError with a message for the user."""
    if data[:5] == b"%PDF-" or name.lower().endswith(".pdf"):
        textinput.check_size(name, len(data), MAX_UPLOAD_BYTES)
        return check_text(pdf_text(name, data))
    return check_text(textinput.decode(name, data, MAX_UPLOAD_BYTES))  # binary or not UTF-8: refused alike


def check_pasted(text: str) -> str:
    """Text pasted into the page: the shared checks for binary content, then ``check_text``."""
    return check_text(textinput.check_pasted(text, "The résumé", MAX_CHARS))


def pdf_text(name: str, data: bytes) -> str:
    """Text of every page of a PDF (pypdf); a PDF without extractable text is an error, not an empty result."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    try:
        reader = PdfReader(io.BytesIO(data))
        text = "\n".join((page.extract_text() or "") for page in reader.pages)
    except (PyPdfError, ValueError, KeyError, TypeError, OSError) as err:  # PyPdfError: also its decompression limit
        raise ValueError(f"{name} could not be read as a PDF ({err}).") from err
    if not text.strip():
        raise ValueError(f"{name} has no extractable text (a scanned PDF?); paste the text instead.")
    return text


# Short résumés written for the page's examples (not taken from the data set).
EXAMPLES = {
    "Data scientist": (
        "Data Scientist with 3 years of experience in machine learning and statistics.\n"
        "Skills: Python, pandas, NumPy, scikit-learn, TensorFlow, SQL, Tableau, NLP, deep learning.\n"
        "Built churn prediction models with random forests and gradient boosting; deployed a sentiment "
        "analysis service with Flask; designed A/B tests and dashboards for the marketing team.\n"
        "Education: M.Sc. Statistics."
    ),
    "HR executive": (
        "HR Executive with 5 years in recruitment, onboarding and employee relations.\n"
        "Handled end-to-end hiring for technical and non-technical roles, payroll coordination, attendance "
        "and leave management, performance appraisal cycles and statutory compliance (PF, ESIC).\n"
        "Organised training programmes and employee engagement activities. MBA in Human Resources."
    ),
    "Civil engineer": (
        "Civil Engineer, site supervision of residential buildings and road projects.\n"
        "Prepared bar bending schedules, quantity estimation and billing; supervised concrete work, "
        "formwork and reinforcement; checked quality of materials; AutoCAD drawings and STAAD Pro design.\n"
        "B.E. Civil Engineering."
    ),
    "Java developer": (
        "Java Developer: Core Java, J2EE, Spring Boot, Hibernate, REST web services, microservices, MySQL.\n"
        "Developed modules of a banking application, wrote JUnit tests, used Maven, Git and Jenkins, "
        "worked in an Agile team. B.Tech Computer Science."
    ),
}
