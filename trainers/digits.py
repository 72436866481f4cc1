"""Train the digits lab's models on MNIST.

    python -m trainers.digits --model cnn      # the default: 2 conv blocks, shifted/rotated inputs
    python -m trainers.digits --model mlp      # 784-800-800-10 with dropout
    python -m trainers.digits --model logreg   # multinomial logistic regression on pixels
    python -m trainers.digits --model dec      # autoencoder 784-500-500-2000-10, KMeans, then DEC
    python -m trainers.digits --model dec --resume --epochs 300 --minutes 100   # go on from checkpoint or artifact
    python -m trainers.digits --model idec     # IDEC on digits-dec's pretrained autoencoder (decoder kept)
    python -m trainers.digits --model n2d      # N2D on digits-dec's autoencoder: UMAP of its codes, a mixture
    python -m trainers.digits --smoke          # seconds, for tests

Each artifact is ``pretrained/digits-<model>/``. Classifier cards compare with a nearest-class-mean
classifier measured in the same run; the clustering card compares DEC with KMeans on raw pixels and on
the autoencoder's codes, all on the same 70,000 images.
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from gallery import training
from gallery.digits import cluster, data, models, n2d
from gallery.registry import load_artifact, save_artifact

MODELS = (*models.CLASSIFIERS, "dec", "idec", "n2d")
DEFAULTS = {  # epochs, learning rate, augment
    "logreg": dict(epochs=15, lr=2e-3, augment=False),
    "mlp": dict(epochs=20, lr=1e-3, augment=True),
    "cnn": dict(epochs=12, lr=3e-3, augment=True),
    "dec": dict(epochs=300, lr=1.0, augment=False),  # DEC-keras: SGD lr 1, momentum 0.9, 300 epochs
    "idec": dict(epochs=0, lr=0.1, augment=False),  # IDEC: SGD lr 0.1, momentum 0.99 on DEC's pretrained autoencoder
    "n2d": dict(epochs=0, lr=0.0, augment=False),  # nothing to optimise by gradient: UMAP and a mixture
}
PRETRAINING = {"sgd": "SGD lr {lr} momentum 0.9, zero initial biases (DEC-keras)", "adam": "Adam lr {lr}"}
ADAM_LR = 1e-3  # --pretrain adam: the first digits-dec's recipe (AE + KMeans 78.7%, DEC 81.7%)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_common_args(p, "digits", "cnn")
    g = p.add_argument_group("optimisation")
    g.add_argument("--epochs", type=int, default=None, help="default per model: " + str(DEFAULTS))
    g.add_argument("--batch", type=int, default=128)
    g.add_argument("--lr", type=float, default=None)
    g.add_argument("--no-augment", action="store_true", help="no random shifts/rotations of training images")
    g.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    g = p.add_argument_group("clustering (--model dec)")
    g.add_argument(
        "--pretrain",
        choices=("sgd", "adam"),
        default="sgd",
        help="autoencoder pretraining: SGD lr 1 momentum 0.9 with zero biases (DEC-keras), or Adam lr 0.001",
    )
    g.add_argument("--minutes", type=float, default=None, help="stop pretraining after this long; --resume goes on")
    g.add_argument("--dec-epochs", type=float, default=8, help="passes over the data in DEC fine-tuning (at most)")
    g.add_argument("--dec-update", type=int, default=140, help="batches between target-distribution updates")
    g.add_argument("--dec-tol", type=float, default=0.001, help="stop when fewer labels than this change")
    g.add_argument("--gamma", type=float, default=0.1, help="IDEC: weight of the clustering loss beside the MSE")
    g = p.add_argument_group("N2D (--model n2d)")
    g.add_argument("--autoencoder", type=Path, default=Path("pretrained/digits-dec"), help="artifact whose encoder")
    g.add_argument("--neighbours", default="10,15,20", help="UMAP n_neighbors to try (chosen by the mixture's BIC)")
    g.add_argument("--seeds", default="0,1,2", help="UMAP and mixture seeds to try")
    g.add_argument(
        "--umap-reference",
        action="store_true",
        help="only measure an independent reference (UMAP to 10-d, then KMeans) on the same images; print JSON",
    )
    args = p.parse_args(argv)
    if args.model not in MODELS:
        p.error(f"--model must be one of {', '.join(MODELS)}")
    d = DEFAULTS[args.model]
    args.epochs = args.epochs if args.epochs is not None else d["epochs"]
    if args.lr is None:
        args.lr = ADAM_LR if args.model == "dec" and args.pretrain == "adam" else d["lr"]
    args.augment = d["augment"] and not args.no_augment
    args.command = training.command_line("digits", argv)
    return args


def load_mnist(args) -> dict[str, np.ndarray]:
    try:
        mnist = data.load(args.data_dir)
    except FileNotFoundError as err:
        raise training.missing_data(err.filename) from err
    if args.smoke:  # a few hundred images of each split
        mnist = {
            "x_train": mnist["x_train"][:1200],
            "y_train": mnist["y_train"][:1200],
            "x_test": mnist["x_test"][:300],
            "y_test": mnist["y_test"][:300],
        }
    return mnist


def augment(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Random affine: rotation +-12 degrees, scale 0.9-1.1, shift +-2.5 pixels (a fresh draw per image)."""
    n = x.shape[0]
    angle = (torch.rand(n, generator=gen) * 2 - 1) * math.radians(12)
    scale = 1 + (torch.rand(n, generator=gen) * 2 - 1) * 0.1
    shift = (torch.rand(n, 2, generator=gen) * 2 - 1) * (2.5 * 2 / 28)
    cos, sin = torch.cos(angle) / scale, torch.sin(angle) / scale
    theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1), torch.stack([sin, cos, shift[:, 1]], 1)], 1)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, align_corners=False, padding_mode="zeros")


