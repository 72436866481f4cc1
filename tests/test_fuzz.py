"""Generated bad input (Hypothesis) for every command-line verb and every page.

Command line: each verb's arguments are drawn from its own argparse definition (so a new verb or flag is fuzzed
without a line here): text in any Unicode (control characters, right-to-left marks, lone surrogates as a shell
passes undecodable bytes, very long strings), numbers outside their ranges and not numbers at all, and for the
file and folder arguments: files of random bytes, truncated PNG, PDF and gzip files, zero-byte files, text in
other encodings, NumPy archives of random arrays, folders of mixed files, missing paths; ``--out`` new, nested,
existing, oddly named or empty. The verbs run in this process (``gallery.__main__.main``). Every run must end in
exit 0 with JSON of the verb's documented shape (``SHAPES``; strict JSON: no NaN) or in exit 1 with
``{"error": ...}``; never a traceback, and nothing written outside the example's temporary folder (where
``--out`` and the working folder lie).

Pages: for every page, AppTest fills the text inputs, text areas, number inputs, typed selectbox options and
file uploaders of its first screen, and of the screens the bad-input table opens (tabs, modes), with generated
values: no exception element, and no traceback in the log.

Text: the one reader of user text (``gallery.textinput``) returns any UTF-8 text as it was and refuses anything
else with a sentence; every verb that reads a text file refuses binary bytes with the same message.

Profiles (registered in tests/conftest.py): ``default``, a few fixed examples per verb and page (the same on every
run); ``HYPOTHESIS_PROFILE=fuzz``, thousands of new ones (see the README's "Reliability"). What a long run finds
becomes a row of tests/test_bad_input.py.

Left out, and why: ``serve`` (it starts replicas and runs until Ctrl-C). The loaders of the committed artifacts are
cached for this module (loading is tested elsewhere; a failed load is never cached). ``OVERRIDES`` keeps the
costly valid values out, not the checks: ``maps project`` always gets a small ``--n`` (t-SNE of the default 2,000
points takes half a minute), ``vae sample`` a small ``-n``, ``names train`` a short ``--seconds`` and one
thread, and ``digits evaluate`` a generated ``--data-dir`` (the real test set is scored in tests/test_digits.py).
Pages get no lone surrogates (a browser cannot send them), integers where an integer input expects them (NaN
there crashes Streamlit's deserialiser first) and uploads only of the allowed types (Streamlit refuses the others
itself).
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import gzip
import importlib
import io
import itertools
import json
import logging
import os
import random
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from PIL import Image

from gallery import textinput
from tests.conftest import one_page_pdf

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = settings.default.max_examples  # the profile's count per verb
PAGE_EXAMPLES = max(2, EXAMPLES // 10)  # a page's example costs a fresh session: two runs of the page or more
TIMEOUT = 120

# ---------------------------------------------------------------------------------------------- values


def mostly(usual, rare):
    """``usual`` about four times in five: verbs with several arguments get past their parser often enough."""
    return st.integers(0, 9).flatmap(lambda i: rare if i in (3, 7) else usual)


ODD = (  # control characters, zero-width and direction marks, a BOM, combining marks, emoji, Hebrew, Arabic
    "\x00\x01\x07\x08\x0b\x1b\x7f\x85\u200b\u200d\u200e\u200f\u202a\u202e\u202c\u2066\ufeff\ufffd\u0301\u0336"
    "\U0001f40d\U0001f469\U0001f3fd\u05e9\u0628 \n\r\t"
)
SURROGATES = "\udcff\udc80"  # what a shell passes for bytes that are not UTF-8 (a browser cannot send them)
WORDS = [
    *("", " ", "php", "python", "seo", "machine learning", "ravi", "priya", "ra", "How to start"),
    *("Der Hund schläft.", "Ein Mann sitzt am Strand.", "-", "--", "-x", "int8", "auto", "float16", "nan"),
]
SHORT_TEXT = st.one_of(
    st.sampled_from(WORDS), st.text(max_size=30), st.text(st.sampled_from(ODD + SURROGATES + "abcé"), max_size=30)
)
LONG_TEXT = st.builds(lambda s, n: s * n, st.text(min_size=1, max_size=5), st.sampled_from([300, 20_000, 1_000_000]))
TEXT = st.one_of(SHORT_TEXT, LONG_TEXT)
PAGE_TEXT = st.one_of(  # st.text leaves surrogates out
    st.sampled_from(WORDS), st.text(max_size=30), st.text(st.sampled_from(ODD + "abcé"), max_size=30), LONG_TEXT
)
EDGE_INTS = [-(2**63), -(10**12), -1, 0, 1, 2, 10**9, 2**63, 10**30]
NOT_INTS = ["", "ten", "1e3", "0x1f", "1_000", " 7", "\u0663", "-0", "3.5", "nan"]
INT = mostly(st.one_of(st.integers(-3, 25), st.sampled_from(EDGE_INTS)).map(str), st.sampled_from(NOT_INTS))
NOT_FLOATS = ["nan", "-inf", "inf", "1e308", "1e309", "-0.0", "5e-324", "", "one", "1_0.5", "\u0663.5"]
FLOAT = mostly(st.one_of(st.floats(0, 3), st.floats()).map(repr), st.sampled_from(NOT_FLOATS))

GERMAN = "Ein Mann fährt Fahrrad.\nZwei Hunde spielen im Schnee.\nDer Hund schläft.\n"
RESUME = "Accountant with 6 years of experience in payroll, tally, GST returns and bank reconciliation."


def picture(rng: random.Random, mode: str, size: tuple[int, int], fmt: str) -> bytes:
    arr = np.random.default_rng(rng.getrandbits(32)).integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    img = Image.fromarray(arr).convert(mode)
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def npz(rng: random.Random) -> bytes:
    """A NumPy archive of random arrays under MNIST's names (and others): wrong shapes, types, sizes."""
    g = np.random.default_rng(rng.getrandbits(32))
    arrays = {}
    for key in rng.sample(["x_train", "y_train", "x_test", "y_test", "images"], rng.randint(0, 5)):
        shape = tuple(rng.choice([0, 1, 2, 3, 28]) for _ in range(rng.randint(0, 3)))
        dtype = rng.choice([np.uint8, np.float32, np.int64, np.bool_])
        arrays[key] = (g.random(shape) * 300).astype(dtype)
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


