"""Résumé classifiers that store as plain arrays (safetensors) plus JSON: no pickles anywhere.

Every model has ``fit(texts, y, seed)``, ``predict_proba(texts) -> (n, classes)``, and
``state() -> (arrays, config)`` / ``from_state(arrays, config)``. The five TF-IDF models share one
:class:`Tfidf` featuriser; the others bring their own vocabulary.

- ``tfidf-logreg`` multinomial logistic regression; ``tfidf-svc`` linear SVM (probabilities: a softmax of its
  margins, a ranking rather than calibrated odds); ``tfidf-nb`` multinomial naive Bayes; ``tfidf-sgd`` a linear
  model trained by SGD on the log loss; ``tfidf-forest`` a random forest (trees stored as flat arrays).
- ``w2v-logreg`` the mean of word2vec vectors (trained on the training résumés only), logistic regression.
- ``fasttext`` a fastText-style classifier: the mean of word and bigram embeddings, then a linear layer.
- ``cnn`` a small convolutional network over word embeddings (widths 3, 4, 5, max-pooled).
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter

import numpy as np
from scipy import sparse

from gallery.text.resumes import TOKEN_PATTERN

MODELS = (
    "tfidf-logreg",
    "tfidf-svc",
    "tfidf-nb",
    "tfidf-sgd",
    "tfidf-forest",
    "w2v-logreg",
    "fasttext",
    "cnn",
)
DESCRIPTIONS = {
    "tfidf-logreg": "TF-IDF (words and bigrams) + logistic regression",
    "tfidf-svc": "TF-IDF + linear SVM",
    "tfidf-nb": "TF-IDF + multinomial naive Bayes",
    "tfidf-sgd": "TF-IDF + SGD (log loss)",
    "tfidf-forest": "TF-IDF + random forest (300 trees)",
    "w2v-logreg": "mean word2vec vectors (trained on the training résumés) + logistic regression",
    "fasttext": "fastText-style: mean of word + bigram embeddings, linear layer (PyTorch)",
    "cnn": "CNN over word embeddings, widths 3/4/5, max-pooled (PyTorch)",
}
LINEAR = ("tfidf-logreg", "tfidf-svc", "tfidf-sgd")  # models whose decision is coefficient x TF-IDF
_TOKEN = re.compile(TOKEN_PATTERN)


def stop_words() -> frozenset:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return ENGLISH_STOP_WORDS


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens without English stop words (the same tokens the TF-IDF models see)."""
    stops = stop_words()
    return [t for t in _TOKEN.findall(text.lower()) if t not in stops]


def softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def f16(a) -> np.ndarray:
    """What a float array becomes once stored (the registry stores floats as float16)."""
    return np.asarray(a, dtype=np.float16).astype(np.float64)


# ---------------------------------------------------------------------------------------------------- TF-IDF


class Tfidf:
    """Sublinear TF-IDF over words and bigrams, l2-normalised; fitted by scikit-learn, stored as vocabulary + idf."""

    PARAMS = dict(ngram_range=(1, 2), min_df=2, max_df=0.9, sublinear_tf=True, max_features=20000)

    def __init__(self, vocabulary: list[str], idf: np.ndarray, params: dict | None = None):
        self.vocabulary, self.idf = list(vocabulary), np.asarray(idf, dtype=np.float64)
        self.params = {**self.PARAMS, **(params or {})}
        self.index = {t: i for i, t in enumerate(self.vocabulary)}

    @classmethod
    def fit(cls, texts: list[str], **params) -> Tfidf:
        from sklearn.feature_extraction.text import TfidfVectorizer

        params = {**cls.PARAMS, **params}
        if len(texts) < 10:  # tiny fixtures: keep every term
            params.update(min_df=1, max_df=1.0)
        vec = TfidfVectorizer(token_pattern=TOKEN_PATTERN, stop_words="english", dtype=np.float64, **params)
        vec.fit(texts)
        order = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
        return cls(order, vec.idf_, params)

    def counts(self, texts: list[str]) -> sparse.csr_matrix:
        from sklearn.feature_extraction.text import CountVectorizer

        vec = CountVectorizer(
            token_pattern=TOKEN_PATTERN,
            stop_words="english",
            ngram_range=tuple(self.params["ngram_range"]),
            vocabulary=self.index,
            dtype=np.float64,
        )
        return vec.transform(texts).tocsr()

    def transform(self, texts: list[str]) -> sparse.csr_matrix:
        x = self.counts(texts)
        if self.params["sublinear_tf"]:
            x.data = 1.0 + np.log(x.data)
        x = x @ sparse.diags(self.idf)
        norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        return sparse.csr_matrix(sparse.diags(1.0 / norms) @ x)

    def state(self, prefix="tfidf"):
        return {f"{prefix}.idf": self.idf}, {
            "vocabulary": self.vocabulary,
            "params": {**self.params, "ngram_range": list(self.params["ngram_range"])},
        }

    @classmethod
    def from_state(cls, arrays, config, prefix="tfidf"):
        return cls(config["vocabulary"], arrays[f"{prefix}.idf"], config["params"])


