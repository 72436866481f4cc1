"""``python -m gallery maps project ...``: a map of any data set, or of your own vectors, written as CSV, with its
faithfulness.

python -m gallery maps project --data digits --method umap --dims 2 --n 2000 --seed 0 --out digits.csv
python -m gallery maps project --data skills-word2vec --method tsne --out skills.csv
python -m gallery maps project --vectors vectors.tsv --metadata metadata.tsv --label genre --method umap --out my.csv

--data: the points come from the map artifact (``pretrained/maps-<data>/``): its original-space features, sampled
stratified by label (skills: the most frequent first). Prints {"n", "points", "dims_in", "trustworthiness",
"knn_overlap", "seconds", "out"}; the CSV is id,label,x,y[,z].

--vectors: a Projector TSV, word2vec text or .npy file (gallery.maps.own), with an optional metadata TSV; all its
points, or a random sample of --n. The CSV keeps every metadata column (the --label column as ``label``), then x, y
[, z], in the file's order (a sample starts with ``index``, the row in the file from 0). The JSON adds ``dims_in``,
the format and, with --label, the 10-NN label agreement on the map, in the original space and by chance.
"""

from __future__ import annotations

import csv
from pathlib import Path

from gallery.maps import data as mdata
from gallery.maps import own
from gallery.maps.project import MAX_POINTS, METHOD_NAMES, METHODS, faithfulness, project

DEFAULT_N = 2000  # --data's sample


def check_out(out: Path) -> None:
    if not out.parent.is_dir():
        raise ValueError(f"cannot write {out}: the folder {out.parent} does not exist")
    if not out.name or out.is_dir():
        raise ValueError(f"--out must name a CSV file, not the folder {out}")


def write(out: Path, text: str) -> None:
    try:
        out.write_text(text, encoding="utf-8", newline="")
    except OSError as err:
        raise ValueError(f"cannot write {out}: {err.strerror}") from None


def cmd_project(args):
    out = Path(args.out)
    check_out(out)
    if args.vectors is not None:
        return project_vectors(args, out)
    if args.metadata is not None or args.label is not None:
        raise ValueError("--metadata and --label go with --vectors (your own file), not --data")
    art = mdata.load_map(args.data)
    rows = art.data.sample_rows(DEFAULT_N if args.n is None else args.n, args.seed)
    sub = art.data.subset(rows)
    proj = project(sub.features, args.method, args.dims, args.seed)
    scores = faithfulness(sub.features, proj.coords, seed=args.seed)
    label_kind = next(iter(sub.labels), None)
    try:
        with open(out, "w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(["id", "label", "x", "y", "z"][: 4 + (args.dims == 3)])
            for i, point in enumerate(proj.coords):
                label = sub.labels[label_kind][i] if label_kind else ""
                writer.writerow([sub.ids[i], label, *(f"{v:.5f}" for v in point)])
    except OSError as err:
        raise ValueError(f"cannot write {out}: {err.strerror}") from None
    return {
        "n": len(sub),
        "points": len(sub),
        "dims_in": int(sub.features.shape[1]),
        "trustworthiness": round(scores["trustworthiness"], 4),
        "knn_overlap": round(scores["knn_overlap"], 4),
        "seconds": round(proj.seconds, 2),
        "out": str(out),
    }


def project_vectors(args, out: Path) -> dict:
    """Map your own vectors: the same projection and faithfulness as the built-in data sets."""
    data = own.load(args.vectors, args.metadata)
    data.check_label(args.label)
    n = len(data) if args.n is None else args.n
    if n < 1:
        raise ValueError("--n must be at least 1")
    n = min(n, len(data))
    if n > MAX_POINTS[args.method]:
        raise ValueError(
            f"{METHOD_NAMES[args.method]} is capped at {MAX_POINTS[args.method]:,} points; "
            f"this file has {len(data):,}: map a sample with --n {MAX_POINTS[args.method]}"
        )
    rows = own.sample_rows(len(data), n, args.seed)
    X = data.features[rows]
    proj = project(X, args.method, args.dims, args.seed)
    labels = None if args.label is None else [data.columns[args.label][i] for i in rows]
    scores = faithfulness(X, proj.coords, seed=args.seed, labels=labels)
    write(out, own.to_csv(data, proj.coords, rows, args.label))
    result = {
        "n": int(n),
        "points": int(n),
        "points_in_file": len(data),
        "dims_in": data.dims,
        "format": data.format,
        "columns": list(data.columns),
        "method": args.method,
        "dims": args.dims,
        "trustworthiness": round(scores["trustworthiness"], 4),
        "knn_overlap": round(scores["knn_overlap"], 4),
        "k": scores["k"],
        "points_measured": scores["points_measured"],
    }
    if labels is not None:
        result["label"] = args.label
        for key in ("label_agreement", "label_agreement_original", "label_agreement_chance"):
            result[key] = round(scores[key], 4)
    return result | {"seconds": round(proj.seconds, 2), "out": str(out)}


def register(demos) -> None:
    maps = demos.add_parser("maps", help="embedding maps").add_subparsers(dest="verb", required=True)
    s = maps.add_parser(
        "project", help="project a data set or your own vectors to 2-D or 3-D and write the coordinates as CSV"
    )
    source = s.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", choices=list(mdata.DATASETS))
    source.add_argument(
        "--vectors", metavar="FILE", help="your own vectors: a Projector TSV, word2vec text or .npy file"
    )
    s.add_argument(
        "--metadata",
        metavar="FILE",
        help="with --vectors: a TSV, one row per point (a header row when it has more than one column)",
    )
    s.add_argument(
        "--label",
        metavar="COLUMN",
        help="with --vectors: the metadata column written as `label` and "
        "scored by the 10-NN label agreement (word2vec files have the column `word`)",
    )
    s.add_argument("--method", choices=METHODS, default="pca")
    s.add_argument("--dims", type=int, choices=(2, 3), default=2)
    s.add_argument(
        "--n",
        type=int,
        default=None,
        help="points: --data, a stratified sample (default 2000); --vectors, a random sample (default: all)",
    )
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, metavar="FILE.csv")
    s.set_defaults(run=cmd_project)
