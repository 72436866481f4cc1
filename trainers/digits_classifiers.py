"""The digits lab's classifiers: multinomial logistic regression, an MLP and a CNN, on one image set.

    python -m trainers.digits --model cnn      # (or mlp, logreg): trainers.digits is the command line

AdamW with a one-cycle schedule, random shifts/rotations for the MLP and the CNN, the epoch chosen on validation
images; the card compares the test accuracy with a nearest-class-mean classifier measured in the same run.
"""

from __future__ import annotations

import math
import time

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from gallery import training
from gallery.digits import data, models
from trainers import digits_common as common

MODELS = models.CLASSIFIERS


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


def train(args, images: common.ImageSet, device, out, ckpt_path) -> None:
    arrays = common.load(args, images)
    splits = (
        images.split(arrays)
        if not args.smoke
        else {
            "train": (arrays["x_train"][:1000], arrays["y_train"][:1000].astype(np.int64)),
            "val": (arrays["x_train"][1000:], arrays["y_train"][1000:].astype(np.int64)),
            "test": (arrays["x_test"], arrays["y_test"].astype(np.int64)),
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
        **common.card_head(
            args,
            out,
            f"{images.data} {images.thing} classification (10 classes)",
            DESCRIPTIONS[args.model].format(**config["model"]),
            sum(p.numel() for p in net.parameters()),
            device,
            sum(h["seconds"] for h in history),
        ),
        "data": common.data_card(args, images, {k: len(v[1]) for k, v in splits.items()}, images.split_rule),
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
    }
    said = f"test accuracy {acc:.4f} (nearest class mean {base:.4f})"
    common.write(args, out, net.state_dict(), config, card, said)
