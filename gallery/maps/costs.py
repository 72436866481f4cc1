"""What a map setting will cost, from the table ``python -m benchmarks.maps --save`` wrote (``costs.json``)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

COSTS_FILE = Path(__file__).resolve().parent / "costs.json"


def load_costs(path: Path = COSTS_FILE) -> dict | None:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def estimate_seconds(costs: dict | None, method: str, n: int, iterations: int = 1000, first_umap: bool = False):
    """Seconds a projection of ``n`` points should take (log-log interpolation of the benchmark), or None."""
    if not costs:
        return None
    pts = [(r["n"], r[method]) for r in costs["rows"] if r.get(method)]
    if not pts:
        return None
    ns, ts = np.log([p[0] for p in pts]), np.log([max(p[1], 1e-3) for p in pts])
    if len(pts) == 1:
        seconds = pts[0][1] * n / pts[0][0]
    else:
        slope = (ts[-1] - ts[0]) / (ns[-1] - ns[0])
        x = np.log(max(n, 1))
        if x <= ns[0]:
            seconds = float(np.exp(ts[0] + slope * (x - ns[0])))
        elif x >= ns[-1]:
            seconds = float(np.exp(ts[-1] + slope * (x - ns[-1])))
        else:
            seconds = float(np.exp(np.interp(x, ns, ts)))
    if method == "tsne":
        seconds *= iterations / 1000
    if method == "umap" and first_umap and costs.get("umap_compile_seconds"):
        seconds += costs["umap_compile_seconds"]
    return seconds
