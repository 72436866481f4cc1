"""Name models trained on a visitor's own list: reading the list, training on a time budget, saving and loading.

The list is text, one item per line (names, words, place names, in any script), with an optional second,
tab-separated column: a label the model conditions on, as the built-in models condition on gender. The models
are the built-in ones (``CharRNN`` as a vanilla RNN or a GRU, and the smoothed ``Bigram``), with the list's own
characters as the vocabulary. A trained model is an artifact folder like those in ``pretrained/``
(``model.safetensors``, ``config.json``, ``card.json``, ``README.md``), so ``python -m gallery names`` loads it with
``--model DIR``.

Training holds out a validation part of the list (10%, at least one item, at most 5,000), fits the bigram on the
rest with its smoothing chosen on that part, and stops early on it: the weights kept are those with the best
validation NLL. Like the app, the command line trains in-process; the page runs this in a background worker
(``gallery.names.jobs``).
"""

from __future__ import annotations

import copy
import hashlib
import io
import math
import random
import shutil
import tempfile
import time
import unicodedata
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import torch

from gallery import charmodel, textinput
from gallery.names import model as names_model
from gallery.names.model import END, NameModel
from gallery.registry import REQUIRED_FILES, ArtifactError, load_artifact, read_json, save_artifact
from gallery.text import CharVocab

MAX_BYTES = 5_000_000
MAX_LINES = 200_000
MAX_ITEM_CHARS = 64
MIN_DISTINCT = 10
MAX_LABELS = 50
MAX_CHARS = 2_000  # distinct characters (a CJK list may have many)
MAX_BIGRAM_CELLS = 10_000_000  # labels x characters^2 of the bigram table (20 MB stored)
MIN_SECONDS, MAX_SECONDS = 1, 3600  # the command line's --seconds (the page offers 10 to 120)
VALIDATION_FRACTION, MAX_VALIDATION = 0.1, 5000
KINDS = ("gru", "rnn", "bigram")
NO_LABEL = ""
END_CHAR = "\n"  # index 0 of an own vocabulary: no item can hold it (items are lines)
FORMAT = "own-names-1"  # config.json's "format": tells a trained own-list model from any other folder


@dataclass
class Settings:
    """Model size and optimisation for a time budget on one CPU thread (chosen on lists the project never saw,
    see benchmarks/own_names.py)."""

    embed_dim: int = 32
    hidden: int = 192
    dropout: float = 0.3
    class_dim: int = 16
    batch: int = 64
    lr: float = 4e-3
    weight_decay: float = 0.01
    eval_every_s: float = 0.5  # at least this often; and at least 100 evaluations over the budget
    patience: float = 0.5  # stop after this fraction of the budget without a better validation NLL
    ema: float = 0.99  # validation and the result use an exponential moving average of the weights (0: off)


@dataclass
class ItemList:
    """A list read from text: distinct (item, label) pairs in first-seen order, and what was left out."""

    pairs: list[tuple[str, str]]
    labels: tuple[str, ...]  # () when the list has no label column
    lines: int  # non-blank lines read
    skipped: dict[str, int]  # reason -> lines skipped ("longer than 64 characters", ...)
    sha256: str

    @property
    def items(self) -> int:
        return len({p[0] for p in self.pairs})

    def summary(self) -> str:
        text = f"{self.lines:,} lines, {self.items:,} different items"
        if self.labels:
            counts = Counter(label for _, label in self.pairs)
            shown = ", ".join(f"{label} ({counts[label]:,})" for label in self.labels[:8])
            text += f", {len(self.labels)} labels: {shown}" + (" ..." if len(self.labels) > 8 else "")
        skipped = "; ".join(f"{n:,} {why} skipped" for why, n in self.skipped.items() if n)
        return text + (f". {skipped}." if skipped else ".")


# ---------------------------------------------------------------------------------------------- reading


