"""Command line: ``python -m gallery <demo> <verb> ...`` prints JSON.

    python -m gallery list
    python -m gallery names sample --gender female --prefix ra -n 20 --temperature 0.8 --seed 0
    python -m gallery names score --gender male ravi priya
    python -m gallery names train --words my-list.txt --out my-model --seconds 60  # then: names sample --model my-model
    python -m gallery essays generate --prompt "How to start" --length 300 --temperature 0.8 --seed 0
    python -m gallery essays score --file essay.txt
    python -m gallery serve --replicas 2 --port 8080   # runs until Ctrl-C (gallery/serve.py)

Each demo's verbs live in ``gallery/<demo>/cli.py`` (a ``register(subparsers)`` function, listed in
``DEMO_CLIS``); a demo's module is imported only when its verbs are parsed.
Errors, bad arguments included, print ``{"error": "..."}`` and exit with status 1.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys

from gallery import serve
from gallery.registry import ArtifactError, check_artifact, list_artifacts

DEMO_CLIS = ("names", "essays", "skills", "vae", "digits", "text", "maps", "translate", "sprites")  # gallery.<demo>.cli


def cmd_list(args):
    rows = []
    for name in list_artifacts():
        try:
            check_artifact(name)
            rows.append({"artifact": name, "ok": True})
        except ArtifactError as err:
            rows.append({"artifact": name, "ok": False, "error": str(err)})
    return rows


class JsonErrorParser(argparse.ArgumentParser):
    """Bad arguments print the usage on stderr and ``{"error": ...}`` on stdout, and exit 1, like every other error.

    Sub-parsers (each demo's verbs) inherit the class."""

    def error(self, message):
        self.print_usage(sys.stderr)
        print(json.dumps({"error": f"{self.prog}: {message}"}, ensure_ascii=False))
        sys.exit(1)


def parser(argv=None) -> argparse.ArgumentParser:
    """The full parser; with ``argv`` only the named demo's CLI module is imported (its heavy deps stay unloaded)."""
    p = JsonErrorParser(
        prog="python -m gallery", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    demos = p.add_subparsers(dest="demo", required=True)
    demos.add_parser("list", help="artifacts and whether they are intact").set_defaults(run=cmd_list)
    serve.register(demos)  # python -m gallery serve: replicas behind nginx, in the foreground
    wanted = argv[:1] if argv and argv[0] in DEMO_CLIS else () if argv and argv[0] == "serve" else DEMO_CLIS
    for demo in wanted:
        importlib.import_module(f"gallery.{demo}.cli").register(demos)
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser(argv).parse_args(argv)
    try:
        result = args.run(args)
    except (ArtifactError, ValueError) as err:
        print(json.dumps({"error": str(err)}))
        return 1
    except OSError as err:  # a path the system refuses (too long, no permission, disk full): the user's to fix
        name = str(err.filename or "")
        where = f": {name[:80]}{'...' if len(name) > 80 else ''}" if name else ""
        print(json.dumps({"error": f"{err.strerror or err}{where}"}))
        return 1
    try:
        print(json.dumps(result, indent=2, ensure_ascii=False), flush=True)
    except BrokenPipeError:  # the reader stopped early (`| head`): Python's own recipe, no traceback at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
