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
    if not 0 < args.top_p <= 1:
        raise ValueError("--top-p must be above 0 and at most 1 (1 = off).")
    m = model.load(precision=args.precision)
    prompt = model.prepare_prompt(args.prompt, m.vocab)
    if args.length > model.MAX_LENGTH:
        prompt.note = f"{prompt.note} Length capped at {model.MAX_LENGTH} characters.".strip()
    text = model.generate(
        m,
        prompt.text,
        length=args.length,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        seed=args.seed,
    )
    return {"text": text, "prompt": prompt.text, "note": prompt.note, "precision": m.precision}


def cmd_score(args):
    text = textinput.read_file(args.file, MAX_SCORE_BYTES)  # binary, not UTF-8, empty or huge: refused
    return model.score(model.load(), text, per_char=args.per_char)


def _reading(args):
    from gallery.essays import cells

    text = textinput.read_file(args.file, 4 * cells.MAX_CHARS)
    m = model.load()
    reading = cells.read(m.net, m.vocab, text)
    return cells, reading


def cmd_cells(args):
    from gallery.essays import features

    if args.top < 1:
        raise ValueError("--top must be at least 1.")
    if args.feature and args.feature not in features.FEATURES:
        raise ValueError(f"Unknown feature {args.feature!r}: choose one of {', '.join(features.FEATURES)}.")
    cells, reading = _reading(args)
    names = [args.feature] if args.feature else None
    found = features.best_cells(reading.trace.cells, reading.text, top=args.top, names=names)
    if args.top == 1:
        found = {k: v[0] if isinstance(v, list) else v for k, v in found.items()}
    return {"features": found, "chars": len(reading.text), "note": cells.mapping_note(reading.aligned)}


def cmd_activations(args):
    cells, reading = _reading(args)
    return {
        "layer": args.layer,
        "cell": args.cell,
        "activation": "tanh(c), the cell state after each character",
        "values": cells.values_per_char(reading, args.layer, args.cell),
        "note": cells.mapping_note(reading.aligned),
    }


def register(demos) -> None:
    """Add the ``essays`` verbs to the dispatcher's subparsers."""
    essays = demos.add_parser("essays", help="Paul Graham essay generator").add_subparsers(dest="verb", required=True)
    s = essays.add_parser("generate", help="continue a prompt")
    s.add_argument("--prompt", default="")
    s.add_argument("--length", type=int, default=300)
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--top-k", type=int, default=0)
    s.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling: 1 = off")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "--precision", default="auto", help="weights while generating: auto, bfloat16, float16, int8 or float32"
    )
    s.set_defaults(run=cmd_generate)
    s = essays.add_parser("score", help="nats and bits per character of a text file")
    s.add_argument("--file", required=True)
    s.add_argument("--per-char", action="store_true", help="each character's nats and rank too")
    s.set_defaults(run=cmd_score)
    s = essays.add_parser("cells", help="the LSTM cells that best track named features of a text")
    s.add_argument("--file", required=True)
    s.add_argument("--feature", default=None, help="one feature (default: all)")
    s.add_argument("--top", type=int, default=1, help="cells per feature, best first")
    s.set_defaults(run=cmd_cells)
    s = essays.add_parser("activations", help="one cell's activation after each character of a text")
    s.add_argument("--file", required=True)
    s.add_argument("--layer", type=int, required=True, help="1-based")
    s.add_argument("--cell", type=int, required=True, help="0-based")
    s.set_defaults(run=cmd_activations)
