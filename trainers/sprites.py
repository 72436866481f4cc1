"""Train the sprites VAEs (disentanglement_lib's architecture) on dSprites-style sprites rendered on the fly.

python -m trainers.sprites --model beta-vae --threads 1 --minutes 45            # a CPU run: --minutes stops it
python -m trainers.sprites --model beta-vae --threads 1 --minutes 45 --resume   # carry on (checkpoint or artifact)
python -m trainers.sprites --model factor-vae --device cuda                      # the published 300,000 steps
python -m trainers.sprites --model vae --smoke --out /tmp/sprites-vae            # seconds, for tests

Models: vae (beta = 1), beta-vae (--beta), factor-vae (--gamma, a discriminator with its own Adam), beta-tcvae (--beta
on the total correlation). Training batches come from SeedSequence([--seed, step]); the card's metrics from sprites
drawn with the plain seed gallery.sprites.scores.EVAL_SEED, which training never uses.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from gallery import training
from gallery.registry import load_artifact, save_artifact
from gallery.sprites import model as sprites_model
from gallery.sprites import objectives, render, scores
from gallery.sprites.model import DISCRIMINATOR_PREFIX, Discriminator, SpritesConfig, SpritesVAE

MODELS = ("vae", "beta-vae", "factor-vae", "beta-tcvae")
DEFAULT_BETA = {"vae": 1.0, "beta-vae": 4.0, "beta-tcvae": 6.0}  # in disentanglement_lib's sweeps
PUBLISHED_STEPS = 300_000
HISTORY_SEED = scores.EVAL_SEED + 1  # the held-out sprites the history's rows are scored on
DATA = {
    "data": "this project's rendering of the dSprites factor grid (gallery/sprites/render.py), drawn on the fly; "
    "not the original dSprites file, whose heart outline and base sizes were never published",
    "licence": "no data file: the grid (Matthey et al. 2017, github.com/deepmind/dsprites-dataset) is rendered here",
    "grid": dict(zip(render.FACTOR_NAMES, render.FACTOR_SIZES)),
    "combinations": render.N_COMBINATIONS,
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_common_args(p, "sprites", "beta-vae")
    g = p.add_argument_group("model")
    g.add_argument("--size", type=int, choices=(64, 32), default=None, help="input pixels a side (default 64)")
    g.add_argument("--beta", type=float, default=None, help="beta-vae: on the KL (4); beta-tcvae: on the TC (6)")
    g.add_argument("--gamma", type=float, default=40.0, help="factor-vae: weight of the TC estimate")
    g.add_argument("--disc-layers", type=int, default=None, help="factor-vae: hidden layers (6 on cuda, 4 on cpu)")
    g.add_argument("--disc-hidden", type=int, default=None, help="factor-vae: units a layer (1000 cuda, 256 cpu)")
    g.add_argument("--disc-lr", type=float, default=1e-4, help="factor-vae: the discriminator's Adam (0.5, 0.9)")
    g = p.add_argument_group("optimisation")
    g.add_argument(
        "--steps", type=int, default=None, help=f"total steps, across resumed runs (default {PUBLISHED_STEPS:,})"
    )
    g.add_argument("--minutes", type=float, default=0, help="stop cleanly after this many minutes of this run")
    g.add_argument("--batch", type=int, default=64)
    g.add_argument("--lr", type=float, default=1e-4, help="Adam, as disentanglement_lib")
    g.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    g.add_argument("--eval-every", type=int, default=1000, help="steps between history rows and checkpoints")
    g.add_argument("--eval-points", type=int, default=1000, help="held-out sprites each history row is scored on")
    g = p.add_argument_group("card metrics (held-out sprites; defaults: disentanglement_lib's counts)")
    g.add_argument("--mig-points", type=int, default=10_000)
    g.add_argument("--fvae-train", type=int, default=10_000, help="FactorVAE score: training votes")
    g.add_argument("--fvae-eval", type=int, default=5_000, help="FactorVAE score: evaluation votes")
    g.add_argument("--fvae-variance", type=int, default=10_000, help="FactorVAE score: points for the global variance")
    args = p.parse_args(argv)
    if args.model not in MODELS:
        p.error(f"--model must be one of {', '.join(MODELS)}")
    if args.smoke and args.out is None:
        p.error("--smoke needs --out (a scratch folder), so that it never replaces a committed artifact")
    if args.model == "vae" and args.beta not in (None, 1.0):
        p.error("the plain VAE has beta = 1; use --model beta-vae for another beta")
    if args.beta is None:
        args.beta = DEFAULT_BETA.get(args.model)
    if min(args.steps or 1, args.batch, args.eval_every, args.eval_points) < 1 or args.minutes < 0:
        p.error("--steps, --batch, --eval-every and --eval-points must be positive, --minutes 0 or more")
    args.command = training.command_line("sprites", argv)
    return args


def smoke(args) -> None:
    args.batch, args.eval_every, args.eval_points = 16, 3, 200  # and 6 steps a run, unless --steps says
    args.mig_points, args.fvae_train, args.fvae_eval, args.fvae_variance = 300, 20, 10, 200
    args.disc_layers, args.disc_hidden = args.disc_layers or 2, args.disc_hidden or 32


# ---------------------------------------------------------------------------------------------- data


def training_batch(seed: int, step: int, batch: int, size: int) -> torch.Tensor:
    """The step's sprites, the same on every run and resume: (B, 1, size, size) float32."""
    indices = render.sample_factors(batch, np.random.default_rng([seed, step]))  # (B, 5)
    return sprites_model.to_input(render.render_indices(indices), size)


