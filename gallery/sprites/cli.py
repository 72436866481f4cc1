"""``python -m gallery sprites ...``: draw dSprites-style sprites from their factors, sample the grid, and run the
trained models: encode pictures, sweep one latent, score disentanglement.

Models are named as their artifacts without ``sprites-``: vae, beta-vae, factor-vae, beta-tcvae (a second seed adds
``-seed2``).
"""

from __future__ import annotations

import csv
import math
import re
from pathlib import Path

MAX_SAMPLES = 10_000  # PNGs one ``sample`` call writes
MODELS = ("vae", "beta-vae", "factor-vae", "beta-tcvae")
MODEL_NAME = re.compile(r"(vae|beta-vae|factor-vae|beta-tcvae)(-seed\d{1,3})?")
DEFAULT_MODEL = "beta-tcvae"
TRAVERSE_STEPS, MAX_TRAVERSE_STEPS = 9, 25
TRAVERSE_LIMIT, MAX_TRAVERSE_LIMIT = 2.5, 5.0  # prior standard deviations either side of the sprite's code
METRIC_POINTS, MIN_POINTS, MAX_POINTS = 2_000, 100, 10_000  # MIG and reconstruction; disentanglement_lib: 10,000
METRIC_VOTES, MAX_VOTES = 300, 10_000  # FactorVAE score: training votes (half as many evaluate); published 10,000


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


def save_grey(probabilities, path: Path) -> None:
    """A decoded sprite (S, S) of pixel probabilities in [0, 1] -> an 8-bit grey PNG."""
    import numpy as np
    from PIL import Image

    Image.fromarray(np.round(np.clip(probabilities, 0, 1) * 255).astype(np.uint8)).save(path)


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


# ---------------------------------------------------------------------------------------------- the trained models


def artifact_name(model: str) -> str:
    """``beta-vae`` -> ``sprites-beta-vae``; anything else is refused with the names allowed."""
    if not MODEL_NAME.fullmatch(model):
        shown = model if len(model) <= 40 else model[:40] + "..."
        raise ValueError(f"unknown model {shown!r}: choose {', '.join(MODELS)} (a second seed adds -seed2)")
    return f"sprites-{model}"


def load_model(model: str):
    from gallery.sprites import model as sprites_model

    return sprites_model.load(artifact_name(model))


def rounded(values, places: int = 4) -> list[float]:
    return [round(float(v), places) for v in values]


def cmd_encode(args):
    from gallery.sprites import images

    name = artifact_name(args.model)
    names, sprites, rows, skipped = images.read_folder(args.images)  # (N, 64, 64)
    m = load_model(args.model)
    means, logvars = m.encode(sprites)  # (N, L) each
    codes = dict(zip(names, zip(means, logvars)))
    files = []
    for row in rows:
        if row["file"] in codes:
            mean, logvar = codes[row["file"]]
            row = {"file": row["file"], "mean": rounded(mean), "logvar": rounded(logvar), **row}
        files.append(row)
    changed = sum("note" in r for r in files)
    note = (
        f"{changed} of {len(names)} pictures were not 64x64 white-on-black binary sprites: each was made into one "
        "(its note says how)"
        if changed
        else "every picture was a 64x64 binary sprite, read as it is"
    )
    note += "; mean and logvar: the encoder's Gaussian q(z | x), one number per latent"
    out = {"model": name, "latents": m.latents, "n": len(names), "note": note, "files": files}
    if skipped:
        out["skipped"] = skipped  # not pictures by their names, or sub-folders
    return out


def cmd_traverse(args):
    import numpy as np

    from gallery.sprites import render

    name = artifact_name(args.model)
    if args.latent < 0:
        raise ValueError("--latent must be 0 or more (the latent's index)")
    if not 2 <= args.steps <= MAX_TRAVERSE_STEPS:
        raise ValueError(f"--steps must be between 2 and {MAX_TRAVERSE_STEPS}")
    if not (math.isfinite(args.limit) and 0 < args.limit <= MAX_TRAVERSE_LIMIT):
        raise ValueError(f"--limit must be above 0 and at most {MAX_TRAVERSE_LIMIT:g} (prior standard deviations)")
    if not args.out.strip():
        raise ValueError("--out must name a folder (it is made if it does not exist)")
    sprite = render.render_one(args.shape, args.scale, args.orientation, args.x, args.y)  # (64, 64)
    m = load_model(args.model)
    if args.latent >= m.latents:
        raise ValueError(f"--latent must be 0-{m.latents - 1}: {name} has {m.latents} latents")
    out = empty_folder(args.out)
    code = m.encode(sprite[None])[0][0]  # (L,) the encoder's mean
    values = np.linspace(-args.limit, args.limit, args.steps)  # (T,)
    codes = np.repeat(code[None], args.steps, axis=0)  # (T, L)
    codes[:, args.latent] = values
    pictures = m.decode(codes)  # (T, S, S) probabilities
    files = []
    for i, (value, picture) in enumerate(zip(values, pictures)):
        path = out / f"z{args.latent}_{i:02d}.png"
        save_grey(picture, path)
        files.append({"value": round(float(value), 4), "path": str(path)})
    kl = m.card.get("metrics", {}).get("kl_per_latent")
    kl = kl if isinstance(kl, list) and len(kl) == m.latents else [None] * m.latents  # an older card: no KL
    factors = {"shape": args.shape, "scale": args.scale, "orientation": args.orientation, "x": args.x, "y": args.y}
    return {
        "model": name,
        "latent": args.latent,
        "latent_kl": kl[args.latent],
        "sprite": factors,
        "code": rounded(code),
        "values": rounded(values),
        "size": int(pictures.shape[-1]),
        "files": files,
    }