CONTENT_KINDS = (
    "random bytes",
    "random bytes 20 KB",
    "empty",
    "png",
    "truncated png",
    "jpeg",
    "other image",
    "pdf",
    "truncated pdf",
    "utf-8 text",
    "german",
    "resume",
    "latin-1 text",
    "utf-16 text",
    "gzip",
    "truncated gzip",
    "npz",
)


@st.composite
def contents(draw, kinds=CONTENT_KINDS) -> bytes:
    """A file's bytes: broken, hostile or ordinary."""
    kind = draw(st.sampled_from(kinds))
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    text = lambda: draw(SHORT_TEXT)  # noqa: E731
    size = (rng.choice([1, 2, 7, 28, 300, 3000]), rng.choice([1, 2, 7, 28, 300, 3000]))
    if kind == "random bytes":
        return rng.randbytes(rng.choice([1, 5, 100, 1000]))
    if kind == "random bytes 20 KB":
        return rng.randbytes(20_000)
    if kind == "empty":
        return b""
    if kind in ("png", "truncated png"):
        data = picture(rng, rng.choice(["L", "RGB", "RGBA", "1", "I;16"]), size, "PNG")
        return data if kind == "png" else data[: rng.randint(0, len(data) - 1)]
    if kind == "jpeg":
        return picture(rng, rng.choice(["L", "RGB"]), size, "JPEG")
    if kind == "other image":
        return picture(rng, "RGB", size, rng.choice(["GIF", "BMP", "WEBP", "TIFF"]))
    if kind in ("pdf", "truncated pdf"):
        data = one_page_pdf([text(), RESUME][: rng.randint(1, 2)])
        return data if kind == "pdf" else data[: rng.randint(0, len(data) - 1)]
    if kind == "utf-8 text":
        return text().encode("utf-8", errors="surrogatepass")
    if kind == "german":
        return GERMAN.encode()
    if kind == "resume":
        return RESUME.encode()
    if kind == "latin-1 text":
        return (GERMAN + text()).encode("latin-1", errors="replace")
    if kind == "utf-16 text":
        return (GERMAN + text()).encode("utf-16", errors="surrogatepass")
    if kind in ("gzip", "truncated gzip"):
        data = gzip.compress(GERMAN.encode() * rng.randint(1, 50))
        return data if kind == "gzip" else data[: rng.randint(0, len(data) - 1)]
    return npz(rng)