def decode(data: bytes, what: str = "The list") -> str:
    """Bytes -> text, or ValueError: empty, over 5 MB, binary, or not UTF-8 (naming the line); the project's one
    reader of user text (``gallery.textinput``) says so in the same words everywhere."""
    text = textinput.decode(what, data, MAX_BYTES)
    if not text.strip():
        raise ValueError(f"{what} is empty: put one item per line.")
    return text


def parse_lines(text: str, what: str = "The list") -> tuple[list[tuple[str, str | None]], dict[str, int], int]:
    """Text -> ([(item, label or None)] for every usable line, {reason: lines skipped}, non-blank lines)."""
    lines = text.split("\n")
    if len(lines) > MAX_LINES + 1:
        raise ValueError(f"{what} has {len(lines):,} lines; the limit is {MAX_LINES:,}.")
    rows, skipped, seen = [], Counter(), 0
    for line in lines:
        item, _, rest = line.rstrip("\r").partition("\t")
        item = unicodedata.normalize("NFC", item.strip())
        label = unicodedata.normalize("NFC", rest.partition("\t")[0].strip()) if rest.strip() else None
        if not item:
            if label is not None:
                seen += 1
                skipped["without an item before the tab"] += 1
            continue
        seen += 1
        if any(unicodedata.category(c) in ("Cc", "Cs", "Co", "Cn") for c in item + (label or "")):
            skipped["with control or unassigned characters"] += 1
        elif len(item) > MAX_ITEM_CHARS:
            skipped[f"longer than {MAX_ITEM_CHARS} characters"] += 1
        elif label is not None and len(label) > MAX_ITEM_CHARS:
            skipped[f"with a label longer than {MAX_ITEM_CHARS} characters"] += 1
        else:
            rows.append((item, label))
    return rows, dict(skipped), seen


def read_list(data: bytes | str, what: str = "The list") -> ItemList:
    """Read a list to train on (bytes of a file, or pasted text); ValueError says what is wrong with it."""
    raw = textinput.check_pasted(data, what).encode("utf-8") if isinstance(data, str) else bytes(data)
    text = decode(raw, what)
    rows, skipped, lines = parse_lines(text, what)
    labelled = any(label for _, label in rows)
    if labelled:
        unlabelled = sum(1 for _, label in rows if not label)
        if unlabelled:
            skipped["without a label (other lines have one)"] = unlabelled
        rows = [(item, label) for item, label in rows if label]
        labels = tuple(dict.fromkeys(label for _, label in rows))
        if len(labels) > MAX_LABELS:
            raise ValueError(
                f"The second column has {len(labels):,} different values; a label (like a gender or a language) "
                f"may have at most {MAX_LABELS}. Remove that column if it is not a label."
            )
    else:
        rows, labels = [(item, NO_LABEL) for item, _ in rows], ()
    pairs = list(dict.fromkeys(rows))
    distinct = len({item for item, _ in pairs})
    if distinct == 0:
        if skipped:
            reasons = "; ".join(f"{n:,} {why}" for why, n in skipped.items())
            raise ValueError(f"{what} has no usable line: {reasons}.")
        raise ValueError(f"{what} is empty: put one item per line.")
    if distinct == 1:
        raise ValueError(
            f"{what} is one item repeated ({pairs[0][0][:40]!r}, {len(rows):,} times): "
            f"give at least {MIN_DISTINCT} different items."
        )
    if distinct < MIN_DISTINCT:
        raise ValueError(f"{what} has only {distinct} different items; at least {MIN_DISTINCT} are needed.")
    chars = {c for item, _ in pairs for c in item}
    if len(chars) > MAX_CHARS:
        raise ValueError(f"{what} uses {len(chars):,} different characters; the limit is {MAX_CHARS:,}.")
    if max(1, len(labels)) * (len(chars) + 1) ** 2 > MAX_BIGRAM_CELLS:
        raise ValueError(
            f"{len(labels)} labels over {len(chars):,} different characters is too many for the bigram table: "
            "use fewer labels."
        )
    return ItemList(pairs, labels, lines, skipped, hashlib.sha256(raw).hexdigest())


