"""``python -m gallery text ...``: classify a résumé file, print the leaderboard."""

from __future__ import annotations

from gallery import textinput
from gallery.text import classify, models, resumes


def cmd_classify(args):
    data = textinput.read_bytes(args.file, resumes.MAX_UPLOAD_BYTES)  # missing, a folder, empty or huge: refused
    text = resumes.read_upload(args.file, data)  # a PDF, or text: binary or not UTF-8 refused
    return classify.load().predict(text, args.model, top=args.top)


def cmd_leaderboard(args):
    return classify.load().leaderboard()


def register(demos) -> None:
    """Add the ``text`` verbs to the dispatcher's subparsers."""
    text = demos.add_parser("text", help="résumé classifiers").add_subparsers(dest="verb", required=True)
    s = text.add_parser("classify", help="top job categories of a résumé (.txt or .pdf)")
    s.add_argument("--file", required=True, help="a .txt or .pdf résumé")
    s.add_argument("--model", choices=list(models.MODELS), default=None, help="default: the leaderboard's best")
    s.add_argument("--top", type=int, default=5, choices=range(1, 26), metavar="1-25")
    s.set_defaults(run=cmd_classify)
    s = text.add_parser("leaderboard", help="cross-validated accuracy of every model (from the card)")
    s.set_defaults(run=cmd_leaderboard)