# ---------------------------------------------------------------------------------------------------- TF-IDF models


class LinearTfidf:
    """A linear model on TF-IDF: scores = X W^T + b. ``link`` turns scores into probabilities."""

    def __init__(self, kind: str, tfidf: Tfidf | None = None, coef=None, intercept=None, link="softmax"):
        self.kind, self.tfidf, self.coef, self.intercept, self.link = kind, tfidf, coef, intercept, link

    def fit(self, texts, y, seed=0, n_classes=None, tfidf=None):
        from sklearn.linear_model import LogisticRegression, SGDClassifier
        from sklearn.naive_bayes import MultinomialNB
        from sklearn.svm import LinearSVC

        self.tfidf = tfidf or Tfidf.fit(texts)
        x = self.tfidf.transform(texts)
        n_classes = n_classes or int(max(y)) + 1
        if self.kind == "tfidf-logreg":
            est, self.link = LogisticRegression(C=100.0, max_iter=5000), "softmax"
        elif self.kind == "tfidf-svc":
            est, self.link = LinearSVC(C=1.0, max_iter=5000, random_state=seed), "margins"
        elif self.kind == "tfidf-sgd":
            est = SGDClassifier(loss="log_loss", alpha=1e-4, max_iter=200, tol=1e-4, random_state=seed)
            self.link = "ovr-sigmoid"
        elif self.kind == "tfidf-nb":
            est, self.link = MultinomialNB(alpha=0.01), "softmax"
        else:
            raise ValueError(f"unknown linear model {self.kind}")
        est.fit(x, y)
        coef = est.feature_log_prob_ if self.kind == "tfidf-nb" else est.coef_
        intercept = est.class_log_prior_ if self.kind == "tfidf-nb" else est.intercept_
        # Expand to every class (a fold may miss none, but binary sklearn models return one row).
        self.coef = (
            np.zeros((n_classes, x.shape[1])) if self.kind != "tfidf-nb" else np.full((n_classes, x.shape[1]), -50.0)
        )
        self.intercept = np.full(n_classes, -50.0)
        self.coef[est.classes_] = coef
        self.intercept[est.classes_] = intercept
        return self

    def scores(self, texts) -> np.ndarray:
        return np.asarray(self.tfidf.transform(texts) @ self.coef.T) + self.intercept

    def predict_proba(self, texts) -> np.ndarray:
        s = self.scores(texts)
        if self.link == "ovr-sigmoid":
            p = 1.0 / (1.0 + np.exp(-np.clip(s, -50, 50)))
            return p / np.maximum(p.sum(axis=1, keepdims=True), 1e-12)
        return softmax(s)

    def contributions(self, text: str, cls: int) -> list[tuple[str, float]]:
        """(term, coefficient x TF-IDF) for the terms of ``text``, largest push towards class ``cls`` first."""
        x = self.tfidf.transform([text]).tocoo()
        rows = [(self.tfidf.vocabulary[j], float(self.coef[cls, j] * v)) for j, v in zip(x.col, x.data)]
        return sorted(rows, key=lambda r: -r[1])

    def state(self):
        arrays, config = self.tfidf.state()
        arrays = {**arrays, f"{self.kind}.coef": self.coef, f"{self.kind}.intercept": self.intercept}
        return arrays, {"tfidf": config, "link": self.link}

    @classmethod
    def from_state(cls, kind, arrays, config, tfidf=None):
        tfidf = tfidf or Tfidf.from_state(arrays, config["tfidf"])
        return cls(kind, tfidf, arrays[f"{kind}.coef"], arrays[f"{kind}.intercept"], config["link"])

    def rounded(self):
        return LinearTfidf(
            self.kind, Tfidf(self.tfidf.vocabulary, f16(self.tfidf.idf), self.tfidf.params),
            f16(self.coef), f16(self.intercept), self.link,
        )  # fmt: skip