def read_file(path) -> bytes:
    """The bytes of a list file, or ValueError (missing, a folder, empty, over 5 MB) before reading it all."""
    return textinput.read_bytes(path, MAX_BYTES, str(path))


# ---------------------------------------------------------------------------------------------- training


def split(pairs: list[tuple[str, str]], seed: int) -> tuple[list, list]:
    """Hold out whole items (never one item in both parts): 10% for validation, at least 1, at most 5,000."""
    items = sorted({item for item, _ in pairs})
    random.Random(seed).shuffle(items)
    n_val = min(MAX_VALIDATION, max(1, round(VALIDATION_FRACTION * len(items))))
    held = set(items[:n_val])
    return [p for p in pairs if p[0] not in held], [p for p in pairs if p[0] in held]


def vocabulary(pairs) -> CharVocab:
    return CharVocab(END_CHAR + "".join(sorted({c for item, _ in pairs for c in item})))


@dataclass
class Trained:
    """What a training run made: the model (as stored, float16-rounded), its config and card, the curve."""

    model: NameModel
    config: dict
    card: dict
    tensors: dict
    history: list[dict] = field(default_factory=list)

    def save(self, out: Path) -> Path:
        return save_artifact(Path(out), self.tensors, self.config, self.card, readme=readme(self.card))

    def zip_bytes(self) -> bytes:
        """The artifact folder as a .zip (what the page offers for download), written through a temporary folder."""
        tmp = Path(tempfile.mkdtemp(prefix="own-names-"))
        try:
            folder = self.save(tmp / "model")
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
                for f in sorted(folder.iterdir()):
                    z.write(f, f"{ARCHIVE_FOLDER}/{f.name}")
            return buf.getvalue()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


ARCHIVE_FOLDER = "name-model"


