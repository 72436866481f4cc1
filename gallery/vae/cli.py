"""``python -m gallery vae ...``: sample images from the VAEs, score folders of images, edit faces."""

from __future__ import annotations

import math
from pathlib import Path

MODELS = ("faces", "faces-sharp", "digits")
FACE_MODELS = ("faces", "faces-sharp")
ATTRIBUTES = {"gender": "female", "age": "older"}  # the flag's words -> the directions' names
MAX_SAMPLES = 1024
MAX_TEMPERATURE = 5.0  # five prior standard deviations: beyond, the decoders draw saturated noise (then NaN)
MAX_AMOUNT = 2.0


def output_folder(path: str) -> Path:
    if not path.strip():
        raise ValueError("--out must name a folder (it is made if it does not exist)")
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"cannot write into {out}: {err.strerror}") from None
    return out


def cmd_sample(args):
    import numpy as np
    from PIL import Image

    from gallery.vae import model as vae

    if not 1 <= args.n <= MAX_SAMPLES:
        raise ValueError(f"-n must be between 1 and {MAX_SAMPLES}")
    if args.digit is not None and args.model != "digits":
        raise ValueError("--digit only applies to --model digits")
    if args.digit is not None and not 0 <= args.digit <= 9:
        raise ValueError("--digit must be 0-9")
    if not (math.isfinite(args.temperature) and 0 < args.temperature <= MAX_TEMPERATURE):
        raise ValueError(f"--temperature must be above 0 and at most {MAX_TEMPERATURE:g}")
    out = output_folder(args.out)
    m = vae.load(f"vae-{args.model}")
    if args.density == "fitted" and m.density() is None:
        raise ValueError(f"--density fitted: vae-{args.model} holds no fitted density (use --density prior)")
    density = args.density or ("fitted" if m.density() is not None else "prior")
    z = m.sample_codes(args.n, seed=args.seed, temperature=args.temperature, fitted=density == "fitted")
    if args.model == "digits":
        digits = (
            np.full(args.n, args.digit)
            if args.digit is not None
            else np.random.default_rng(args.seed).integers(0, 10, args.n)
        )
        images = np.concatenate([m.decode(z[i : i + 1], int(d)) for i, d in enumerate(digits)])
    else:
        digits = [None] * args.n
        images = m.decode(z)
    rows = []
    for i, (img, d) in enumerate(zip(images, digits)):
        name = f"{args.model}_{args.seed}_{i:03d}" + (f"_digit{int(d)}" if d is not None else "") + ".png"
        Image.fromarray(img).save(out / name)
        rows.append({"path": str(out / name), **({"digit": int(d)} if d is not None else {})})
    return {
        "model": f"vae-{args.model}",
        "seed": args.seed,
        "temperature": args.temperature,
        "density": density,
        "files": rows,
    }


def cmd_score(args):
    from gallery.vae import data
    from gallery.vae import model as vae
    from gallery.vae.scoring import most_likely_class, score

    m = vae.load(f"vae-{args.model}")
    images, names, skipped = data.read_folder(Path(args.images), "faces" if args.model in FACE_MODELS else "digits")
    result = {}
    if args.model == "digits":
        labels = most_likely_class(m.net, images)
        s = score(m.net, images, labels, seed=args.seed)
        result["note"] = (
            "no labels needed: each digit is scored with the class the model finds most likely "
            "(the highest conditional ELBO), which makes the score slightly optimistic"
        )
        result["classes"] = {n: int(c) for n, c in zip(names, labels)}
    else:
        s = score(m.net, images, seed=args.seed)
        result["note"] = (
            "faces are centre-cropped to a square and resized to 64x64 (no face detector); "
            "neg_elbo is a discretised Gaussian over 256 grey levels, one sampled latent per image"
        )
    out = {
        "n": s.n,
        "mse_per_pixel": round(s.mse_per_pixel, 6),
        "neg_elbo_nats": round(s.neg_elbo_nats, 2),
        "model": f"vae-{args.model}",
        **result,
    }
    if skipped:
        out["skipped"] = skipped
    return out


