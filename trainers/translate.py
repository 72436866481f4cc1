"""Train a German-English translator on Multi30k: GRU + additive attention, or a Transformer.

python -m trainers.translate --model transformer            # hours on two CPU cores; minutes on a GPU
python -m trainers.translate --model attention --minutes 30 # stop after 30 minutes (the schedule fits)
python -m trainers.translate --model transformer --resume   # continue from checkpoints/translate-transformer.pt
python -m trainers.translate --model convs2s --resume --lr 5e-4 --minutes 205   # no checkpoint: a new cycle
                                                            # from the committed artifact (its 110 minutes count)
python -m trainers.translate --model attention --smoke      # seconds, tiny data and model, for tests
torchrun --nproc_per_node 2 -m trainers.translate --model transformer   # DistributedDataParallel

Under torchrun every process reads its own share of each epoch's batches (gloo on CPU, nccl on GPU);
gradients are averaged, so every process ends with the same weights; rank 0 writes the artifact.

Every epoch is scored on the validation set (greedy BLEU); with --patience N training stops once N epochs in a row
have not beaten the best, and the artifact holds whichever of the last epoch, the average of the last epochs and
the best epoch translates the validation set best. `--resume` without a checkpoint (a new machine) goes on from the
committed artifact: its weights, tokeniser and history, with a fresh optimiser and a new learning-rate cycle
(warm-up to --lr, cosine decay over what is left of --epochs or --minutes).
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from tqdm import tqdm

from gallery import training
from gallery.registry import load_artifact, save_artifact
from gallery.translate import data, decode, metrics, models
from gallery.translate.tokenizer import BOS, EOS, SubwordTokenizer, WordTokenizer, from_config

PUBLISHED = {
    "seq2seq": {"bleu": 13.8, "perplexity": 43.8, "source": "bentrevett/pytorch-seq2seq notebook 1 (spaCy words)"},
    "context": {"bleu": 20.6, "perplexity": 37.5, "source": "bentrevett/pytorch-seq2seq notebook 2 (spaCy words)"},
    "convs2s": {
        "bleu": 34.1,
        "perplexity": 6.3,
        "source": "bentrevett/pytorch-seq2seq legacy notebook 5 (spaCy words)",
    },
    "attention": {"bleu": 28.3, "perplexity": 25.6, "source": "bentrevett/pytorch-seq2seq notebook 3 (spaCy words)"},
    "transformer": {"bleu": 36.5, "perplexity": 5.3, "source": "bentrevett/pytorch-seq2seq notebook 6 (spaCy words)"},
}
MAX_TRAIN_TOKENS = 100  # longer training pairs are skipped (none in Multi30k's training split come close)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_common_args(p, "translate", "transformer")
    g = p.add_argument_group("tokens")
    g.add_argument("--tokenisation", choices=("subword", "words"), default="subword")
    g.add_argument("--vocab", type=int, default=8000, help="shared German+English vocabulary size")
    g.add_argument("--dropout", type=float, default=None, help="default: 0.3 (0.2 for convs2s)")
    g.add_argument(
        "--source-order",
        choices=("reversed", "forward"),
        default="reversed",
        help="seq2seq only: read the German backwards (Sutskever et al.) or in order",
    )
    g.add_argument("--compare", type=Path, default=None, help="seq2seq: the other source order's checkpoint")
    g = p.add_argument_group("optimisation")
    g.add_argument("--epochs", type=int, default=None, help="default: 30 (attention), 100 (transformer)")
    g.add_argument("--minutes", type=float, default=0, help="stop after this many minutes; the schedule fits")
    g.add_argument("--max-tokens", type=int, default=None, help="tokens per batch (longest sentence x count)")
    g.add_argument("--lr", type=float, default=None, help="peak learning rate")
    g.add_argument("--warmup", type=int, default=None, help="warm-up steps")
    g.add_argument("--label-smoothing", type=float, default=0.1)
    g.add_argument("--average", type=int, default=5, help="average the weights of the last N epochs")
    g.add_argument("--patience", type=int, default=0, help="stop after N epochs without a better validation BLEU")
    g.add_argument("--beam", type=int, default=5)
    g.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    args = p.parse_args(argv)
    if args.model not in models.MODELS:
        p.error(f"--model must be one of {', '.join(models.MODELS)}")
    defaults = {
        "seq2seq": {"epochs": 30, "max_tokens": 3000, "lr": 1e-3, "warmup": 200, "dropout": 0.3},
        "context": {"epochs": 30, "max_tokens": 3000, "lr": 1e-3, "warmup": 200, "dropout": 0.3},
        "convs2s": {"epochs": 30, "max_tokens": 3000, "lr": 1e-3, "warmup": 500, "dropout": 0.2},
        "attention": {"epochs": 30, "max_tokens": 3000, "lr": 1e-3, "warmup": 200, "dropout": 0.3},
        "transformer": {"epochs": 100, "dropout": 0.3, "max_tokens": 3000, "lr": 1e-3, "warmup": 1000},
    }[args.model]
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    args.command = training.command_line("translate", argv)
    return args


SMOKE = {
    "seq2seq": {"embed": 32, "hidden": 32},
    "context": {"embed": 32, "hidden": 32},
    "convs2s": {"embed": 32, "hidden": 32, "enc_layers": 2, "dec_layers": 2},
    "attention": {"embed": 32, "enc_hidden": 32, "dec_hidden": 32},
    "transformer": {"d_model": 32, "heads": 2, "layers": 1, "ff": 64},
}


# ---------------------------------------------------------------- distributed


def setup_distributed(device_name: str) -> tuple[int, int, torch.device]:
    """(rank, world size, device); a single process when not started by torchrun."""
    if "WORLD_SIZE" not in os.environ or int(os.environ["WORLD_SIZE"]) == 1:
        return 0, 1, training.resolve_device(device_name)
    device = training.resolve_device(device_name)
    local_rank = int(os.environ.get("LOCAL_RANK", 0))
    if device.type == "cuda":
        device = torch.device("cuda", local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank(), dist.get_world_size(), device


def weights_digest(model) -> str:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()


# ---------------------------------------------------------------- data


def load_pairs(args):
    try:
        splits = {split: data.load_split(args.data_dir, split) for split in data.SPLITS}
    except FileNotFoundError as err:
        raise training.missing_data(err.filename) from err
    if args.smoke:
        splits = {
            "train": splits["train"][:400],
            "val": splits["val"][:40],
            "test_2016_flickr": splits["test_2016_flickr"][:40],
        }
    return splits


def build_tokenizer(args, train_pairs):
    sentences = [s for pair in train_pairs for s in pair]
    vocab = 300 if args.smoke else args.vocab
    if args.tokenisation == "subword":
        return SubwordTokenizer.train(sentences, vocab)
    return WordTokenizer.train(sentences, vocab, min_count=1 if args.smoke else 2)


def encode_pairs(tok, pairs, limit: int | None = None):
    """[(src ids + EOS, BOS + tgt ids + EOS)]; with ``limit``, longer pairs are dropped."""
    encoded = [(tok.encode(de)[: decode.MAX_SOURCE_TOKENS] + [EOS], [BOS, *tok.encode(en), EOS]) for de, en in pairs]
    return [p for p in encoded if limit is None or max(len(p[0]), len(p[1])) <= limit]


def make_batches(pairs, max_tokens: int, rng: np.random.Generator) -> list[list[int]]:
    """Indices grouped by length (random order among equal lengths), at most ``max_tokens`` padded tokens
    per batch, batches in random order."""
    lengths = np.array([max(len(s), len(t)) for s, t in pairs])
    order = np.lexsort((rng.random(len(pairs)), lengths))
    batches, current, longest = [], [], 0
    for i in order.tolist():
        if current and max(longest, lengths[i]) * (len(current) + 1) > max_tokens:
            batches.append(current)
            current, longest = [], 0
        current.append(i)
        longest = max(longest, int(lengths[i]))
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def collate(pairs, indices, device):
    src, src_len = decode.pad_batch([pairs[i][0] for i in indices], device)
    tgt, _ = decode.pad_batch([pairs[i][1] for i in indices], device)
    return src, src_len, tgt[:, :-1], tgt[:, 1:]  # (B, S), (B,), (B, T), (B, T)


# ---------------------------------------------------------------- training


def lr_at(progress: float, step: int, peak: float, warmup: int) -> float:
    """Linear warm-up over ``warmup`` steps, then cosine decay to 5% of the peak as progress goes 0 -> 1."""
    if step < warmup:
        return peak * (step + 1) / warmup
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def train(args, model, train_pairs, val_pairs, tok, device, rank, world, ckpt_path, val_text, resumed=None):
    """Epochs until --epochs, the time budget or --patience: the history, last snapshots, best epoch, cycle, seconds.

    ``resumed`` (the committed artifact, see resume_from_artifact) starts a new learning-rate cycle at its epoch.
    """
    net = model
    if world > 1:
        net = torch.nn.parallel.DistributedDataParallel(
            model, device_ids=[device.index] if device.type == "cuda" else None
        )
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9, weight_decay=0.01)
    steps_per_epoch = len(make_batches(train_pairs, args.max_tokens, np.random.default_rng(0))) // world
    epoch, step, history, snapshots, elapsed, best = 0, 0, [], [], 0.0, None
    ckpt = training.load_checkpoint(ckpt_path) if args.resume else None
    if ckpt:
        model.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        epoch, step, history, snapshots, elapsed = (
            ckpt[k] for k in ("epoch", "step", "history", "snapshots", "elapsed")
        )
        best = ckpt.get("best")
        print(f"resumed from {ckpt_path} after epoch {epoch}")
    elif resumed:
        epoch, history, elapsed = resumed["epoch"], resumed["history"], resumed["elapsed"]
        step = epoch * steps_per_epoch
    # The learning-rate cycle this run is in: a fresh run's starts at 0, a resumed artifact's at its last epoch.
    earlier = resumed["commands"] if resumed else []
    cycle = {"step": step, "epoch": epoch, "elapsed": elapsed, "earlier_commands": earlier, "lr": args.lr}
    if ckpt:
        cycle = ckpt.get("cycle", {**cycle, "step": 0, "epoch": 0, "elapsed": 0.0})
    total_steps = max(1, (args.epochs - cycle["epoch"]) * steps_per_epoch)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")
    val_batches = [collate(val_pairs, b, device) for b in make_batches(val_pairs, 4000, np.random.default_rng(0))]
    start = time.time() - elapsed
    out_of_time = bool(args.minutes) and elapsed > args.minutes * 60  # resumed after the budget: write the card
    stop = out_of_time
    while epoch < args.epochs and not stop:
        model.train()
        batches = make_batches(train_pairs, args.max_tokens, np.random.default_rng(args.seed + epoch))
        mine = batches[rank : steps_per_epoch * world : world]
        bar = tqdm(mine, desc=f"{args.model} epoch {epoch + 1}/{args.epochs}", disable=rank != 0, mininterval=5)
        total_loss, done = 0.0, 0
        for indices in bar:
            progress = (step - cycle["step"]) / total_steps
            if args.minutes and world == 1:  # the schedule ends with the time budget
                cycle_seconds = max(1.0, args.minutes * 60 - cycle["elapsed"])
                progress = max(progress, (time.time() - start - cycle["elapsed"]) / cycle_seconds)
            for group in opt.param_groups:
                group["lr"] = lr_at(progress, step - cycle["step"], args.lr, args.warmup)
            src, src_len, tgt_in, tgt_out = collate(train_pairs, indices, device)
            with autocast:
                logits = net(src, src_len, tgt_in)  # (B, T, V)
            loss = F.cross_entropy(
                logits.float().transpose(1, 2), tgt_out, ignore_index=0, label_smoothing=args.label_smoothing
            )
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            step += 1
            total_loss += loss.item()
            done += 1
            if args.minutes and world == 1 and time.time() - start > args.minutes * 60:
                out_of_time = True
                break
        epoch += 1
        model.eval()
        val_ppl = metrics.perplexity(model, val_batches)
        state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        snapshots = [*snapshots, state][-args.average :]
        record = {
            "epoch": epoch,
            "train_loss": round(total_loss / max(1, done), 4),
            "val_perplexity": round(val_ppl, 3),
        }
        if rank == 0:
            record["val_bleu"] = score(model, tok, val_text, 1, 0.0)["bleu"]  # greedy
            if best is None or record["val_bleu"] > best["val_bleu"]:
                best = {"epoch": epoch, "val_bleu": record["val_bleu"], "state": state}
        history.append(record)
        stale = epoch - best["epoch"] if best else 0
        stop = out_of_time or bool(args.minutes and time.time() - start > args.minutes * 60)
        stop = stop or bool(args.patience and stale >= args.patience)
        if world > 1:  # every process stops after the same epoch
            flag = torch.tensor([float(stop)], device=device)
            dist.broadcast(flag, 0)
            stop = bool(flag.item())
        if rank == 0:
            print(
                f"epoch {epoch}: train loss {record['train_loss']}, validation perplexity {val_ppl:.2f}, "
                f"greedy BLEU {record['val_bleu']} (best {best['val_bleu']} at epoch {best['epoch']}), "
                f"{time.time() - start:.0f} s",
                flush=True,
            )
            training.save_checkpoint(
                ckpt_path,
                model=model.state_dict(),
                optimizer=opt.state_dict(),
                epoch=epoch,
                step=step,
                history=history,
                snapshots=snapshots,
                best=best,
                cycle=cycle,
                elapsed=time.time() - start,
            )
    if not snapshots:  # resumed with the budget already spent: the weights as they are
        snapshots = [{k: v.detach().cpu().clone() for k, v in model.state_dict().items()}]
    return {"history": history, "snapshots": snapshots, "best": best, "cycle": cycle, "seconds": time.time() - start}


def averaged(snapshots: list[dict]) -> dict:
    return {k: sum(s[k].float() for s in snapshots) / len(snapshots) for k in snapshots[0]}


# ---------------------------------------------------------------- evaluation


def translate_texts(model, tok, sentences, beam, alpha):
    sources = [tok.encode(s)[: decode.MAX_SOURCE_TOKENS] + [EOS] for s in sentences]
    return [tok.decode(ids) for ids in decode.translate_ids(model, sources, beam=beam, alpha=alpha, batch_size=128)]


def score(model, tok, pairs, beam, alpha, lengths: bool = False) -> dict:
    """BLEU and chrF of the translations of ``pairs``; with ``lengths``, also per source-length bucket."""
    sources, references = [de for de, _ in pairs], [en for _, en in pairs]
    hyps = translate_texts(model, tok, sources, beam, alpha)
    result = metrics.bleu_chrf(hyps, references)
    if lengths:
        result["by_length"] = metrics.by_length(sources, hyps, references)
    return result


def retrieval_baseline(train_pairs, test_pairs) -> dict:
    """No neural network: answer each German sentence with the English of the most similar training sentence
    (TF-IDF over word 1-2-grams, cosine)."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True).fit([de for de, _ in train_pairs])
    similarity = (
        vectorizer.transform([de for de, _ in test_pairs]) @ vectorizer.transform([de for de, _ in train_pairs]).T
    )
    nearest = np.asarray(similarity.argmax(axis=1)).ravel()
    return metrics.bleu_chrf([train_pairs[i][1] for i in nearest], [en for _, en in test_pairs])


