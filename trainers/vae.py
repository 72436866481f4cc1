"""Train the VAEs: a convolutional sigma-VAE on 64x64 faces, a conditional VAE on MNIST digits.

python -m trainers.vae --model faces            # 16 epochs, about 22 minutes on one (shared) CPU thread
python -m trainers.vae --model digits           # 30 epochs, about 18 minutes on one CPU thread
python -m trainers.vae --model faces --smoke    # seconds, tiny data, for tests
python -m trainers.vae --model faces --resume   # continue from checkpoints/vae-faces.pt
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time

import numpy as np
import torch
from tqdm import tqdm

from gallery import training
from gallery.registry import save_artifact
from gallery.vae import data
from gallery.vae.images import sharpness, to_tensor, to_uint8
from gallery.vae.latent import attribute_directions, group_gap
from gallery.vae.networks import (
    LOG2,
    DigitConfig,
    DigitCVAE,
    FaceConfig,
    FaceVAE,
    bernoulli_nll,
    config_dict,
    cvae_loss,
    kl_per_dim,
    num_parameters,
    sigma_vae_loss,
)
from gallery.vae.scoring import score
from trainers.vae_common import FACES_LICENCE, encode_all, pca_reference, rounded

MODELS = ("faces", "digits")
MNIST_LICENCE = {
    "data": "MNIST (LeCun, Cortes and Burges); test set exact, training images rebuilt from a public PNG copy",
    "licence": "CC BY-SA 3.0",
    "citation": "Y. LeCun, L. Bottou, Y. Bengio, P. Haffner. Gradient-based learning applied to document "
    "recognition. Proc. IEEE 1998.",
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_common_args(p, "vae", "faces")
    g = p.add_argument_group("model")
    g.add_argument("--latent", type=int, default=None, help="latent dimensions (faces 64, digits 20)")
    g = p.add_argument_group("optimisation")
    g.add_argument("--epochs", type=int, default=None, help="passes over the training images (faces 16, digits 30)")
    g.add_argument("--minutes", type=float, default=0, help="stop early after this many minutes (0: no limit)")
    g.add_argument("--batch", type=int, default=None, help="faces 64, digits 128")
    g.add_argument("--lr", type=float, default=None, help="peak learning rate (faces 2e-3, digits 1e-3)")
    g.add_argument("--beta", type=float, default=1.0, help="weight of the KL term (1: a true ELBO)")
    g.add_argument("--threads", type=int, default=1, help="torch intra-op threads (1 on a shared machine)")
    args = p.parse_args(argv)
    if args.model not in MODELS:
        p.error(f"--model must be one of {', '.join(MODELS)}")
    faces = args.model == "faces"
    defaults = {"latent": 64 if faces else 20, "epochs": 16 if faces else 30, "batch": 64 if faces else 128}
    defaults["lr"] = 2e-3 if faces else 1e-3
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.command = training.command_line("vae", argv)
    return args


def lr_at(step: int, total: int, peak: float, warmup: int = 200, time_fraction: float = 0.0) -> float:
    """Linear warmup, then cosine decay to a twentieth of the peak.

    With a time budget (--minutes) the decay follows whichever is further along, steps or time, so a run
    cut short by its budget still ends with a small learning rate.
    """
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, max((step - warmup) / max(1, total - warmup), time_fraction))
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * progress)))


# ---------------------------------------------------------------- data


def load_data(args):
    """(train images, train labels, held-out images, held-out labels, info); labels are digit classes or None."""
    if args.model == "faces":
        path = args.data_dir or data.FACES_DIR
        zip_path = path / data.FACES_ZIP if path.is_dir() else path
        if not zip_path.is_file():
            raise training.missing_data(zip_path)
        faces = data.load_faces(zip_path, limit=240 if args.smoke else None)
        tr, va = data.split_indices(len(faces), 0.1, seed=0)
        info = {"faces": faces, "train_idx": tr, "val_idx": va, "files": [zip_path]}
        return faces.images[tr], None, faces.images[va], None, info
    path = args.data_dir or data.MNIST_DIR
    npz = path / data.MNIST_FILE if path.is_dir() else path
    if not npz.is_file():
        raise training.missing_data(npz)
    m = data.load_mnist(npz)
    x, y, xt, yt = m["x_train"], m["y_train"], m["x_test"], m["y_test"]
    if args.smoke:
        x, y, xt, yt = x[:2000], y[:2000], xt[:500], yt[:500]
    tr, va = data.split_indices(len(x), 1 / 12, seed=0)
    info = {"val_x": x[va], "val_y": y[va], "files": [npz]}
    return x[tr], y[tr], xt, yt, info


# ---------------------------------------------------------------- training


def make_net(args) -> torch.nn.Module:
    if args.model == "faces":
        channels = (8, 8, 16, 16) if args.smoke else (32, 64, 128, 256)
        return FaceVAE(FaceConfig(args.latent, channels, data.FACE_SIZE))
    hidden = (64,) if args.smoke else (512, 256)
    return DigitCVAE(DigitConfig(args.latent, hidden, 10, data.DIGIT_SIZE))


def batch_loss(net, x_u8, y, gen, beta):
    x = to_tensor(x_u8)
    if net.kind == "faces":
        flip = torch.rand(len(x), generator=gen) < 0.5  # mirror half the faces: a free, label-safe augmentation
        x = torch.where(flip[:, None, None, None], x.flip(3), x)
        return sigma_vae_loss(net, x, gen, beta)
    return cvae_loss(net, x, torch.as_tensor(y), gen, beta)


def validate(net, x, y) -> dict:
    s = score(net, x, y)
    return {
        "val_neg_elbo": round(s.neg_elbo_nats, 2),
        "val_mse": round(s.mse_per_pixel, 6),
        "val_kl": round(s.kl_nats, 2),
    }


def train(args, x, y, val_x, val_y, ckpt_path):
    """Adam with warmup and cosine decay; validation and a checkpoint after every epoch; keeps the best epoch."""
    net = make_net(args)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr)
    steps_per_epoch = max(1, len(x) // args.batch)
    total = steps_per_epoch * args.epochs
    gen = torch.Generator().manual_seed(args.seed)
    epoch, history, elapsed, best = 0, [], 0.0, None
    ckpt = training.load_checkpoint(ckpt_path) if args.resume else None
    if ckpt:
        net.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        gen.set_state(ckpt["generator"])
        epoch, history, elapsed = ckpt["epoch"], ckpt["history"], ckpt["elapsed"]
        best = {"epoch": ckpt["best_epoch"], "score": ckpt["best_score"], "state": ckpt["best_model"]}
        print(f"resumed from {ckpt_path} after epoch {epoch}")
    start = time.time() - elapsed
    name = f"vae-{args.model}"
    while epoch < args.epochs:
        net.train()
        order = torch.randperm(len(x), generator=gen).numpy()
        bar = tqdm(range(steps_per_epoch), desc=f"{name} epoch {epoch + 1}/{args.epochs}", mininterval=10)
        parts_sum: dict[str, float] = {}
        for i in bar:
            step = epoch * steps_per_epoch + i
            for group in opt.param_groups:
                spent = (time.time() - start) / (args.minutes * 60) if args.minutes else 0.0
                group["lr"] = lr_at(step, total, args.lr, time_fraction=spent)
            idx = np.sort(order[i * args.batch : (i + 1) * args.batch])
            loss, parts = batch_loss(net, x[idx], None if y is None else y[idx], gen, args.beta)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 100.0)
            opt.step()
            for k, v in parts.items():
                parts_sum[k] = parts_sum.get(k, 0.0) + v
            bar.set_postfix(loss=f"{loss.item():.1f}", **{k: f"{v:.4g}" for k, v in parts.items()}, refresh=False)
        epoch += 1
        row = {"epoch": epoch, **{f"train_{k}": round(v / steps_per_epoch, 6) for k, v in parts_sum.items()}}
        row.update(validate(net, val_x, val_y))
        row["seconds"] = round(time.time() - start)
        history.append(row)
        print(" ".join(f"{k}={v}" for k, v in row.items()), flush=True)
        if best is None or row["val_neg_elbo"] < best["score"]:
            best = {"epoch": epoch, "score": row["val_neg_elbo"], "state": copy.deepcopy(net.state_dict())}
        out_of_time = args.minutes and time.time() - start > args.minutes * 60
        training.save_checkpoint(
            ckpt_path,
            model=net.state_dict(),
            optimizer=opt.state_dict(),
            generator=gen.get_state(),
            epoch=epoch,
            history=history,
            elapsed=time.time() - start,
            best_epoch=best["epoch"],
            best_score=best["score"],
            best_model=best["state"],
        )
        if out_of_time:
            print(f"stopping: time budget of {args.minutes} minutes spent")
            break
    net.load_state_dict(best["state"])
    return net, history, best["epoch"], time.time() - start


# ---------------------------------------------------------------- evaluation and the artifact


@torch.no_grad()
def reconstruct(net, images, batch=256) -> np.ndarray:
    out = []
    for i in range(0, len(images), batch):
        out.append(to_uint8(net.decode(net.encode(to_tensor(images[i : i + batch]))[0])))
    return np.concatenate(out)


def face_attributes(mu: np.ndarray, faces: data.Faces) -> tuple[dict, dict]:
    """Female/male and older/younger directions (orthogonal) plus, for each, what else it moves."""
    groups = {
        "female": (mu[faces.gender == 1], mu[faces.gender == 0]),
        "older": (mu[faces.age >= 55], mu[(faces.age >= 18) & (faces.age <= 30)]),
    }
    groups = {k: g for k, g in groups.items() if len(g[0]) and len(g[1])}  # tiny data sets may lack a group
    dirs = attribute_directions(groups)
    raw = {k: t.mean(0) - a.mean(0) for k, (t, a) in groups.items()}  # un-orthogonalised differences
    info = {}
    for name, d in dirs.items():
        gap = group_gap(*groups[name], d)
        # How far a push of one group gap along this direction moves the codes along the *other* raw differences,
        # as a fraction of that other difference (0: untouched, 1: a full swap of the other attribute).
        side = {other: round(float(gap * (d @ r) / max(r @ r, 1e-12)), 3) for other, r in raw.items() if other != name}
        info[name] = {"gap": round(gap, 4), "side_effects": side, "n_towards": len(groups[name][0])}
    return dirs, info


def main(argv=None):
    if "faces-sharp" in (sys.argv[1:] if argv is None else argv):  # the sharp decoder has a trainer of its own
        from trainers import vae_sharp

        return vae_sharp.main(argv)
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    if args.smoke:
        args.latent, args.epochs, args.batch = 8 if args.model == "faces" else 4, 2, 32
    training.seed_everything(args.seed)
    device = training.resolve_device(args.device)  # recorded; these small nets train on the CPU
    out, ckpt_path = training.artifact_paths(args, "vae")
    x, y, hx, hy, info = load_data(args)
    val_x, val_y = (hx, hy) if args.model == "faces" else (info["val_x"], info["val_y"])
    print(f"{args.model}: {len(x)} training images, {len(val_x)} validation images")
    if args.model == "faces":
        print(f"skipped {len(info['faces'].malformed)} malformed file names: {info['faces'].malformed}")
    net, history, best_epoch, seconds = train(args, x, y, val_x, val_y, ckpt_path)
    net = rounded(net)
    writer = write_faces if args.model == "faces" else write_digits
    writer(args, net, x, y, hx, hy, info, history, best_epoch, seconds, device, out)


def common_card(args, net, history, best_epoch, seconds, device, out, licence, files) -> dict:
    return {
        "artifact": out.name,
        "parameters": num_parameters(net),
        "train_command": args.command,
        "training": {"command_line": args.command, "data_files": training.data_files(files)},
        "hardware": training.hardware(device),
        "train_seconds": round(seconds),
        "epochs_run": len(history),
        "best_epoch": best_epoch,
        "optimisation": {"batch": args.batch, "lr": args.lr, "beta": args.beta, "seed": args.seed},
        "data": {**licence, "files": training.data_files(files)},
        "history": history,
        "smoke": args.smoke,
    }


def write_faces(args, net, x, _y, hx, _hy, info, history, best_epoch, seconds, device, out):
    faces: data.Faces = info["faces"]
    # Calibrate the likelihood's sigma on the training split: the maximum-likelihood sigma is sqrt(MSE).
    train_s = score(net, x)
    net.log_sigma.fill_(0.5 * math.log(train_s.mse_per_pixel_sampled))
    net = rounded(net)
    train_s = score(net, x)
    val_s = score(net, hx)
    print("fitting the PCA reference ...")
    pca_train, pca_val, pca_rec = pca_reference(x, hx, args.latent)
    recon = reconstruct(net, hx)
    sharp = {"originals": sharpness(hx), "vae": sharpness(recon), f"pca{args.latent}": sharpness(pca_rec)}
    mu_train = encode_all(net, x)
    mu_val = encode_all(net, hx)
    dirs, attr_info = face_attributes(mu_train, faces.subset(info["train_idx"]))
    # the direction checked on held-out faces: pushing men by the gap moves them to the women's mean
    val_faces = faces.subset(info["val_idx"])
    held = {}
    for name, mask in (("female", val_faces.gender == 1), ("older", val_faces.age >= 55)):
        if name not in dirs:
            continue
        young_or_male = (val_faces.gender == 0) if name == "female" else (val_faces.age >= 18) & (val_faces.age <= 30)
        if not mask.any() or not young_or_male.any():
            continue
        gap = attr_info[name]["gap"]
        before = np.linalg.norm(mu_val[young_or_male].mean(0) - mu_val[mask].mean(0))
        after = np.linalg.norm(mu_val[young_or_male].mean(0) + gap * dirs[name] - mu_val[mask].mean(0))
        held[name] = {"distance_before": round(float(before), 3), "distance_after": round(float(after), 3)}
    kl = np.array(val_s.kl_per_dim, dtype=np.float32)
    d = hx[0].size
    m = {
        "validation_neg_elbo_nats": round(val_s.neg_elbo_nats, 1),
        "validation_bits_per_dim": round(val_s.neg_elbo_nats / d / LOG2, 4),
        "validation_mse_per_pixel": round(val_s.mse_per_pixel, 6),
        "validation_mse_per_pixel_sampled": round(val_s.mse_per_pixel_sampled, 6),
        "validation_kl_nats": round(val_s.kl_nats, 1),
        "train_neg_elbo_nats": round(train_s.neg_elbo_nats, 1),
        "train_mse_per_pixel": round(train_s.mse_per_pixel, 6),
        "val_over_train_mse": round(val_s.mse_per_pixel / train_s.mse_per_pixel, 4),
        "pca_validation_mse_per_pixel": round(pca_val, 6),
        "pca_train_mse_per_pixel": round(pca_train, 6),
        "likelihood_sigma": round(float(net.log_sigma.exp()), 5),
        "active_dims": int((kl > 0.01).sum()),
        "sharpness_laplacian_var": {k: round(v, 6) for k, v in sharp.items()},
        "sharpness_ratio_vae_over_originals": round(sharp["vae"] / sharp["originals"], 4),
        "attribute_check_on_validation": held,
    }
    card = common_card(args, net, history, best_epoch, seconds, device, out, FACES_LICENCE, info["files"])
    card.update(
        {
            "task": "convolutional VAE of 64x64 faces (UTKFace)",
            "model": f"conv VAE, channels {'-'.join(map(str, net.cfg.channels))}, {args.latent} latent dims, "
            "Gaussian likelihood with calibrated shared sigma (sigma-VAE)",
            "metrics": m,
            "metric_notes": {
                "neg_elbo": "nats per image, one sampled latent per image, discretised Gaussian over 256 grey "
                "levels per channel (a probability, so never negative)",
                "mse": "per pixel and channel, pixels in [0, 1], decoding the encoder mean",
                "sharpness": "variance of the Laplacian of the grey image; VAEs blur, so theirs is lower",
            },
            "baselines": {
                f"pca{args.latent}": {
                    "validation_mse_per_pixel": round(pca_val, 6),
                    "train_mse_per_pixel": round(pca_train, 6),
                    "what": f"{args.latent}-component PCA fitted on the training split (as many components as "
                    "latent dimensions)",
                }
            },
            "data": {
                **card["data"],
                "train_images": len(x),
                "validation_images": len(hx),
                "malformed_names_skipped": faces.malformed,
                "split": "seeded random 90/10 split of the well-named files (numpy default_rng(0))",
            },
            "attributes": attr_info,
            "summary": {
                "quality": f"validation MSE {val_s.mse_per_pixel:.4f}/pixel, -ELBO {val_s.neg_elbo_nats:,.0f} nats "
                f"({m['validation_bits_per_dim']:.2f} bits/dim)",
                "baseline": f"PCA-{args.latent} MSE {pca_val:.4f}/pixel",
            },
            "headline": f"Held-out faces: MSE {val_s.mse_per_pixel:.4f}/pixel (PCA-{args.latent} {pca_val:.4f})",
        }
    )
    tensors = dict(net.state_dict())
    tensors["extra.kl_per_dim"] = torch.from_numpy(kl)
    tensors["extra.mu_mean"] = torch.from_numpy(mu_val.mean(0))
    tensors["extra.mu_std"] = torch.from_numpy(mu_val.std(0))
    tensors["extra.examples"] = torch.from_numpy(mu_val[:24].copy())  # codes of held-out faces (not the photos)
    for name, direction in dirs.items():
        tensors[f"extra.dir_{name}"] = torch.from_numpy(direction)
    config = {"model": config_dict(net), "attributes": list(dirs), "image_size": data.FACE_SIZE}
    save_artifact(out, tensors, config, card, readme=training.card_readme(card))
    print(
        f"wrote {out}: validation MSE {val_s.mse_per_pixel:.5f} (train {train_s.mse_per_pixel:.5f}), "
        f"PCA-{args.latent} {pca_val:.5f}; -ELBO {val_s.neg_elbo_nats:.1f} nats"
    )


def write_digits(args, net, x, y, xt, yt, info, history, best_epoch, seconds, device, out):
    test_s = score(net, xt, yt)
    mean_s = mean_latent_elbo(net, xt, yt)
    train_s = score(net, x[:10000], y[:10000])
    # Baselines measured in the same run: independent Bernoulli pixels per class, and PCA with as many components.
    p = np.stack([x[y == c].reshape(-1, 784).mean(0) / 255 for c in range(10)]).clip(1e-3, 1 - 1e-3)
    t = xt.reshape(len(xt), -1) / 255
    pc = p[yt]
    bern = float(-(t * np.log(pc) + (1 - t) * np.log(1 - pc)).sum(1).mean())
    tc = t.clip(1e-12, 1 - 1e-12)
    entropy = float(-(t * np.log(tc) + (1 - t) * np.log(1 - tc)).sum(1).mean())
    _, pca_test, _ = pca_reference(x, xt, args.latent)
    mu = encode_all(net, xt, yt)
    kl = np.array(test_s.kl_per_dim, dtype=np.float32)
    m = {
        "test_neg_elbo_nats": round(test_s.neg_elbo_nats, 2),
        "test_neg_elbo_nats_encoder_mean": round(mean_s, 2),
        "test_mse_per_pixel": round(test_s.mse_per_pixel, 6),
        "test_kl_nats": round(test_s.kl_nats, 2),
        "train_neg_elbo_nats": round(train_s.neg_elbo_nats, 2),
        "entropy_floor_nats": round(entropy, 2),
        "active_dims": int((kl > 0.01).sum()),
    }
    card = common_card(args, net, history, best_epoch, seconds, device, out, MNIST_LICENCE, info["files"])
    card.update(
        {
            "task": "conditional VAE of MNIST digits (the class is given to encoder and decoder)",
            "model": f"MLP CVAE, hidden {'-'.join(map(str, net.cfg.hidden))}, {args.latent} latent dims, "
            "Bernoulli likelihood on intensities in [0, 1]",
            "metrics": m,
            "metric_notes": {
                "neg_elbo": "nats per test image, one sampled latent per image (scoring with the encoder mean reads "
                "a few nats too good: test_neg_elbo_nats_encoder_mean)",
                "entropy_floor": "pixel intensities are used as Bernoulli means (the usual convention): even a "
                "perfect model pays the entropy of those grey levels, entropy_floor_nats per test image",
                "mse": "per pixel, pixels in [0, 1], decoding the encoder mean",
            },
            "baselines": {
                "bernoulli_per_class": {
                    "test_neg_log_likelihood_nats": round(bern, 2),
                    "what": "independent Bernoulli pixels, means per class from the training split",
                },
                f"pca{args.latent}": {"test_mse_per_pixel": round(pca_test, 6), "what": "PCA fitted on training"},
            },
            "data": {
                **card["data"],
                "train_images": len(x),
                "validation_images": len(info["val_x"]),
                "test_images": len(xt),
            },
            "summary": {
                "quality": f"test -ELBO {test_s.neg_elbo_nats:.1f} nats/image (sampled latent; entropy floor "
                f"{entropy:.1f})",
                "baseline": f"per-class Bernoulli pixels {bern:.1f} nats",
            },
            "headline": f"MNIST test: -ELBO {test_s.neg_elbo_nats:.1f} nats/digit (per-class pixels {bern:.1f})",
        }
    )
    tensors = dict(net.state_dict())
    tensors["extra.kl_per_dim"] = torch.from_numpy(kl)
    tensors["extra.mu_mean"] = torch.from_numpy(mu.mean(0))
    tensors["extra.mu_std"] = torch.from_numpy(mu.std(0))
    tensors["extra.examples"] = torch.from_numpy(mu[:24].copy())
    tensors["extra.example_digits"] = torch.from_numpy(yt[:24].astype(np.int64))
    config = {"model": config_dict(net), "image_size": data.DIGIT_SIZE}
    save_artifact(out, tensors, config, card, readme=training.card_readme(card))
    print(f"wrote {out}: test -ELBO {test_s.neg_elbo_nats:.2f} nats (per-class Bernoulli {bern:.2f})")


@torch.no_grad()
def mean_latent_elbo(net, xt, yt) -> float:
    x, y = to_tensor(xt), torch.as_tensor(yt)
    mu, logvar = net.encode(x, y)
    return float((bernoulli_nll(net.decode_logits(mu, y), x) + kl_per_dim(mu, logvar).sum(1)).mean())


if __name__ == "__main__":
    main()
