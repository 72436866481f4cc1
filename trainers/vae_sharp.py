"""Train `vae-faces-sharp`: the sigma-VAE's frozen encoder with a decoder trained for realism (see gallery.vae.sharp).

python -m trainers.vae --model faces-sharp --minutes 80            # two CPU threads; then ~15 minutes of evaluation
python -m trainers.vae --model faces-sharp --minutes 80 --resume   # continue from checkpoints/vae-faces-sharp.pt
python -m trainers.vae --model faces-sharp --disc-weight 0.8 --fm-weight 1 --band-weight 0   # the GAN recipe
python -m trainers.vae --model faces-sharp --smoke                 # seconds, tiny data, for tests

Phase 1 (--warmup-steps) teaches the new decoder to reconstruct (L1 only); phase 2 adds the sharpening terms:
a PatchGAN discriminator's hinge loss (at the adaptive weight) and feature matching, and the patchwise band-power
loss. A new discriminator is first trained alone against the current decoder until its held-out real/fake
accuracy passes --disc-warmup-accuracy (no decoder backward pass: cheap); a run whose discriminator is still at
chance after --stall-steps adversarial steps stops with a message instead of burning the budget. Every history
row carries the discriminator's accuracy and mean logits on a fixed validation batch.

The budget (--minutes) ends phase 2; the artifact holds the moving average of the decoder's weights and the
discriminator's weights (float16), so `--resume` goes on from the committed artifact when checkpoints/ is empty.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from gallery import training
from gallery.registry import load_artifact
from gallery.vae import data, sharp
from gallery.vae import model as vae
from gallery.vae.images import sharpness, to_tensor, to_uint8
from gallery.vae.networks import FaceVAE, reparameterise
from trainers import vae_sharp_card


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_common_args(p, "vae", "faces-sharp")
    g = p.add_argument_group("model")
    g.add_argument("--base", default="vae-faces", help="artifact (name or folder) whose encoder is kept, frozen")
    g.add_argument("--decoder-channels", default="256,192,128,64,32", help="at 4, 8, 16, 32, 64 pixels")
    g.add_argument("--decoder-res-blocks", default="1,1,1,1,0", help="residual blocks at each size")
    g.add_argument("--disc-channels", default="64,128,256")
    g.add_argument("--disc-spectral-norm", action="store_true", help="spectral norm in the discriminator (off: R1)")
    g.add_argument(
        "--restart-adversarial",
        action="store_true",
        help="with --resume: a new discriminator, and the moving average restarted from the live decoder",
    )
    g = p.add_argument_group("optimisation")
    g.add_argument("--minutes", type=float, default=95, help="time budget for both phases")
    g.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (0: only the budget)")
    g.add_argument("--card-threads", type=int, default=0, help="threads for the card's evaluation (0: --threads)")
    g.add_argument("--warmup-steps", type=int, default=1500, help="reconstruction-only steps before the GAN")
    g.add_argument(
        "--batch",
        type=int,
        default=16,
        help="16: side by side on one thread each, 45-50 min from step 10,777, it sharpened samples 1.5x faster per "
        "minute than 32 (0.90 against 2.0 s a step), the critic's figures the same (benchmarks.faces_recipe)",
    )
    g.add_argument("--lr", type=float, default=2e-4, help="Adam, both networks, betas (0.5, 0.9)")
    g.add_argument("--warmup-lr", type=float, default=1e-3)
    g.add_argument("--disc-weight", type=float, default=0.8, help="factor on the adaptive adversarial weight")
    g.add_argument("--fm-weight", type=float, default=1.0, help="weight of discriminator feature matching")
    g.add_argument(
        "--band-weight",
        type=float,
        default=1.0,
        help="weight of the log band power of 16x16 patches. 1: side by side for 20 min from step 13,793, as sharp as "
        "3 (0.771 against 0.768), the critic a little less sure and MSE a little lower (benchmarks.faces_recipe)",
    )
    g.add_argument("--r1", type=float, default=0.1, help="R1 gamma (per image), applied every 4 discriminator steps")
    g.add_argument("--disc-warmup-accuracy", type=float, default=0.7, help="a new discriminator trains alone to this")
    g.add_argument("--disc-warmup-max-steps", type=int, default=2000, help="give up the warm-up after this many")
    g.add_argument(
        "--stall-steps", type=int, default=300, help="stop if D is still at chance after this many (0: never)"
    )
    g.add_argument("--ema", type=float, default=0.999)
    g.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    for name in ("decoder_channels", "decoder_res_blocks", "disc_channels"):
        setattr(args, name, tuple(int(v) for v in getattr(args, name).split(",")))
    args.command = training.command_line("vae", argv)
    return args


# ---------------------------------------------------------------- data: the frozen encoder's posteriors


@torch.no_grad()
def posteriors(net: FaceVAE, images: np.ndarray, batch: int = 256) -> tuple[torch.Tensor, torch.Tensor]:
    """Encoder means and log-variances of the images and of their mirror images: (2N, L) each."""
    mus, logvars = [], []
    for flip in (False, True):
        for i in range(0, len(images), batch):
            x = to_tensor(images[i : i + batch])
            mu, logvar = net.encode(x.flip(3) if flip else x)
            mus.append(mu)
            logvars.append(logvar)
    return torch.cat(mus), torch.cat(logvars)


def make_net(args, base: FaceVAE) -> sharp.SharpFaceVAE:
    cfg = sharp.SharpConfig(
        base.cfg.latent,
        base.cfg.channels,
        base.cfg.size,
        base.cfg.res_blocks,
        args.decoder_channels,
        args.decoder_res_blocks,
    )
    net = sharp.SharpFaceVAE(cfg)
    encoder_state = {k: v for k, v in base.state_dict().items() if k.startswith(("encoder.", "to_stats.", "log_sigma"))}
    net.load_state_dict(encoder_state, strict=False)
    return net


def load_base(args) -> FaceVAE:
    """The trained sigma-VAE (in tests, the smoke-trained one the registry points at)."""
    base = Path(args.base)
    art = load_artifact(base.name, base.parent) if base.is_dir() else load_artifact(args.base)
    return vae.build(art.config["model"], art.tensors)


# ---------------------------------------------------------------- one step


def batch_at(x_all, mu, logvar, gen, batch):
    """A random batch: real faces (mirrored or not) and one posterior sample of each face's code."""
    n = len(x_all)
    idx = torch.randint(0, 2 * n, (batch,), generator=gen)  # second half: mirror images
    x = to_tensor(x_all[(idx % n).numpy()])
    x = torch.where((idx >= n)[:, None, None, None], x.flip(3), x)  # (B, 3, 64, 64)
    z = reparameterise(mu[idx], logvar[idx], gen)  # (B, L)
    return x, z


