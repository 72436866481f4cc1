"""``python -m gallery skills ...``: neighbours and similarity of job skills.

python -m gallery skills neighbors --model fasttext --backend faiss --approx --topn 10 php
python -m gallery skills neighbors "machine learning" --negative python
python -m gallery skills neighbors --batch queries.txt          # one query per line: "php" or "seo, sem"
python -m gallery skills similarity php laravel
python -m gallery skills neighbors --vectors glove.magnitude --backend magnitude --approx python
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from gallery import textinput
from gallery.skills import search
from gallery.skills.model import MODELS, load, load_magnitude
from gallery.skills.vectors import UnknownSkill

MAX_TOPN = 1000
MAX_BATCH_BYTES = 1_000_000  # a batch file of queries, one per line


class Exit(Exception):
    """An error that prints its JSON payload and exits 1."""

    def __init__(self, payload: dict):
        self.payload = payload
        super().__init__(json.dumps(payload))


def open_model(args):
    if args.vectors:
        return load_magnitude(Path(args.vectors))
    return load(args.model)


def query(model, backend, positive: list[str], negative: list[str], topn: int) -> list[dict]:
    """gensim's most_similar through any backend: the inputs themselves are left out of the answer."""
    vector, found = model.vectors.combine(positive, negative)
    inputs = {f.token for f in found}
    hits = backend.neighbors(vector, topn + len(inputs))
    return [{"word": w, "score": round(s, 4)} for w, s in hits if w not in inputs][:topn]


def unknown(err: UnknownSkill) -> dict:
    return {"error": str(err), "suggestions": err.suggestions}


def cmd_neighbors(args):
    if not 1 <= args.topn <= MAX_TOPN:
        raise ValueError(f"--topn must be between 1 and {MAX_TOPN}.")
    model = open_model(args)
    backend = model.backend(args.backend, args.approx)
    if args.batch:
        return batch(model, backend, Path(args.batch), args.topn)
    if not args.skills:
        raise ValueError("Give at least one skill (or --batch FILE).")
    try:
        return query(model, backend, args.skills, args.negative, args.topn)
    except UnknownSkill as err:
        raise Exit(unknown(err)) from err


def batch(model, backend, path: Path, topn: int) -> dict:
    lines = textinput.read_file(path, MAX_BATCH_BYTES).splitlines()  # binary, not UTF-8, empty or huge: refused
    out = {}
    for line in filter(str.strip, lines):
        skills = [s.strip() for s in line.split(",") if s.strip()]
        try:
            out[line] = query(model, backend, skills, [], topn)
        except UnknownSkill as err:
            out[line] = unknown(err)
        except ValueError as err:
            out[line] = {"error": str(err), "suggestions": []}
    return out


def cmd_similarity(args):
    model = open_model(args)
    try:
        return {"similarity": round(model.vectors.similarity(args.a, args.b), 4)}
    except UnknownSkill as err:
        raise Exit(unknown(err)) from err


def run_or_exit(fn):
    """Unknown skills print {"error", "suggestions"} and exit 1 (the dispatcher handles plain errors)."""

    def wrapped(args):
        try:
            return fn(args)
        except Exit as err:
            print(json.dumps(err.payload, ensure_ascii=False))
            sys.exit(1)

    return wrapped


def register(demos) -> None:
    skills = demos.add_parser("skills", help="skill neighbours").add_subparsers(dest="verb", required=True)
    s = skills.add_parser("neighbors", help="nearest skills (several combine as gensim's most_similar)")
    s.add_argument("skills", nargs="*", help='skills; a phrase may contain spaces ("machine learning")')
    s.add_argument("--negative", nargs="+", default=[], metavar="SKILL")
    s.add_argument("--backend", choices=search.BACKENDS, default="exact")
    s.add_argument("--approx", action="store_true", help="approximate search (Faiss HNSW; Annoy for Magnitude)")
    s.add_argument("--topn", type=int, default=10)
    s.add_argument("--batch", metavar="FILE", help="one query per line; commas separate several skills")
    s.set_defaults(run=run_or_exit(cmd_neighbors))
    s = skills.add_parser("similarity", help="cosine similarity of two skills")
    s.add_argument("a")
    s.add_argument("b")
    s.set_defaults(run=run_or_exit(cmd_similarity))
    for sub in skills.choices.values():
        sub.add_argument("--model", choices=MODELS, default="glove", help="default: glove, the best on the card")
        sub.add_argument("--vectors", metavar="PATH", help="a .magnitude file (light, medium or heavy) instead")
