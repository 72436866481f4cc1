"""Which adversarial recipe gives the sharp faces decoder more realism per minute? Paired runs, measured alike.

    python -m benchmarks.faces_recipe start=checkpoints/a.pt band=checkpoints/b.pt no-band=checkpoints/c.pt

Each ARM=CHECKPOINT is a `trainers.vae --model faces-sharp` checkpoint; the first is the start every other arm
resumed from (issue 23 asks: keep the band-power loss only if it still helps once the discriminator learns, and
batch 16 or 32, whichever gives more realism per minute). Every arm's moving-average decoder is measured the same
way, on the validation faces and with the committed artifact's encoder and fitted density:

- samples' sharpness ratio (the card's floor: 0.6-1.6) and the log distance of their radial spectrum to real faces;
- two-sample critics (gallery.vae.realism.two_sample_test, smaller than the card's; --critic-seeds of them, the
  mean and the range printed): AUC, and held-out log loss, which still ranks decoders that the critic tells apart
  every time (AUC 1.000);
- validation MSE from the encoder means.

Then each arm's change since the start, per minute of its own training. Arms are fair only when they ran side by
side on the same machine (one thread each) for about the same time.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from gallery.vae import data, realism
from gallery.vae import model as vae
from gallery.vae.images import to_tensor

SEEDS = {"critic_train": 11, "critic_test": 12}


def load_arm(path: Path, base: vae.VAEModel) -> tuple[vae.VAEModel, dict]:
    """The committed model with the checkpoint's moving-average decoder; and the checkpoint's step and minutes."""
    ckpt = torch.load(path, weights_only=True)
    net = vae.build(base.config["model"], None)
    net.load_state_dict(base.net.state_dict())
    net.sharp.load_state_dict(ckpt["ema"])
    run = {"step": ckpt["step"], "minutes": ckpt["elapsed"] / 60, "history": ckpt["history"]}
    return vae.VAEModel(net.eval(), base.config, base.card, base.extra), run


def measure(m: vae.VAEModel, train_x, val_x, critic_faces: int, critic_epochs: int, critic_seeds: int) -> dict:
    n_val = len(val_x)
    test = m.decode(m.sample_codes(n_val, seed=SEEDS["critic_test"], fitted=True))
    train = m.decode(m.sample_codes(critic_faces, seed=SEEDS["critic_train"], fitted=True))
    critics = [
        realism.two_sample_test(train_x[:critic_faces], train, val_x, test, epochs=critic_epochs, seed=seed)
        for seed in range(critic_seeds)
    ]
    spectrum = np.log(realism.radial_spectrum(test)) - np.log(realism.radial_spectrum(val_x))
    with torch.no_grad():
        codes = torch.as_tensor(m.encode(val_x))
        mse = float((m.net.decode(codes) - to_tensor(val_x)).pow(2).mean())
    return {
        "sharpness": realism.sharpness_ratio(test, val_x),
        "spectrum_log_distance": float(np.abs(spectrum).mean()),
        "critic_auc": float(np.mean([c["auc"] for c in critics])),
        "critic_log_loss": float(np.mean([c["log_loss"] for c in critics])),
        "critic_log_loss_range": (min(c["log_loss"] for c in critics), max(c["log_loss"] for c in critics)),
        "val_mse": mse,
    }


def last_health(history: list[dict]) -> str:
    rows = [r for r in history if "d_val_accuracy" in r and "sample_sharpness_ratio" in r][-4:]
    return ", ".join(f"{r['d_val_accuracy']:.2f}" for r in rows)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("arms", nargs="+", metavar="ARM=CHECKPOINT", help="the first arm is the common start")
    p.add_argument("--critic-faces", type=int, default=3000, help="real and generated faces the critic learns from")
    p.add_argument("--critic-epochs", type=int, default=2)
    p.add_argument("--critic-seeds", type=int, default=3, help="critics trained per arm (the mean is printed)")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    arms = {}
    for arm in args.arms:
        name, _, path = arm.partition("=")
        if not name or not Path(path).is_file():
            p.error(f"{arm!r}: expected NAME=CHECKPOINT, an existing trainers.vae --model faces-sharp checkpoint")
        arms[name] = path
    torch.set_num_threads(args.threads)
    base = vae.load("vae-faces-sharp")
    faces = data.load_faces(data.FACES_DIR / data.FACES_ZIP)
    tr, va = data.split_indices(len(faces), 0.1, seed=0)  # the trainer's split
    train_x, val_x = faces.images[tr], faces.images[va]
    rows = {}
    for name, path in arms.items():
        m, run = load_arm(Path(path), base)
        rows[name] = {**run, **measure(m, train_x, val_x, args.critic_faces, args.critic_epochs, args.critic_seeds)}
        r = rows[name]
        print(
            f"{name:<10} step {r['step']:>6}  {r['minutes']:6.1f} min  sharpness {r['sharpness']:.3f}  "
            f"spectrum {r['spectrum_log_distance']:.3f}  critic AUC {r['critic_auc']:.4f}  "
            f"log loss {r['critic_log_loss']:.4f} ({r['critic_log_loss_range'][0]:.4f}-"
            f"{r['critic_log_loss_range'][1]:.4f})  MSE {r['val_mse']:.5f}  D accuracy (last 4) "
            f"{last_health(r['history'])}",
            flush=True,
        )
    start_name = next(iter(rows))
    start = rows[start_name]
    print(f"\nchange since {start_name}, per minute of training (sharpness and log loss up, spectrum down is better)")
    for name, r in list(rows.items())[1:]:
        minutes = r["minutes"] - start["minutes"]
        steps = r["step"] - start["step"]
        if minutes <= 0:
            print(f"{name:<10} has not trained since {start_name}")
            continue
        per = {k: (r[k] - start[k]) / minutes for k in ("sharpness", "spectrum_log_distance", "critic_log_loss")}
        print(
            f"{name:<10} {steps} steps in {minutes:.1f} min ({60 * minutes / max(steps, 1):.2f} s/step): "
            f"sharpness {per['sharpness']:+.5f}/min, spectrum {per['spectrum_log_distance']:+.5f}/min, "
            f"critic log loss {per['critic_log_loss']:+.5f}/min"
        )


if __name__ == "__main__":
    main()
