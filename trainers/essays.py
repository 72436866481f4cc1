"""Train the character-level LSTM on Paul Graham's essays.

python -m trainers.essays                 # about an hour on two CPU cores
python -m trainers.essays --smoke         # seconds, tiny data, for tests
python -m trainers.essays --resume        # continue from checkpoints/essays-lstm.pt
"""

from __future__ import annotations

import argparse
import math
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from tqdm import tqdm

from gallery import charmodel, training
from gallery.essays import data
from gallery.essays import model as essay_model
from gallery.essays.ngram import NGram, unigram_nats
from gallery.registry import save_artifact
from gallery.text import CharVocab

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
    g.add_argument("--dropout", type=float, default=0.1)
    g = p.add_argument_group("optimisation")
    g.add_argument("--epochs", type=float, default=6.0, help="passes over the training characters")
    g.add_argument("--minutes", type=float, default=0, help="stop early after this many minutes (0: no limit)")
    g.add_argument("--batch", type=int, default=64)
    g.add_argument("--seq", type=int, default=256, help="characters per training sequence (truncated BPTT)")
    g.add_argument("--lr", type=float, default=3e-3)
    g.add_argument("--eval-every", type=int, default=100)
    g.add_argument("--ngram-order", type=int, default=5)
    args = p.parse_args(argv)
    if args.model != "lstm":
        p.error("--model must be lstm (the only essay model)")
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


def main(argv=None):
    args = parse_args(argv)
    if args.smoke:
        args.hidden, args.layers, args.embed, args.batch, args.seq, args.epochs = 32, 1, 8, 8, 32, 0.5
        args.eval_every, args.ngram_order = 10, 3
    training.seed_everything(args.seed)
    device = training.resolve_device(args.device)
    out, ckpt_path = training.artifact_paths(args, "essays")
    vocab = CharVocab(data.ALPHABET)
    corpus = load_corpus(args, vocab)
    print(
        f"train: {len(corpus.train)} essays, {len(corpus.train_ids):,} chars; "
        f"validation: {len(corpus.val)} essays, {len(corpus.val_ids):,} chars"
    )
    net, history, seconds = train(args, corpus, len(vocab), device, ckpt_path)
    write_artifact(args, net.cpu(), vocab, corpus, history, seconds, device, out)


def train(args, corpus: Corpus, vocab_size: int, device, ckpt_path):
    """Truncated-BPTT training on random windows, with checkpoints every --eval-every steps."""
    cfg = charmodel.CharRNNConfig(vocab_size, "lstm", args.embed, args.hidden, args.layers, args.dropout)
    net = charmodel.CharRNN(cfg).to(device)
    opt = torch.optim.AdamW(net.parameters(), lr=args.lr, weight_decay=0.01)
    total_steps = max(1, int(args.epochs * len(corpus.train_ids) / (args.batch * args.seq)))
    gen = torch.Generator().manual_seed(args.seed)
    step, history, elapsed = 0, [], 0.0
    ckpt = training.load_checkpoint(ckpt_path) if args.resume else None
    if ckpt:
        net.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        gen.set_state(ckpt["generator"])
        step, history, elapsed = ckpt["step"], ckpt["history"], ckpt["elapsed"]
        print(f"resumed from {ckpt_path} at step {step}")

    net.train()
    start = time.time() - elapsed
    bar = tqdm(range(step, total_steps), initial=step, total=total_steps, desc="essays-lstm")
    for step in bar:
        for group in opt.param_groups:
            group["lr"] = lr_at(step, total_steps, args.lr)
        x, y = random_batch(corpus.train_ids, args.batch, args.seq, gen)
        logits, _ = net(x.to(device))  # (B, T, V)
        loss = F.cross_entropy(logits.reshape(-1, vocab_size), y.to(device).reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        bar.set_postfix(loss=f"{loss.item():.3f}")
        done = step + 1
        out_of_time = args.minutes and time.time() - start > args.minutes * 60
        if done % args.eval_every == 0 or done == total_steps or out_of_time:
            val_nats = evaluate(net, corpus.val_ids[:200_000].to(device))
            history.append({"step": done, "train_loss": round(loss.item(), 4), "val_nats": round(val_nats, 4)})
            bar.write(f"step {done}: train {loss.item():.3f}, validation {val_nats:.3f} nats/char")
            training.save_checkpoint(
                ckpt_path,
                model=net.state_dict(),
                optimizer=opt.state_dict(),
                generator=gen.get_state(),
                step=done,
                history=history,
                elapsed=time.time() - start,
            )
        if out_of_time:
            print(f"stopping: time budget of {args.minutes} minutes spent")
            break
    return net, history, time.time() - start


def write_artifact(args, net, vocab, corpus: Corpus, history, seconds, device, out):
    # Evaluate the weights as they will be stored (float16), on the whole validation text.
    state = {k: v.half().float() for k, v in net.state_dict().items()}
    net.load_state_dict(state)
    net.eval()
    model_nats = evaluate(net, corpus.val_ids)
    print("fitting baselines ...")
    ngram_nats = NGram(args.ngram_order, data.ALPHABET).fit(corpus.train_text).nats(corpus.val_text)
    uni_nats = unigram_nats(corpus.train_text, corpus.val_text, data.ALPHABET)
    em = essay_model.EssayModel(net, vocab, {})
    samples = {
        str(t): essay_model.generate(em, "The most important thing", length=300, temperature=t, seed=args.seed)
        for t in (0.5, 0.8, 1.0)
    }
    bits = 1 / math.log(2)
    card = {
        "artifact": out.name,
        "task": "character-level language model of Paul Graham's essays",
        "model": f"LSTM {args.layers}x{args.hidden}, embedding {args.embed}",
        "parameters": net.num_parameters(),
        "train_command": args.command,
        "hardware": training.hardware(device),
        "train_seconds": round(seconds),
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
        "history": history,
        "samples": samples,
        "smoke": args.smoke,
    }
    config = {"model": charmodel.config_dict(net), "vocab": vocab.chars}
    save_artifact(out, net.state_dict(), config, card, readme=readme(card))
    print(
        f"wrote {out}: validation {model_nats:.4f} nats/char; "
        f"{args.ngram_order}-gram {ngram_nats:.4f}; unigram {uni_nats:.4f}"
    )


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