@torch.no_grad()
def accuracy(net, x, y, device, batch: int = 2000) -> float:
    net.eval()
    correct = 0
    for i in range(0, len(x), batch):
        correct += (net(x[i : i + batch].to(device)).argmax(1).cpu() == y[i : i + batch]).sum().item()
    return correct / len(x)


def train_classifier(args, splits, device, ckpt_path):
    net = models.build(
        {"kind": "cnn", "c1": 8, "c2": 16, "dense": 32, "dropout": 0.3}
        if args.smoke and args.model == "cnn"
        else {"kind": "mlp", "hidden": 64, "dropout": 0.3}
        if args.smoke and args.model == "mlp"
        else default_config(args.model)
    ).to(device)
    xt, yt = (torch.as_tensor(a) for a in (data.to_tensor(splits["train"][0]), splits["train"][1]))
    xv, yv = data.to_tensor(splits["val"][0]), torch.as_tensor(splits["val"][1])
    epochs = 2 if args.smoke else args.epochs
    steps = epochs * math.ceil(len(xt) / args.batch)
    decay = 0.0 if args.model == "logreg" else 1e-4
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=args.lr, total_steps=steps, pct_start=0.2)
    gen = torch.Generator().manual_seed(args.seed)
    start_epoch, history, best = 0, [], (-1.0, None)
    ckpt = training.load_checkpoint(ckpt_path) if args.resume else None
    if ckpt:
        net.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        gen.set_state(ckpt["generator"])
        start_epoch, history, best = ckpt["epoch"], ckpt["history"], (ckpt["best_val"], ckpt["best_model"])
        print(f"resumed from {ckpt_path} at epoch {start_epoch}")
    for epoch in range(start_epoch, epochs):
        epoch_start = time.time()
        net.train()
        order = torch.randperm(len(xt), generator=gen)
        bar = tqdm(range(0, len(xt), args.batch), desc=f"epoch {epoch + 1}/{epochs}", leave=False, mininterval=5)
        total, seen = 0.0, 0
        for i in bar:
            idx = order[i : i + args.batch]
            xb, yb = xt[idx], yt[idx]
            if args.augment:
                xb = augment(xb, gen)
            loss = F.cross_entropy(net(xb.to(device)), yb.to(device))
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
            total, seen = total + loss.item() * len(idx), seen + len(idx)
            bar.set_postfix(loss=f"{loss.item():.3f}")
        val = accuracy(net, xv, yv, device)
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": round(total / seen, 4),
                "val_accuracy": round(val, 4),
                "seconds": round(time.time() - epoch_start, 1),
            }
        )
        print(f"epoch {epoch + 1}: train loss {total / seen:.4f}, validation accuracy {val:.4f}", flush=True)
        if val >= best[0]:
            best = (val, {k: v.detach().clone() for k, v in net.state_dict().items()})
        training.save_checkpoint(
            ckpt_path,
            model=net.state_dict(),
            optimizer=opt.state_dict(),
            scheduler=sched.state_dict(),
            generator=gen.get_state(),
            epoch=epoch + 1,
            history=history,
            best_val=best[0],
            best_model=best[1],
        )
    net.load_state_dict(best[1])  # the epoch with the best validation accuracy
    return net.eval(), history


def default_config(kind: str) -> dict:
    return models.config_of(
        kind,
        models.build(
            {"kind": kind, "hidden": 800, "dropout": 0.3}
            if kind == "mlp"
            else {"kind": kind, "c1": 32, "c2": 64, "dense": 128, "dropout": 0.4}
        ),
    )


def nearest_centroid_accuracy(splits) -> float:
    """Baseline: assign each test image to the class whose mean training image is nearest."""
    x, y = splits["train"][0].reshape(len(splits["train"][0]), -1) / 255.0, splits["train"][1]
    centroids = np.stack([x[y == c].mean(0) for c in range(10)])
    xs = splits["test"][0].reshape(len(splits["test"][0]), -1) / 255.0
    d = (xs**2).sum(1)[:, None] - 2 * xs @ centroids.T + (centroids**2).sum(1)[None]
    return float((d.argmin(1) == splits["test"][1]).mean())


def evaluate_classifier(net, splits) -> dict:
    xs, ys = splits["test"]
    probs = models.predict_proba(net.cpu(), data.to_tensor(xs))
    pred = probs.argmax(1)
    confusion = np.zeros((10, 10), dtype=np.int64)
    np.add.at(confusion, (ys, pred), 1)
    wrong = np.flatnonzero(pred != ys)
    worst = wrong[np.argsort(-probs[wrong, pred[wrong]])][:24]
    return {
        "test_accuracy": round(float((pred == ys).mean()), 4),
        "test_errors": int(len(wrong)),
        "test_images": int(len(ys)),
        "nearest_centroid_test_accuracy": round(nearest_centroid_accuracy(splits), 4),
        "confusion_matrix": confusion.tolist(),  # rows: true digit, columns: predicted
        "confident_mistakes": [
            {
                "index": int(i),
                "label": int(ys[i]),
                "predicted": int(pred[i]),
                "probability": round(float(probs[i, pred[i]]), 4),
            }
            for i in worst
        ],
    }