STEMS = ["a", "cv", "de", "mnist", "face", "\U0001f40d", "\u202egnp.exe", "ü ß", ".hidden", "x" * 120, "-n"]
SUFFIXES = ["", ".txt", ".png", ".jpg", ".pdf", ".gz", ".txt.gz", ".npz", ".magnitude", ".csv", ".PNG"]
FILE_NAMES = st.one_of(
    st.just("mnist.npz"), st.builds(lambda s, x: s + x, st.sampled_from(STEMS), st.sampled_from(SUFFIXES))
)


@dataclass(frozen=True)
class File:
    name: str
    data: bytes


@dataclass(frozen=True)
class Folder:
    name: str
    items: tuple


@dataclass(frozen=True)
class Missing:
    name: str


@dataclass(frozen=True)
class Out:
    """Where ``--out`` points, relative to the example's folder (the working folder while the verb runs)."""

    kind: str


FILE = st.builds(File, FILE_NAMES, contents())
IMAGE_FILE = st.builds(  # a folder of pictures is what most folder arguments want: mostly readable ones
    File,
    st.builds(lambda s, x: s + x, st.sampled_from(STEMS), st.sampled_from([".png", ".jpg", ".PNG", ".bmp"])),
    contents(kinds=("png", "png", "jpeg", "other image", "truncated png", "random bytes")),
)
FOLDER = st.builds(
    Folder,
    st.sampled_from(["images", "data", "\U0001f40d \u202e"]),
    st.lists(
        st.one_of(FILE, IMAGE_FILE, IMAGE_FILE, st.builds(Folder, st.just("sub"), st.just(()))),
        max_size=5,
        unique_by=lambda f: f.name,
    ).map(tuple),
)
PATH = mostly(FILE, st.one_of(FOLDER, st.builds(Missing, FILE_NAMES)))
FOLDER_FIRST = mostly(FOLDER, st.one_of(FILE, st.builds(Missing, FILE_NAMES)))
OUT_KINDS = ("new", "nested", "existing folder", "existing file", "odd name", "empty", "relative", "dot", "csv")
OUT = st.builds(Out, st.sampled_from(OUT_KINDS + ("new", "csv", "odd name")))  # half of them usable
NUMBERS = itertools.count()


def materialize(item, root: Path) -> str:
    """The argv string for one drawn item; files and folders are written under ``root``."""
    if isinstance(item, str):
        return item
    if isinstance(item, Out):
        (root / "existing").mkdir(exist_ok=True)
        (root / "taken.txt").write_text("already here\n")
        return {
            "new": str(root / "out"),
            "nested": str(root / "a" / "b" / "out.csv"),
            "existing folder": str(root / "existing"),
            "existing file": str(root / "taken.txt"),
            "odd name": str(root / "out \U0001f40d\u202e\u0301"),
            "empty": "",
            "relative": "rel/out.csv",
            "dot": ".",
            "csv": str(root / "map.csv"),
        }[item.kind]
    path = root / "in" / str(next(NUMBERS)) / item.name  # each item in a folder of its own: names may repeat
    path.parent.mkdir(parents=True, exist_ok=True)
    write(item, path)
    return str(path)


def write(item, path: Path) -> None:
    if isinstance(item, File):
        path.write_bytes(item.data)
    elif isinstance(item, Folder):
        path.mkdir(parents=True, exist_ok=True)
        for child in item.items:
            write(child, path / child.name)


# ---------------------------------------------------------------------------------------------- the verbs