class Forest:
    """A random forest on TF-IDF; its trees are stored as flat node arrays and evaluated with numpy."""

    N_TREES = 300

    def __init__(self, tfidf=None, nodes=None):
        self.tfidf, self.nodes = tfidf, nodes  # nodes: dict of flat arrays, see fit

    def fit(self, texts, y, seed=0, n_classes=None, tfidf=None):
        from sklearn.ensemble import RandomForestClassifier

        self.tfidf = tfidf or Tfidf.fit(texts)
        x = self.tfidf.transform(texts)
        n_classes = n_classes or int(max(y)) + 1
        est = RandomForestClassifier(n_estimators=self.N_TREES, random_state=seed, n_jobs=1).fit(x, y)
        left, right, feature, threshold, value, roots = [], [], [], [], [], []
        offset = 0
        for tree in est.estimators_:
            t = tree.tree_
            roots.append(offset)
            leaf = t.children_left < 0
            left.append(np.where(leaf, -1, t.children_left + offset))
            right.append(np.where(leaf, -1, t.children_right + offset))
            feature.append(np.where(leaf, 0, t.feature))
            threshold.append(t.threshold)
            v = np.zeros((t.node_count, n_classes))
            v[:, est.classes_] = t.value[:, 0, :] / t.value[:, 0, :].sum(axis=1, keepdims=True)
            value.append(v)
            offset += t.node_count
        self.nodes = {
            "left": np.concatenate(left).astype(np.int32),
            "right": np.concatenate(right).astype(np.int32),
            "feature": np.concatenate(feature).astype(np.int32),
            "threshold": np.concatenate(threshold),
            "value": np.concatenate(value),
            "roots": np.asarray(roots, dtype=np.int32),
        }
        return self

    def predict_proba(self, texts) -> np.ndarray:
        x = self.tfidf.transform(texts).toarray().astype(np.float32)
        n = self.nodes
        node = np.tile(n["roots"], (len(x), 1))  # (docs, trees)
        rows = np.arange(len(x))[:, None]
        while True:
            inner = n["left"][node] >= 0
            if not inner.any():
                break
            go_left = x[rows, n["feature"][node]] <= n["threshold"][node]
            node = np.where(inner, np.where(go_left, n["left"][node], n["right"][node]), node)
        return n["value"][node].mean(axis=1)

    def state(self):
        arrays, config = self.tfidf.state()
        return {**arrays, **{f"tfidf-forest.{k}": v for k, v in self.nodes.items()}}, {"tfidf": config}

    @classmethod
    def from_state(cls, arrays, config, tfidf=None):
        tfidf = tfidf or Tfidf.from_state(arrays, config["tfidf"])
        keys = ("left", "right", "feature", "threshold", "value", "roots")
        nodes = {k: np.asarray(arrays[f"tfidf-forest.{k}"]) for k in keys}
        for k in ("left", "right", "feature", "roots"):
            nodes[k] = nodes[k].astype(np.int64)
        return cls(tfidf, nodes)

    def rounded(self):
        nodes = {**self.nodes, "threshold": f16(self.nodes["threshold"]), "value": f16(self.nodes["value"])}
        return Forest(Tfidf(self.tfidf.vocabulary, f16(self.tfidf.idf), self.tfidf.params), nodes)


# ---------------------------------------------------------------------------------------------------- word2vec


def _stable_hash(text: str) -> int:
    """gensim seeds each word's start vector with hash(word + seed); Python's str hash changes per process."""
    return zlib.crc32(text.encode("utf-8"))


