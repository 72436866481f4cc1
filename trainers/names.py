"""Train a gender-conditioned character model of Indian given names.

    python -m trainers.names                  # GRU (the default model), about a minute on a CPU
    python -m trainers.names --model rnn      # the notebook's vanilla RNN, trained properly
    python -m trainers.names --model bigram   # count-based baseline
    python -m trainers.names --smoke          # seconds, for tests

Every run also fits the bigram baseline on the same split, so each card compares
its model with the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import math
import random
import time

import torch
import torch.nn.functional as F
from tqdm import tqdm

from gallery import charmodel, training
from gallery.names import data
from gallery.names import model as names_model
from gallery.names.model import GENDERS, VOCAB, Bigram, NameModel, mean_nll
from gallery.registry import save_artifact

LICENCE = {
    "data": "Indian names (Kaggle chaitanyapatil7/indian-names, "
    "via GitHub SDhananjayan/Gender-Predictor-Indian-Names-)",
    "licence": "none stated by the source",
}
SIZES = {"rnn": dict(hidden=256, layers=1), "gru": dict(hidden=256, layers=1)}  # 2 layers did no better


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_common_args(p, "names", names_model.MODELS[0])
    g = p.add_argument_group("optimisation")
    g.add_argument("--epochs", type=int, default=20)
    g.add_argument("--batch", type=int, default=128)
    g.add_argument("--lr", type=float, default=3e-3)
    g.add_argument("--dropout", type=float, default=0.3)
    g.add_argument(
        "--gender-weight",
        type=float,
        default=0.2,
        help="weight of the gender term: -log P(own gender | name) from the model's own likelihoods",
    )
    args = p.parse_args(argv)
    if args.model not in names_model.MODELS:
        p.error(f"--model must be one of {', '.join(names_model.MODELS)}")
    args.command = training.command_line("names", argv)
    return args


def load_splits(args):
    try:
        pairs = data.load_pairs(args.data_dir)
    except FileNotFoundError as err:
        raise training.missing_data(err.filename) from err
    splits = data.split_pairs(pairs, seed=0)
    if args.smoke:
        splits = {k: v[::20] for k, v in splits.items()}
    return splits


def fit_bigram(splits) -> tuple[Bigram, float]:
    """Choose the add-alpha smoothing on validation, then fit on train."""
    return names_model.fit_bigram(splits["train"], splits["val"])


def objective(net, pairs, gender_weight: float) -> torch.Tensor:
    """NLL per character, plus a discriminative term that sharpens the gender conditioning.

    With equal priors, P(own gender | name) = sigmoid(NLL_other - NLL_own), so the term is
    softplus(NLL_own - NLL_other): the model stays a generative model of names given gender.
    """
    names, genders = [n for n, _ in pairs], [g for _, g in pairs]
    nll, steps = names_model.nll_per_name(net, names, genders)
    loss = nll.sum() / steps.sum()
    if gender_weight:
        other, _ = names_model.nll_per_name(net, names, [GENDERS[1 - GENDERS.index(g)] for g in genders])
        loss = loss + gender_weight * F.softplus(nll - other).mean()
    return loss


def train_rnn(args, splits, device, ckpt_path):
    size = SIZES[args.model] if not args.smoke else dict(hidden=16, layers=1)
    cfg = charmodel.CharRNNConfig(
        len(VOCAB), args.model, 32, size["hidden"], size["layers"], args.dropout, n_classes=len(GENDERS), class_dim=16
    )
    net = charmodel.CharRNN(cfg).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    epochs = 2 if args.smoke else args.epochs
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs)
    start_epoch, history, best = 0, [], (math.inf, None)
    ckpt = training.load_checkpoint(ckpt_path) if args.resume else None
    if ckpt:
        net.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        start_epoch, history, best = ckpt["epoch"], ckpt["history"], (ckpt["best_val"], ckpt["best_model"])
        print(f"resumed from {ckpt_path} at epoch {start_epoch}")
    train = list(splits["train"])
    rng = random.Random(args.seed)
    for epoch in range(start_epoch, epochs):
        epoch_start = time.time()
        net.train()
        rng.shuffle(train)
        batches = [train[i : i + args.batch] for i in range(0, len(train), args.batch)]
        bar = tqdm(batches, desc=f"epoch {epoch + 1}/{epochs}", leave=False)
        for batch in bar:
            loss = objective(net, batch, args.gender_weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            bar.set_postfix(loss=f"{loss.item():.3f}")
        sched.step()
        net.eval()
        with torch.no_grad():
            val = objective(net, splits["val"], args.gender_weight).item()
        val_nll, val_acc = mean_nll(net, splits["val"]), names_model.gender_accuracy(net, splits["val"])
        history.append(
            {
                "epoch": epoch + 1,
                "train_loss": round(loss.item(), 4),
                "val_loss": round(val, 4),
                "val_nll": round(val_nll, 4),
                "val_gender_accuracy": round(val_acc, 4),
                "seconds": round(time.time() - epoch_start, 1),
            }
        )
        print(
            f"epoch {epoch + 1}: train {loss.item():.3f}, validation {val:.4f} "
            f"(NLL {val_nll:.4f} nats/char, gender accuracy {val_acc:.3f})"
        )
        if val < best[0]:
            best = (val, {k: v.detach().clone() for k, v in net.state_dict().items()})
        training.save_checkpoint(
            ckpt_path,
            model=net.state_dict(),
            optimizer=opt.state_dict(),
            scheduler=sched.state_dict(),
            epoch=epoch + 1,
            history=history,
            best_val=best[0],
            best_model=best[1],
        )
    net.load_state_dict(best[1])  # early stopping: keep the epoch with the best validation objective
    return net.eval(), history


def ngram_features(name: str) -> list[str]:
    padded = f"^{name}$"
    return [padded[i : i + k] for k in range(1, 5) for i in range(len(padded) - k + 1)]


def classifier_reference(splits) -> float:
    """Test accuracy of a discriminative gender classifier (logistic regression on character 1-4-grams).

    Not a name generator: it shows how much gender the given names carry at all, on the same split.
    """
    index = {f: i for i, f in enumerate(sorted({f for n, _ in splits["train"] for f in ngram_features(n)}))}

    def features(pairs):
        x = torch.zeros(len(pairs), len(index))
        for row, (name, _) in enumerate(pairs):
            for f in ngram_features(name):
                if f in index:
                    x[row, index[f]] = 1.0
        return x, torch.tensor([GENDERS.index(g) for _, g in pairs], dtype=torch.float)

    (xt, yt), (xv, yv), (xs, ys) = (features(splits[k]) for k in ("train", "val", "test"))
    accuracy = lambda w, b, x, y: (((x @ w + b) > 0).float() == y).float().mean().item()  # noqa: E731
    fits = [fit_logistic(xt, yt, l2) for l2 in (1e-4, 1e-3, 1e-2)]
    w, b = max(fits, key=lambda wb: accuracy(*wb, xv, yv))  # L2 strength chosen on validation
    return accuracy(w, b, xs, ys)


def fit_logistic(x, y, l2: float):
    w = torch.zeros(x.shape[1], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    opt = torch.optim.LBFGS([w, b], max_iter=200)

    def closure():
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(x @ w + b, y) + l2 * (w**2).sum()
        loss.backward()
        return loss

    opt.step(closure)
    return w.detach(), b.detach()


def evaluate(net, splits, bigram, seed) -> dict:
    """Card metrics on the held-out test split, with the bigram measured on the same names."""
    test = splits["test"]
    per_gender = lambda m: {g: round(mean_nll(m, [p for p in test if p[1] == g]), 4) for g in GENDERS}  # noqa: E731
    model = NameModel(net, "", {}, frozenset(n for n, _ in splits["train"]))
    samples = names_model.sample(model, n=1000, gender="either", temperature=1.0, seed=seed)
    ours, base = mean_nll(net, test), mean_nll(bigram, test)
    return {
        "test_nll_per_char": round(ours, 4),
        "test_nll_per_char_by_gender": per_gender(net),
        "bigram_test_nll_per_char": round(base, 4),
        "bigram_test_nll_per_char_by_gender": per_gender(bigram),
        "improvement_over_bigram": round(1 - ours / base, 4),
        "gender_accuracy": round(names_model.gender_accuracy(net, test), 4),
        "bigram_gender_accuracy": round(names_model.gender_accuracy(bigram, test), 4),
        "classifier_gender_accuracy": round(classifier_reference(splits), 4),
        "novel_fraction": sum(s["novel"] for s in samples) / len(samples),
        "test_names": len(test),
    }


def showcase(net, train_names, seed) -> dict:
    """A few names per gender at temperature 0.8, for the landing page and the README."""
    model = NameModel(net, "", {}, train_names)
    return {
        g: [s["name"] for s in names_model.sample(model, n=8, gender=g, temperature=0.8, seed=seed)] for g in GENDERS
    }


def main(argv=None):
    args = parse_args(argv)
    training.seed_everything(args.seed)
    device = training.resolve_device(args.device)
    out, ckpt_path = training.artifact_paths(args, "names")
    splits = load_splits(args)
    print({k: len(v) for k, v in splits.items()}, "names (train/val/test)")
    start = time.time()
    bigram, alpha = fit_bigram(splits)
    if args.model == "bigram":
        net, history, config = bigram, [], {"kind": "bigram", "alpha": alpha}
        seconds = time.time() - start
    else:
        net, history = train_rnn(args, splits, device, ckpt_path)
        seconds = sum(h["seconds"] for h in history)  # per-epoch times, so epochs before a --resume count too
        net = net.cpu()
        config = {"kind": "charrnn", "model": charmodel.config_dict(net)}
    net.load_state_dict({k: v.half().float() for k, v in net.state_dict().items()})  # measure it as stored
    metrics = evaluate(net, splits, bigram, args.seed)
    config["train_names"] = sorted({n for n, _ in splits["train"]})
    card = {
        "artifact": out.name,
        "task": "character-level model of Indian given names, conditioned on gender",
        "model": describe(args.model, net),
        "parameters": sum(t.numel() for t in net.state_dict().values()),
        "train_command": args.command,
        "hardware": training.hardware(device),
        "train_seconds": round(seconds, 1),
        "data": {
            **LICENCE,
            "files": training.data_files([(args.data_dir or data.DEFAULT_DATA_DIR) / f for f in data.CSV_FILES]),
            "split": {k: len(v) for k, v in splits.items()},
            "split_seed": 0,
            "cleaning": "given name only: honorifics dropped, a-z only, 2-20 letters, deduplicated, majority gender",
        },
        "bigram_alpha": alpha,
        "gender_weight": 0 if args.model == "bigram" else args.gender_weight,
        "metrics": metrics,
        "samples": showcase(net, frozenset(config["train_names"]), args.seed),
        "history": history,
        "smoke": args.smoke,
    }
    save_artifact(out, net.state_dict(), config, card, readme=readme(card))
    print(f"wrote {out}:", {k: v for k, v in metrics.items() if not isinstance(v, dict)})


def describe(kind: str, net) -> str:
    if kind == "bigram":
        return "bigram counts per gender, add-alpha smoothing"
    c = net.cfg
    return f"{c.cell.upper()} {c.layers}x{c.hidden}, char embedding {c.embed_dim}, gender embedding {c.class_dim}"


def readme(card: dict) -> str:
    m = card["metrics"]
    return "\n".join(
        [
            f"# {card['artifact']}",
            "",
            card["task"] + ".",
            "",
            f"- model: {card['model']} ({card['parameters']:,} parameters)",
            f"- trained with `{card['train_command']}` in {card['train_seconds']} s on {card['hardware']}",
            f"- test NLL: {m['test_nll_per_char']} nats/char (bigram baseline {m['bigram_test_nll_per_char']})",
            f"- gender accuracy: {m['gender_accuracy']}; new names among 1,000 samples: {m['novel_fraction']:.3f}",
            f"- data: {card['data']['data']}; licence: {card['data']['licence']}",
            "",
        ]
    )


if __name__ == "__main__":
    main()
