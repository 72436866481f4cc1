"""Would a better density for the codes fool the two-sample critic? The committed Gaussian against a mixture.

    python -m benchmarks.faces_density [--components 10] [--threads 2]

The sharp faces decoder draws samples from a Gaussian fitted to the training faces' codes (the artifact's
density). A mixture of Gaussians (full covariances, fitted by scikit-learn to the same codes) follows where faces
live more closely. Both are measured as the card's `two_sample_diagnosis` measures samples: half the real faces
against samples standing in for the other half, a critic (gallery.vae.realism.two_sample_test, the card's 3
epochs) at full size and with every face seen at 16x16 (coarse content only). Prints the held-out log-likelihood
per code of each density on the validation faces, and the critic's AUC and log loss (0.693 at chance).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from gallery.vae import data, realism
from gallery.vae import model as vae

CRITIC_EPOCHS = 3  # as on the card
SEEDS = {"train": 1, "test": 2}  # as the card's SAMPLE_SEEDS


def mixture_sampler(codes: np.ndarray, components: int):
    """A full-covariance Gaussian mixture of ``codes`` (N, D): (sampler(n, seed) -> (n, D), fitted mixture)."""
    from sklearn.mixture import GaussianMixture

    gmm = GaussianMixture(components, covariance_type="full", reg_covar=1e-4, random_state=0).fit(codes)
    chol = np.linalg.cholesky(gmm.covariances_)  # (K, D, D)

    def sample(n: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        k = rng.choice(components, size=n, p=gmm.weights_)  # (n,)
        eps = rng.standard_normal((n, codes.shape[1]))  # (n, D)
        return (gmm.means_[k] + np.einsum("nij,nj->ni", chol[k], eps)).astype(np.float32)

    return sample, gmm


def gaussian_log_likelihood(density: realism.FittedGaussian, codes: np.ndarray) -> float:
    """Mean log N(code; mean, L L^T) over ``codes`` (N, D)."""
    chol = density.chol.astype(np.float64)
    white = np.linalg.solve(chol, (codes - density.mean).T)  # (D, N)
    log_det = 2 * np.log(np.diag(chol)).sum()
    return float(np.mean(-0.5 * (white**2).sum(0) - 0.5 * log_det - 0.5 * codes.shape[1] * np.log(2 * np.pi)))


def critic_rows(m: vae.VAEModel, sample, train_x, val_x) -> dict:
    """The critic on half the real faces against decoded samples for the other half, at 64x64 and at 16x16."""
    fake_train = m.decode(sample(len(train_x[1::2]), SEEDS["train"]))
    fake_test = m.decode(sample(len(val_x[1::2]), SEEDS["test"]))
    return {
        size: realism.two_sample_test(
            train_x[::2], fake_train, val_x[::2], fake_test, CRITIC_EPOCHS, seen_at=None if size == 64 else size
        )
        for size in (64, 16)
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--components", type=int, default=10, help="mixture components (at least 2)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    if args.components < 2:
        p.error(f"--components {args.components}: a mixture needs at least 2 (1 is the committed Gaussian)")
    torch.set_num_threads(args.threads)
    m = vae.load("vae-faces-sharp")
    faces = data.load_faces(data.FACES_DIR / data.FACES_ZIP)
    tr, va = data.split_indices(len(faces), 0.1, seed=0)  # the trainer's split
    train_x, val_x = faces.images[tr], faces.images[va]
    codes_val = m.encode(val_x)
    mixture, gmm = mixture_sampler(m.encode(train_x), args.components)
    densities = {
        "committed Gaussian": (
            lambda n, seed: m.sample_codes(n, seed, fitted=True),
            gaussian_log_likelihood(m.density(), codes_val),
        ),
        f"mixture of {args.components}": (mixture, float(gmm.score(codes_val))),
    }
    print(f"sharp decoder at step {m.card['steps']}; {len(val_x)} validation faces")
    for name, (sample, log_likelihood) in densities.items():
        rows = critic_rows(m, sample, train_x, val_x)
        print(
            f"{name:<20} validation log-likelihood {log_likelihood:8.2f} per code   "
            + "   ".join(f"at {s}x{s}: AUC {r['auc']:.4f}, log loss {r['log_loss']:.4f}" for s, r in rows.items()),
            flush=True,
        )


if __name__ == "__main__":
    main()
