"""What the page (and anyone) reads off the sprites models' cards: names, which factor each latent carries, the KL
order, the comparison table's rows and the published figures beside them. No Streamlit, no torch."""

from __future__ import annotations

import re

import numpy as np

from gallery.sprites.render import FACTOR_NAMES

MODELS = ("vae", "beta-vae", "factor-vae", "beta-tcvae")
ARTIFACT = re.compile(r"sprites-(vae|beta-vae|factor-vae|beta-tcvae)(?:-seed(\d{1,3}))?")
LABELS = {"vae": "VAE (β = 1)", "beta-vae": "β-VAE", "factor-vae": "FactorVAE", "beta-tcvae": "β-TCVAE"}
PUBLISHED_STEPS = 300_000  # disentanglement_lib's budget per model
CARRIES = 0.1  # a latent "carries" a factor when their MI is at least this share of the factor's entropy
PUBLISHED = [  # (model, MIG, FactorVAE score, source): on the original dSprites file, 300,000 steps
    ("β-VAE", "of order 0.1", "0.7-0.8", "Chen et al. 2018; Locatello et al. 2019 (sweep of β 1-16)"),
    ("FactorVAE", "about 0.1-0.3", "about 0.8", "Kim & Mnih 2018; Locatello et al. 2019"),
    ("β-TCVAE", "about 0.4-0.5", "about 0.8", "Chen et al. 2018, their own code"),
]


def parse(name: str) -> tuple[str, int] | None:
    """``sprites-beta-vae-seed2`` -> ("beta-vae", 2); ``sprites-vae`` -> ("vae", 0) (seed 0: the first run); None for
    anything else (a trainer's temporary folder included)."""
    found = ARTIFACT.fullmatch(name)
    if not found:
        return None
    return found.group(1), int(found.group(2) or 0)


def sprites_artifacts(names) -> list[str]:
    """The sprites models among artifact names, the four objectives in order and each one's seeds after it."""
    found = {n: key for n in names if (key := parse(n))}
    return sorted(found, key=lambda n: (MODELS.index(found[n][0]), found[n][1]))


def label(name: str) -> str:
    parsed = parse(name)
    if parsed is None:
        return name
    model, seed = parsed
    return LABELS[model] + (f", seed {seed}" if seed else "")


def train_seed(card: dict) -> int | None:
    """The seed training drew its batches with (``SeedSequence([seed, step])`` on the card)."""
    found = re.search(r"\[(\d+),", str(card.get("data", {}).get("train_seed", "")))
    return int(found.group(1)) if found else None


def normalised_mi(card: dict) -> np.ndarray | None:
    """The card's MI matrix divided by each factor's entropy: (L, K), 1 = the latent tells the factor fully."""
    metrics = card.get("metrics", {})
    try:
        mi = np.asarray(metrics["mi_matrix"]["nats"], dtype=np.float64)  # (L, K)
        h = np.asarray(metrics["factor_entropy"], dtype=np.float64)  # (K,)
    except (KeyError, TypeError, ValueError):
        return None
    if mi.ndim != 2 or mi.shape[1] != len(h) or not (h > 0).all():
        return None
    return mi / h


def carriers(card: dict, latents: int) -> list[tuple[str | None, float]]:
    """Per latent: the factor it carries most (by normalised MI) and that share; (None, share) under CARRIES."""
    nmi = normalised_mi(card)
    if nmi is None or len(nmi) != latents:
        return [(None, 0.0)] * latents
    out = []
    for row in nmi:
        k = int(np.argmax(row))
        out.append((FACTOR_NAMES[k] if row[k] >= CARRIES else None, float(row[k])))
    return out


def kl_order(card: dict, latents: int) -> list[int]:
    """Latent indices, the most informative first (the card's average KL per latent on held-out sprites)."""
    kl = card.get("metrics", {}).get("kl_per_latent")
    if not isinstance(kl, list) or len(kl) != latents:
        return list(range(latents))
    return sorted(range(latents), key=lambda i: -float(kl[i]))


def kl_per_latent(card: dict, latents: int) -> list[float | None]:
    kl = card.get("metrics", {}).get("kl_per_latent")
    return [float(v) for v in kl] if isinstance(kl, list) and len(kl) == latents else [None] * latents


def number(value, places: int = 3) -> str:
    return f"{value:.{places}f}" if isinstance(value, (int, float)) else "–"


def table_rows(cards: dict[str, dict]) -> list[dict[str, str]]:
    """One row per model card, then the published figures; every cell text (one type per column)."""
    rows = []
    for name, card in cards.items():
        m = card.get("metrics", {})
        objective = card.get("objective", {})
        weight = " ".join(f"{k} {objective[k]:g}" for k in ("beta", "gamma") if isinstance(objective.get(k), float))
        steps, points = card.get("steps"), m.get("mig_points")
        rows.append(
            {
                "model": label(name) + (" (smoke test)" if card.get("smoke") else ""),
                "seed": str(train_seed(card) if train_seed(card) is not None else "–"),
                "weight": weight or "–",
                "MIG": number(m.get("mig")),
                "FactorVAE score": number(m.get("factorvae_score")),
                "reconstruction (nats)": number(m.get("reconstruction_nll"), 1),
                "KL (nats)": number(m.get("kl_total"), 1),
                "steps": f"{steps:,}" if isinstance(steps, int) else "–",
                "input": f"{card.get('architecture', {}).get('size', '?')} px",
                "minutes": number(card.get("train_minutes_total"), 0),
                "source": f"this project, {points:,} sprites" if isinstance(points, int) else "this project",
            }
        )
    for model, mig, score, source in PUBLISHED:
        rows.append(
            {
                "model": f"{model}, published",
                "seed": "many",
                "weight": "swept",
                "MIG": mig,
                "FactorVAE score": score,
                "reconstruction (nats)": "–",
                "KL (nats)": "–",
                "steps": f"{PUBLISHED_STEPS:,}",
                "input": "64 px (dSprites file)",
                "minutes": "–",
                "source": source,
            }
        )
    return rows


def floors(cards: dict[str, dict]) -> dict | None:
    """The issue's floors on these cards: the best disentangler's MIG and FactorVAE score, the plain VAE's MIG (means
    over seeds); None without a VAE and one other model."""
    by_model: dict[str, list[dict]] = {}
    for name, card in cards.items():
        parsed = parse(name)
        if parsed and isinstance(card.get("metrics", {}).get("mig"), (int, float)):
            by_model.setdefault(parsed[0], []).append(card["metrics"])
    others = {k: v for k, v in by_model.items() if k != "vae"}
    if "vae" not in by_model or not others:
        return None
    mean = lambda rows, key: float(np.mean([r.get(key) or 0.0 for r in rows]))  # noqa: E731
    best = max(others, key=lambda k: mean(others[k], "mig"))
    return {
        "best": best,
        "best_mig": mean(others[best], "mig"),
        "best_factorvae": mean(others[best], "factorvae_score"),
        "vae_mig": mean(by_model["vae"], "mig"),
    }
