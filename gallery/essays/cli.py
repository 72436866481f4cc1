"""``python -m gallery essays ...``: generate and score essays."""

from __future__ import annotations

import math

from gallery import textinput
from gallery.essays import model

MAX_SCORE_BYTES = 3_000_000  # about all of Paul Graham's essays


def cmd_generate(args):
    if args.length < 1:
        raise ValueError("--length must be at least 1 character.")
    if not math.isfinite(args.temperature):
        raise ValueError("--temperature must be a finite number (0 = greedy).")
    m = model.load(precision=args.precision)
    prompt = model.prepare_prompt(args.prompt, m.vocab)
    if args.length > model.MAX_LENGTH:
        prompt.note = f"{prompt.note} Length capped at {model.MAX_LENGTH} characters.".strip()
    text = model.generate(
        m, prompt.text, length=args.length, temperature=args.temperature, top_k=args.top_k, seed=args.seed
    )
    return {"text": text, "prompt": prompt.text, "note": prompt.note, "precision": m.precision}


def cmd_score(args):
    text = textinput.read_file(args.file, MAX_SCORE_BYTES)  # binary, not UTF-8, empty or huge: refused
    return model.score(model.load(), text)


def register(demos) -> None:
    """Add the ``essays`` verbs to the dispatcher's subparsers."""
    essays = demos.add_parser("essays", help="Paul Graham essay generator").add_subparsers(dest="verb", required=True)
    s = essays.add_parser("generate", help="continue a prompt")
    s.add_argument("--prompt", default="")
    s.add_argument("--length", type=int, default=300)
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--top-k", type=int, default=0)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "--precision", default="auto", help="weights while generating: auto, bfloat16, float16, int8 or float32"
    )
    s.set_defaults(run=cmd_generate)
    s = essays.add_parser("score", help="nats and bits per character of a text file")
    s.add_argument("--file", required=True)
    s.set_defaults(run=cmd_score)