def decoder_step(dec, disc, opt, x, z, args, adversarial: bool, gen):
    fake = dec(z)
    l1 = (fake - x).abs().mean()
    parts = {"l1": l1.item()}
    loss = l1
    if args.band_weight and adversarial:
        band = sharp.band_power_loss(fake, x)
        loss = loss + args.band_weight * band
        parts["band"] = band.item()
    if adversarial and uses_discriminator(args):
        logits_fake, feats_fake = disc(sharp.diff_augment(fake, gen))
        with torch.no_grad():
            _, feats_real = disc(sharp.diff_augment(x, gen))
        fm = sharp.feature_matching(feats_fake, feats_real)
        rec = loss + args.fm_weight * fm
        g = sharp.hinge_g_loss(logits_fake)
        w = sharp.adaptive_weight(rec, g, dec.to_rgb.weight) * args.disc_weight
        loss = rec + w * g
        parts.update(fm=fm.item(), g=g.item(), w=w.item())
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return fake.detach(), parts


def phase_name(args, after_warmup: bool) -> str:
    if not after_warmup:
        return "reconstruction"
    return "adversarial" if uses_discriminator(args) else "spectral"


def uses_discriminator(args) -> bool:
    return bool(args.disc_weight or args.fm_weight)


def disc_step(disc, opt, x, fake, args, step: int, gen):
    logits_real, _ = disc(sharp.diff_augment(x, gen))
    logits_fake, _ = disc(sharp.diff_augment(fake, gen))
    loss = sharp.hinge_d_loss(logits_real, logits_fake)
    parts = {"d": loss.item(), "d_real": logits_real.mean().item(), "d_fake": logits_fake.mean().item()}
    if args.r1 and step % 4 == 0:  # lazy regularisation: 4x the weight every 4th step
        r1 = sharp.r1_penalty(disc, x)
        loss = loss + 4 * 0.5 * args.r1 * r1
        parts["r1"] = r1.item()
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return parts


HEALTH_BATCH = 64  # validation faces against decodings of 64 other validation faces


