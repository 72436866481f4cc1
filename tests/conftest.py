"""Fixtures the tests make themselves: tiny data sets and smoke-trained artifacts."""

from __future__ import annotations

import csv
import os
import random
import tempfile

import pytest
from hypothesis import HealthCheck, settings
from hypothesis.database import DirectoryBasedExampleDatabase

from gallery import DATA_ROOT

# Hypothesis (tests/test_fuzz.py). "default": a few fixed examples per verb and page, the same on every run, so the
# suite stays fast and steady; "fuzz" (HYPOTHESIS_PROFILE=fuzz): thousands of new ones (FUZZ_EXAMPLES per verb, a tenth
# of that per page), remembered outside the repository.
_SLOW_IS_FINE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much]
settings.register_profile(
    "default", max_examples=4, deadline=None, derandomize=True, database=None, suppress_health_check=_SLOW_IS_FINE
)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "200")),
    deadline=None,
    database=DirectoryBasedExampleDatabase(os.path.join(tempfile.gettempdir(), "gallery-hypothesis")),
    suppress_health_check=_SLOW_IS_FINE,
    print_blob=True,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

FEMALE_ENDINGS = ["a", "i", "ika", "ita", "ini", "ya", "ti"]
MALE_ENDINGS = ["esh", "endra", "ant", "an", "ul", "raj", "deep"]
STEMS = ["ram", "sun", "pri", "kav", "man", "dev", "ash", "vij", "anj", "nik", "sur", "har", "mah", "raj", "sit"]
NOISY_ROWS = [
    ("smt. priya devi", "f"),
    ("kumari anjali", "f"),
    ("ramdin verma", "m"),
    ("राम", "m"),
    ("\ufffd\ufffd", "f"),
    ("", "m"),
    ("roop chand @ mamu", "m"),
    ("mohd rafiq", "m"),
    ("a1b2", "f"),
]

ESSAY_PARAGRAPHS = [
    "**Why startups win**\n\nA startup is a company designed to grow fast. Being newly founded does not in itself "
    "make a company a startup. Nor is it necessary for a startup to work on technology.",
    "The only essential thing is growth. Everything else we associate with startups follows from growth. "
    "If you want to start one it's important to understand that \\[1\\].",
    "Most of the time, the way to get _big_ ideas is to notice small things. Don\u2019t ignore what bothers you.",
    "When I was in college I thought programming was about proofs. It isn't; it's more like painting.",
]

needs_shared_data = pytest.mark.skipif(
    not (DATA_ROOT / "indian_names").is_dir() or not (DATA_ROOT / "paul_graham").is_dir(),
    reason=f"the full data sets are not at {DATA_ROOT} (set GALLERY_DATA to their folder)",
)


@pytest.fixture(scope="session")
def names_dir(tmp_path_factory):
    """Two CSVs shaped like the real ones: synthetic names plus the kinds of noise the real data has."""
    folder = tmp_path_factory.mktemp("indian_names")
    rng = random.Random(0)
    for file_name, gender, endings in (
        ("Indian-Female-Names.csv", "f", FEMALE_ENDINGS),
        ("Indian-Male-Names.csv", "m", MALE_ENDINGS),
    ):
        rows = [(rng.choice(STEMS) + rng.choice(endings), gender) for _ in range(600)]
        rows += [r for r in NOISY_ROWS if r[1] == gender]
        with open(folder / file_name, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["name", "gender", "race"])
            writer.writerows((name, g, "indian") for name, g in rows)
    return folder


@pytest.fixture(scope="session")
def essays_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("paul_graham")
    rng = random.Random(0)
    with open(folder / "paul_graham_essays.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "title", "date", "text"])
        for i in range(20):
            text = "\n\n".join(rng.choice(ESSAY_PARAGRAPHS) for _ in range(12))
            writer.writerow([f"essay{i}", f"Essay {i}", "2020", text])
    return folder


@pytest.fixture(scope="session")
def smoke_root(tmp_path_factory, names_dir, essays_dir):
    """A pretrained/ folder filled by the real trainers in --smoke mode."""
    from trainers import essays, names

    root = tmp_path_factory.mktemp("pretrained")
    ckpt = tmp_path_factory.mktemp("checkpoints")
    for kind in ("gru", "rnn", "bigram"):
        names.main(
            [
                "--smoke",
                "--model",
                kind,
                "--data-dir",
                str(names_dir),
                "--out",
                str(root / f"names-{kind}"),
                "--checkpoint",
                str(ckpt / f"names-{kind}.pt"),
            ]
        )
    essays.main(
        [
            "--smoke",
            "--data-dir",
            str(essays_dir),
            "--out",
            str(root / "essays-lstm"),
            "--checkpoint",
            str(ckpt / "essays.pt"),
        ]
    )
    essays.main(["--smoke", "--model", "ngram5", "--data-dir", str(essays_dir), "--out", str(root / "essays-ngram5")])
    return root


def point_registry_at(root, monkeypatch):
    """Make the registry (and so the pages and the CLI) read ``root``, with Streamlit's caches cleared around it.

    Fixtures use it as ``yield from point_registry_at(root, monkeypatch)``.
    """
    import streamlit as st

    from gallery import registry

    monkeypatch.setattr(registry, "PRETRAINED", root)
    st.cache_resource.clear()
    st.cache_data.clear()
    yield root
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def use_smoke_artifacts(smoke_root, monkeypatch):
    """Point the registry (and so the pages and the CLI) at the smoke artifacts."""
    yield from point_registry_at(smoke_root, monkeypatch)


def one_page_pdf(lines=(), stream: bytes | None = None, flate: bool = False) -> bytes:
    """A minimal one-page PDF written by hand: ``lines`` of text in Helvetica (pypdf reads them back), or the given
    content ``stream`` (``flate``: declared as compressed)."""

    def escape(line: str) -> bytes:
        raw = line.encode("latin-1", errors="replace")
        return raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")

    text = b" T* ".join(b"(" + escape(line) + b") Tj" for line in lines)
    content = stream or b"BT /F1 12 Tf 14 TL 72 720 Td " + text + b" ET"
    head = b"<< /Length %d%s >>" % (len(content), b" /Filter /FlateDecode" if flate else b"")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        head + b"\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = b"%PDF-1.4\n", []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    return out + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