# ---------------------------------------------------------------------------------------------- a run


@dataclass
class Run:
    """What a run carries from checkpoint to checkpoint, and from an artifact's card to the next run."""

    net: SpritesVAE
    opt: torch.optim.Optimizer
    disc: Discriminator | None = None
    disc_opt: torch.optim.Optimizer | None = None
    step: int = 0
    history: list = field(default_factory=list)  # one row per evaluation, across runs
    commands: list = field(default_factory=list)  # every command that trained these weights, with its steps
    minutes_before: float = 0.0  # training minutes of earlier runs
    elapsed: float = 0.0  # seconds of this run so far


def saved_config(args, ckpt_path: Path, out: Path) -> dict | None:
    """The architecture a resumed run must keep: the checkpoint's, else the artifact's; None for a new run."""
    if not args.resume:
        return None
    ckpt = training.load_checkpoint(ckpt_path)
    if ckpt:
        return ckpt["config"]
    if (out / "card.json").is_file():
        return load_artifact(out.name, out.parent).config
    return None


def architecture(args, device, saved: dict | None) -> dict:
    """config.json's content: the VAE's sizes and, for factor-vae, the discriminator's."""
    if saved:
        if args.size not in (None, saved["size"]):
            raise SystemExit(f"error: the run being resumed is {saved['size']}x{saved['size']}; drop --size")
        return saved
    cfg = sprites_model.config_dict(SpritesConfig(size=args.size or 64))
    if args.model == "factor-vae":
        big = device.type == "cuda"
        layers, hidden = args.disc_layers or (6 if big else 4), args.disc_hidden or (1000 if big else 256)
        cfg["discriminator"] = {"layers": layers, "hidden": hidden}
    return cfg


def make_run(args, config: dict, device) -> Run:
    net = sprites_model.build(config).train().to(device)
    run = Run(net, torch.optim.Adam(net.parameters(), lr=args.lr))
    if "discriminator" in config:
        spec = config["discriminator"]
        run.disc = Discriminator(config["latents"], spec["layers"], spec["hidden"]).to(device)
        run.disc_opt = torch.optim.Adam(run.disc.parameters(), lr=args.disc_lr, betas=(0.5, 0.9))
    return run


def start_run(args, run: Run, ckpt_path: Path, out: Path) -> None:
    """Continue from the checkpoint, or (with --resume and no checkpoint) from the artifact alone; then add this
    command to the list."""
    ckpt = training.load_checkpoint(ckpt_path) if args.resume else None
    if ckpt:
        run.net.load_state_dict(ckpt["model"])
        run.opt.load_state_dict(ckpt["optimizer"])
        if run.disc is not None:
            run.disc.load_state_dict(ckpt["discriminator"])
            run.disc_opt.load_state_dict(ckpt["disc_optimizer"])
        torch.set_rng_state(ckpt["torch_rng"])
        run.step, run.history, run.commands = ckpt["step"], ckpt["history"], ckpt["commands"]
        run.minutes_before = ckpt["minutes_before"]
        print(f"resumed from {ckpt_path} at step {run.step}")
    elif args.resume and (out / "card.json").is_file():
        art = load_artifact(out.name, out.parent)
        sprites_model.build(art.config, art.tensors)  # shapes checked, naming the tensor that differs
        run.net.load_state_dict({k: v for k, v in art.tensors.items() if not k.startswith(DISCRIMINATOR_PREFIX)})
        if run.disc is not None:
            run.disc.load_state_dict(sprites_model.build_discriminator(art.config, art.tensors).state_dict())
        card = art.card
        run.step, run.history, run.commands = card["steps"], card["history"], card["commands_run"]
        run.minutes_before = card["train_minutes_total"]
        torch.manual_seed(args.seed * 1_000_003 + run.step)  # fresh noise, not the first run's again
        print(f"resuming from the artifact {out} at step {run.step} (fresh optimizer)")
    elif args.resume:
        print(f"nothing to resume ({ckpt_path} and {out} missing): a new run")
    if run.commands and "to_step" not in run.commands[-1]:  # a run stopped between checkpoints
        run.commands[-1].update(to_step=run.step, interrupted=True)
    run.commands.append({"command": args.command, "from_step": run.step})