class MeanWord2Vec:
    """Mean of word2vec vectors (skip-gram, trained on the training résumés only), then logistic regression."""

    DIM, EPOCHS = 100, 30

    def __init__(self, words=None, vectors=None, mean=None, scale=None, coef=None, intercept=None):
        self.words, self.vectors = words, vectors
        self.mean, self.scale, self.coef, self.intercept = mean, scale, coef, intercept
        self.index = {w: i for i, w in enumerate(words or [])}

    def fit(self, texts, y, seed=0, n_classes=None, tfidf=None):
        from gensim.models import Word2Vec
        from sklearn.linear_model import LogisticRegression

        docs = [tokenize(t) for t in texts]
        w2v = Word2Vec(
            docs,
            vector_size=self.DIM,
            window=5,
            min_count=2 if len(texts) >= 10 else 1,
            sg=1,
            epochs=self.EPOCHS,
            workers=1,
            seed=seed,
            hashfxn=_stable_hash,
        )
        self.words = list(w2v.wv.index_to_key)
        self.vectors = f16(w2v.wv.vectors)
        self.index = {w: i for i, w in enumerate(self.words)}
        feats = self._mean(docs)
        self.mean, self.scale = feats.mean(axis=0), feats.std(axis=0) + 1e-6
        est = LogisticRegression(C=1.0, max_iter=3000).fit((feats - self.mean) / self.scale, y)
        n_classes = n_classes or int(max(y)) + 1
        self.coef = np.zeros((n_classes, self.DIM))
        self.intercept = np.full(n_classes, -50.0)
        self.coef[est.classes_], self.intercept[est.classes_] = est.coef_, est.intercept_
        return self

    def _mean(self, docs) -> np.ndarray:
        out = np.zeros((len(docs), self.vectors.shape[1]))
        for i, doc in enumerate(docs):
            ids = [self.index[w] for w in doc if w in self.index]
            if ids:
                out[i] = self.vectors[ids].mean(axis=0)
        return out

    def predict_proba(self, texts) -> np.ndarray:
        feats = (self._mean([tokenize(t) for t in texts]) - self.mean) / self.scale
        return softmax(feats @ self.coef.T + self.intercept)

    def state(self):
        names = ("vectors", "mean", "scale", "coef", "intercept")
        return {f"w2v-logreg.{k}": getattr(self, k) for k in names}, {"words": self.words, "dim": self.DIM}

    @classmethod
    def from_state(cls, arrays, config, tfidf=None):
        a = {k: np.asarray(arrays[f"w2v-logreg.{k}"], dtype=np.float64) for k in ("vectors", "mean", "scale")}
        coef, intercept = (np.asarray(arrays[f"w2v-logreg.{k}"], dtype=np.float64) for k in ("coef", "intercept"))
        return cls(config["words"], a["vectors"], a["mean"], a["scale"], coef, intercept)

    def rounded(self):
        return MeanWord2Vec(self.words, f16(self.vectors), f16(self.mean), f16(self.scale), f16(self.coef),
                            f16(self.intercept))  # fmt: skip


# ---------------------------------------------------------------------------------------------------- PyTorch


def bigrams(tokens: list[str]) -> list[str]:
    return [f"{a} {b}" for a, b in zip(tokens, tokens[1:])]


def build_vocab(docs: list[list[str]], min_docs: int) -> list[str]:
    """Terms found in at least ``min_docs`` documents, most frequent first; id 0 is padding/unknown."""
    df = Counter(t for doc in docs for t in set(doc))
    return ["<unk>", *sorted((t for t, c in df.items() if c >= min_docs), key=lambda t: (-df[t], t))]