def choose_weights(model, tok, snapshots, best, last_epoch, val_pairs, device) -> str:
    """The last epoch's weights, the average of the last epochs or the best epoch's (by validation greedy BLEU),
    whichever translates the validation set best; the model is left holding them."""
    model.eval()  # a resumed run that only writes the card never went through the epoch loop's eval()
    candidates = {"last epoch": snapshots[-1]}
    if len(snapshots) > 1:
        candidates[f"average of the last {len(snapshots)} epochs"] = averaged(snapshots)
    if best is not None and best["epoch"] != last_epoch:
        candidates[f"best epoch ({best['epoch']})"] = best["state"]
    scores = {}
    for name, state in candidates.items():
        model.load_state_dict({k: v.to(device) for k, v in state.items()})
        scores[name] = score(model, tok, val_pairs, 1, 0.0)["bleu"]
    chosen = max(scores, key=scores.get)  # ties: the first (last epoch, then the average)
    model.load_state_dict({k: v.to(device) for k, v in candidates[chosen].items()})
    others = ", ".join(f"{name} {bleu}" for name, bleu in scores.items() if name != chosen)
    return f"{chosen} (validation greedy BLEU {scores[chosen]}" + (f"; {others})" if others else ")")


def write_artifact(args, model, tok, splits, encoded, run, device, out, chosen):
    model.load_state_dict({k: v.half().float() for k, v in model.state_dict().items()})  # as stored
    model.eval()
    val, test = splits["val"], splits["test_2016_flickr"]
    candidates = (0.6,) if args.smoke else (0.0, 0.6, 1.0)
    alphas = {alpha: score(model, tok, val, args.beam, alpha)["bleu"] for alpha in candidates}
    alpha = max(alphas, key=alphas.get)
    results = {
        split: {
            "greedy": score(model, tok, pairs, 1, alpha, lengths=split != "val"),
            f"beam{args.beam}": score(model, tok, pairs, args.beam, alpha, lengths=split != "val"),
            "perplexity": round(
                metrics.perplexity(
                    model,
                    [
                        collate(encoded[split], b, device)
                        for b in make_batches(encoded[split], 4000, np.random.default_rng(0))
                    ],
                ),
                3,
            ),
        }
        for split, pairs in (("val", val), ("test_2016_flickr", test))
    }
    baseline = retrieval_baseline(splits["train"], test)
    test_scores = results["test_2016_flickr"]
    greedy, beam = test_scores["greedy"], test_scores[f"beam{args.beam}"]
    examples = [
        {"german": de, "reference": en, "translation": t}
        for (de, en), t in zip(test[:5], translate_texts(model, tok, [de for de, _ in test[:5]], args.beam, alpha))
    ]
    published = PUBLISHED[args.model]
    name = NAMES[args.model]
    published_figure = (
        f"BLEU {published['bleu']}" if published["bleu"] else f"perplexity {published['perplexity']}, no BLEU given"
    )
    card = {
        "artifact": out.name,
        "task": "German-English translation of image captions (Multi30k), lowercased",
        "model": describe(model),
        "parameters": models.num_parameters(model),
        "train_command": args.command,
        "hardware": training.hardware(device),
        "train_seconds": round(run["seconds"]),
        "training": {
            "earlier_commands": run["cycle"]["earlier_commands"],
            "this_cycle": {
                "from_epoch": run["cycle"]["epoch"],
                "from_seconds": round(run["cycle"]["elapsed"]),
                "peak_lr": run["cycle"]["lr"],
            },
            "patience": args.patience,
            "best_validation_epoch": run["best"] and {k: run["best"][k] for k in ("epoch", "val_bleu")},
        },
        "data": {
            **data.LICENCE,
            "files": training.data_files([p for split in data.SPLITS for p in data.split_files(args.data_dir, split)]),
            "pairs": {split: len(pairs) for split, pairs in splits.items()},
            "train_pairs_used": len(encoded["train"]),
        },
        "tokenisation": tokenisation_stats(tok, splits),
        "decoding": {
            "beam": args.beam,
            "length_penalty": alpha,
            "validation_bleu_by_length_penalty": alphas,
            "weights": chosen,
        },
        "metrics": results,
        "baselines": {
            "retrieval": {**baseline, "what": "English of the most similar training sentence (TF-IDF cosine)"},
            "published": published,
        },
        "history": run["history"],
        **source_order(args, model, run["history"]),
        "examples": examples,
        "smoke": args.smoke,
        "summary": {
            "quality": f"test_2016_flickr BLEU {beam['bleu']} (beam {args.beam}), {greedy['bleu']} (greedy); "
            f"chrF {beam['chrf']}; perplexity {test_scores['perplexity']} per subword token",
            "baseline": f"nearest training sentence BLEU {baseline['bleu']}; published {name}: {published_figure} "
            "(spaCy words)",
        },
        "headline": f"Test BLEU {beam['bleu']} (published {name}: {published_figure}); "
        f"nearest-training-sentence baseline {baseline['bleu']}.",
    }
    tensors = dict(model.state_dict())
    config = {
        "kind": args.model,
        "model": models.config_dict(model),
        "tokenisation": tok.kind,
        "beam": args.beam,
        "length_penalty": alpha,
    }
    if tok.kind == "subword":
        tensors["tokenizer.model_proto"] = torch.frombuffer(bytearray(tok.model_proto), dtype=torch.uint8)
    else:
        config["words"] = tok.words
    save_artifact(out, tensors, config, card, readme=training.card_readme(card))
    print(
        f"wrote {out}: test BLEU greedy {greedy['bleu']}, beam {beam['bleu']} (alpha {alpha}); "
        f"chrF {beam['chrf']}; perplexity {test_scores['perplexity']}; retrieval baseline {baseline['bleu']}"
    )


