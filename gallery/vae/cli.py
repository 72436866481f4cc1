"""``python -m gallery vae ...``: sample images from the VAEs and score folders of images."""

from __future__ import annotations

import math
from pathlib import Path

MODELS = ("faces", "digits")
MAX_SAMPLES = 1024


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
    if not (math.isfinite(args.temperature) and args.temperature > 0):
        raise ValueError("--temperature must be a finite number above 0")
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ValueError(f"cannot write into {out}: {err.strerror}") from None
    m = vae.load(f"vae-{args.model}")
    z = m.sample_codes(args.n, seed=args.seed, temperature=args.temperature)
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
    return {"model": f"vae-{args.model}", "seed": args.seed, "temperature": args.temperature, "files": rows}


def cmd_score(args):
    from gallery.vae import data
    from gallery.vae import model as vae

    m = vae.load(f"vae-{args.model}")
    images, names, skipped = data.read_folder(Path(args.images), args.model)
    result = {}
    if args.model == "digits":
        labels = vae.most_likely_class(m.net, images)
        s = vae.score(m.net, images, labels, seed=args.seed)
        result["note"] = (
            "no labels needed: each digit is scored with the class the model finds most likely "
            "(the highest conditional ELBO), which makes the score slightly optimistic"
        )
        result["classes"] = {n: int(c) for n, c in zip(names, labels)}
    else:
        s = vae.score(m.net, images, seed=args.seed)
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


def register(demos) -> None:
    """Add the ``vae`` verbs to the dispatcher's subparsers."""
    v = demos.add_parser("vae", help="VAE latent explorer (faces, digits)").add_subparsers(dest="verb", required=True)
    s = v.add_parser("sample", help="decode samples from the prior into PNG files")
    s.add_argument("--digit", type=int, default=None, help="digits only: the class to draw (default: random)")
    s.add_argument("-n", type=int, default=16)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--temperature", type=float, default=1.0, help="scale of the prior samples")
    s.add_argument("--out", required=True, help="folder for the PNG files")
    s.set_defaults(run=cmd_sample)
    s = v.add_parser("score", help="reconstruction MSE and negative ELBO of a folder of images")
    s.add_argument("--images", required=True, help="folder of images (faces: RGB, digits: greyscale)")
    s.add_argument("--seed", type=int, default=0, help="seed of the sampled latents")
    s.set_defaults(run=cmd_score)
    for sub in v.choices.values():
        sub.add_argument("--model", choices=MODELS, default="faces")