@torch.no_grad()
def health(disc, dec, val_x, val_mu) -> dict:
    """The discriminator on a fixed validation batch: real faces against the live decoder's decodings of others."""
    n = min(HEALTH_BATCH, len(val_x) // 2)
    real = to_tensor(val_x[:n])
    fake = dec(val_mu[n : 2 * n])
    return sharp.discriminator_health(disc, real, fake)


def warm_up_discriminator(args, dec, disc, opt_d, train_x, mu, logvar, gen, val_x, val_mu) -> list[dict]:
    """Train a new discriminator alone against the current decoder until it tells them apart on held-out faces."""
    rows, k = [], 0
    start = time.time()
    while k < args.disc_warmup_max_steps:
        x, z = batch_at(train_x, mu, logvar, gen, args.batch)
        with torch.no_grad():
            fake = dec(z)
        parts = disc_step(disc, opt_d, x, fake, args, k, gen)
        k += 1
        if k % args.health_every == 0:
            row = {"phase": "discriminator warm-up", "disc_steps": k, "d": round(parts["d"], 4)}
            row.update(health(disc, dec, val_x, val_mu))
            row["seconds"] = round(time.time() - start)
            print(" ".join(f"{key}={v}" for key, v in row.items()), flush=True)
            rows.append(row)
            if row["d_val_accuracy"] >= args.disc_warmup_accuracy:
                return rows
    raise SystemExit(
        f"the discriminator reached held-out accuracy {rows[-1]['d_val_accuracy'] if rows else 0.5} after "
        f"{k} steps alone (needs {args.disc_warmup_accuracy}): it is not learning; try --r1 0 or other --lr"
    )


def resume_from_artifact(out: Path, dec, disc, ema) -> dict | None:
    """The committed artifact as a checkpoint (no optimiser state): decoder, discriminator, step, history."""
    try:
        art = load_artifact(out.name, out.parent)
    except Exception:  # noqa: BLE001 - no artifact (or a broken one): start afresh
        return None
    dec.load_state_dict({k[len("sharp.") :]: v for k, v in art.tensors.items() if k.startswith("sharp.")})
    ema.module.load_state_dict(dec.state_dict())
    disc_state = {k[len("extra.disc.") :]: v for k, v in art.tensors.items() if k.startswith("extra.disc.")}
    if disc_state:
        disc.load_state_dict(disc_state)
    card = art.card
    print(f"resumed from the artifact {out} at step {card['steps']} (no optimiser state)")
    return {
        "step": card["steps"],
        "history": card["history"],
        "elapsed": card["train_seconds"],
        "commands": card["training"]["commands_run"],
        "disc_loaded": bool(disc_state),
    }


@torch.no_grad()
def quick_check(dec, val_x, val_mu, seed: int = 0) -> dict:
    """Cheap progress figures: held-out MSE from the encoder means, sharpness of N(0, I) samples vs real."""
    dec.eval()
    rec = torch.cat([dec(val_mu[i : i + 256]) for i in range(0, len(val_mu), 256)])
    mse = (rec - to_tensor(val_x)).pow(2).mean().item()
    z = torch.randn(256, val_mu.shape[1], generator=torch.Generator().manual_seed(seed))
    samples = to_uint8(dec(z))
    ratio = sharpness(samples) / sharpness(val_x)
    return {"val_mse": round(mse, 6), "sample_sharpness_ratio": round(ratio, 3)}


# ---------------------------------------------------------------- the loop


def train(args, net, train_x, val_x, ckpt_path, out):
    base = net
    dec = net.sharp
    disc = sharp.PatchDiscriminator(args.disc_channels, spectral=args.disc_spectral_norm)
    opt_g = torch.optim.Adam(dec.parameters(), lr=args.warmup_lr, betas=(0.5, 0.9))
    opt_d = torch.optim.Adam(disc.parameters(), lr=args.lr, betas=(0.5, 0.9))
    ema = sharp.EMA(dec, args.ema)
    mu, logvar = posteriors(base, train_x)
    val_mu = posteriors(base, val_x)[0][: len(val_x)]
    gen = torch.Generator().manual_seed(args.seed)
    step, history, elapsed, commands = 0, [], 0.0, []
    ckpt = training.load_checkpoint(ckpt_path) if args.resume else None
    disc_is_new = True
    if args.resume and ckpt is None and (resumed := resume_from_artifact(out, dec, disc, ema)):
        step, history, elapsed, commands = (resumed[k] for k in ("step", "history", "elapsed", "commands"))
        ema.updates = step
        disc_is_new = not resumed["disc_loaded"]
    if ckpt:
        dec.load_state_dict(ckpt["decoder"])
        opt_g.load_state_dict(ckpt["opt_g"])
        gen.set_state(ckpt["generator"])
        step, history, elapsed, commands = ckpt["step"], ckpt["history"], ckpt["elapsed"], ckpt.get("commands", [])
        if args.restart_adversarial:
            ema = sharp.EMA(dec, args.ema)
            history.append({"step": step, "restarted": "new discriminator; moving average from the live decoder"})
        else:
            disc_is_new = ckpt.get("disc_is_new", False)
            disc.load_state_dict(ckpt["disc"])
            opt_d.load_state_dict(ckpt["opt_d"])
            ema.module.load_state_dict(ckpt["ema"])
            ema.updates = ckpt.get("ema_updates", step)
        print(f"resumed from {ckpt_path} at step {step}")
    commands.append({"command": args.command, "from_step": step})
    start = time.time() - elapsed
    budget = args.minutes * 60

    def done() -> bool:
        return time.time() - start > budget or bool(args.max_steps and step >= args.max_steps)

    def save():
        training.save_checkpoint(
            ckpt_path,
            decoder=dec.state_dict(),
            disc=disc.state_dict(),
            ema=ema.module.state_dict(),
            ema_updates=ema.updates,
            commands=commands,
            opt_g=opt_g.state_dict(),
            opt_d=opt_d.state_dict(),
            generator=gen.get_state(),
            step=step,
            history=history,
            elapsed=time.time() - start,
            disc_is_new=disc_is_new,
        )

    bar = tqdm(desc="vae-faces-sharp", mininterval=30, unit="step", initial=step)
    sums: dict[str, float] = {}
    last_save = time.time()
    adversarial_steps, best_accuracy = 0, 0.0  # in this run, for the stall rule
    while not done():
        adversarial = step >= args.warmup_steps
        if adversarial and opt_g.param_groups[0]["lr"] != args.lr:
            for group in opt_g.param_groups:
                group["lr"] = args.lr
        if adversarial and uses_discriminator(args) and disc_is_new:
            dec.eval()
            history += [
                {"step": step, **row}
                for row in warm_up_discriminator(args, dec, disc, opt_d, train_x, mu, logvar, gen, val_x, val_mu)
            ]
            disc_is_new = False
            save()
        dec.train()
        x, z = batch_at(train_x, mu, logvar, gen, args.batch)
        fake, parts = decoder_step(dec, disc, opt_g, x, z, args, adversarial, gen)
        if adversarial and uses_discriminator(args):
            parts.update(disc_step(disc, opt_d, x, fake, args, step, gen))
        ema.update(dec)
        step += 1
        if adversarial and uses_discriminator(args):
            adversarial_steps += 1
            if adversarial_steps <= args.stall_steps and adversarial_steps % args.health_every == 0:
                best_accuracy = max(best_accuracy, health(disc, dec, val_x, val_mu)["d_val_accuracy"])
                if adversarial_steps == args.stall_steps and best_accuracy <= 0.55:
                    save()
                    raise SystemExit(
                        f"the discriminator stayed at chance (held-out accuracy at most {best_accuracy}) for "
                        f"{args.stall_steps} adversarial steps: stopped at step {step} (checkpoint {ckpt_path})"
                    )
        for k, v in parts.items():
            sums[k] = sums.get(k, 0.0) + v
        sums["n"] = sums.get("n", 0) + 1
        bar.update()
        if step % 250 == 0 or done():
            row = {"step": step, "phase": phase_name(args, adversarial)}
            row.update({k: round(v / sums["n"], 5) for k, v in sums.items() if k != "n"})
            if uses_discriminator(args) and adversarial:
                row.update(health(disc, dec, val_x, val_mu))
            row.update(quick_check(ema.module, val_x, val_mu))
            row["seconds"] = round(time.time() - start)
            history.append(row)
            print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
            sums = {}
        if time.time() - last_save > 300 or done():
            save()
            last_save = time.time()
    bar.close()
    dec.load_state_dict(ema.module.state_dict())
    return net.eval(), disc, history, time.time() - start, step, commands


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.smoke:
        args.decoder_channels, args.decoder_res_blocks, args.disc_channels = (16, 16, 8, 8, 8), (1, 0, 0, 0, 0), (8, 8)
        args.warmup_steps, args.max_steps, args.batch = 3, 6, 8
        args.disc_warmup_max_steps, args.stall_steps, args.disc_warmup_accuracy = 40, 0, 0.0  # rules off
    args.health_every = 2 if args.smoke else 50
    training.seed_everything(args.seed)
    device = training.resolve_device(args.device)  # recorded; trains on the CPU
    out, ckpt_path = training.artifact_paths(args, "vae")
    zip_path = (args.data_dir or data.FACES_DIR) / data.FACES_ZIP
    if not zip_path.is_file():
        raise training.missing_data(zip_path)
    faces = data.load_faces(zip_path, limit=240 if args.smoke else None)
    tr, va = data.split_indices(len(faces), 0.1, seed=0)  # the same split as vae-faces
    base = load_base(args)
    net = make_net(args, base)
    print(f"faces-sharp: {len(tr)} training faces, {len(va)} validation faces; encoder from {args.base}, frozen")
    net, disc, history, seconds, steps, commands = train(args, net, faces.images[tr], faces.images[va], ckpt_path, out)
    args.commands = commands
    torch.set_num_threads(args.card_threads or args.threads)
    vae_sharp_card.write(args, net, disc, base, faces, tr, va, history, seconds, steps, device, out, [zip_path])


if __name__ == "__main__":
    main()