class TorchText:
    """fastText-style bag of embeddings, or a CNN; trained with Adam for a fixed number of epochs."""

    SIZES = {
        "fasttext": dict(dim=64, epochs=60, lr=0.02, max_len=4000),
        "cnn": dict(dim=64, filters=64, widths=(3, 4, 5), epochs=30, lr=0.01, max_len=600, dropout=0.5),
    }

    def __init__(self, kind: str, vocab=None, n_classes=None, state=None, sizes=None):
        self.kind, self.vocab, self.n_classes = kind, vocab, n_classes
        self.sizes = {**self.SIZES[kind], **(sizes or {})}
        self.index = {t: i for i, t in enumerate(vocab or [])}
        self.net = self._build() if vocab else None
        if state is not None:
            import torch

            self.net.load_state_dict({k: torch.as_tensor(np.asarray(v), dtype=torch.float32) for k, v in state.items()})
            self.net.eval()

    def _build(self):
        import torch
        from torch import nn

        s, v, c = self.sizes, len(self.vocab), self.n_classes
        if self.kind == "fasttext":
            return nn.Sequential(nn.EmbeddingBag(v, s["dim"], mode="mean", padding_idx=0), nn.Linear(s["dim"], c))

        class CNN(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(v, s["dim"], padding_idx=0)
                self.convs = nn.ModuleList(nn.Conv1d(s["dim"], s["filters"], w) for w in s["widths"])
                self.drop = nn.Dropout(s["dropout"])
                self.out = nn.Linear(s["filters"] * len(s["widths"]), c)

            def forward(self, ids):  # (B, T)
                x = self.embed(ids).transpose(1, 2)  # (B, D, T)
                pooled = [torch.relu(conv(x)).amax(dim=2) for conv in self.convs]  # each (B, F)
                return self.out(self.drop(torch.cat(pooled, dim=1)))  # (B, C)

        return CNN()

    def _terms(self, text: str) -> list[str]:
        tokens = tokenize(text)
        return tokens + bigrams(tokens) if self.kind == "fasttext" else tokens

    def _batch(self, texts):
        import torch

        max_len, width = self.sizes["max_len"], max(self.sizes.get("widths", (1,)))
        ids = [[self.index.get(t, 0) for t in self._terms(x)][:max_len] for x in texts]
        if self.kind == "fasttext":
            ids = [[i for i in row if i] or [0] for row in ids]  # unknown terms are left out of the mean
        length = max(width, max(len(r) for r in ids))
        out = torch.zeros(len(ids), length, dtype=torch.long)
        for r, row in enumerate(ids):
            out[r, : len(row)] = torch.tensor(row, dtype=torch.long)
        return out

    def fit(self, texts, y, seed=0, n_classes=None, tfidf=None):
        import torch
        import torch.nn.functional as F

        torch.manual_seed(seed)
        self.n_classes = n_classes or int(max(y)) + 1
        min_docs = 2 if len(texts) >= 10 else 1
        self.vocab = build_vocab([self._terms(t) for t in texts], min_docs)
        self.index = {t: i for i, t in enumerate(self.vocab)}
        self.net = self._build()
        ids, target = self._batch(texts), torch.as_tensor(np.asarray(y), dtype=torch.long)
        opt = torch.optim.Adam(self.net.parameters(), lr=self.sizes["lr"])
        gen = torch.Generator().manual_seed(seed)
        batch = 16
        self.net.train()
        for _ in range(self.sizes["epochs"]):
            order = torch.randperm(len(texts), generator=gen)
            for start in range(0, len(texts), batch):
                rows = order[start : start + batch]
                loss = F.cross_entropy(self.net(ids[rows]), target[rows])
                opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
        self.net.eval()
        return self

    def predict_proba(self, texts) -> np.ndarray:
        import torch

        with torch.no_grad():
            return torch.softmax(self.net(self._batch(texts)), dim=1).double().numpy()

    def state(self):
        arrays = {f"{self.kind}.{k}": v.detach().numpy() for k, v in self.net.state_dict().items()}
        sizes = {k: list(v) if isinstance(v, tuple) else v for k, v in self.sizes.items()}
        return arrays, {"vocab": self.vocab, "sizes": sizes, "classes": self.n_classes}

    @classmethod
    def from_state(cls, kind, arrays, config, tfidf=None):
        prefix = f"{kind}."
        state = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        sizes = {k: tuple(v) if isinstance(v, list) else v for k, v in config["sizes"].items()}
        return cls(kind, config["vocab"], config["classes"], state, sizes)

    def rounded(self):
        arrays, config = self.state()
        return TorchText.from_state(self.kind, {k: f16(v) for k, v in arrays.items()}, config)

    def parameters(self) -> int:
        return sum(p.numel() for p in self.net.parameters())


# ---------------------------------------------------------------------------------------------------- factory


def new(kind: str):
    if kind in ("tfidf-logreg", "tfidf-svc", "tfidf-nb", "tfidf-sgd"):
        return LinearTfidf(kind)
    if kind == "tfidf-forest":
        return Forest()
    if kind == "w2v-logreg":
        return MeanWord2Vec()
    if kind in ("fasttext", "cnn"):
        return TorchText(kind)
    raise ValueError(f"unknown model {kind!r}; choose one of {', '.join(MODELS)}")


def from_state(kind: str, arrays: dict, config: dict, tfidf: Tfidf | None = None):
    if kind in ("tfidf-logreg", "tfidf-svc", "tfidf-nb", "tfidf-sgd"):
        return LinearTfidf.from_state(kind, arrays, config, tfidf)
    if kind == "tfidf-forest":
        return Forest.from_state(arrays, config, tfidf)
    if kind == "w2v-logreg":
        return MeanWord2Vec.from_state(arrays, config)
    if kind in ("fasttext", "cnn"):
        return TorchText.from_state(kind, arrays, config)
    raise ValueError(f"unknown model {kind!r}")


def n_parameters(model) -> int:
    arrays, _ = model.state()
    return int(sum(np.asarray(a).size for k, a in arrays.items() if not k.startswith("tfidf.")))


def top_categories(proba_row: np.ndarray, classes: list[str], k: int = 5) -> list[dict]:
    order = np.argsort(-proba_row, kind="stable")[:k]
    return [{"category": classes[i], "probability": round(float(proba_row[i]), 4)} for i in order]


def entropy(p: np.ndarray) -> float:
    return float(-sum(x * math.log(x) for x in p if x > 0))
