"""NLP basics on a handful of sentences: tokens, stop words, bag of words, TF-IDF, cosine similarity."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gallery.text.resumes import TOKEN_PATTERN

EXAMPLES = {
    "Job adverts": [
        "We are hiring a data scientist with Python and machine learning experience.",
        "The data engineer builds pipelines in Python, Spark and SQL.",
        "Our HR team is hiring a recruiter to manage hiring and onboarding.",
        "A civil engineer supervises site work, concrete design and safety.",
    ],
    "Two topics": [
        "The cat sat on the mat.",
        "The dog sat on the log.",
        "Cats and dogs are pets.",
        "Stocks fell as the market closed lower.",
        "The market rallied and stocks rose.",
    ],
}
MAX_SENTENCES, MAX_CHARS = 12, 2000


@dataclass
class Matrices:
    sentences: list[str]
    terms: list[str]
    counts: np.ndarray  # (sentences, terms) raw counts
    tfidf: np.ndarray  # (sentences, terms) l2-normalised TF-IDF
    idf: np.ndarray  # (terms,)
    dropped: dict  # term -> why it was left out (stop word, max_df, min_df, max_features)


def split_sentences(text: str) -> list[str]:
    """One sentence per non-empty line; raises ValueError with a message for the user."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) < 2:
        raise ValueError("Give at least two sentences, one per line.")
    if len(lines) > MAX_SENTENCES:
        raise ValueError(f"Give at most {MAX_SENTENCES} sentences ({len(lines)} given).")
    long = [i + 1 for i, line in enumerate(lines) if len(line) > MAX_CHARS]
    if long:
        raise ValueError(f"Sentence {long[0]} is longer than {MAX_CHARS} characters.")
    return lines


def tokens(sentence: str, lowercase: bool = True) -> list[dict]:
    """Every token of a sentence and whether it is an English stop word."""
    import re

    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    text = sentence.lower() if lowercase else sentence
    return [{"token": t, "stop_word": t.lower() in ENGLISH_STOP_WORDS} for t in re.findall(TOKEN_PATTERN, text)]


def matrices(
    sentences: list[str],
    stop_words: bool = True,
    ngram_max: int = 1,
    min_df: int = 1,
    max_df: float = 1.0,
    max_features: int | None = None,
) -> Matrices:
    """Bag-of-words counts and TF-IDF (scikit-learn's smooth idf, l2 rows) with the usual vocabulary controls."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, TfidfTransformer

    if min_df > len(sentences):
        raise ValueError(f"min_df = {min_df} is more than the {len(sentences)} sentences: no term can qualify.")
    params = dict(token_pattern=TOKEN_PATTERN, ngram_range=(1, ngram_max), stop_words="english" if stop_words else None)
    vec = CountVectorizer(**params, min_df=min_df, max_df=max_df, max_features=max_features)
    try:
        counts = vec.fit_transform(sentences)
    except ValueError as err:  # every term pruned
        raise ValueError(
            f"No terms are left with these settings ({err}). Loosen min_df, max_df or stop words."
        ) from err
    terms = list(vec.get_feature_names_out())
    everything = set(
        CountVectorizer(token_pattern=TOKEN_PATTERN, ngram_range=(1, ngram_max)).fit(sentences).vocabulary_
    )
    dropped = {}
    for term in sorted(everything - set(terms)):
        if stop_words and any(w in ENGLISH_STOP_WORDS for w in term.split()):
            dropped[term] = "stop word"
        else:
            dropped[term] = "min_df / max_df / max_features"
    tf = TfidfTransformer().fit(counts)
    return Matrices(sentences, terms, counts.toarray(), tf.transform(counts).toarray(), tf.idf_, dropped)


def cosine(m: np.ndarray) -> np.ndarray:
    """Cosine similarity between rows; an all-zero row is similar to nothing (0), itself included."""
    norms = np.linalg.norm(m, axis=1)
    safe = np.where(norms == 0, 1.0, norms)
    unit = m / safe[:, None]
    return unit @ unit.T


def top_terms(mats: Matrices, row: int, k: int = 5) -> list[tuple[str, float]]:
    weights = mats.tfidf[row]
    order = [i for i in np.argsort(-weights, kind="stable")[:k] if weights[i] > 0]
    return [(mats.terms[i], float(weights[i])) for i in order]