def train(
    items: ItemList,
    kind: str = "gru",
    seconds: float = 60,
    seed: int = 0,
    progress: Callable[[dict], None] | None = None,
    stop: Callable[[], bool] | None = None,
    settings: Settings | None = None,
) -> Trained:
    """Train on ``items`` for at most ``seconds`` (the bigram: counts, no budget needed).

    ``progress(row)`` gets each evaluation: {"step", "seconds", "train_nll", "val_nll", "bigram_nll"};
    ``stop()`` returning True ends training early (the best weights so far are kept). Runs on the calling
    thread with its torch thread setting.
    """
    if kind not in KINDS:
        raise ValueError(f"The model must be one of {', '.join(KINDS)}, not {kind!r}.")
    if not (isinstance(seconds, (int, float)) and math.isfinite(seconds) and seconds > 0):
        raise ValueError("The time budget must be a positive number of seconds.")
    cfg = settings or Settings()
    start = time.perf_counter()
    torch.manual_seed(seed)
    classes = items.labels or (NO_LABEL,)
    vocab = vocabulary(items.pairs)
    train_pairs, val_pairs = split(items.pairs, seed)
    bigram, alpha = names_model.fit_bigram(train_pairs, val_pairs, vocab, classes)
    bigram = round_weights(bigram)
    bigram_nll = names_model.mean_nll(bigram, val_pairs, vocab, classes)
    history: list[dict] = []
    steps = 0
    if kind == "bigram":
        net, config = bigram, {"kind": "bigram", "alpha": alpha}
    else:
        rnn_cfg = charmodel.CharRNNConfig(
            len(vocab), kind, cfg.embed_dim, cfg.hidden, 1, cfg.dropout, n_classes=len(classes), class_dim=cfg.class_dim
        )

        def record(step: int, train_nll: float | None, val_nll: float) -> None:
            row = {
                "step": step,
                "seconds": round(time.perf_counter() - start, 2),
                "train_nll": None if train_nll is None else round(train_nll, 4),
                "val_nll": round(val_nll, 4),
                "bigram_nll": round(bigram_nll, 4),
            }
            history.append(row)
            if progress is not None:
                progress(row)

        evaluate = lambda net: names_model.mean_nll(net, val_pairs, vocab, classes)  # noqa: E731
        net, steps = fit_rnn(
            charmodel.CharRNN(rnn_cfg), train_pairs, vocab, classes, evaluate, record, seconds, cfg, seed, stop
        )
        net = round_weights(net)
        config = {"kind": "charrnn", "model": charmodel.config_dict(net)}
    val_nll = names_model.mean_nll(net, val_pairs, vocab, classes)
    elapsed = time.perf_counter() - start
    counts = Counter(label for _, label in train_pairs)
    config |= {
        "format": FORMAT,
        "vocab": vocab.chars,
        "labels": list(classes),
        "label_counts": [counts[c] for c in classes],
        "max_len": max(len(item) for item, _ in items.pairs),
        "train_names": sorted({item for item, _ in items.pairs}),  # "novel" means not in the list at all
    }
    model = from_config(net, config, {})
    samples = names_model.sample(model, n=1000, temperature=1.0, seed=seed)
    card = {
        "artifact": "own list",
        "task": f"character-level model of a visitor's list of {items.items:,} items"
        + (f", conditioned on {len(items.labels)} labels" if items.labels else ""),
        "model": describe(kind, net),
        "parameters": sum(t.numel() for t in net.state_dict().values()),
        "train_command": f"python -m gallery names train --words LIST --out DIR --model {kind} "
        f"--seconds {seconds:g} --seed {seed}",
        "hardware": f"CPU, {torch.get_num_threads()} thread{'s' if torch.get_num_threads() > 1 else ''}",
        "train_seconds": round(elapsed, 1),
        "time_budget_seconds": seconds,
        "steps": steps,
        "data": {
            "data": "a visitor's own list",
            "licence": "the visitor's",
            "list_sha256": items.sha256,
            "lines": items.lines,
            "items": items.items,
            "skipped": items.skipped,
            "split": {"train": len({p[0] for p in train_pairs}), "validation": len({p[0] for p in val_pairs})},
            "split_seed": seed,
        },
        "bigram_alpha": alpha,
        "metrics": {
            "validation_nll_per_char": round(val_nll, 4),
            "bigram_validation_nll_per_char": round(bigram_nll, 4),
            "ratio_to_bigram": round(val_nll / bigram_nll, 4),
            "novel_fraction": sum(s["novel"] for s in samples) / len(samples),
            "validation_items": len({p[0] for p in val_pairs}),
        },
        "history": history,
        "smoke": False,
    }
    model.card = card
    return Trained(model, config, card, dict(net.state_dict()), history)


def round_weights(net):
    """Round to float16 and back, as the artifact stores them: the card's numbers are the stored model's."""
    net.load_state_dict({k: v.half().float() for k, v in net.state_dict().items()})
    return net.eval()