def train_step(args, run: Run, x: torch.Tensor) -> dict:
    """One step of the model's objective (and of its discriminator): the terms as floats."""
    f = run.net(x)
    if args.model == "factor-vae":
        run.disc.requires_grad_(False)  # the VAE's step does not train the discriminator
        terms = objectives.factor_vae_loss(f, x, run.disc, args.gamma)
        run.disc.requires_grad_(True)
    elif args.model == "beta-tcvae":
        terms = objectives.beta_tcvae_loss(f, x, args.beta)
    elif args.model == "beta-vae":
        terms = objectives.beta_vae_loss(f, x, args.beta)
    else:
        terms = objectives.vae_loss(f, x)
    run.opt.zero_grad(set_to_none=True)
    terms["loss"].backward()
    run.opt.step()
    out = {k: v.item() for k, v in terms.items()}
    if run.disc is not None:
        d = objectives.discriminator_loss(run.disc, f.z)
        run.disc_opt.zero_grad(set_to_none=True)
        d["loss"].backward()
        run.disc_opt.step()
        out.update(disc_loss=d["loss"].item(), disc_accuracy=d["accuracy"].item())
    return out


def train(args, run: Run, ckpt_path: Path, device) -> None:
    size = run.net.cfg.size
    start = time.time()
    sums: dict = {}  # the training terms summed since the last history row
    count = 0
    bar = tqdm(desc=f"sprites-{args.model}", initial=run.step, total=args.steps)
    while run.step < args.steps:
        terms = train_step(args, run, training_batch(args.seed, run.step, args.batch, size).to(device))
        run.step += 1
        count += 1
        for k, v in terms.items():
            sums[k] = sums.get(k, 0.0) + v
        bar.update()
        bar.set_postfix(loss=f"{terms['loss']:.1f}", kl=f"{terms['kl']:.1f}")
        out_of_time = args.minutes and time.time() - start > args.minutes * 60
        if run.step % args.eval_every == 0 or run.step == args.steps or out_of_time:
            run.elapsed = time.time() - start
            record(args, run, {k: v / count for k, v in sums.items()})
            sums, count = {}, 0
            bar.write(", ".join(f"{k} {v}" for k, v in run.history[-1].items()))
            save_run(ckpt_path, run)
        if out_of_time:
            print(f"stopping: time budget of {args.minutes} minutes spent")
            break
    bar.close()
    run.elapsed = time.time() - start
    run.commands[-1].update(to_step=run.step, minutes=round(run.elapsed / 60, 2))


@torch.no_grad()
def record(args, run: Run, train_terms: dict) -> None:
    """A history row: the training terms averaged since the last row, held-out NLL, KL and a small-count MIG."""
    counts = scores.Counts(mig_points=args.eval_points, recon_points=args.eval_points)
    held = scores.evaluate(sprites_model.SpritesModel(run.net.eval(), {}, {}), HISTORY_SEED, counts, factorvae=False)
    run.net.train()
    run.history.append(
        {
            "step": run.step,
            **{f"train_{k}": round(v, 4) for k, v in train_terms.items()},
            "held_out_nll": held["reconstruction_nll"],
            "held_out_kl": held["kl_total"],
            f"held_out_mig_{args.eval_points}": held["mig"],
            "minutes": round(run.minutes_before + run.elapsed / 60, 2),
            "run": len(run.commands),
        }
    )


def save_run(ckpt_path: Path, run: Run) -> None:
    disc = {}
    if run.disc is not None:
        disc = {"discriminator": run.disc.state_dict(), "disc_optimizer": run.disc_opt.state_dict()}
    training.save_checkpoint(
        ckpt_path,
        config=run_config(run),
        model=run.net.state_dict(),
        optimizer=run.opt.state_dict(),
        torch_rng=torch.get_rng_state(),
        step=run.step,
        history=run.history,
        commands=run.commands,
        minutes_before=run.minutes_before,
        **disc,
    )


def run_config(run: Run) -> dict:
    cfg = sprites_model.config_dict(run.net.cfg)
    if run.disc is not None:
        cfg["discriminator"] = {"layers": run.disc.layers, "hidden": run.disc.hidden}
    return cfg


# ---------------------------------------------------------------------------------------------- the artifact


