"""Time of PCA, t-SNE and UMAP (2-D) and of the faithfulness metrics on 1k to 20k points.

    python -m benchmarks.maps [--sizes 1000,2000,5000,10000,20000] [--save gallery/maps/costs.json]

The points are MNIST training digits (raw pixels, a stratified sample) when ../shared/data is there,
else Gaussian blobs of the same shape. PCA is the baseline measured in the same run: the ratio says how many
times PCA's time a method costs. UMAP's first call in a process also compiles its numba code: that one-off
cost is measured on its own (a tiny fit) and reported apart. t-SNE stops at its cap (10,000 points).
``--save`` writes the table the page reads to tell a user what a setting will cost before it runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from gallery import DATA_ROOT
from gallery.maps.project import MAX_POINTS, faithfulness, project, stratified_sample

COSTS_FILE = Path(__file__).resolve().parent.parent / "gallery" / "maps" / "costs.json"


def points(n: int, seed: int = 0) -> np.ndarray:
    path = DATA_ROOT / "mnist" / "mnist.npz"
    if path.is_file():
        with np.load(path, allow_pickle=False) as f:
            x, y = f["x_train"], f["y_train"]
        rows = stratified_sample(y, n, seed)
        return x[rows].reshape(len(rows), -1).astype(np.float32) / 255
    rng = np.random.default_rng(seed)
    centres = rng.random((10, 784))
    return (centres[rng.integers(0, 10, n)] + 0.2 * rng.standard_normal((n, 784))).astype(np.float32)


def umap_compile_seconds() -> float:
    """The first UMAP fit in this process on 300 points: almost all of it is numba compiling."""
    x = points(300, seed=1)
    start = time.perf_counter()
    project(x, "umap", 2, seed=0)
    return time.perf_counter() - start


def measure(sizes, methods=("pca", "tsne", "umap"), tsne_iterations: int = 1000) -> dict:
    compile_s = umap_compile_seconds() if "umap" in methods else None
    rows = []
    for n in sizes:
        x = points(n)
        row = {"n": n}
        for method in methods:
            if n > MAX_POINTS[method]:
                row[method] = None
                continue
            kw = {"iterations": tsne_iterations} if method == "tsne" else {}
            proj = project(x, method, 2, seed=0, **kw)
            row[method] = round(proj.seconds, 2)
        start = time.perf_counter()
        faithfulness(x, project(x, "pca", 2).coords)
        row["faithfulness"] = round(time.perf_counter() - start, 2)
        rows.append(row)
        print(json.dumps(row), flush=True)
    return {"rows": rows, "umap_compile_seconds": None if compile_s is None else round(compile_s, 1)}


def table(result: dict) -> str:
    lines = ["| points | PCA (baseline) s | t-SNE s | t-SNE / PCA | UMAP s | UMAP / PCA | faithfulness s |"]
    lines.append("|---|---|---|---|---|---|---|")
    for r in result["rows"]:
        pca = max(r.get("pca") or 0.0, 0.01)
        cells = []
        for m in ("tsne", "umap"):
            cells += ["capped", ""] if r.get(m) is None else [f"{r[m]:.1f}", f"{r[m] / pca:.0f}x"]
        lines.append(f"| {r['n']:,} | {pca:.2f} | {' | '.join(cells)} | {r['faithfulness']:.1f} |")
    if result.get("umap_compile_seconds") is not None:
        lines.append(f"\nUMAP's first call in a process: {result['umap_compile_seconds']:.1f} s (numba compiling).")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", default="1000,2000,5000,10000,20000")
    p.add_argument("--save", type=Path, default=None, help=f"write the costs the page reads (e.g. {COSTS_FILE})")
    args = p.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    result = measure(sizes)
    print(table(result))
    if args.save:
        import platform

        result["machine"] = f"{platform.processor() or platform.machine()}, one thread for t-SNE"
        result["command"] = " ".join(["python -m benchmarks.maps", *(sys.argv[1:] if argv is None else argv)])
        args.save.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
