"""Cross-validated leaderboard: every model, the same folds, fitted inside each fold's training part only.

Each fold fits its own TF-IDF vocabulary, word2vec vectors and neural vocabularies on its training résumés,
so nothing about a test résumé leaks into its model, and scores the model as it would be stored (float16).
"""

from __future__ import annotations

import numpy as np

from gallery.text import models
from gallery.text.resumes import cv_folds


def fold_metrics(y_true, y_pred) -> tuple[float, float]:
    from sklearn.metrics import accuracy_score, f1_score

    return float(accuracy_score(y_true, y_pred)), float(f1_score(y_true, y_pred, average="macro", zero_division=0))


def cross_validate(
    texts, labels, kinds, n_splits: int, n_repeats: int, seed: int, progress=None, done: dict | None = None, after=None
) -> dict:
    """{model: {"accuracy": [per fold], "macro_f1": [per fold]}} over repeated stratified k-fold.

    ``done``: scores of the folds already run (from a checkpoint); ``after(scores)`` is called after every fold.
    """
    classes = sorted(set(labels))
    y = np.array([classes.index(c) for c in labels])
    texts = list(texts)
    folds = cv_folds(y, n_splits, n_repeats, seed)
    scores = done or {k: {"accuracy": [], "macro_f1": []} for k in kinds}
    for f, (train, test) in enumerate(folds):
        if f < len(scores[kinds[0]]["accuracy"]):
            continue  # run before a --resume
        train_texts, test_texts = [texts[i] for i in train], [texts[i] for i in test]
        tfidf = models.Tfidf.fit(train_texts) if any(k.startswith("tfidf-") for k in kinds) else None
        for kind in kinds:
            model = models.new(kind).fit(train_texts, y[train], seed=seed + f, n_classes=len(classes), tfidf=tfidf)
            pred = model.rounded().predict_proba(test_texts).argmax(axis=1)
            acc, f1 = fold_metrics(y[test], pred)
            scores[kind]["accuracy"].append(acc)
            scores[kind]["macro_f1"].append(f1)
            if progress:
                progress(f, len(folds), kind, acc)
        if after:
            after(scores)
    return scores


def summarise(values: list[float]) -> dict:
    return {"mean": round(float(np.mean(values)), 4), "std": round(float(np.std(values)), 4)}