def fit_rnn(net, train_pairs, vocab, classes, evaluate, record, seconds, cfg: Settings, seed: int, stop=None):
    """The trainer's loop (AdamW, clipped gradients, NLL per character, best validation weights kept), run against
    a clock: the learning rate follows a cosine over the budget, ``evaluate(net)`` (the validation NLL) runs every
    ``eval_every_s`` seconds (at least 100 times) and goes to ``record(step, train_nll, val_nll)``, and training
    stops when the budget is spent, ``stop()`` says so, or validation has not improved for ``patience`` of the
    budget. -> (the best weights, steps)."""
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    shadow = copy.deepcopy(net).eval() if cfg.ema else net  # the averaged weights: what is evaluated and kept
    rng = random.Random(seed)
    order: list = []
    eval_every = min(cfg.eval_every_s, seconds / 100)  # stretched below if validating costs over a tenth
    best = (math.inf, {k: v.detach().clone() for k, v in net.state_dict().items()}, 0.0)
    steps, loss_sum, loss_n = 0, 0.0, 0
    began = time.perf_counter()
    last_eval = began
    while True:
        now = time.perf_counter()
        elapsed = now - began
        done = elapsed >= seconds or (stop is not None and stop()) or elapsed - best[2] > cfg.patience * seconds
        if now - last_eval >= eval_every or done:
            shadow.eval()
            val = evaluate(shadow)
            record(steps, loss_sum / loss_n if loss_n else None, val)
            last_eval = time.perf_counter()
            eval_every = max(eval_every, 10 * (last_eval - now))  # a long list's validation: at most 10% of the time
            loss_sum, loss_n = 0.0, 0
            if val < best[0]:
                best = (val, {k: v.detach().clone() for k, v in shadow.state_dict().items()}, elapsed)
        if done:
            break
        for g in opt.param_groups:
            g["lr"] = cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, elapsed / seconds))))
        if not order:
            order = list(train_pairs)
            rng.shuffle(order)
        batch, order = order[: cfg.batch], order[cfg.batch :]
        net.train()
        nll, n = names_model.nll_per_name(net, [p[0] for p in batch], [p[1] for p in batch], vocab, classes)
        loss = nll.sum() / n.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        if shadow is not net:
            decay = min(cfg.ema, (1 + steps) / (10 + steps))  # a short average while the weights move fast
            with torch.no_grad():
                for avg, live in zip(shadow.parameters(), net.parameters()):
                    avg.lerp_(live, 1 - decay)
        steps += 1
        loss_sum, loss_n = loss_sum + loss.item(), loss_n + 1
    net.load_state_dict(best[1])  # early stopping: the (averaged) weights with the best validation NLL
    return net.eval(), steps


def describe(kind: str, net) -> str:
    if kind == "bigram":
        return "bigram counts per label, add-alpha smoothing chosen on validation"
    c = net.cfg
    return f"{c.cell.upper()} 1x{c.hidden}, char embedding {c.embed_dim}, label embedding {c.class_dim}"


def readme(card: dict) -> str:
    m = card["metrics"]
    return "\n".join(
        [
            "# A name model trained on your own list",
            "",
            card["task"] + ".",
            "",
            f"- model: {card['model']} ({card['parameters']:,} parameters)",
            f"- trained in {card['train_seconds']} s ({card['steps']:,} steps) on {card['hardware']}",
            f"- validation NLL: {m['validation_nll_per_char']} nats/char (bigram on the same split: "
            f"{m['bigram_validation_nll_per_char']}); new among 1,000 samples: {m['novel_fraction']:.3f}",
            f"- list sha256: {card['data']['list_sha256']}",
            "",
            "Use it: `python -m gallery names sample --model THIS_FOLDER -n 20` "
            "or `python -m gallery names score --model THIS_FOLDER --words LIST`.",
            "",
        ]
    )


# ---------------------------------------------------------------------------------------------- loading


def from_config(net, config: dict, card: dict) -> NameModel:
    labels = tuple(config["labels"])
    counts = config.get("label_counts")
    return NameModel(
        net.eval(),
        config["kind"],
        card,
        frozenset(config["train_names"]),
        vocab=CharVocab(config["vocab"]),
        labels=labels,
        max_len=int(config["max_len"]),
        own=True,
        label_prior=tuple(float(c) for c in counts) if counts and sum(counts) else None,
    )


def is_name_model(folder: Path) -> bool:
    """A folder written by :func:`Trained.save` (its config.json says so)."""
    try:
        return read_json(Path(folder) / "config.json").get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def check_out_dir(out) -> Path:
    """Where ``names train --out`` may write: a new or empty folder, or one holding an own-list name model
    (replaced). A file, or a folder with anything else in it, is refused."""
    out = Path(out)
    if str(out).strip() in ("", "."):
        raise ValueError("Give --out a folder name for the model, such as my-names-model.")
    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {out} is a file; give a folder for the model.")
    if out.is_dir() and any(out.iterdir()) and not is_name_model(out):
        raise ValueError(
            f"--out {out} exists and is not a name model (no config.json from `names train`); "
            "choose a new folder, so nothing of yours is overwritten."
        )
    return out


