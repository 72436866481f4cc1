"""``python -m gallery names ...``: sample and score names."""

from __future__ import annotations

import math

from gallery.names import data, model


def cmd_sample(args):
    if not math.isfinite(args.temperature):
        raise ValueError("--temperature must be a finite number above 0.")
    if args.top_k < 0:
        raise ValueError("--top-k must be 0 (off) or a positive number of letters.")
    m = model.load(f"names-{args.model}")
    return model.sample(
        m,
        n=args.n,
        gender=args.gender,
        prefix=args.prefix,
        temperature=args.temperature,
        top_k=args.top_k,
        max_len=args.max_len,
        seed=args.seed,
    )


def cmd_score(args):
    m = model.load(f"names-{args.model}")
    rows = []
    for raw in args.names:
        cleaned = data.clean_name(raw)
        if cleaned is None:
            rows.append(
                {
                    "name": raw,
                    "gender": args.gender,
                    "error": f"no usable given name (letters a-z, {data.MIN_LEN}-{data.MAX_LEN} long)",
                }
            )
            continue
        [nll] = model.score(m, [cleaned], [args.gender])
        rows.append({"name": raw, "cleaned": cleaned, "gender": args.gender, "nll_per_char": round(nll, 4)})
    return rows


def register(demos) -> None:
    """Add the ``names`` verbs to the dispatcher's subparsers."""
    names = demos.add_parser("names", help="Indian name generator").add_subparsers(dest="verb", required=True)
    s = names.add_parser("sample", help="sample names")
    s.add_argument("--gender", choices=["female", "male", "either"], default="either")
    s.add_argument("--prefix", default="")
    s.add_argument("-n", type=int, default=10)
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--top-k", type=int, default=0)
    s.add_argument("--max-len", type=int, default=20)
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(run=cmd_sample)
    s = names.add_parser("score", help="nats per character of names")
    s.add_argument("--gender", choices=["female", "male"], required=True)
    s.add_argument("names", nargs="+")
    s.set_defaults(run=cmd_score)
    for sub in names.choices.values():
        sub.add_argument("--model", choices=list(model.MODELS), default="gru")
