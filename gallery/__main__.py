"""Command line: ``python -m gallery <demo> <verb> ...`` prints JSON.

    python -m gallery list
    python -m gallery names sample --gender female --prefix ra -n 20 --temperature 0.8 --seed 0
    python -m gallery names score --gender male ravi priya
    python -m gallery essays generate --prompt "How to start" --length 300 --temperature 0.8 --seed 0
    python -m gallery essays score --file essay.txt

Errors print ``{"error": "..."}`` and exit with status 1.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from gallery.registry import ArtifactError, check_artifact, list_artifacts


def cmd_list(args):
    rows = []
    for name in list_artifacts():
        try:
            check_artifact(name)
            rows.append({"artifact": name, "ok": True})
        except ArtifactError as err:
            rows.append({"artifact": name, "ok": False, "error": str(err)})
    return rows


def cmd_names_sample(args):
    from gallery.names import model

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


def cmd_names_score(args):
    from gallery.names import data, model

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


def cmd_essays_generate(args):
    from gallery.essays import model

    if args.length < 1:
        raise ValueError("--length must be at least 1 character.")
    m = model.load()
    prompt = model.prepare_prompt(args.prompt, m.vocab)
    if args.length > model.MAX_LENGTH:
        prompt.note = f"{prompt.note} Length capped at {model.MAX_LENGTH} characters.".strip()
    text = model.generate(
        m, prompt.text, length=args.length, temperature=args.temperature, top_k=args.top_k, seed=args.seed
    )
    return {"text": text, "prompt": prompt.text, "note": prompt.note}


def cmd_essays_score(args):
    from gallery.essays import model

    try:
        text = Path(args.file).read_text(encoding="utf-8", errors="replace")
    except OSError as err:
        raise ValueError(f"cannot read {args.file}: {err.strerror}") from err
    return model.score(model.load(), text)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m gallery", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    demos = p.add_subparsers(dest="demo", required=True)
    demos.add_parser("list", help="artifacts and whether they are intact").set_defaults(run=cmd_list)

    names = demos.add_parser("names", help="Indian name generator").add_subparsers(dest="verb", required=True)
    s = names.add_parser("sample", help="sample names")
    s.add_argument("--gender", choices=["female", "male", "either"], default="either")
    s.add_argument("--prefix", default="")
    s.add_argument("-n", type=int, default=10)
    s.add_argument("--temperature", type=float, default=1.0)
    s.add_argument("--top-k", type=int, default=0)
    s.add_argument("--max-len", type=int, default=20)
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(run=cmd_names_sample)
    s = names.add_parser("score", help="nats per character of names")
    s.add_argument("--gender", choices=["female", "male"], required=True)
    s.add_argument("names", nargs="+")
    s.set_defaults(run=cmd_names_score)
    for sub in names.choices.values():
        sub.add_argument("--model", choices=["gru", "rnn", "bigram"], default="gru")

    essays = demos.add_parser("essays", help="Paul Graham essay generator").add_subparsers(dest="verb", required=True)
    s = essays.add_parser("generate", help="continue a prompt")
    s.add_argument("--prompt", default="")
    s.add_argument("--length", type=int, default=300)
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--top-k", type=int, default=0)
    s.add_argument("--seed", type=int, default=0)
    s.set_defaults(run=cmd_essays_generate)
    s = essays.add_parser("score", help="nats and bits per character of a text file")
    s.add_argument("--file", required=True)
    s.set_defaults(run=cmd_essays_score)
    return p


def main(argv=None) -> int:
    args = parser().parse_args(argv)
    try:
        result = args.run(args)
    except (ArtifactError, ValueError) as err:
        print(json.dumps({"error": str(err)}))
        return 1
    print(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
