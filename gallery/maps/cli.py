"""``python -m gallery maps project ...``: a map of any data set, written as CSV, with its faithfulness.

python -m gallery maps project --data digits --method umap --dims 2 --n 2000 --seed 0 --out digits.csv
python -m gallery maps project --data skills-word2vec --method tsne --out skills.csv

The points come from the map artifact (``pretrained/maps-<data>/``): its original-space features, sampled
stratified by label (skills: the most frequent first). Prints {"n", "trustworthiness", "knn_overlap", "seconds"}.
"""

from __future__ import annotations

import csv
from pathlib import Path

from gallery.maps import data as mdata
from gallery.maps.project import METHODS, faithfulness, project


def cmd_project(args):
    out = Path(args.out)
    if not out.parent.is_dir():
        raise ValueError(f"cannot write {out}: the folder {out.parent} does not exist")
    if not out.name or out.is_dir():
        raise ValueError(f"--out must name a CSV file, not the folder {out}")
    art = mdata.load_map(args.data)
    rows = art.data.sample_rows(args.n, args.seed)
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
        "trustworthiness": round(scores["trustworthiness"], 4),
        "knn_overlap": round(scores["knn_overlap"], 4),
        "seconds": round(proj.seconds, 2),
        "out": str(out),
    }


def register(demos) -> None:
    maps = demos.add_parser("maps", help="embedding maps").add_subparsers(dest="verb", required=True)
    s = maps.add_parser("project", help="project a data set to 2-D or 3-D and write the coordinates as CSV")
    s.add_argument("--data", choices=list(mdata.DATASETS), required=True)
    s.add_argument("--method", choices=METHODS, default="pca")
    s.add_argument("--dims", type=int, choices=(2, 3), default=2)
    s.add_argument("--n", type=int, default=2000, help="points (stratified sample; default 2000)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, metavar="FILE.csv")
    s.set_defaults(run=cmd_project)