DESCRIPTIONS = {
    "logreg": "multinomial logistic regression on the 784 standardised pixels",
    "mlp": "MLP 784-{hidden}-{hidden}-10, ReLU, dropout {dropout}",
    "cnn": "CNN: conv3x3({c1})-BN-ReLU-maxpool, conv3x3({c2})-BN-ReLU-maxpool, dense {dense} with dropout {dropout}",
}


def main_classifier(args, device, out, ckpt_path):
    mnist = load_mnist(args)
    splits = (
        data.split(mnist)
        if not args.smoke
        else {
            "train": (mnist["x_train"][:1000], mnist["y_train"][:1000].astype(np.int64)),
            "val": (mnist["x_train"][1000:], mnist["y_train"][1000:].astype(np.int64)),
            "test": (mnist["x_test"], mnist["y_test"].astype(np.int64)),
        }
    )
    print({k: len(v[1]) for k, v in splits.items()}, "images (train/val/test)")
    net, history = train_classifier(args, splits, device, ckpt_path)
    net = net.cpu()
    net.load_state_dict(
        {k: (v.half().to(v.dtype) if v.is_floating_point() else v) for k, v in net.state_dict().items()}
    )
    metrics = evaluate_classifier(net, splits)
    config = {"model": models.config_of(args.model, net), "input": "28x28 grey, ink bright on black, [0,1]"}
    acc, base = metrics["test_accuracy"], metrics["nearest_centroid_test_accuracy"]
    card = {
        "artifact": out.name,
        "task": "MNIST digit classification (10 classes)",
        "model": DESCRIPTIONS[args.model].format(**config["model"]),
        "parameters": sum(p.numel() for p in net.parameters()),
        "train_command": args.command,
        "hardware": training.hardware(device),
        "train_seconds": round(sum(h["seconds"] for h in history), 1),
        "data": {
            **data.LICENCE,
            "files": training.data_files([data.npz_path(args.data_dir)]),
            "split": {k: len(v[1]) for k, v in splits.items()},
            "split_rule": "validation = the last 5,000 training images (chooses the epoch); "
            "test = the 10,000 test images",
        },
        "optimisation": {
            "epochs": len(history),
            "batch": args.batch,
            "lr": args.lr,
            "optimizer": "AdamW, one-cycle",
            "augmentation": "random rotation +-12 deg, scale 0.9-1.1, shift +-2.5 px" if args.augment else "none",
        },
        "metrics": metrics,
        "summary": {
            "quality": f"test accuracy {acc:.2%} ({metrics['test_errors']} errors in {metrics['test_images']:,})",
            "baseline": f"nearest class mean {base:.2%}",
        },
        "headline": f"{models.TITLES[args.model]}: {acc:.2%} test accuracy (nearest class mean {base:.2%})",
        "history": history,
        "smoke": args.smoke,
    }
    save_artifact(out, net.state_dict(), config, card, readme=training.card_readme(card))
    print(f"wrote {out}: test accuracy {acc:.4f} (nearest class mean {base:.4f})")


def kmeans(codes: np.ndarray, seed: int, n_init: int):
    from sklearn.cluster import KMeans

    km = KMeans(10, n_init=n_init, random_state=seed).fit(codes)
    return km.labels_, km.cluster_centers_


def resume_pretraining_from_artifact(out: Path, ae) -> list[dict] | None:
    """The committed artifact's autoencoder (float16 weights) and its per-epoch history, or None.

    It holds no optimiser state: SGD's momentum restarts, which costs a few batches, not the epochs already run.
    """
    try:
        art = load_artifact(out.name, out.parent)
    except Exception:  # noqa: BLE001 - no artifact (or a broken one): start afresh
        return None
    ae.load_state_dict({k[len("ae.") :]: v for k, v in art.tensors.items() if k.startswith("ae.")})
    print(f"resumed pretraining from the artifact {out} at epoch {len(art.card['history'])} (momentum restarted)")
    return art.card["history"]


