"""Train the character-level LSTM on Paul Graham's essays.

python -m trainers.essays                 # about an hour on two CPU cores
python -m trainers.essays --smoke         # seconds, tiny data, for tests
python -m trainers.essays --resume        # continue from checkpoints/essays-lstm.pt
"""

from __future__ import annotations

import argparse
import math
import random
import re
import time
from collections import Counter
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from tqdm import tqdm

from gallery import charmodel, training
from gallery.essays import cells, data, quality
from gallery.essays import model as essay_model
from gallery.essays.ngram import NGram, unigram_nats
from gallery.registry import load_artifact, save_artifact
from gallery.text import CharVocab

WARMUP = 50  # steps of linear learning-rate warmup at the start of every run
LICENCE = {
    "data": "Paul Graham's essays (paulgraham.com), collected by github.com/sgoel97/essay-datasets",
    "licence": "collection: MIT (see LICENSE in the data folder); the essays are Paul Graham's",
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_common_args(p, "essays", "lstm")
    g = p.add_argument_group("model")
    g.add_argument("--hidden", type=int, default=512)
    g.add_argument("--layers", type=int, default=2)
    g.add_argument("--embed", type=int, default=64)
    g.add_argument("--dropout", type=float, default=0.1, help="between layers and before the output")
    g.add_argument("--weight-drop", type=float, default=0.0, help="DropConnect on the recurrent weights (AWD-LSTM)")
    g = p.add_argument_group("optimisation")
    g.add_argument("--epochs", type=float, default=6.0, help="passes over the training characters")
    g.add_argument("--minutes", type=float, default=0, help="stop after this many minutes of this run (0: no limit)")
    g.add_argument("--batch", type=int, default=64)
    g.add_argument("--seq", type=int, default=256, help="characters per training sequence (truncated BPTT)")
    g.add_argument("--lr", type=float, default=3e-3)
    g.add_argument(
        "--schedule",
        choices=["cosine", "plateau"],
        default="cosine",
        help="cosine: warmup, then decay over --epochs; plateau: constant, halved after each evaluation that "
        "does not beat the best, stopping after --patience of them in a row",
    )
    g.add_argument("--patience", type=int, default=4, help="plateau: evaluations without improvement before stopping")
    g.add_argument("--eval-every", type=int, default=100)
    g.add_argument("--eval-chars", type=int, default=200_000, help="validation characters scored at each evaluation")
    g.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    g.add_argument("--no-artifact", action="store_true", help="train and checkpoint only (recipe arms)")
    g.add_argument("--ngram-order", type=int, default=5)
    g.add_argument("--cell-chars", type=int, default=100_000, help="validation characters the card's finder reads")
    args = p.parse_args(argv)
    if args.model != "lstm" and not re.fullmatch(r"ngram[2-9]", args.model):
        p.error("--model must be lstm or ngramN (N from 2 to 9: the count baseline the page scores text with)")
    if not 0 <= args.dropout < 1 or not 0 <= args.weight_drop < 1:
        p.error("--dropout and --weight-drop must be in [0, 1)")
    args.command = training.command_line("essays", argv)
    return args


@dataclass
class Corpus:
    train: list[dict]  # essays
    val: list[dict]  # whole essays held out
    train_text: str
    val_text: str
    train_ids: torch.Tensor  # (N,)
    val_ids: torch.Tensor  # (M,)


def load_corpus(args, vocab: CharVocab) -> Corpus:
    try:
        essays = data.load_essays(args.data_dir)
    except FileNotFoundError as err:
        raise training.missing_data(err.filename) from err
    train, val = data.split_essays(essays, seed=0)
    train_text, val_text = data.join(train), data.join(val)
    if args.smoke:
        train_text, val_text = train_text[:20_000], val_text[:4_000]
    encode = lambda text: torch.tensor(vocab.encode(text))  # noqa: E731
    return Corpus(train, val, train_text, val_text, encode(train_text), encode(val_text))


def lr_at(step: int, total: int, peak: float, warmup: int = 50) -> float:
    """Linear warmup, then cosine decay to a tenth of the peak."""
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


def random_batch(ids: torch.Tensor, batch: int, seq: int, gen: torch.Generator):
    starts = torch.randint(0, len(ids) - seq - 1, (batch,), generator=gen)
    x = torch.stack([ids[s : s + seq] for s in starts])  # (B, T)
    y = torch.stack([ids[s + 1 : s + seq + 1] for s in starts])  # (B, T)
    return x, y


def evaluate(net, ids, streams=32) -> float:
    net.eval()
    nats = essay_model.nats_per_char(net, ids, chunk=512, streams=streams)
    net.train()
    return nats


def forward(net: charmodel.CharRNN, x, weight_drop: float):
    """Training forward pass; with ``weight_drop`` each layer's recurrent matrix gets its own DropConnect mask
    for this batch (AWD-LSTM's weight drop), applied through ``functional_call`` so the stored weights and
    their names stay those of a plain ``nn.LSTM``."""
    if not weight_drop:
        return net(x)
    dropped = {
        f"rnn.weight_hh_l{k}": F.dropout(getattr(net.rnn, f"weight_hh_l{k}"), weight_drop, training=True)
        for k in range(net.cfg.layers)
    }
    return torch.func.functional_call(net, dropped, (x,))


def main(argv=None):
    args = parse_args(argv)
    if args.smoke:
        args.hidden, args.layers, args.embed, args.batch, args.seq, args.epochs = 32, 1, 8, 8, 32, 0.5
        args.eval_every, args.ngram_order = 10, 3
    if args.threads:
        torch.set_num_threads(args.threads)
    training.seed_everything(args.seed)
    device = training.resolve_device(args.device)
    out, ckpt_path = training.artifact_paths(args, "essays")
    vocab = CharVocab(data.ALPHABET)
    corpus = load_corpus(args, vocab)
    print(
        f"train: {len(corpus.train)} essays, {len(corpus.train_ids):,} chars; "
        f"validation: {len(corpus.val)} essays, {len(corpus.val_ids):,} chars"
    )
    if args.model.startswith("ngram"):
        return write_ngram(args, corpus, out)
    run = train(args, corpus, len(vocab), device, ckpt_path, out)
    if not args.no_artifact:
        write_artifact(args, run, vocab, corpus, device, out)


@dataclass
class Run:
    """What a training run carries from checkpoint to checkpoint, and from an artifact's card to the next run."""

    net: charmodel.CharRNN
    step: int = 0
    history: list = field(default_factory=list)  # one row per evaluation, across runs
    commands: list = field(default_factory=list)  # every command that trained these weights, with its steps
    best: dict | None = None  # the best-on-validation weights so far
    best_val: float = math.inf
    best_step: int = 0
    bad_evals: int = 0  # evaluations in a row that did not beat the best
    lr_scale: float = 1.0  # plateau: halved after each evaluation that did not improve
    minutes_before: float = 0.0  # training minutes of earlier runs
    first: dict | None = None  # the first committed LSTM's figures, kept for the ladder
    elapsed: float = 0.0  # seconds of this run so far


def start_run(args, net, opt, gen, ckpt_path, out) -> Run:
    """A new run, a checkpoint to resume, or (with --resume and no checkpoint) the artifact's weights and card."""
    run = Run(net)
    ckpt = training.load_checkpoint(ckpt_path) if args.resume else None
    if ckpt:
        net.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        gen.set_state(ckpt["generator"])
        for key in ("step", "history", "commands", "best", "best_val", "best_step", "bad_evals", "lr_scale"):
            setattr(run, key, ckpt[key])
        run.minutes_before, run.first = ckpt["minutes_before"], ckpt.get("first")
        run.elapsed = ckpt["elapsed"]
        print(f"resumed from {ckpt_path} at step {run.step}")
        if run.commands[-1]["command"] != args.command:  # a new session carrying the run on: a command of its own
            run.commands[-1].update(to_step=run.step, minutes=round(run.elapsed / 60, 1))
            run.minutes_before, run.elapsed = run.minutes_before + run.elapsed / 60, 0.0
            run.commands.append({"command": args.command, "from_step": run.step})
        return run
    if args.resume and (out / "card.json").is_file():
        resume_from_artifact(run, out, args.lr)
    run.commands.append({"command": args.command, "from_step": run.step})
    return run


def resume_from_artifact(run: Run, out, peak_lr: float) -> None:
    """Start from a committed artifact alone (a new machine has no checkpoint): its weights, its card's history
    and commands; a fresh optimizer. The shapes must match the command's (--hidden, --layers, --embed)."""
    art = load_artifact(out.name, out.parent)
    run.net.load_state_dict(art.tensors)  # a shape that differs fails here, naming the tensor
    card = art.card
    run.history = card.get("history", [])
    run.step = run.history[-1]["step"] if run.history else 0
    run.commands = card.get("commands_run", [{"command": card["train_command"], "from_step": 0}])
    run.minutes_before = card.get("train_minutes_total", card["train_seconds"] / 60)
    run.first = card.get("ladder", {}).get("first_lstm") or {
        "what": f"{card['model']}, {run.step} steps",
        "nats_per_char": card["metrics"]["validation_nats_per_char"],
        "sample": card["samples"]["0.8"],
        "prompt": card.get("sample_prompt", "The most important thing"),
    }
    run.best_step = card.get("best_step", run.step)
    run.lr_scale, run.bad_evals = plateau_state(run.history, run.best_step, peak_lr)
    print(
        f"resuming from the artifact {out} at step {run.step} (its best weights, from step {run.best_step}; "
        f"fresh optimizer; learning rate x{run.lr_scale:g})"
    )


def plateau_state(history: list[dict], best_step: int, peak_lr: float) -> tuple[float, int]:
    """The plateau schedule where a card's history left it: the learning-rate scale (the last evaluation's rate,
    halved if that evaluation did not beat the best) and the evaluations since the best. 1 and 0 for a card
    written by the cosine schedule."""
    rows = [r for r in history if "lr" in r and not r.get("start")]
    since_best = [r for r in rows if r["step"] > best_step]
    if not rows:
        return 1.0, 0
    scale = rows[-1]["lr"] / peak_lr * (0.5 if since_best else 1.0)
    return min(1.0, scale), len(since_best)


def train(args, corpus: Corpus, vocab_size: int, device, ckpt_path, out) -> Run:
    """Truncated-BPTT training on random windows, with checkpoints every --eval-every steps."""
    cfg = charmodel.CharRNNConfig(vocab_size, "lstm", args.embed, args.hidden, args.layers, args.dropout)
    net = charmodel.CharRNN(cfg).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    gen = torch.Generator().manual_seed(args.seed)
    run = start_run(args, net, opt, gen, ckpt_path, out)
    val_ids = corpus.val_ids[: args.eval_chars].to(device)
    if run.best is None and run.step:  # from an artifact: its score on this run's evaluation text
        run.best, run.best_val = _cpu_state(net), evaluate(net, val_ids)
        run.history.append(
            {
                "step": run.step,
                "val_nats": round(run.best_val, 4),
                "minutes": round(run.minutes_before, 1),
                "run": len(run.commands),
                "start": True,
            }
        )
    first_step = run.commands[-1]["from_step"]
    total_steps = max(1, int(args.epochs * len(corpus.train_ids) / (args.batch * args.seq)))
    if args.schedule == "plateau":
        total_steps = 10**9  # until patience runs out (or --minutes)
    net.train()
    start = time.time() - run.elapsed
    bar = tqdm(desc="essays-lstm", initial=run.step, total=None if args.schedule == "plateau" else total_steps)
    patient = args.schedule == "plateau"
    while run.step < total_steps and not (patient and run.bad_evals >= args.patience):
        if args.schedule == "cosine":
            lr = lr_at(run.step - first_step, total_steps - first_step, args.lr)
        else:
            lr = args.lr * run.lr_scale * min(1.0, (run.step - first_step + 1) / WARMUP)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = random_batch(corpus.train_ids, args.batch, args.seq, gen)
        logits, _ = forward(net, x.to(device), args.weight_drop)  # (B, T, V)
        loss = F.cross_entropy(logits.reshape(-1, vocab_size), y.to(device).reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        run.step += 1
        bar.update()
        bar.set_postfix(loss=f"{loss.item():.3f}", lr=f"{lr:.1e}")
        out_of_time = args.minutes and time.time() - start > args.minutes * 60
        if run.step % args.eval_every == 0 or run.step == total_steps or out_of_time:
            record_evaluation(args, run, net, val_ids, loss.item(), lr, (time.time() - start) / 60)
            bar.write(f"step {run.step}: train {loss.item():.3f}, validation {run.history[-1]['val_nats']:.4f}")
            run.elapsed = time.time() - start
            save_run(ckpt_path, run, opt, gen)
        if out_of_time:
            print(f"stopping: time budget of {args.minutes} minutes spent")
            break
    if patient and run.bad_evals >= args.patience:
        print(f"stopping: validation has not improved for {args.patience} evaluations (best at {run.best_step})")
    run.elapsed = time.time() - start
    run.commands[-1].update(to_step=run.step, minutes=round(run.elapsed / 60, 1))
    if run.best is not None:
        net.load_state_dict(run.best)
    return run


def record_evaluation(args, run: Run, net, val_ids, train_loss: float, lr: float, minutes: float) -> None:
    val = evaluate(net, val_ids)
    run.history.append(
        {
            "step": run.step,
            "train_loss": round(train_loss, 4),
            "val_nats": round(val, 4),
            "lr": float(f"{lr:.3g}"),
            "minutes": round(run.minutes_before + minutes, 1),
            "run": len(run.commands),
        }
    )
    if val < run.best_val - 1e-4:
        run.best, run.best_val, run.best_step, run.bad_evals = _cpu_state(net), val, run.step, 0
    elif run.step - run.commands[-1]["from_step"] > WARMUP:  # a run's first evaluations may not beat its start
        run.bad_evals += 1
        run.lr_scale *= 0.5


def _cpu_state(net) -> dict:
    return {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}


def save_run(ckpt_path, run: Run, opt, gen) -> None:
    training.save_checkpoint(
        ckpt_path,
        model=run.net.state_dict(),
        optimizer=opt.state_dict(),
        generator=gen.get_state(),
        step=run.step,
        history=run.history,
        commands=run.commands,
        best=run.best,
        best_val=run.best_val,
        best_step=run.best_step,
        bad_evals=run.bad_evals,
        lr_scale=run.lr_scale,
        minutes_before=run.minutes_before,
        first=run.first,
        elapsed=run.elapsed,
    )


def write_artifact(args, run: Run, vocab, corpus: Corpus, device, out):
    # Evaluate the weights as they will be stored (float16), on the whole validation text.
    net = run.net.cpu()
    net.load_state_dict({k: v.half().float() for k, v in net.state_dict().items()})
    net.eval()
    model_nats = evaluate(net, corpus.val_ids)
    print("fitting baselines ...")
    ngram = NGram(args.ngram_order, data.ALPHABET).fit(corpus.train_text)
    ngram_nats = ngram.nats(corpus.val_text)
    uni_nats = unigram_nats(corpus.train_text, corpus.val_text, data.ALPHABET)
    em = essay_model.EssayModel(net, vocab, {})
    samples = {
        str(t): essay_model.generate(em, "The most important thing", length=300, temperature=t, seed=args.seed)
        for t in (0.5, 0.8, 1.0)
    }
    words = word_quality(em, corpus.train_text)
    print("finding cells ...")
    half = len(corpus.val) // 2
    pick_text, test_text = data.join(corpus.val[:half]), data.join(corpus.val[half:])
    if not args.smoke:
        pick_text, test_text = pick_text[: args.cell_chars], test_text[: args.cell_chars]
    inside = cells.held_out_finder(net, vocab, pick_text, test_text)
    bits = 1 / math.log(2)
    minutes_total = run.minutes_before + run.elapsed / 60
    first = run.first or {
        "what": f"LSTM {args.layers}x{args.hidden}, {run.step} steps",
        "nats_per_char": round(model_nats, 4),
        "sample": samples["0.8"],
        "prompt": "The most important thing",
    }
    card = {
        "artifact": out.name,
        "task": "character-level language model of Paul Graham's essays",
        "model": f"LSTM {args.layers}x{args.hidden}, embedding {args.embed}",
        "parameters": net.num_parameters(),
        "recipe": {"dropout": args.dropout, "weight_drop": args.weight_drop, "batch": args.batch, "seq": args.seq},
        "train_command": args.command,
        "commands_run": run.commands,
        "hardware": training.hardware(device),
        "train_seconds": round(run.elapsed),
        "train_minutes_total": round(minutes_total, 1),
        "steps": run.step,
        "best_step": run.best_step,
        "data": {
            **LICENCE,
            "files": training.data_files([(args.data_dir or data.DEFAULT_DATA_DIR) / data.CSV_NAME]),
            "train_essays": len(corpus.train),
            "train_chars": len(corpus.train_ids),
            "validation_essays": [e["title"] for e in corpus.val],
            "validation_chars": len(corpus.val_ids),
        },
        "metrics": {
            "validation_nats_per_char": round(model_nats, 4),
            "validation_bits_per_char": round(model_nats * bits, 4),
            "known_word_share": words,
        },
        "baselines": {
            f"ngram{args.ngram_order}": {
                "nats_per_char": round(ngram_nats, 4),
                "bits_per_char": round(ngram_nats * bits, 4),
                "what": "interpolated absolute discounting, D=0.75",
            },
            "unigram": {
                "nats_per_char": round(uni_nats, 4),
                "bits_per_char": round(uni_nats * bits, 4),
                "what": "add-one smoothed character frequencies",
            },
        },
        "cells": {**inside, "picked_on": "the first half of the validation essays", "held_out": "the second half"},
        "example_paragraph": example_paragraph(corpus.val[half:]),
        "ladder": ladder(first, uni_nats, ngram_nats, model_nats, samples["0.8"], args, run, ngram, corpus),
        "history": run.history,
        "samples": samples,
        "sample_prompt": "The most important thing",
        "smoke": args.smoke,
    }
    config = {"model": charmodel.config_dict(net), "vocab": vocab.chars}
    save_artifact(out, net.state_dict(), config, card, readme=readme(card))
    print(
        f"wrote {out}: validation {model_nats:.4f} nats/char; known words {words['share']:.3f}; "
        f"{args.ngram_order}-gram {ngram_nats:.4f}; unigram {uni_nats:.4f}"
    )


def write_ngram(args, corpus: Corpus, out) -> None:
    """The n-gram baseline as an artifact of its own: the page scores a visitor's text with it."""
    order = int(args.model.removeprefix("ngram"))
    ngram = NGram(order, data.ALPHABET).fit(corpus.train_text)
    nats = ngram.nats(corpus.val_text)
    uni = unigram_nats(corpus.train_text, corpus.val_text, data.ALPHABET)
    card = {
        "artifact": out.name,
        "task": f"character {order}-gram of Paul Graham's essays (the baseline the essay LSTM is measured against)",
        "model": "interpolated absolute discounting, D=0.75",
        "parameters": sum(len(c) for table in ngram.counts for c in table.values()),
        "train_command": args.command,
        "hardware": training.hardware(torch.device("cpu")),
        "train_seconds": 0,
        "data": {**LICENCE, "files": training.data_files([(args.data_dir or data.DEFAULT_DATA_DIR) / data.CSV_NAME])},
        "metrics": {"validation_nats_per_char": round(nats, 4)},
        "baselines": {"unigram": {"nats_per_char": round(uni, 4), "what": "add-one smoothed character frequencies"}},
        "summary": {
            "quality": f"validation {nats:.4f} nats/char (the essay LSTM's baseline)",
            "baseline": f"unigram: {uni:.4f} nats/char",
        },
        "smoke": args.smoke,
    }
    config = {"order": order, "discount": ngram.discount, "alphabet": data.ALPHABET}
    save_artifact(out, ngram.to_tensors(), config, card, readme=training.card_readme(card))
    print(f"wrote {out}: validation {nats:.4f} nats/char")


def example_paragraph(essays: list[dict], at_least: int = 300) -> dict:
    """The first paragraph of a held-out essay long enough to read, for the page's scoring example."""
    for essay in essays:
        for paragraph in essay["text"].split("\n\n"):
            if len(paragraph) >= at_least:
                return {"title": essay["title"], "text": paragraph[:1200]}
    return {"title": essays[0]["title"], "text": essays[0]["text"][:1200]} if essays else {}


def word_quality(em, train_text: str) -> dict:
    """The issue's word floor: five 1,000-character samples at temperature 0.8 (seeds 0-4, one opening)."""
    texts = [
        essay_model.generate(em, quality.SAMPLE_PROMPT, length=quality.SAMPLE_CHARS, temperature=0.8, seed=s)
        for s in quality.SAMPLE_SEEDS
    ]
    share = quality.known_word_share(texts, quality.word_counts(train_text))
    return {
        "share": round(share, 4),
        "what": f"words of five {quality.SAMPLE_CHARS}-character samples at temperature 0.8 (seeds 0-4, opening "
        f"{quality.SAMPLE_PROMPT!r}) that occur at least twice in the training essays",
    }


def ladder(first, uni_nats, ngram_nats, model_nats, sample, args, run, ngram, corpus) -> dict:
    """Unigram, n-gram, the first LSTM and this one: validation nats and a sample at temperature 0.8 each."""
    prompt = "The most important thing"
    rng = random.Random(args.seed)
    return {
        "unigram": {"nats_per_char": round(uni_nats, 4), "sample": unigram_sample(corpus.train_text, 300, rng)},
        f"ngram{args.ngram_order}": {
            "nats_per_char": round(ngram_nats, 4),
            "sample": ngram.sample(prompt, 300, temperature=0.8, rng=rng),
        },
        "first_lstm": first,
        "lstm_now": {
            "what": f"LSTM {args.layers}x{args.hidden}, dropout {args.dropout}, weight drop {args.weight_drop}, "
            f"best of {run.step} steps (step {run.best_step})",
            "nats_per_char": round(model_nats, 4),
            "sample": sample,
            "prompt": prompt,
        },
    }


def unigram_sample(train_text: str, length: int, rng: random.Random) -> str:
    counts = Counter(train_text)
    chars = sorted(counts)
    return "".join(rng.choices(chars, weights=[counts[c] for c in chars], k=length))


def readme(card: dict) -> str:
    m, b = card["metrics"], card["baselines"]
    lines = [
        f"# {card['artifact']}",
        "",
        card["task"] + ".",
        "",
        f"- model: {card['model']} ({card['parameters']:,} parameters)",
        f"- trained with `{card['train_command']}` in {card['train_seconds']} s on {card['hardware']}",
        f"- validation (held-out essays): {m['validation_nats_per_char']} nats/char "
        f"({m['validation_bits_per_char']} bits)",
    ]
    lines += [f"- baseline {k}: {v['nats_per_char']} nats/char" for k, v in b.items()]
    lines += [f"- data: {card['data']['data']}; {card['data']['licence']}", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
