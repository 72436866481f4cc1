"""Train skill embeddings on 50,000 job postings: word2vec, fastText and GloVe on one corpus.

    python -m trainers.skills --model all          # the three committed artifacts (tokenisation measured first)
    python -m trainers.skills --model fasttext     # one model
    python -m trainers.skills --smoke              # seconds, for tests

Each posting is one unordered "sentence" of skills, so the context window spans the whole posting and
is never shrunk. Every card holds hit@10/hit@50 on the hand-written related-skill pairs, next to a
co-occurrence-count baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from gallery import DATA_ROOT, training
from gallery.registry import save_artifact
from gallery.skills import corpus, evaluate, glove
from gallery.skills.model import MODELS
from gallery.skills.vectors import SkillVectors, Subwords

DATA_FILE = "skill2vec_50K.csv.gz"
LICENCE = {
    "data": "key skills of 50,000 Indian job postings (GitHub duyet/skill2vec-dataset)",
    "licence": "MIT",
    "citation": "Le Van-Duyet, Vo Minh Quan, Dang Quang An. Skill2vec: Machine Learning Approach for "
    "Determining the Relevant Skills from Job Description. arXiv:1707.09751, 2017.",
}
SHOWCASE = ("php", "seo", "python", "tally", "autocad", "recruitment", "nursing", "c++")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_common_args(p, "skills", "all")
    g = p.add_argument_group("corpus")
    g.add_argument("--tokenisation", choices=[*corpus.TOKENISATIONS, "measure"], default="measure")
    g.add_argument("--min-count", type=int, default=10, help="keep skills seen at least this often")
    g = p.add_argument_group("model")
    g.add_argument("--dim", type=int, default=100)
    g.add_argument("--epochs", type=int, default=10, help="word2vec and fastText epochs")
    g.add_argument("--glove-epochs", type=int, default=40)
    g.add_argument("--glove-dim", type=int, default=300)
    g.add_argument("--window", type=int, default=50, help="skills per posting seen as context (no shrinking)")
    g.add_argument("--negative", type=int, default=10)
    g.add_argument("--sample", type=float, default=1e-4, help="down-sampling of frequent skills")
    g.add_argument("--buckets", type=int, default=100_000, help="fastText n-gram hash buckets")
    g.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    if args.model not in (*MODELS, "all"):
        p.error(f"--model must be one of {', '.join(MODELS)} or all")
    args.command = training.command_line("skills", argv)
    if args.smoke:
        args.min_count, args.dim, args.glove_dim, args.epochs, args.glove_epochs, args.buckets = 1, 16, 16, 3, 5, 2000
    return args


def data_path(args) -> Path:
    path = (args.data_dir or DATA_ROOT / "skills") / DATA_FILE
    if not path.is_file():
        raise training.missing_data(path)
    return path


def fit(kind: str, sentences, args) -> SkillVectors:
    """Train one model; vectors rounded to float16 as stored, so the card measures what ships."""
    if kind == "glove":
        return fit_glove(sentences, args)
    from gensim.models import FastText, Word2Vec

    common = dict(
        vector_size=args.dim,
        window=args.window,
        min_count=args.min_count,
        sg=1,
        negative=args.negative,
        sample=args.sample,
        epochs=args.epochs,
        shrink_windows=False,
        workers=args.threads,
        seed=args.seed,
    )
    if kind == "word2vec":
        model = Word2Vec(sentences, **common)
    else:
        model = FastText(sentences, bucket=args.buckets, min_n=3, max_n=6, **common)
    wv = model.wv
    counts = np.array([wv.get_vecattr(w, "count") for w in wv.index_to_key], dtype=np.int64)
    subwords = None
    if kind == "fasttext":
        subwords = Subwords(as_stored(wv.vectors_ngrams), wv.min_n, wv.max_n)
    return SkillVectors(list(wv.index_to_key), as_stored(wv.vectors), counts, subwords)


def as_stored(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float16).astype(np.float32)


def vocabulary(sentences, min_count: int) -> tuple[list[str], np.ndarray]:
    from collections import Counter

    counts = Counter(t for s in sentences for t in s)
    kept = sorted((w for w, c in counts.items() if c >= min_count), key=lambda w: (-counts[w], w))
    return kept, np.array([counts[w] for w in kept], dtype=np.int64)


def fit_glove(sentences, args) -> SkillVectors:
    words, counts = vocabulary(sentences, args.min_count)
    rows, cols, x = glove.cooccurrence(sentences, {w: i for i, w in enumerate(words)})
    cfg = glove.GloveConfig(dim=args.glove_dim, epochs=args.glove_epochs, seed=args.seed)
    bar = tqdm(total=cfg.epochs, desc="glove", leave=False)
    vectors, _ = glove.train(rows, cols, x, len(words), cfg, lambda e, loss: (bar.update(), bar.set_postfix(loss=loss)))
    bar.close()
    return SkillVectors(words, as_stored(vectors), counts)


def cooccurrence_baseline(sentences, min_count: int) -> dict:
    """hit@k when neighbours are ranked by how often they share a posting with the query (no learning)."""
    from scipy.sparse import csr_matrix

    words, _ = vocabulary(sentences, min_count)
    index = {w: i for i, w in enumerate(words)}
    rows, cols, x = glove.cooccurrence(sentences, index)
    matrix = csr_matrix((x, (rows, cols)), shape=(len(words), len(words)))
    pairs = evaluate.load_pairs()
    ranks = []
    for a, b in [(a, b) for _, a, b in pairs] + [(b, a) for _, a, b in pairs]:
        ia, ib = index.get(corpus.phrase_token(a)), index.get(corpus.phrase_token(b))
        if ia is None or ib is None:
            ranks.append(None)
            continue
        row = matrix.getrow(ia).toarray()[0]
        row[ia] = -1
        ranks.append(1 + int((row > row[ib]).sum()))
    return {f"hit@{k}": round(sum(r is not None and r <= k for r in ranks) / len(ranks), 4) for k in (10, 50)}


def choose_tokenisation(postings, args) -> tuple[str, dict, SkillVectors | None]:
    """Train word2vec under each tokenisation and keep the one with the best hit@10 (ties: hit@50).

    Returns the choice, every tokenisation's scores, and the chosen word2vec model (reused, not retrained).
    """
    if args.tokenisation != "measure":
        return args.tokenisation, measured_before(args.tokenisation), None
    scores, fitted = {}, {}
    for tok in corpus.TOKENISATIONS:
        fitted[tok] = fit("word2vec", corpus.sentences(postings, tok), args)
        scores[tok] = evaluate.evaluate(fitted[tok])
        print(f"tokenisation {tok}: {scores[tok]}")
    best = max(scores, key=lambda t: (scores[t]["hit@10"], scores[t]["hit@50"]))
    return best, scores, fitted[best]


def measured_before(tokenisation: str) -> dict:
    """A single-model run reuses the tokenisation measurement of the committed word2vec card, when it chose the same."""
    from gallery.registry import PRETRAINED, read_json

    try:
        card = read_json(PRETRAINED / "skills-word2vec" / "card.json")
    except (OSError, ValueError):
        return {}
    corpus_card = card.get("corpus", {})
    if corpus_card.get("tokenisation") != tokenisation or card.get("smoke"):
        return {}
    return {**corpus_card.get("tokenisation_measured", {}), "measured_by": card["train_command"]}


def ppmi_reference(sentences, min_count: int) -> dict:
    """hit@k of sparse PPMI rows compared by cosine (Levy & Goldberg's strong count-based reference)."""
    from scipy.sparse import csr_matrix

    words, _ = vocabulary(sentences, min_count)
    rows, cols, x = glove.cooccurrence(sentences, {w: i for i, w in enumerate(words)})
    row_sum = np.bincount(rows, weights=x, minlength=len(words))
    context = np.bincount(cols, weights=x, minlength=len(words)) ** 0.75  # context smoothing
    pmi = np.log(x * context.sum() / (row_sum[rows] * context[cols]))
    keep = pmi > 0
    matrix = csr_matrix((pmi[keep], (rows[keep], cols[keep])), shape=(len(words), len(words))).toarray()
    metrics = evaluate.evaluate(SkillVectors(words, matrix.astype(np.float32)))
    return {k: metrics[k] for k in ("hit@10", "hit@50")}


def showcase(sv: SkillVectors) -> dict:
    out = {}
    for skill in SHOWCASE:
        if skill in sv:
            query = sv.lookup(skill)
            scores = sv.vectors @ query.vector
            top = [i for i in np.argsort(-scores)[:9] if sv.words[i] != query.token][:8]
            out[skill] = [sv.words[i] for i in top]
    return out


def card_for(kind, sv, args, path, postings, tokenisation, seconds, baseline) -> dict:
    metrics = evaluate.evaluate(sv)
    counts, ppmi = baseline["cooccurrence_counts"], baseline["ppmi_rows"]
    parameters = sv.vectors.size + (sv.subwords.buckets.size if sv.subwords is not None else 0)
    described = {
        "word2vec": f"word2vec skip-gram, {sv.dim}-d, negative sampling {args.negative}",
        "fasttext": f"fastText skip-gram, {sv.dim}-d, n-grams 3-6 in {args.buckets:,} buckets",
        "glove": f"GloVe, {sv.dim}-d, AdaGrad on weighted log co-occurrences, {args.glove_epochs} epochs",
    }[kind]
    return {
        "artifact": f"skills-{kind}",
        "task": "embeddings of job skills: neighbours are skills asked for together",
        "model": described,
        "parameters": int(parameters),
        "train_command": args.command,
        "hardware": training.hardware(torch.device("cpu")) + f", {args.threads} gensim workers",
        "train_seconds": round(seconds, 1),
        "data": {
            **LICENCE,
            "files": training.data_files([path]),
            "postings": len(postings),
            "contact_cells_dropped": corpus.count_dropped_contacts(path),
            "cleaning": "HTML entities unescaped, contact details dropped, lower-cased, spaces squeezed, "
            "skills deduplicated per posting, repeated postings dropped",
        },
        "corpus": {
            "tokenisation": tokenisation["choice"],
            "tokenisation_measured": tokenisation["scores"],
            "min_count": args.min_count,
            "vocabulary": len(sv.words),
            "window": args.window,
        },
        "metrics": metrics,
        "baselines": baseline,
        "evaluation": "hit@k over both directions of 128 hand-written related-skill pairs "
        "(gallery/skills/related_skills.tsv); a skill without a vector is a miss",
        "samples": showcase(sv),
        "summary": {
            "quality": f"hit@10 {metrics['hit@10']}, hit@50 {metrics['hit@50']} on {metrics['pairs']} related-skill "
            f"pairs; {metrics['in_vocabulary']:.0%} of pairs in vocabulary",
            "baseline": f"co-occurrence counts: hit@10 {counts['hit@10']}, hit@50 {counts['hit@50']}; "
            f"PPMI rows (reference): hit@10 {ppmi['hit@10']}, hit@50 {ppmi['hit@50']}",
        },
        "headline": f"Related skills found in the top 10: {metrics['hit@10']:.0%} "
        f"(co-occurrence counts {counts['hit@10']:.0%})",
        "smoke": args.smoke,
    }


def save(kind: str, sv: SkillVectors, card: dict, out: Path) -> None:
    tensors = {"vectors": torch.from_numpy(sv.vectors), "counts": torch.from_numpy(sv.counts)}
    config = {"kind": kind, "dim": sv.dim, "tokenisation": card["corpus"]["tokenisation"], "words": sv.words}
    if sv.subwords is not None:
        tensors["buckets"] = torch.from_numpy(sv.subwords.buckets)
        config.update(min_n=sv.subwords.min_n, max_n=sv.subwords.max_n, buckets=len(sv.subwords.buckets))
    save_artifact(out, tensors, config, card, training.card_readme(card))


def main(argv=None):
    args = parse_args(argv)
    training.seed_everything(args.seed)
    np.random.seed(args.seed)
    torch.set_num_threads(args.threads)
    path = data_path(args)
    postings = corpus.read_postings(path)
    if args.smoke:
        postings = postings[:400]
    print(f"{len(postings)} distinct postings")
    start = time.time()
    choice, scores, word2vec = choose_tokenisation(postings, args)
    measuring = time.time() - start
    sentences = corpus.sentences(postings, choice)
    baseline = {"cooccurrence_counts": cooccurrence_baseline(sentences, args.min_count)}
    baseline["ppmi_rows"] = ppmi_reference(sentences, args.min_count)
    print(f"tokenisation {choice}; baselines {baseline}")
    for kind in MODELS if args.model == "all" else (args.model,):
        start = time.time()
        if kind == "word2vec" and word2vec is not None:
            sv, seconds = word2vec, measuring / len(corpus.TOKENISATIONS)
        else:
            sv = fit(kind, sentences, args)
            seconds = time.time() - start
        tok = {"choice": choice, "scores": scores}
        card = card_for(kind, sv, args, path, postings, tok, seconds, baseline)
        out = args.out / f"skills-{kind}" if args.out and args.model == "all" else args.out
        out = out or training.artifact_paths(argparse.Namespace(**{**vars(args), "model": kind}), "skills")[0]
        save(kind, sv, card, out)
        print(f"wrote {out}: {card['metrics']} in {seconds:.0f} s")


if __name__ == "__main__":
    main()