def attribute_model(m):
    """As on the page: faces-sharp's measured directions serve both face decoders (they share the encoder)."""
    from gallery.registry import ArtifactError
    from gallery.vae import model as vae

    if m.config["model"].get("decoder") == "upsample":
        return m
    try:
        return vae.load("vae-faces-sharp")
    except ArtifactError:
        return m  # the faithful model's own group-mean directions


def cmd_edit(args):
    """Encode each face as the page's upload does, move its code along an attribute, decode, write PNGs."""
    from PIL import Image

    from gallery.vae import data
    from gallery.vae import model as vae

    if args.model not in FACE_MODELS:
        raise ValueError(f"edit works on faces: --model {' or '.join(FACE_MODELS)}")
    if args.amount is not None and args.attribute is None:
        raise ValueError("--amount needs --attribute gender or age")
    amount = 1.0 if args.amount is None else args.amount
    if not (math.isfinite(amount) and abs(amount) <= MAX_AMOUNT):
        raise ValueError(
            f"--amount must be a number from -{MAX_AMOUNT:g} to {MAX_AMOUNT:g} (1: the slider's full push)"
        )
    m = vae.load(f"vae-{args.model}")
    images, names, skipped = data.read_folder(Path(args.images), "faces")
    out = output_folder(args.out)
    z = m.encode(images)  # (N, L) encoder means
    if args.attribute:
        z = z + attribute_model(m).attribute_offset(ATTRIBUTES[args.attribute], amount)
    rows, used = [], set()
    for name, img in zip(names, m.decode(z)):
        stem = Path(name).stem
        if stem in used:  # a.jpg and a.png: keep both
            stem = f"{stem}_{Path(name).suffix.lstrip('.').lower()}"
        used.add(stem)
        Image.fromarray(img).save(out / f"{stem}.png")
        rows.append({"source": name, "path": str(out / f"{stem}.png")})
    result = {
        "model": f"vae-{args.model}",
        "attribute": args.attribute,
        "amount": amount if args.attribute else 0.0,
        "files": rows,
    }
    if skipped:
        result["skipped"] = skipped
    return result


def register(demos) -> None:
    """Add the ``vae`` verbs to the dispatcher's subparsers."""
    v = demos.add_parser("vae", help="VAE latent explorer (faces, digits)").add_subparsers(dest="verb", required=True)
    s = v.add_parser("sample", help="decode samples from the prior into PNG files")
    s.add_argument("--digit", type=int, default=None, help="digits only: the class to draw (default: random)")
    s.add_argument("-n", type=int, default=16)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--temperature", type=float, default=1.0, help="scale of the prior samples")
    s.add_argument(
        "--density",
        choices=("prior", "fitted"),
        default=None,
        help="prior: N(0, I); fitted: the Gaussian fitted to the training faces' codes (default where there is one)",
    )
    s.add_argument("--out", required=True, help="folder for the PNG files")
    s.set_defaults(run=cmd_sample)
    s = v.add_parser("score", help="reconstruction MSE and negative ELBO of a folder of images")
    s.add_argument("--images", required=True, help="folder of images (faces: RGB, digits: greyscale)")
    s.add_argument("--seed", type=int, default=0, help="seed of the sampled latents")
    s.set_defaults(run=cmd_score)
    s = v.add_parser("edit", help="reconstruct faces, optionally moved along the gender or age direction")
    s.add_argument("--images", required=True, help="folder of face photos (centre-cropped, as on the page)")
    s.add_argument("--out", required=True, help="folder for the PNG files (one per input, named by its stem)")
    s.add_argument("--attribute", choices=tuple(ATTRIBUTES), default=None, help="without it: plain reconstructions")
    s.add_argument("--amount", type=float, default=None, help="+1: full push toward female or older; -1: male, younger")
    s.set_defaults(run=cmd_edit)
    for sub in v.choices.values():
        sub.add_argument("--model", choices=MODELS, default="faces")