def pretrain_autoencoder(args, x, y, device, ckpt_path, out):
    """End-to-end autoencoder pretraining (MSE) on all images; KMeans on the codes every 10 epochs.

    With --pretrain sgd (DEC-keras's recipe) the weights start uniform in +-1/sqrt(fan_in), as torch's default,
    and the biases at zero; SGD with lr 1 and momentum 0.9 then reaches codes that KMeans and DEC separate far
    better than Adam's (measured on the card).
    """
    dims = (784, 32, 32, 64, 10) if args.smoke else cluster.DIMS
    ae = cluster.AutoEncoder(dims).to(device)
    if args.pretrain == "sgd":
        for layer in ae.modules():
            if isinstance(layer, torch.nn.Linear):
                torch.nn.init.zeros_(layer.bias)
        opt = torch.optim.SGD(ae.parameters(), lr=args.lr, momentum=0.9)
    else:
        opt = torch.optim.Adam(ae.parameters(), lr=args.lr)
    deadline = time.time() + 60 * args.minutes if args.minutes else None
    epochs = 3 if args.smoke else args.epochs
    batch = 256
    gen = torch.Generator().manual_seed(args.seed)
    start_epoch, history = 0, []
    ckpt = training.load_checkpoint(ckpt_path) if args.resume else None
    if ckpt and ckpt.get("stage") == "pretrain":
        ae.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        gen.set_state(ckpt["generator"])
        start_epoch, history = ckpt["epoch"], ckpt["history"]
        print(f"resumed from {ckpt_path} at epoch {start_epoch}")
    elif args.resume and (history := resume_pretraining_from_artifact(out, ae) or []):
        start_epoch = len(history)
    for epoch in range(start_epoch, epochs):
        epoch_start = time.time()
        ae.train()
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in tqdm(range(0, len(x), batch), desc=f"autoencoder {epoch + 1}/{epochs}", leave=False, mininterval=10):
            xb = x[order[i : i + batch]].to(device)
            loss = F.mse_loss(ae(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        row = {
            "epoch": epoch + 1,
            "reconstruction_mse": round(total / len(x), 5),
            "seconds": round(time.time() - epoch_start, 1),
        }
        if (epoch + 1) % 10 == 0 or epoch + 1 == epochs:
            labels, _ = kmeans(cluster.encode(ae.cpu(), x).numpy(), args.seed, n_init=3)
            ae.to(device)
            row["kmeans_accuracy"] = round(cluster.cluster_accuracy(y, labels), 4)
        history.append(row)
        print(f"autoencoder epoch {epoch + 1}: {row}", flush=True)
        training.save_checkpoint(
            ckpt_path,
            stage="pretrain",
            model=ae.state_dict(),
            optimizer=opt.state_dict(),
            generator=gen.get_state(),
            epoch=epoch + 1,
            history=history,
        )
        if deadline and time.time() > deadline and epoch + 1 < epochs:
            print(f"--minutes spent after epoch {epoch + 1}/{epochs}: DEC on this encoder; --resume goes on")
            break
    return ae.cpu().eval(), history


def dec_finetune(args, ae, centres, x, y, device, reconstruction: bool = False):
    """DEC (or, with ``reconstruction``, IDEC): SGD on the clustering loss over the network and the centres.

    DEC trains the encoder on KL(P || Q), SGD lr 0.01 momentum 0.9; IDEC trains the whole autoencoder on
    MSE + gamma * KL(P || Q), SGD lr --lr (0.1) momentum 0.99 (Guo et al. 2017). P is refreshed every --dec-update
    batches; both stop when fewer than --dec-tol of the labels change between refreshes.
    Returns the trained autoencoder (for DEC, the pretrained decoder under the new encoder), centres and history.
    """
    import copy

    net = copy.deepcopy(ae).to(device)
    centres = torch.nn.Parameter(torch.as_tensor(centres, dtype=torch.float32, device=device))
    params = [*(net.parameters() if reconstruction else net.encoder.parameters()), centres]
    lr, momentum = (args.lr, 0.99) if reconstruction else (0.01, 0.9)
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    batch, gen = 256, torch.Generator().manual_seed(args.seed + 1)
    max_steps = int(args.dec_epochs * len(x) / batch) if not args.smoke else 30
    update = args.dec_update if not args.smoke else 10
    history, previous, step, start = [], None, 0, time.time()
    p = None
    while step < max_steps:
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch):
            if step % update == 0:
                with torch.no_grad():
                    net.eval()
                    z = torch.cat([net.encode(x[j : j + 4096].to(device)) for j in range(0, len(x), 4096)])
                    q = cluster.soft_assign(z, centres).cpu()
                p = cluster.target_distribution(q)
                labels = q.argmax(1).numpy()
                changed = 1.0 if previous is None else float((labels != previous).mean())
                history.append(
                    {
                        "step": step,
                        "accuracy": round(cluster.cluster_accuracy(y, labels), 4),
                        "changed": round(changed, 5),
                        "seconds": round(time.time() - start, 1),
                    }
                )
                print(f"{'IDEC' if reconstruction else 'DEC'} step {step}: {history[-1]}", flush=True)
                previous = labels
                if step > 0 and changed < args.dec_tol:
                    return net.cpu().eval(), centres.detach().cpu(), history
                net.train()
            idx = order[i : i + batch]
            xb = x[idx].flatten(1).to(device)  # (B, 784)
            z = net.encode(xb)  # (B, 10)
            x_rec = net.decoder(z) if reconstruction else None
            loss = cluster.clustering_loss(cluster.soft_assign(z, centres), p[idx].to(device), xb, x_rec, args.gamma)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step >= max_steps:
                break
    return net.cpu().eval(), centres.detach().cpu(), history


def most_typical(q: np.ndarray, n: int = 12) -> list[list[int]]:
    """Per cluster, the n images (row indices of q, (N,K) soft assignments) it claims most surely; -1 pads."""
    typical = []
    for c in range(q.shape[1]):
        members = np.flatnonzero(q.argmax(1) == c)
        typical.append(members[np.argsort(-q[members, c])][:n].tolist() + [-1] * max(0, n - len(members)))
    return typical


def rounded(t: torch.Tensor) -> torch.Tensor:
    return t.half().float() if t.is_floating_point() else t


def all_digits(args) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Every MNIST image (N,28,28) in [0,1], its label (N,), and whether it is a test image (N,)."""
    mnist = load_mnist(args)
    images = np.concatenate([mnist["x_train"], mnist["x_test"]])
    y = np.concatenate([mnist["y_train"], mnist["y_test"]]).astype(np.int64)
    is_test = np.arange(len(y)) >= len(mnist["y_train"])
    print(f"{len(y)} images (all of MNIST, labels used only to score)")
    return data.to_tensor(images)[:, 0], y, is_test


def test_map(args, net, x, y, is_test, q, ae_labels) -> dict[str, torch.Tensor]:
    """A 2-D t-SNE map of the codes of a 3,000-image sample of the test images, and each cluster's most typical."""
    from sklearn.manifold import TSNE

    test_index = np.flatnonzero(is_test)
    rng = np.random.default_rng(args.seed)
    sample = np.sort(rng.choice(len(test_index), size=min(3000, len(test_index)), replace=False))
    z = cluster.encode(net, x[test_index[sample]]).numpy()
    xy = TSNE(
        2, perplexity=min(30, len(sample) - 1) if not args.smoke else 10, random_state=args.seed, init="pca"
    ).fit_transform(z)
    labels = q.argmax(1)
    return {
        "map.xy": torch.as_tensor(xy, dtype=torch.float32),
        "map.test_index": torch.as_tensor(sample, dtype=torch.int64),
        "map.label": torch.as_tensor(y[test_index[sample]], dtype=torch.int64),
        "map.cluster": torch.as_tensor(labels[test_index[sample]], dtype=torch.int64),
        "map.ae_cluster": torch.as_tensor(ae_labels[test_index[sample]], dtype=torch.int64),
        "map.typical": torch.as_tensor(most_typical(q[test_index]), dtype=torch.int64),
    }


@torch.no_grad()
def reconstruction_mse(net, x, batch: int = 4096) -> float:
    net.eval()
    total = sum(
        F.mse_loss(net(x[i : i + batch]), x[i : i + batch], reduction="sum").item() for i in range(0, len(x), batch)
    )
    return total / x.numel()


def main_idec(args, device, out):
    """IDEC on the pretrained autoencoder of --autoencoder (digits-dec): the same start as DEC, the decoder kept."""
    x, y, is_test = all_digits(args)
    source = load_artifact(args.autoencoder.name, args.autoencoder.parent)
    ae = cluster.AutoEncoder(source.config["dims"])
    ae.load_state_dict({k[len("ae.") :]: v for k, v in source.tensors.items() if k.startswith("ae.")})
    start = time.time()
    ae_labels, centres = kmeans(cluster.encode(ae, x).numpy(), args.seed, n_init=3 if args.smoke else 20)
    ae_scores = cluster.scores(y, ae_labels)
    print("KMeans on autoencoder codes:", ae_scores, flush=True)
    net, centres, history = dec_finetune(args, ae, centres, x, y, device, reconstruction=True)
    net.load_state_dict({k: rounded(v) for k, v in net.state_dict().items()})
    centres = rounded(centres)
    q = cluster.soft_assign(cluster.encode(net, x), centres).numpy()
    labels = q.argmax(1)
    idec_scores = cluster.scores(y, labels)
    print("IDEC:", idec_scores, flush=True)
    tensors = {
        **{f"ae.{k}": v for k, v in net.state_dict().items()},
        **{f"dec.{k}": v for k, v in net.encoder.state_dict().items()},
        "centres": centres,
        **test_map(args, net, x, y, is_test, q, ae_labels),
    }
    config = {
        "dims": list(net.dims),
        "alpha": 1.0,
        "cluster_to_label": cluster.cluster_to_label(y, labels).tolist(),
        "map": "t-SNE of IDEC codes of a 3,000-image sample of the MNIST test set (indices into x_test)",
    }
    dec = source.card["metrics"]["dec"]
    metrics = {
        "autoencoder_kmeans": ae_scores,
        "idec": idec_scores,
        "dec_same_encoder": dec,
        "reconstruction_mse": {
            "pretrained": round(reconstruction_mse(ae, x), 5),
            "idec": round(reconstruction_mse(net, x), 5),
        },
        "test_only": {
            "autoencoder_kmeans": cluster.scores(y[is_test], ae_labels[is_test]),
            "idec": cluster.scores(y[is_test], labels[is_test]),
        },
        "images": int(len(y)),
        "cluster_sizes": np.bincount(labels, minlength=10).tolist(),
    }
    card = {
        "artifact": out.name,
        "task": "unsupervised clustering of MNIST digits into 10 clusters (labels only score the result)",
        "model": "IDEC (Guo et al. 2017): the pretrained autoencoder "
        + "-".join(map(str, net.dims))
        + f" of {source.name}, KMeans on its codes, "
        "then the encoder, decoder and centres trained on MSE + gamma x KL(P || Q)",
        "parameters": sum(v.numel() for k, v in tensors.items() if not k.startswith("map.")),
        "train_command": args.command,
        "hardware": training.hardware(device),
        "train_seconds": round(time.time() - start, 1),
        "data": {
            **data.LICENCE,
            "files": training.data_files([data.npz_path(args.data_dir)]),
            "split": {"all": int(len(y))},
            "split_rule": "all 70,000 images, as in the IDEC paper; test-only scores too",
        },
        "autoencoder": {
            "artifact": args.autoencoder.name,
            "weights_sha256": source.card.get("weights_sha256"),
            "pretraining": source.card["optimisation"]["autoencoder"],
        },
        "optimisation": {
            "idec": f"SGD lr {args.lr} momentum 0.99, batch 256, gamma {args.gamma}, target refreshed every "
            f"{args.dec_update} batches, stop below {args.dec_tol:.1%} changed labels "
            f"(at most {args.dec_epochs} passes)",
            "kmeans": "k=10, 20 initialisations",
        },
        "metrics": metrics,
        "published": {"accuracy": 0.881, "nmi": 0.867, "source": "Guo et al. 2017 (IDEC), table 2, MNIST"},
        "summary": {
            "quality": f"IDEC accuracy {idec_scores['accuracy']:.1%}, NMI {idec_scores['nmi']:.3f}, "
            f"ARI {idec_scores['ari']:.3f}",
            "baseline": f"DEC on the same encoder {dec['accuracy']:.1%}; "
            f"KMeans on its codes {ae_scores['accuracy']:.1%}",
        },
        "headline": f"IDEC clusters {idec_scores['accuracy']:.1%} of digits correctly without labels "
        f"(DEC on the same encoder {dec['accuracy']:.1%})",
        "idec_history": history,
        "smoke": args.smoke,
    }
    save_artifact(out, tensors, config, card, readme=training.card_readme(card))
    print(f"wrote {out}: {card['summary']}")


def main_dec(args, device, out, ckpt_path):
    x, y, is_test = all_digits(args)
    start = time.time()
    raw_labels, _ = kmeans(x.flatten(1).numpy(), args.seed, n_init=3 if args.smoke else 5)
    raw = cluster.scores(y, raw_labels)
    print("KMeans on raw pixels:", raw, flush=True)
    raw_seconds = time.time() - start
    ae, ae_history = pretrain_autoencoder(args, x, y, device, ckpt_path, out)
    start = time.time()
    ae.load_state_dict({k: rounded(v) for k, v in ae.state_dict().items()})  # as stored
    codes = cluster.encode(ae, x).numpy()
    ae_labels, centres = kmeans(codes, args.seed, n_init=20)
    ae_scores = cluster.scores(y, ae_labels)
    print("KMeans on autoencoder codes:", ae_scores, flush=True)
    encoder, centres, dec_history = dec_finetune(args, ae, centres, x, y, device)
    encoder = encoder.encoder
    encoder.load_state_dict({k: rounded(v) for k, v in encoder.state_dict().items()})
    centres = rounded(centres)
    dec_ae = cluster.AutoEncoder(ae.dims)
    dec_ae.encoder, dec_ae.decoder = encoder, ae.decoder
    q = cluster.soft_assign(cluster.encode(dec_ae, x), centres).numpy()
    dec_labels = q.argmax(1)
    dec_scores = cluster.scores(y, dec_labels)
    print("DEC:", dec_scores, flush=True)
    # per-epoch times, so autoencoder epochs run before a --resume count too
    seconds = raw_seconds + sum(h["seconds"] for h in ae_history) + time.time() - start
    test_scores = {
        "raw_kmeans": cluster.scores(y[is_test], raw_labels[is_test]),
        "autoencoder_kmeans": cluster.scores(y[is_test], ae_labels[is_test]),
        "dec": cluster.scores(y[is_test], dec_labels[is_test]),
    }
    mapping = cluster.cluster_to_label(y, dec_labels)
    tensors = {
        **{f"ae.{k}": v for k, v in ae.state_dict().items()},
        **{f"dec.{k}": v for k, v in encoder.state_dict().items()},
        "centres": centres,
        **test_map(args, dec_ae, x, y, is_test, q, ae_labels),
    }
    config = {
        "dims": list(ae.dims),
        "alpha": 1.0,
        "cluster_to_label": mapping.tolist(),
        "map": "t-SNE of DEC codes of a 3,000-image sample of the MNIST test set (indices into x_test)",
    }
    metrics = {
        "raw_kmeans": raw,
        "autoencoder_kmeans": ae_scores,
        "dec": dec_scores,
        "test_only": test_scores,
        "images": int(len(y)),
        "cluster_sizes": np.bincount(dec_labels, minlength=10).tolist(),
    }
    card = {
        "artifact": out.name,
        "task": "unsupervised clustering of MNIST digits into 10 clusters (labels only score the result)",
        "model": "autoencoder " + "-".join(map(str, ae.dims)) + " (ReLU), KMeans on codes, DEC fine-tuning",
        "parameters": sum(v.numel() for k, v in tensors.items() if not k.startswith("map.")),
        "train_command": args.command,
        "hardware": training.hardware(device),
        "train_seconds": round(seconds, 1),
        "data": {
            **data.LICENCE,
            "files": training.data_files([data.npz_path(args.data_dir)]),
            "split": {"all": int(len(y))},
            "split_rule": "all 70,000 images, as in the DEC paper; test-only scores too",
        },
        "optimisation": {
            "autoencoder": f"end-to-end, {PRETRAINING[args.pretrain].format(lr=args.lr)}, batch 256, "
            f"{len(ae_history)} epochs, MSE",
            "kmeans": "k=10, 20 initialisations",
            "dec": f"SGD lr 0.01 momentum 0.9, batch 256, "
            f"target refreshed every {args.dec_update} batches, stop below {args.dec_tol:.1%} changed labels",
        },
        "metrics": metrics,
        "summary": {
            "quality": f"DEC accuracy {dec_scores['accuracy']:.1%}, "
            f"NMI {dec_scores['nmi']:.3f}, ARI {dec_scores['ari']:.3f}",
            "baseline": f"KMeans on pixels {raw['accuracy']:.1%}; on autoencoder codes {ae_scores['accuracy']:.1%}",
        },
        "headline": f"DEC clusters {dec_scores['accuracy']:.1%} of digits correctly without labels "
        f"(KMeans on pixels {raw['accuracy']:.1%})",
        "history": ae_history,
        "dec_history": dec_history,
        "smoke": args.smoke,
    }
    save_artifact(out, tensors, config, card, readme=training.card_readme(card))
    print(f"wrote {out}: {card['summary']}")


def umap_mixture_runs(codes: np.ndarray, y: np.ndarray, neighbours, seeds, cache: Path) -> list[dict]:
    """Every (n_neighbors, seed): a 10-d UMAP and a 10-component mixture, its scale-free BIC and (to report only)
    its scores. Each run keeps its embedding and mixture under private keys.

    Embeddings are kept in ``cache`` (named by a hash of the input), so a run stopped part-way loses at most one.
    """
    import hashlib

    digest = hashlib.sha256(np.ascontiguousarray(codes, dtype=np.float32).tobytes()).hexdigest()[:16]
    cache.mkdir(parents=True, exist_ok=True)
    runs = []
    for nn in neighbours:
        for seed in seeds:
            start = time.time()
            path = cache / f"umap-{digest}-{nn}-{seed}.npy"
            if path.exists():  # with the seconds it took when it was made, so the card counts them
                z, earlier = np.load(path), float(path.with_suffix(".seconds").read_text())
            else:
                z, earlier = n2d.umap_embedding(codes, nn, seed), 0.0
                np.save(path, z)
                path.with_suffix(".seconds").write_text(f"{time.time() - start:.1f}")
            mixture, bic = n2d.Mixture.fit(z, 10, seed)
            labels = mixture.predict_proba(z).argmax(1)
            row = {"n_neighbors": nn, "seed": seed, "bic": round(bic, 1), **cluster.scores(y, labels)}
            row["seconds"] = round(time.time() - start + earlier, 1)
            print("UMAP + mixture:", row, flush=True)
            runs.append({**row, "_z": z, "_mixture": mixture, "_labels": labels, "_earlier": earlier})
    return runs


def public(run: dict) -> dict:
    return {k: v for k, v in run.items() if not k.startswith("_")}


def main_n2d(args, out, ckpt_path: Path):
    """N2D on the encoder of --autoencoder: choose UMAP's n_neighbors and seed by BIC, measure every rung."""
    from sklearn.manifold import TSNE

    x, y, is_test = all_digits(args)
    source = cluster.load(args.autoencoder.name, args.autoencoder.parent)
    codes = cluster.encode(source.ae, x).numpy()  # (N,10), the stored (float16-rounded) encoder
    start = time.time()
    neighbours = [5] if args.smoke else [int(v) for v in args.neighbours.split(",")]
    seeds = [0] if args.smoke else [int(v) for v in args.seeds.split(",")]
    cache = ckpt_path.with_suffix(".umap")
    runs = umap_mixture_runs(codes, y, neighbours, seeds, cache)
    chosen = min(runs, key=lambda r: r["bic"])
    same_k = [r for r in runs if r["n_neighbors"] == chosen["n_neighbors"]]
    spread = {m: [min(r[m] for r in same_k), max(r[m] for r in same_k)] for m in ("accuracy", "nmi", "ari")}
    labels, z = chosen["_labels"], chosen["_z"]
    print("chosen by BIC:", public(chosen), flush=True)
    ae_labels, _ = kmeans(codes, args.seed, n_init=20)
    pixels = umap_mixture_runs(x.flatten(1).numpy(), y, [chosen["n_neighbors"]], [chosen["seed"]], cache)[0]
    # What the artifact will do with a training image: fp16 codes and embedding, the neighbour transform.
    codes16, z16 = rounded(torch.as_tensor(codes)), rounded(torch.as_tensor(z))
    placer = n2d.NeighbourEmbedding(codes16, z16, chosen["n_neighbors"])
    mixture = chosen["_mixture"]
    q = placer.mean_of(codes16, mixture.predict_proba(z16.numpy()))  # (N,10), as the artifact assigns new images
    agreement = float((q.argmax(1) == labels).mean())
    by_position = float((mixture.predict_proba(placer.transform(codes16)).argmax(1) == labels).mean())
    print(f"new-image path agrees with the training clusters on {agreement:.2%} of training images", flush=True)
    seconds = time.time() - start + sum(r["_earlier"] for r in [*runs, pixels])  # cached UMAPs count too
    test_index = np.flatnonzero(is_test)
    rng = np.random.default_rng(args.seed)
    sample = np.sort(rng.choice(len(test_index), size=min(3000, len(test_index)), replace=False))
    xy = TSNE(2, perplexity=30 if not args.smoke else 10, random_state=args.seed, init="pca").fit_transform(
        z[test_index[sample]]
    )
    mapping = cluster.cluster_to_label(y, labels)
    tensors = {
        **{f"encoder.{k}": v for k, v in source.ae.encoder.state_dict().items()},
        "train.codes": codes16,
        "train.embedding": z16,
        "train.cluster": torch.as_tensor(labels, dtype=torch.int64),
        "map.xy": torch.as_tensor(xy, dtype=torch.float32),
        "map.test_index": torch.as_tensor(sample, dtype=torch.int64),
        "map.label": torch.as_tensor(y[test_index[sample]], dtype=torch.int64),
        "map.cluster": torch.as_tensor(labels[test_index[sample]], dtype=torch.int64),
        "map.typical": torch.as_tensor(most_typical(q[test_index]), dtype=torch.int64),
    }
    config = {
        "dims": list(source.ae.dims),
        "n_neighbors": chosen["n_neighbors"],
        "mixture": chosen["_mixture"].to_config(),
        "cluster_to_label": mapping.tolist(),
        "map": "t-SNE of the N2D embedding of a 3,000-image sample of the MNIST test set (indices into x_test)",
    }
    n2d_scores = cluster.scores(y, labels)
    metrics = {
        "n2d": n2d_scores,
        "autoencoder_kmeans": cluster.scores(y, ae_labels),
        "umap_pixels_mixture": {k: pixels[k] for k in ("accuracy", "nmi", "ari")},
        "test_only": {"n2d": cluster.scores(y[is_test], labels[is_test])},
        "seed_spread": {"n_neighbors": chosen["n_neighbors"], "seeds": seeds, **spread},
        "runs": [public(r) for r in runs],
        "new_image_agreement": round(agreement, 4),
        "new_image_agreement_by_mean_position": round(by_position, 4),
        "images": int(len(y)),
        "cluster_sizes": np.bincount(labels, minlength=10).tolist(),
    }
    card = {
        "artifact": out.name,
        "task": "unsupervised clustering of MNIST digits into 10 clusters (labels only score the result)",
        "model": f"N2D: the encoder of {args.autoencoder.name} ({'-'.join(map(str, source.ae.dims))}), UMAP of its "
        f"codes to 10-d (n_neighbors {chosen['n_neighbors']}, min_dist 0), a full-covariance mixture of 10 Gaussians",
        "parameters": sum(v.numel() for k, v in tensors.items() if k.startswith("encoder.")),
        "train_command": args.command,
        "hardware": training.hardware(torch.device("cpu")),
        "train_seconds": round(seconds, 1),
        "autoencoder": {
            "artifact": args.autoencoder.name,
            "weights_sha256": source.card.get("weights_sha256"),
            "pretraining": source.card["optimisation"]["autoencoder"],
        },
        "data": {
            **data.LICENCE,
            "files": training.data_files([data.npz_path(args.data_dir)]),
            "split": {"all": int(len(y))},
            "split_rule": "all 70,000 images, as in the N2D and DEC papers; test-only scores too",
        },
        "selection": f"n_neighbors of {neighbours} and seed of {seeds} chosen by the lowest BIC of the mixture on a "
        "whitened embedding (no labels); labels only score every run",
        "new_images": f"the {chosen['n_neighbors']} nearest training codes, weighted by UMAP's fuzzy membership, "
        f"average their mixture posteriors (agrees with the training clusters on {agreement:.2%} of training "
        "images) and their embeddings (the place on the map, where UMAP's transform starts; the mixture's cluster "
        f"at that place agrees on {by_position:.2%})",
        "metrics": metrics,
        "summary": {
            "quality": f"N2D accuracy {n2d_scores['accuracy']:.1%}, NMI {n2d_scores['nmi']:.3f}, "
            f"ARI {n2d_scores['ari']:.3f} (seeds {spread['accuracy'][0]:.1%}-{spread['accuracy'][1]:.1%})",
            "baseline": f"KMeans on the same codes {metrics['autoencoder_kmeans']['accuracy']:.1%}; UMAP on pixels "
            f"+ mixture {pixels['accuracy']:.1%}",
        },
        "headline": f"N2D clusters {n2d_scores['accuracy']:.1%} of digits correctly without labels "
        f"(KMeans on the same codes {metrics['autoencoder_kmeans']['accuracy']:.1%})",
        "smoke": args.smoke,
    }
    save_artifact(out, tensors, config, card, readme=training.card_readme(card))
    print(f"wrote {out}: {card['summary']}")


def umap_reference(args) -> dict:
    """KMeans on a 10-d UMAP embedding of the raw pixels (McInnes et al.): a strong clustering reference, no network."""
    import json

    import umap

    mnist = load_mnist(args)
    images = np.concatenate([mnist["x_train"], mnist["x_test"]]).reshape(-1, 784).astype(np.float32) / 255.0
    y = np.concatenate([mnist["y_train"], mnist["y_test"]]).astype(np.int64)
    start = time.time()
    codes = umap.UMAP(n_components=10, n_neighbors=15, min_dist=0.0, random_state=args.seed).fit_transform(images)
    labels, _ = kmeans(codes, args.seed, n_init=20)
    result = {"umap_kmeans": cluster.scores(y, labels), "images": int(len(y)), "seconds": round(time.time() - start)}
    print(json.dumps(result))
    return result


def main(argv=None):
    args = parse_args(argv)
    if args.umap_reference:
        return umap_reference(args)
    torch.set_num_threads(args.threads)
    training.seed_everything(args.seed)
    device = training.resolve_device(args.device)
    out, ckpt_path = training.artifact_paths(args, "digits")
    if args.model == "dec":
        main_dec(args, device, out, ckpt_path)
    elif args.model == "idec":
        main_idec(args, device, out)
    elif args.model == "n2d":
        main_n2d(args, out, ckpt_path)
    else:
        main_classifier(args, device, out, ckpt_path)


if __name__ == "__main__":
    main()