PATH_DESTS = {"file", "src", "ref", "batch", "vectors", "files", "images"}
FOLDER_DESTS = {"data_dir", "images"}  # --images is a folder where it is an option, files where positional
SMALL_N = st.one_of(st.integers(-3, 4).map(str), st.sampled_from(["0", "1025", "1001", str(10**9), str(-(2**63))]))
OVERRIDES = {  # (verb, dest): (always given, values): keeps the expensive valid values out, validation in
    ("maps project", "n"): (True, mostly(st.integers(1, 60).map(str), st.sampled_from(["0", "-3", str(-(2**63))]))),
    ("vae sample", "n"): (False, st.one_of(SMALL_N, st.sampled_from(NOT_INTS))),
    ("digits evaluate", "data_dir"): (True, FOLDER_FIRST),  # MNIST's 10,000 test images: tests/test_digits.py
    ("names train", "seconds"): (True, st.sampled_from(["1", "0", "-1", "0.5", "nan", "inf", "3601", "1e9", "x"])),
    ("names train", "threads"): (False, st.sampled_from(["1", "0", "-1", "x", ""])),  # 10**9 threads: not here
    # the published counts take minutes a model (the cards hold those figures): small counts, the same checks
    ("sprites metrics", "points"): (True, mostly(st.integers(100, 400).map(str), st.sampled_from(["99", "0", "x"]))),
    ("sprites metrics", "votes"): (True, mostly(st.integers(2, 40).map(str), st.sampled_from(["1", "10001", "-3"]))),
}


@functools.cache
def verb_parsers() -> dict[str, argparse.ArgumentParser]:
    """``"demo verb"`` (or ``"list"``) -> its parser, for every verb but ``serve``."""
    from gallery.__main__ import parser

    demos = next(a for a in parser()._actions if a.dest == "demo").choices
    found = {"list": demos["list"]}
    for demo, sub in demos.items():
        for action in sub._actions:
            if action.dest == "verb":
                found.update({f"{demo} {verb}": p for verb, p in action.choices.items()})
    return found


def value_strategy(verb: str, action: argparse.Action):
    if (verb, action.dest) in OVERRIDES:
        return OVERRIDES[verb, action.dest][1]
    if action.dest == "out":
        return OUT
    if action.dest in FOLDER_DESTS and action.option_strings:
        return FOLDER_FIRST
    if action.dest in PATH_DESTS or action.type is Path:
        return PATH
    if action.choices is not None:
        return mostly(st.sampled_from([str(c) for c in action.choices]), TEXT)
    if action.type is int:
        return INT
    if action.type is float:
        return FLOAT
    return TEXT


def given_option(verb: str, action: argparse.Action):
    """The argv items of an option that is there: its flag (any of its spellings) and its value(s)."""
    value = value_strategy(verb, action)
    flag = st.sampled_from(action.option_strings)
    if action.nargs == 0:  # store_true
        return flag.map(lambda f: [f])
    values = st.lists(value, min_size=1, max_size=3) if action.nargs == "+" else value.map(lambda v: [v])
    return st.tuples(flag, values).map(lambda fv: [fv[0], *fv[1]])


def action_strategy(verb: str, action: argparse.Action):
    """The argv items (strings, or files to write) for one argument: maybe absent, maybe repeated."""
    if not action.option_strings:  # positional
        value = value_strategy(verb, action)
        if action.nargs in ("+", "*"):
            return st.lists(value, min_size=1 if action.nargs == "+" else 0, max_size=3)
        return value.map(lambda v: [v])
    if isinstance(action, argparse._AppendAction):
        return st.lists(given_option(verb, action), max_size=2).map(lambda parts: [x for part in parts for x in part])
    required = action.required or OVERRIDES.get((verb, action.dest), (False,))[0]
    if required:
        return given_option(verb, action)
    return st.integers(0, 2).flatmap(lambda i: given_option(verb, action) if i == 1 else st.just([]))  # a third


def flatten(parts) -> list:
    return [x for part in parts for x in part]


def arguments(verb: str, parser: argparse.ArgumentParser):
    """A verb's argv after ``demo verb``. Options of a mutually exclusive group come mostly one at a time."""
    grouped = {a for g in parser._mutually_exclusive_groups for a in g._group_actions}
    parts = [
        action_strategy(verb, a)
        for a in parser._actions
        if not isinstance(a, argparse._HelpAction) and a not in grouped
    ]
    for group in parser._mutually_exclusive_groups:
        members = group._group_actions
        one = st.sampled_from(members).flatmap(lambda a: given_option(verb, a))
        parts.append(mostly(one, st.tuples(*(action_strategy(verb, a) for a in members)).map(flatten)))
    return st.tuples(*parts).map(flatten)


# The documented output of each verb (its --help and its module's docstring); a new verb needs a line here.
def rows(*keys, alt=("file", "error")):
    def check(body):
        return isinstance(body, list) and all(
            isinstance(r, dict) and (set(keys) <= r.keys() or set(alt) <= r.keys()) for r in body
        )

    return check