NAMES = {
    "seq2seq": "LSTM encoder-decoder",
    "context": "GRU with the context at every step",
    "attention": "GRU + additive attention",
    "convs2s": "ConvS2S",
    "transformer": "Transformer",
}


def source_order(args, model, history) -> dict:
    """seq2seq: which way the German is read, and the measurement behind the choice (the other order's
    validation perplexity, epoch by epoch, from its run's checkpoint given as --compare)."""
    if model.kind != "seq2seq":
        return {}
    chosen = "reversed" if model.cfg.reverse_source else "forward"
    record = {"chosen": chosen, chosen: [h["val_perplexity"] for h in history]}
    if args.compare:
        other = training.load_checkpoint(args.compare)
        record["forward" if chosen == "reversed" else "reversed"] = [h["val_perplexity"] for h in other["history"]]
    return {"source_order": record}


def describe(model) -> str:
    c = model.cfg
    shared = f"shared embedding {c.embed if hasattr(c, 'embed') else c.d_model}, vocabulary {c.vocab}"
    return {
        "seq2seq": lambda: (
            f"LSTM encoder-decoder {c.layers}x{c.hidden}, no attention, source "
            f"{'reversed' if c.reverse_source else 'in order'}, {shared}"
        ),
        "context": lambda: (
            f"GRU encoder {c.hidden}, GRU decoder {c.hidden} fed the context vector at every step, "
            f"no attention, {shared}"
        ),
        "attention": lambda: (
            f"bidirectional GRU encoder {c.enc_hidden}x2, GRU decoder {c.dec_hidden}, additive attention, {shared}"
        ),
        "convs2s": lambda: (
            f"convolutional encoder {c.enc_layers} layers and decoder {c.dec_layers} layers, "
            f"kernel {c.kernel}, hidden {c.hidden}, gated linear units, attention in every decoder layer, {shared}"
        ),
        "transformer": lambda: (
            f"Transformer {c.layers}+{c.layers} layers, d_model {c.d_model}, {c.heads} heads, "
            f"feed-forward {c.ff}, pre-norm, {shared}"
        ),
    }[model.kind]()


