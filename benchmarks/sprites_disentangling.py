"""How disentangled are the sprite models? Every sprites-* artifact scored on sprites none of them was trained or
carded on, side by side (issue 35).

    python -m benchmarks.sprites_disentangling [--seed 7] [--points 10000] [--votes 10000]

Per model: MIG (as disentanglement_lib: 20 bins, the gap of the two most informative latents over the factor's
entropy, averaged over the five factors), the FactorVAE score (votes of 64 sprites with one factor fixed; --votes
training votes and half as many evaluation votes), Bernoulli reconstruction NLL and KL per image. Then each model's
MIG against the plain VAE's measured in the same run (the ratio), and the issue's floors: the best of beta-VAE,
FactorVAE and beta-TCVAE at MIG >= 0.25 and a FactorVAE score >= 0.75; the plain VAE below each of them.
"""

from __future__ import annotations

import argparse

from gallery import registry
from gallery.sprites import model as sprites
from gallery.sprites import scores

DISENTANGLERS = ("beta-vae", "factor-vae", "beta-tcvae")


def artifacts() -> list[str]:
    return [n for n in registry.list_artifacts() if n.startswith("sprites-") and ".tmp" not in n]


def measure(names: list[str], seed: int, points: int, votes: int) -> dict[str, dict]:
    counts = scores.Counts(points, points, votes, votes // 2, points)
    return {name: scores.evaluate(sprites.load(name), seed=seed, counts=counts) for name in names}


def kind(name: str) -> str:
    """sprites-beta-vae-seed2 -> beta-vae"""
    return name.removeprefix("sprites-").removesuffix("-seed2")


def report(rows: dict[str, dict]) -> str:
    lines = [f"{'model':<26} {'MIG':>6} {'FactorVAE':>10} {'recon NLL':>10} {'KL':>7} {'MIG / VAE':>10}"]
    vae = [r["mig"] for n, r in rows.items() if kind(n) == "vae"]
    base = sum(vae) / len(vae) if vae else float("nan")
    for name, r in rows.items():
        lines.append(
            f"{name:<26} {r['mig']:>6.3f} {r['factorvae_score']:>10.3f} {r['reconstruction_nll']:>10.1f} "
            f"{r['kl_total']:>7.2f} {r['mig'] / base if base else float('nan'):>10.2f}"
        )
    others = {n: r for n, r in rows.items() if kind(n) in DISENTANGLERS}
    if others:
        best = max(others, key=lambda n: others[n]["mig"])
        lines.append(
            f"best disentangler {best}: MIG {others[best]['mig']:.3f} (floor 0.25: "
            f"{'met' if others[best]['mig'] >= 0.25 else 'not met'}), FactorVAE score "
            f"{others[best]['factorvae_score']:.3f} (floor 0.75: "
            f"{'met' if others[best]['factorvae_score'] >= 0.75 else 'not met'})"
        )
        below = all(base < r["mig"] for r in others.values())
        lines.append(f"plain VAE's MIG {base:.3f} below each of theirs: {'yes' if below else 'no'}")
    return "\n".join(lines)


def main(argv=None) -> dict[str, dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=7, help="the sprites scored (the cards use 2024, training others)")
    p.add_argument("--points", type=int, default=10_000, help="sprites for MIG, reconstruction and the variances")
    p.add_argument("--votes", type=int, default=10_000, help="FactorVAE training votes (half as many to evaluate)")
    args = p.parse_args(argv)
    names = artifacts()
    if not names:
        p.error("no sprites-* artifact: train one with python -m trainers.sprites --model vae")
    rows = measure(names, args.seed, args.points, args.votes)
    print(report(rows))
    return rows


if __name__ == "__main__":
    main()