def keys(*names, also=lambda body: True):
    return lambda body: isinstance(body, dict) and set(names) <= body.keys() and also(body)


def neighbours(body) -> bool:
    if isinstance(body, dict):  # --batch: one answer per line
        return all(rows("word", "score")(v) or (isinstance(v, dict) and "error" in v) for v in body.values())
    return rows("word", "score")(body)


SHAPES = {
    "list": rows("artifact", "ok"),
    "names sample": rows("name", "nll_per_char"),
    "names score": lambda body: (
        rows("name", "nll_per_char", alt=("name", "error"))(body) or keys("nats_per_char", "scored")(body)
    ),  # --words FILE: one total for the list
    "names train": keys("model_dir", "items", "validation_nats_per_char", "steps"),
    "essays generate": keys("text", "prompt", "note", "precision"),
    "essays score": keys("chars", "nats_per_char", "bits_per_char", "total_nats"),
    "essays cells": keys("features", "chars", "note"),
    "essays activations": keys("values", "layer", "cell", "note"),
    "skills neighbors": neighbours,
    "skills similarity": keys("similarity"),
    "vae sample": keys("model", "seed", "temperature", "density", "files", also=lambda b: rows("path")(b["files"])),
    "vae score": keys("n", "mse_per_pixel", "neg_elbo_nats", "model", "note"),
    "vae edit": keys("model", "attribute", "amount", "files", also=lambda b: rows("source", "path")(b["files"])),
    "digits predict": rows("file", "label", "probs"),
    "digits cluster": rows("file", "cluster", "confidence", "digit"),
    "digits evaluate": rows("model", "test_accuracy", "test_images"),
    "text classify": rows("category", "probability"),
    "text leaderboard": rows("model", "accuracy"),
    "maps project": keys("n", "trustworthiness", "knn_overlap", "seconds", "out"),
    "translate sentence": keys(
        "translation", "src_tokens", "tgt_tokens", "notes", also=lambda b: "attention" in b or "context_vector" in b
    ),
    "translate file": lambda body: isinstance(body, list) and all(isinstance(t, str) for t in body),
    "translate bleu": keys("bleu", "chrf", "n", "signature"),
    "sprites render": keys("shape", "scale", "orientation", "x", "y", "path", "pixels_on"),
    "sprites sample": keys("n", "seed", "out", "factors"),
    "sprites encode": keys(
        "model", "latents", "n", "note", "files", also=lambda b: rows("file", "mean", "logvar")(b["files"])
    ),
    "sprites traverse": keys(
        "model", "latent", "code", "values", "files", also=lambda b: rows("value", "path")(b["files"])
    ),
    "sprites metrics": keys("model", "mig", "factorvae_score", "mi_matrix", "reconstruction_nll", "kl_total", "counts"),
}
VERBS = sorted(verb_parsers())


def strict_json(text: str):
    """JSON as the standard has it: NaN and Infinity are not JSON."""

    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def run_main(argv: list[str]) -> tuple[int, str, str]:
    """``python -m gallery *argv`` in this process: (exit status, stdout, stderr). Any exception escaping ``main``
    is what a user would see as a traceback, so it is left to fail the example."""
    from gallery.__main__ import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit_:
            code = exit_.code
    return code, out.getvalue(), err.getvalue()


LOADERS = [
    ("gallery.names.model", "load"),
    ("gallery.essays.model", "load"),
    ("gallery.skills.cli", "load"),
    ("gallery.vae.model", "load"),
    ("gallery.digits.models", "load"),
    ("gallery.digits.n2d", "load"),
    ("gallery.digits.cluster", "load"),
    ("gallery.digits.data", "load"),
    ("gallery.text.classify", "load"),
    ("gallery.maps.data", "load_map"),
    ("gallery.translate.translator", "load"),
]


@pytest.fixture(scope="module")
def fuzz_env(tmp_path_factory):
    """The write log, cached artifact loaders, one torch thread, a folder for the examples, a cache in it."""
    import torch

    from tests.test_bad_input import WriteLog

    patch = pytest.MonkeyPatch()
    for module_name, attr in LOADERS:
        module = importlib.import_module(module_name)
        if callable(getattr(module, attr, None)):
            patch.setattr(module, attr, functools.cache(getattr(module, attr)))
    base = tmp_path_factory.mktemp("fuzz")
    patch.setenv("GALLERY_CACHE", str(base / "cache"))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield WriteLog(), base
    torch.set_num_threads(threads)
    patch.undo()


