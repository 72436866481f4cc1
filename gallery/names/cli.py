"""``python -m gallery names ...``: sample and score names; train a model on your own list.

``--model`` takes a built-in model (gru, rnn, bigram) or a folder written by ``names train`` (or the page's
download, as the .zip or unzipped).
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

from gallery.names import data, model


def load_model(name: str) -> model.NameModel:
    if name in model.MODELS:
        return model.load(f"names-{name}")
    from gallery.names import own

    return own.load_dir(Path(name))


def cmd_sample(args):
    if not math.isfinite(args.temperature):
        raise ValueError("--temperature must be a finite number above 0.")
    if args.top_k < 0:
        raise ValueError("--top-k must be 0 (off) or a positive number of letters.")
    m = load_model(args.model)
    return model.sample(
        m,
        n=args.n,
        gender=args.label or "either",
        prefix=args.prefix,
        temperature=args.temperature,
        top_k=args.top_k,
        max_len=args.max_len,
        seed=args.seed,
    )


def cmd_score(args):
    m = load_model(args.model)
    if args.words is not None:
        if args.names:
            raise ValueError("Give either --words FILE or names to score, not both.")
        from gallery.names import own

        return own.score_file(m, args.words, args.label)
    if not args.names:
        raise ValueError("Give names to score, or --words FILE.")
    if not m.own:
        return score_builtin(m, args)
    label = args.label
    if not m.labelled:
        label = ""
    elif label not in m.labels:
        raise ValueError(f"This model conditions on a label: pass --label, one of {', '.join(map(repr, m.labels))}.")
    rows = []
    for raw in args.names:
        text = model.normalise(m, raw)
        bad = [c for c in dict.fromkeys(text) if c not in m.vocab or m.vocab.index[c] == model.END]
        if not text or bad:
            why = "empty" if not text else f"characters the model never saw: {', '.join(map(repr, bad[:10]))}"
            rows.append({"name": raw, "label": label or None, "error": why})
            continue
        [nll] = model.score(m, [text], [label])
        rows.append({"name": raw, "label": label or None, "nll_per_char": round(nll, 4)})
    return rows


def score_builtin(m, args):
    gender = args.label
    if gender not in data.GENDERS:
        raise ValueError("--gender is required for the built-in models: female or male.")
    rows = []
    for raw in args.names:
        cleaned = data.clean_name(raw)
        if cleaned is None:
            rows.append(
                {
                    "name": raw,
                    "gender": gender,
                    "error": f"no usable given name (letters a-z, {data.MIN_LEN}-{data.MAX_LEN} long)",
                }
            )
            continue
        [nll] = model.score(m, [cleaned], [gender])
        rows.append({"name": raw, "cleaned": cleaned, "gender": gender, "nll_per_char": round(nll, 4)})
    return rows


def cmd_train(args):
    from gallery.names import own

    if not (math.isfinite(args.seconds) and own.MIN_SECONDS <= args.seconds <= own.MAX_SECONDS):
        raise ValueError(f"--seconds must be between {own.MIN_SECONDS} and {own.MAX_SECONDS}.")
    if not 1 <= args.threads <= (os.cpu_count() or 1):
        raise ValueError(f"--threads must be between 1 and this machine's {os.cpu_count() or 1} cores.")
    out = own.check_out_dir(args.out)
    items = own.read_list(own.read_file(args.words), str(args.words))
    import torch

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    trained = own.train(items, args.model, args.seconds, args.seed)
    trained.card["train_command"] = (
        f"python -m gallery names train --words {args.words} --out {out} --model {args.model} "
        f"--seconds {args.seconds:g} --seed {args.seed} --threads {args.threads}"
    )
    trained.save(out)
    m, split = trained.card["metrics"], trained.card["data"]["split"]
    return {
        "model_dir": str(out),
        "items": items.items,
        "train_items": split["train"],
        "validation_items": split["validation"],
        "validation_nats_per_char": m["validation_nll_per_char"],
        "bigram_nats_per_char": m["bigram_validation_nll_per_char"],
        "steps": trained.card["steps"],
        "seconds": round(time.perf_counter() - start, 1),
        "novel_fraction": m["novel_fraction"],
        "skipped_lines": items.skipped,
    }


def register(demos) -> None:
    """Add the ``names`` verbs to the dispatcher's subparsers."""
    names = demos.add_parser("names", help="name generator").add_subparsers(dest="verb", required=True)
    model_help = "gru (default), rnn, bigram, or a folder written by `names train`"
    label_help = "the label to condition on: female, male (or either, when sampling) for the built-in models"
    s = names.add_parser("sample", help="sample names")
    s.add_argument("--gender", "--label", dest="label", default=None, help=label_help)
    s.add_argument("--prefix", default="")
    s.add_argument("-n", type=int, default=10)
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--top-k", type=int, default=0)
    s.add_argument("--max-len", type=int, default=None, help="default: the model's longest (20 for the built-in)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--model", default=model.MODELS[0], help=model_help)
    s.set_defaults(run=cmd_sample)
    s = names.add_parser("score", help="nats per character of names, or of a whole list (--words)")
    s.add_argument("--gender", "--label", dest="label", default=None, help=label_help)
    s.add_argument("--words", type=Path, default=None, help="a file, one item per line: one total for the list")
    s.add_argument("names", nargs="*")
    s.add_argument("--model", default=model.MODELS[0], help=model_help)
    s.set_defaults(run=cmd_score)
    s = names.add_parser("train", help="train a name model on your own list (one item per line)")
    s.add_argument("--words", type=Path, required=True, help="UTF-8 text, one item per line; optional TAB label")
    s.add_argument("--out", type=Path, required=True, help="a new folder (or one written by `names train` before)")
    s.add_argument("--model", choices=["bigram", "rnn", "gru"], default="gru")
    s.add_argument("--seconds", type=float, default=60, help="time budget (1 to 3600; early stopping may end sooner)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    s.set_defaults(run=cmd_train)
