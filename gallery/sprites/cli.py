"""``python -m gallery sprites ...``: draw dSprites-style sprites from their factors, or sample the grid."""

from __future__ import annotations

import csv
from pathlib import Path

MAX_SAMPLES = 10_000  # PNGs one ``sample`` call writes


def png_path(path: str) -> Path:
    if not path.strip() or Path(path).suffix.lower() != ".png":
        raise ValueError(f"--out must name a .png file; got {path!r}")
    return Path(path)


def empty_folder(path: str) -> Path:
    """The folder, made if missing; one that already holds sprites is refused (old PNGs would mix with the new)."""
    if not path.strip():
        raise ValueError("--out must name a folder (it is made if it does not exist)")
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file, not a folder")
    out.mkdir(parents=True, exist_ok=True)
    if (out / "factors.csv").exists() or any(out.glob("*.png")):
        raise ValueError(f"{out} already holds sprites: choose a new or empty folder")
    return out


def save_png(image, path: Path) -> None:
    from PIL import Image

    Image.fromarray(image * 255).save(path)  # (64, 64) uint8 0/1 -> black and white


def cmd_render(args):
    from gallery.sprites import render

    out = png_path(args.out)
    image = render.render_one(args.shape, args.scale, args.orientation, args.x, args.y)  # (64, 64); NaN refused too
    out.parent.mkdir(parents=True, exist_ok=True)
    save_png(image, out)
    factors = {"shape": args.shape, "scale": args.scale, "orientation": args.orientation, "x": args.x, "y": args.y}
    return {**factors, "path": str(out), "pixels_on": int(image.sum())}


def cmd_sample(args):
    from gallery.sprites import render

    if not 1 <= args.n <= MAX_SAMPLES:
        raise ValueError(f"-n must be between 1 and {MAX_SAMPLES:,}")
    if args.seed < 0:
        raise ValueError("--seed must be 0 or more")
    out = empty_folder(args.out)
    indices = render.sample_factors(args.n, args.seed)  # (n, 5)
    values = render.factor_values(indices)  # (n, 5)
    images = render.render_indices(indices)  # (n, 64, 64)
    width = len(str(args.n - 1))
    with open(out / "factors.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["file", "shape", "scale", "orientation", "x", "y"])
        for i, (image, row) in enumerate(zip(images, values)):
            name = f"sprite_{i:0{width}d}.png"
            save_png(image, out / name)
            writer.writerow([name, render.SHAPES[int(row[0])], *(float(v) for v in row[1:])])
    return {"n": args.n, "seed": args.seed, "out": str(out), "factors": str(out / "factors.csv")}


def register(demos) -> None:
    """Add the ``sprites`` verbs to the dispatcher's subparsers."""
    sprites = demos.add_parser("sprites", help="dSprites-style sprites with known factors").add_subparsers(
        dest="verb", required=True
    )
    s = sprites.add_parser("render", help="one sprite from its factors, as a PNG")
    s.add_argument("--shape", required=True, help="square, ellipse or heart")
    s.add_argument("--scale", type=float, default=1.0, help="0.5 to 1")
    s.add_argument("--orientation", type=float, default=0.0, help="radians, 0 to 2*pi, counter-clockwise")
    s.add_argument("--x", type=float, default=0.5, help="0 (left) to 1 (right)")
    s.add_argument("--y", type=float, default=0.5, help="0 (top) to 1 (bottom)")
    s.add_argument("--out", required=True, help="a .png file")
    s.set_defaults(run=cmd_render)
    s = sprites.add_parser("sample", help="sprites drawn uniformly from dSprites' grid, PNGs plus factors.csv")
    s.add_argument("-n", type=int, default=16, help=f"how many, 1 to {MAX_SAMPLES:,}")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", required=True, help="a new or empty folder")
    s.set_defaults(run=cmd_sample)