def test_every_verb_has_a_documented_shape():
    assert set(VERBS) == set(SHAPES), sorted(set(VERBS) ^ set(SHAPES))


@pytest.mark.parametrize("verb", VERBS)
@given(data=st.data())
def test_verb(fuzz_env, verb, data):
    writes, base = fuzz_env
    drawn = data.draw(arguments(verb, verb_parsers()[verb]), label="arguments")
    root = Path(tempfile.mkdtemp(dir=base))
    here = os.getcwd()
    try:
        argv = [*verb.split(), *(materialize(item, root) for item in drawn)]
        os.chdir(root)  # relative paths (--out rel/out.csv) land in the example's folder
        writes.paths.clear()
        writes.on = True
        try:
            code, out, err = run_main(argv)
        finally:
            writes.on = False
            outside = writes.outside([Path(os.path.realpath(tempfile.gettempdir()))])  # relative to the example
            os.chdir(here)
        event(f"exit {code}")  # the share of examples that got through to a result: --hypothesis-show-statistics
        assert "Traceback" not in err, err[-2000:]
        body = strict_json(out)  # one JSON document on stdout, whatever happened
        if code == 1:
            assert isinstance(body, dict) and isinstance(body.get("error"), str) and body["error"], out[:500]
        else:
            assert code == 0, (code, out[:500])
            assert SHAPES[verb](body), f"not the documented shape: {out[:500]}"
        assert not outside, f"written outside the temporary folder: {outside}"
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- binary files

TEXT_READERS = {  # every verb that reads a text file, and how it names the file in its messages
    "essays score": (["essays", "score", "--file"], "{path}"),
    "essays cells": (["essays", "cells", "--file"], "{path}"),
    "translate file": (["translate", "file", "--src"], "source file {path}"),
    "translate bleu": (["translate", "bleu", "--ref", str(ROOT / "README.md"), "--src"], "source file {path}"),
    "text classify": (["text", "classify", "--file"], "{path}"),
    "skills neighbors": (["skills", "neighbors", "--batch"], "{path}"),
}


@st.composite
def binary(draw) -> bytes:
    """Bytes no one would call text: random (with a NUL somewhere), or text shot through with control bytes."""
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    if draw(st.booleans()):
        data = bytearray(rng.randbytes(draw(st.sampled_from([64, 1000, 20_000]))))
        data[rng.randrange(len(data))] = 0
        return bytes(data)
    text = bytearray((RESUME * 3).encode())
    for _ in range(len(text) // 10):
        text[rng.randrange(len(text))] = rng.choice(textinput._CONTROLS)
    return bytes(text)


@given(st.one_of(st.binary(max_size=3000), SHORT_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))))
def test_the_text_reader_returns_the_text_or_says_why(data):
    try:
        text = textinput.decode("notes.txt", data)
    except textinput.NotText as err:
        assert str(err).startswith("notes.txt ")
    else:
        assert text.encode("utf-8") == data.removeprefix(b"\xef\xbb\xbf")  # the bytes, decoded, nothing lost


@given(st.text(st.characters(exclude_categories=["Cs", "Cc"]) | st.sampled_from("\n\t\r"), min_size=1))
def test_utf8_text_comes_back_as_it_was(text):
    text = "x" + text  # a leading BOM would be dropped, as it should
    assert textinput.decode("notes.txt", text.encode()) == text
    assert textinput.check_pasted(text) == text