def load_dir(path) -> NameModel:
    """Load a folder written by ``names train`` (or the page's download, unzipped, or the .zip itself)."""
    path = Path(path)
    if path.is_file() and zipfile.is_zipfile(path):
        return load_zip(path.read_bytes())
    if not path.is_dir():
        raise ValueError(f"--model {path}: no such folder. Give gru, rnn, bigram or a folder written by `names train`.")
    if not is_name_model(path):
        missing = [f for f in REQUIRED_FILES if not (path / f).is_file()]
        why = f"{', '.join(missing)} missing" if missing else "its config.json is not from `names train`"
        raise ValueError(f"--model {path} is not a name model ({why}).")
    try:
        art = load_artifact(path.name, path.parent)
        return from_config(names_model.build_net(art.config, art.tensors), art.config, art.card)
    except ArtifactError as err:
        raise ValueError(f"--model {path} is not a usable name model: it {err.problem}.") from None
    except (RuntimeError, KeyError, TypeError, ValueError) as err:
        raise ValueError(f"--model {path} does not fit this code ({str(err).splitlines()[0]}).") from None


def load_zip(data: bytes) -> NameModel:
    """Load the page's download (a .zip holding one artifact folder); only the artifact's own files are read."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        wanted = {Path(i.filename).name: i for i in z.infolist() if Path(i.filename).name in REQUIRED_FILES}
        if set(wanted) != set(REQUIRED_FILES):
            raise ValueError(f"The .zip does not hold a name model ({', '.join(REQUIRED_FILES)} expected).")
        if sum(i.file_size for i in wanted.values()) > 10 * MAX_BYTES:
            raise ValueError("The .zip's model files are too large for a name model.")
        tmp = Path(tempfile.mkdtemp(prefix="own-names-"))
        try:
            folder = tmp / ARCHIVE_FOLDER
            folder.mkdir()
            for name, info in wanted.items():
                (folder / name).write_bytes(z.read(info))
            return load_dir(folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------------------------- scoring


def score_rows(model: NameModel, rows: list[tuple[str, str | None]], label: str | None = None) -> dict:
    """Score a whole list: {"nats_per_char", "scored", "unscorable"}.

    The total NLL over the scored items divided by their characters plus one end mark per item. An item with a
    character the model never saw, or with a label it does not know (or none, for a labelled model), is
    unscorable: counted, not an error.
    """
    scorable, unscorable = [], 0
    for item, own_label in rows:
        text = names_model.normalise(model, item)
        lab = own_label or label
        if not model.labelled:
            lab = model.labels[0]
        elif model.own is False and lab is not None:
            lab = {"f": "female", "m": "male"}.get(lab.lower(), lab.lower())
        known = text and all(c in model.vocab and model.vocab.index[c] != END for c in text)
        if known and len(text) <= max(model.max_len, MAX_ITEM_CHARS) and lab in model.labels:
            scorable.append((text, lab))
        else:
            unscorable += 1
    if not scorable:
        return {"nats_per_char": None, "scored": 0, "unscorable": unscorable}
    total, chars = 0.0, 0
    for i in range(0, len(scorable), 2048):
        chunk = scorable[i : i + 2048]
        with torch.no_grad():
            nll, n = names_model.nll_per_name(
                model.net, [p[0] for p in chunk], [p[1] for p in chunk], model.vocab, model.labels
            )
        total, chars = total + nll.sum().item(), chars + int(n.sum())
    return {"nats_per_char": round(total / chars, 4), "scored": len(scorable), "unscorable": unscorable}


def score_file(model: NameModel, path, label: str | None = None) -> dict:
    """``names score --words FILE``: every non-blank line of the file (a second tab-separated column is its label)."""
    text = decode(read_file(path), str(path))
    rows, skipped, _ = parse_lines(text, str(path))
    result = score_rows(model, rows, label)
    result["unscorable"] += sum(skipped.values())  # control characters, over-long lines: not scorable either
    return result