def objective(args) -> dict:
    if args.model == "factor-vae":
        name = "FactorVAE (Kim & Mnih 2018)"
        return {"name": name, "loss": "nll + kl + gamma * TC (density ratio)", "gamma": args.gamma}
    if args.model == "beta-tcvae":
        return {"name": "beta-TCVAE (Chen et al. 2018)", "loss": "nll + kl + (beta - 1) * TC (MWS)", "beta": args.beta}
    if args.model == "beta-vae":
        return {"name": "beta-VAE (Higgins et al. 2017)", "loss": "nll + beta * kl", "beta": args.beta}
    return {"name": "VAE", "loss": "nll + kl", "beta": 1.0}


def write_artifact(args, run: Run, device, out: Path) -> dict:
    """Score the weights as stored (float16) on held-out sprites, then write the artifact atomically."""
    net = run.net.cpu().eval()
    net.load_state_dict({k: v.half().float() for k, v in net.state_dict().items()})
    config = run_config(run)
    model = sprites_model.SpritesModel(net, config, {})
    counts = scores.Counts(args.mig_points, args.mig_points, args.fvae_train, args.fvae_eval, args.fvae_variance)
    print("scoring on held-out sprites ...")
    held = scores.evaluate(model, scores.EVAL_SEED, counts)
    tensors = dict(net.state_dict())
    if run.disc is not None:
        tensors |= {DISCRIMINATOR_PREFIX + k: v for k, v in run.disc.cpu().state_dict().items()}
    minutes_total = run.minutes_before + run.elapsed / 60
    steps_now = run.step - run.commands[-1]["from_step"]
    cfg = net.cfg
    card = {
        "artifact": out.name,
        "task": "disentangling the five known factors of dSprites-style sprites",
        "model": f"{objective(args)['name']}: {sprites_model.describe(cfg)}",
        "architecture": {
            "from": "disentanglement_lib (Locatello et al. 2019): conv encoder 32-32-64-64, FC 256, 10 latents",
            "size": cfg.size,
            "encoder_channels": list(cfg.channels),
            "hidden": cfg.hidden,
            "latents": cfg.latents,
            "likelihood": "Bernoulli (BCE with logits summed over pixels)",
        },
        "parameters": net.num_parameters(),
        "objective": objective(args),
        "optimizer": {"name": "Adam", "lr": args.lr, "batch": args.batch},
        "steps": run.step,
        "published_steps": PUBLISHED_STEPS,
        "train_command": args.command,
        "commands_run": run.commands,
        "hardware": training.hardware(device),
        "threads": torch.get_num_threads(),
        "train_seconds": round(run.elapsed),
        "train_minutes_total": round(minutes_total, 2),
        "seconds_per_step_this_run": round(run.elapsed / max(1, steps_now), 4),
        "data": {**DATA, "train_seed": f"SeedSequence([{args.seed}, step])", "eval_seed": scores.EVAL_SEED},
        "metrics": held,
        "published": scores.PUBLISHED,
        "history": run.history,
        "smoke": args.smoke,
    }
    if run.disc is not None:
        d = config["discriminator"]
        card["discriminator"] = {
            **d,
            "parameters": sum(p.numel() for p in run.disc.parameters()),
            "optimizer": {"name": "Adam", "lr": args.disc_lr, "betas": [0.5, 0.9]},
            "paper": "6 hidden layers of 1000 (Kim & Mnih 2018; disentanglement_lib)",
            "this_one": f"{d['layers']} hidden layers of {d['hidden']}, leaky ReLU 0.2",
        }
    card["summary"] = {
        "quality": f"MIG {held['mig']}, FactorVAE score {held.get('factorvae_score')} after {run.step:,} of "
        f"{PUBLISHED_STEPS:,} steps; reconstruction {held['reconstruction_nll']} nats, KL {held['kl_total']} nats",
        "baseline": "published (original dSprites): beta-VAE MIG of order 0.1, beta-TCVAE about 0.4-0.5",
    }
    save_artifact(out, tensors, config, card, readme=training.card_readme(card))
    return card


def main(argv=None):
    args = parse_args(argv)
    if args.smoke:
        smoke(args)
    if args.threads:
        torch.set_num_threads(args.threads)
    training.seed_everything(args.seed)
    device = training.resolve_device(args.device)
    out, ckpt_path = training.artifact_paths(args, "sprites")
    config = architecture(args, device, saved_config(args, ckpt_path, out))
    run = make_run(args, config, device)
    start_run(args, run, ckpt_path, out)
    if args.steps is None:
        args.steps = run.step + 6 if args.smoke else PUBLISHED_STEPS
    print(f"sprites-{args.model}: {sprites_model.describe(run.net.cfg)}, {run.net.num_parameters():,} parameters")
    train(args, run, ckpt_path, device)
    card = write_artifact(args, run, device, out)
    print(card["summary"]["quality"])
    return card


if __name__ == "__main__":
    main()