@pytest.mark.parametrize("verb", sorted(TEXT_READERS))
@given(data=binary(), suffix=st.sampled_from(["", ".txt", ".bin", ".md", ".de"]))
def test_binary_files_are_refused_with_the_one_message(fuzz_env, verb, data, suffix):
    _, base = fuzz_env
    argv, name = TEXT_READERS[verb]
    root = Path(tempfile.mkdtemp(dir=base))
    try:
        path = root / f"input{suffix}"
        path.write_bytes(data)
        code, out, err = run_main([*argv, str(path)])
        assert code == 1 and json.loads(out) == {"error": textinput.binary_message(name.format(path=path))}, out
    finally:
        shutil.rmtree(root, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- the pages

PAGES = sorted(p.name for p in (ROOT / "pages").glob("*.py"))


def screens(page: str) -> list[tuple]:
    """The page's first screen, and each screen the bad-input table opens to reach its other inputs."""
    from tests.test_bad_input import INPUTS

    return [(), *dict.fromkeys(i.setup for i in INPUTS if i.page == page and i.setup)]


class LogTracebacks(logging.Handler):
    """Log records that carry a traceback, from Streamlit's loggers and the root logger."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.found: list[str] = []

    def emit(self, record):
        text = record.getMessage()
        if record.exc_info or "Traceback" in text:
            self.found.append(f"{record.name}: {text[:300]} {record.exc_info and record.exc_info[1]!r}")

    @contextlib.contextmanager
    def watching(self):
        loggers = [logging.getLogger(), logging.getLogger("streamlit")]
        for logger in loggers:
            logger.addHandler(self)
        try:
            yield self
        finally:
            for logger in loggers:
                logger.removeHandler(self)


def open_screen(page: str, setup: tuple):
    from streamlit.testing.v1 import AppTest

    from tests.test_bad_input import submit

    at = AppTest.from_file(str(ROOT / "pages" / page), default_timeout=TIMEOUT).run()
    for kind, key, value in setup:
        if kind == "tab":  # a tab built only while open: open it by its key
            at.session_state[key] = value
        else:
            submit(at, getattr(at, kind)(key=key).set_value(value))
        at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def fields(at) -> list[tuple[str, object]]:
    found = [
        (kind, w) for kind in ("text_input", "text_area", "number_input", "file_uploader") for w in getattr(at, kind)
    ]
    return found + [("typed_option", w) for w in at.selectbox if w.proto.accept_new_options]


def number(w):
    p = w.proto
    lo = p.min if p.has_min else -(2**53)
    hi = p.max if p.has_max else 2**53
    if p.data_type == p.DataType.INT:  # a browser sends integers here (NaN would crash Streamlit's deserialiser)
        lo, hi = int(lo), int(hi)
        edges = [lo, hi, lo - 1, hi + 1, 0, -(2**53), 2**53]
        return st.one_of(st.integers(max(lo - 5, -(2**53)), min(hi + 5, 2**53)), st.sampled_from(edges))
    return st.one_of(st.floats(lo, hi), st.floats(allow_nan=True, allow_infinity=True), st.sampled_from([lo, hi, 0.0]))


MIME = st.sampled_from(["text/plain", "application/pdf", "image/png", "image/jpeg", "application/octet-stream", ""])


def upload(w):
    """Any content under a name of an allowed type (Streamlit itself refuses other types before the page runs)."""
    allowed = [f".{t.lstrip('.')}" for t in w.allowed_type] or SUFFIXES
    name = st.builds(lambda s, x: s + x, st.sampled_from(STEMS), st.sampled_from(allowed))
    one = st.tuples(name, contents(), MIME)
    return st.lists(one, min_size=1, max_size=3) if w.accept_multiple_files else one


def fill(at, kind: str, w, value) -> None:
    from tests.test_bad_input import submit

    if kind == "typed_option":  # a visitor types a new option
        if value not in w.options:
            w.options.append(value)
    w.set_value(value)
    submit(at, w)


@pytest.mark.parametrize("page", PAGES)
@settings(max_examples=PAGE_EXAMPLES)
@given(data=st.data())
def test_page(fuzz_env, page, data):
    setup = data.draw(st.sampled_from(screens(page)), label="screen")
    at = open_screen(page, setup)
    found = fields(at)
    if not found:
        return  # nothing to type into on this screen (the skills page's first screen has only selectboxes)
    chosen = [f for f in found if data.draw(st.booleans(), label=f"fill {f[1].key or f[1].label}")] or found[:1]
    for kind, w in chosen:
        strategy = {"number_input": number, "file_uploader": upload}.get(kind, lambda w: PAGE_TEXT)(w)
        fill(at, kind, w, data.draw(strategy, label=f"{kind} {w.key or w.label}"))
    with LogTracebacks().watching() as log:
        at.run()
    event("message shown" if at.error or at.warning or at.info else "no message")
    assert not at.exception, [e.value for e in at.exception]
    assert not log.found, log.found
    shown = [e.value for kind in ("error", "warning", "info") for e in getattr(at, kind)]
    assert not any("Traceback" in str(m) for m in shown), shown