def tokenisation_stats(tok, splits) -> dict:
    """Tokens per sentence and the share of validation tokens the vocabulary cannot represent."""
    val = [s for pair in splits["val"] for s in pair]
    ids = [tok.encode(s) for s in val]
    tokens = sum(len(x) for x in ids)
    return {
        "kind": tok.kind,
        "vocabulary": len(tok),
        "tokens_per_validation_sentence": round(tokens / len(val), 2),
        "validation_unknown_rate": round(sum(x.count(1) for x in ids) / max(tokens, 1), 4),
    }


def resume_from_artifact(args, out: Path, ckpt_path: Path) -> dict | None:
    """With --resume and no checkpoint: the committed artifact's tokeniser, model config, weights (stored as
    float16) and history, to start a new learning-rate cycle on (no optimiser state); otherwise None."""
    if not args.resume or ckpt_path.is_file():
        return None
    try:
        art = load_artifact(out.name, out.parent)
    except Exception:  # noqa: BLE001 - no artifact (or a broken one): start afresh
        return None
    if art.config.get("kind") != args.model:
        return None
    weights = dict(art.tensors)
    tok = from_config(art.config, {"tokenizer.model_proto": weights.pop("tokenizer.model_proto", None)})
    history = art.card["history"]
    print(f"resumed from the artifact {out} after epoch {len(history)} (new optimiser, new learning-rate cycle)")
    return {
        "tokenizer": tok,
        "config": art.config["model"],
        "weights": weights,
        "history": history,
        "epoch": history[-1]["epoch"] if history else 0,
        "elapsed": float(art.card["train_seconds"]),
        "commands": [*art.card.get("training", {}).get("earlier_commands", []), art.card["train_command"]],
    }


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.smoke:
        args.epochs, args.max_tokens, args.warmup, args.average, args.beam = 2, 600, 10, 2, 2
    rank, world, device = setup_distributed(args.device)
    training.seed_everything(args.seed)  # the same initial weights on every process
    out, ckpt_path = training.artifact_paths(args, "translate")
    splits = load_pairs(args)
    resumed = resume_from_artifact(args, out, ckpt_path)
    tok = resumed["tokenizer"] if resumed else build_tokenizer(args, splits["train"])
    encoded = {
        "train": encode_pairs(tok, splits["train"], MAX_TRAIN_TOKENS),
        "val": encode_pairs(tok, splits["val"]),
        "test_2016_flickr": encode_pairs(tok, splits["test_2016_flickr"]),
    }
    cfg = {"vocab": len(tok), "dropout": args.dropout, **(SMOKE[args.model] if args.smoke else {})}
    if args.model == "seq2seq":
        cfg["reverse_source"] = args.source_order == "reversed"
    if resumed:
        cfg = {**resumed["config"], "dropout": args.dropout}
    model = models.build(args.model, cfg).to(device)
    if resumed:
        model.load_state_dict({k: v.to(device) for k, v in resumed["weights"].items()})
    if rank == 0:
        print(
            f"{args.model}: {models.num_parameters(model):,} parameters, vocabulary {len(tok)} ({tok.kind}), "
            f"{len(encoded['train']):,} training pairs, {world} process(es) on {device}",
            flush=True,
        )
    run = train(
        args, model, encoded["train"], encoded["val"], tok, device, rank, world, ckpt_path, splits["val"], resumed
    )
    if world > 1:
        (ckpt_path.parent / f"{ckpt_path.stem}-rank{rank}.sha256").write_text(weights_digest(model) + "\n")
    if rank == 0:
        last_epoch = run["history"][-1]["epoch"] if run["history"] else 0
        chosen = choose_weights(model, tok, run["snapshots"], run["best"], last_epoch, splits["val"], device)
        print(f"weights: {chosen}")
        write_artifact(args, model, tok, splits, encoded, run, device, out, chosen)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