def cmd_metrics(args):
    from gallery.sprites import scores

    name = artifact_name(args.model)
    if args.seed < 0:
        raise ValueError("--seed must be 0 or more")
    if not MIN_POINTS <= args.points <= MAX_POINTS:
        raise ValueError(f"--points must be between {MIN_POINTS} and {MAX_POINTS:,}")
    if not 2 <= args.votes <= MAX_VOTES:
        raise ValueError(f"--votes must be between 2 and {MAX_VOTES:,}")
    m = load_model(args.model)
    counts = scores.Counts(args.points, args.points, args.votes, max(1, args.votes // 2), args.points)
    held = scores.evaluate(m, args.seed, counts)
    card = m.card.get("metrics", {})
    keys = ("seed", "mig", "factorvae_score", "reconstruction_nll", "kl_total", "mig_points", "factorvae_counts")
    return {
        "model": name,
        **held,
        "counts": {
            "mig_points": counts.mig_points,
            "reconstruction_points": counts.recon_points,
            "factorvae_train_votes": counts.n_train,
            "factorvae_eval_votes": counts.n_eval,
            "factorvae_variance_points": counts.n_variance,
            "published": "disentanglement_lib: 10,000 MIG points; 10,000 training and 5,000 evaluation votes",
        },
        "steps": m.card.get("steps"),
        "card": {k: card[k] for k in keys if k in card},
    }


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
    s = sprites.add_parser("encode", help="a folder of pictures -> each one's code (the encoder's mean and logvar)")
    s.add_argument("--model", default=DEFAULT_MODEL, help=f"{', '.join(MODELS)} (default {DEFAULT_MODEL})")
    s.add_argument(
        "--images",
        required=True,
        help="a folder of up to 1,000 pictures; any not 64x64 binary are resized and thresholded",
    )
    s.set_defaults(run=cmd_encode)
    s = sprites.add_parser("traverse", help="one latent swept from a sprite's code: a PNG per value")
    s.add_argument("--model", default=DEFAULT_MODEL, help=f"{', '.join(MODELS)} (default {DEFAULT_MODEL})")
    s.add_argument("--latent", type=int, required=True, help="the latent's index, 0 to 9")
    s.add_argument("--out", required=True, help="a new or empty folder")
    s.add_argument("--steps", type=int, default=TRAVERSE_STEPS, help=f"values, 2 to {MAX_TRAVERSE_STEPS}")
    s.add_argument("--limit", type=float, default=TRAVERSE_LIMIT, help="from -limit to +limit (at most 5)")
    s.add_argument("--shape", default="heart", help="the sprite whose code is swept: square, ellipse or heart")
    s.add_argument("--scale", type=float, default=1.0, help="0.5 to 1")
    s.add_argument("--orientation", type=float, default=0.0, help="radians, 0 to 2*pi")
    s.add_argument("--x", type=float, default=0.5, help="0 (left) to 1 (right)")
    s.add_argument("--y", type=float, default=0.5, help="0 (top) to 1 (bottom)")
    s.set_defaults(run=cmd_traverse)
    s = sprites.add_parser("metrics", help="MIG, the FactorVAE score, reconstruction and KL on fresh sprites")
    s.add_argument("--model", default=DEFAULT_MODEL, help=f"{', '.join(MODELS)} (default {DEFAULT_MODEL})")
    s.add_argument("--seed", type=int, default=2024, help="draws the sprites (2024: the cards' held-out ones)")
    s.add_argument(
        "--points", type=int, default=METRIC_POINTS, help=f"sprites for MIG and reconstruction, {MIN_POINTS} to 10,000"
    )
    s.add_argument(
        "--votes", type=int, default=METRIC_VOTES, help="FactorVAE score's training votes (half as many evaluate)"
    )
    s.set_defaults(run=cmd_metrics)
