"""``python -m gallery translate ...``: translate a sentence (with its attention), a file, or score a file."""

from __future__ import annotations

from gallery import textinput
from gallery.translate import translator

MAX_LINES = 100_000


def read_sentences(path: str, what: str) -> list[str]:
    """One sentence per line of a plain or .gz file; binary, not UTF-8, empty or huge files are refused."""
    text = textinput.read_file(path, name=f"{what} file {path}")
    lines = [line.strip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    if lines and text.endswith(("\n", "\r")):
        lines.pop()  # the final newline ends the last line; it does not start another
    if not lines:
        raise ValueError(f"{what} file {path} is empty.")
    if len(lines) > MAX_LINES:
        raise ValueError(f"{what} file {path} has {len(lines):,} lines; at most {MAX_LINES:,} are translated at once.")
    return lines


def check_beam(beam: int) -> int:
    if not 1 <= beam <= 20:
        raise ValueError("--beam must be between 1 and 20.")
    return beam


def cmd_sentence(args):
    tr = translator.load(args.model)
    result = translator.translate(tr, args.text, beam=check_beam(args.beam))
    out = {
        "translation": result.text,
        "src_tokens": translator.tokens(tr, result.src_ids),
        "tgt_tokens": translator.tokens(tr, result.out_ids),
        "notes": result.notes,
    }
    if args.model in translator.ATTENDS:
        cross = translator.attention(tr, result)["cross"]  # (layers, heads, T, S)
        out["attention"] = [[round(float(w), 4) for w in row] for row in cross[-1].mean(0)]  # last layer, mean of heads
    else:  # no attention: the one vector the decoder was given
        vectors = translator.context_vector(tr, result)
        out["context_vector"] = {name: v.round(4).tolist() for name, v in vectors.items()}
    return out


def cmd_file(args):
    sentences = read_sentences(args.src, "source")
    tr = translator.load(args.model)
    return translator.translate_many(tr, sentences, beam=check_beam(args.beam))


def cmd_bleu(args):
    from gallery.translate.metrics import bleu_chrf, by_length

    sources, references = read_sentences(args.src, "source"), read_sentences(args.ref, "reference")
    if len(sources) != len(references):
        raise ValueError(f"{len(sources)} source lines but {len(references)} reference lines.")
    tr = translator.load(args.model)
    translations = translator.translate_many(tr, sources, beam=check_beam(args.beam))
    scores = bleu_chrf(translations, references)
    out = {"bleu": scores["bleu"], "chrf": scores["chrf"], "n": scores["n"], "signature": scores["bleu_signature"]}
    if args.by_length:
        out["by_length"] = by_length(sources, translations, references)
    return out


def register(demos) -> None:
    """Add the ``translate`` verbs to the dispatcher's subparsers."""
    verbs = demos.add_parser(
        "translate", help="German-English translation, from seq2seq to the Transformer"
    ).add_subparsers(dest="verb", required=True)
    s = verbs.add_parser("sentence", help="translate one sentence; print tokens and attention")
    s.add_argument("text")
    s.set_defaults(run=cmd_sentence)
    f = verbs.add_parser("file", help="translate one sentence per line (plain or .gz); print a JSON list")
    f.add_argument("--src", required=True)
    f.set_defaults(run=cmd_file)
    b = verbs.add_parser("bleu", help="BLEU and chrF of the translations of --src against --ref")
    b.add_argument("--src", required=True)
    b.add_argument("--ref", required=True)
    b.add_argument(
        "--by-length", action="store_true", help="also BLEU and chrF per German length (1-8, 9-12, 13-16, 17-20, 21+)"
    )
    b.set_defaults(run=cmd_bleu)
    for parser in (s, f, b):
        parser.add_argument("--model", choices=translator.MODELS, default="transformer")
        parser.add_argument("--beam", type=int, default=1, help="1: greedy; more: beam search")
