"""The gallery's catalogue: one entry per demo, read by the landing page (no heavy imports)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gallery import registry


@dataclass(frozen=True)
class Demo:
    title: str
    line: str
    page: str | None  # None: not built yet
    artifact: str | None = None
    icon: str = ":material/science:"  # the sidebar's and the Open link's: Streamlit ships this font
    emoji: str = "🧪"  # the browser tab's (page_icon): a Material one there is fetched from Google's font server
    picture: str = ""  # what the artifact's thumbnail.png shows (its alt text), "" where it has none


DEMOS = (
    Demo(
        "Indian name generator",
        "A GRU writes new Indian given names, by gender, one letter at a time.",
        "pages/1_Names.py",
        "names-gru",
        ":material/badge:",
        emoji="📛",
    ),
    Demo(
        "Essay generator",
        "A character-level LSTM streams prose in Paul Graham's voice; look inside it, cell by cell.",
        "pages/2_Essays.py",
        "essays-lstm",
        ":material/edit_note:",
        emoji="📝",
    ),
    Demo(
        "Skill neighbours",
        "Type a job skill; word2vec, fastText and GloVe, trained on 50,000 postings, find its neighbours.",
        "pages/3_Skill_Neighbors.py",
        "skills-glove",
        ":material/hub:",
        emoji="🔗",
        picture="The skill python and its nearest GloVe neighbours, laid out by PCA",
    ),
    Demo(
        "Embedding maps",
        "PCA, t-SNE and UMAP maps of skills, digits, résumés and VAE codes, each with a number for how faithful it is.",
        "pages/10_Embedding_Maps.py",
        "maps-skills-word2vec",
        ":material/scatter_plot:",
        emoji="🗺️",
        picture="A UMAP map of 3,000 job skills (word2vec), coloured by cluster",
    ),
    Demo(
        "VAE latent explorer",
        "Make photo-like faces and digits by sliding through a VAE's latent space; age or change a face you upload.",
        "pages/4_VAE_Explorer.py",
        "vae-faces-sharp",
        ":material/tune:",
        emoji="🎛️",
        picture="Six faces the sharp decoder made from new random codes",
    ),
    Demo(
        "Disentangling factors",
        "Move a sprite's true factors and see which latent answers: VAE, β-VAE, FactorVAE and β-TCVAE, scored by MIG.",
        "pages/13_Disentangling.py",
        "sprites-beta-tcvae",
        ":material/category:",
        emoji="🧩",
    ),
    Demo(
        "Résumé classifier",
        "Eight classifiers guess a résumé's job; an honest leaderboard shows the duplicate-row leak.",
        "pages/8_Resume_Classifier.py",
        "text-classifiers",
        ":material/description:",
        emoji="📄",
        picture="Each classifier's accuracy on a leaky split and with duplicate résumés kept apart",
    ),
    Demo(
        "NLP basics",
        "Tokens, stop words, bag of words, TF-IDF and cosine similarity on your own sentences.",
        "pages/9_NLP_Basics.py",
        None,
        ":material/text_fields:",
        emoji="🔤",
    ),
    Demo(
        "Attention heatmaps",
        "Watch attention move across a German sentence as it is translated, from one head to every head.",
        "pages/11_Translate.py",
        "translate-transformer",
        ":material/translate:",
        emoji="🌍",
        picture="A cross-attention heatmap: English words against the German words they were written from",
    ),
    Demo(
        "Why attention",
        "Five translators from the context-vector bottleneck to the Transformer: who breaks on long sentences?",
        "pages/12_Why_Attention.py",
        "translate-seq2seq",
        ":material/timeline:",
        emoji="🔭",
        picture="Test BLEU against German sentence length: the two models without attention dashed",
    ),
    Demo(
        "Digit recognizer",
        "Draw a digit and watch logistic regression, an MLP and a CNN disagree.",
        "pages/5_Digit_Recognizer.py",
        "digits-cnn",
        ":material/draw:",
        emoji="✏️",
        picture="A drawn 7 and the CNN's probability for each digit",
    ),
    Demo(
        "Digit clustering",
        "From KMeans to DEC and N2D: 70,000 digits sorted into ten groups without labels, rung by rung.",
        "pages/6_Clustering.py",
        "digits-n2d",
        ":material/bubble_chart:",
        emoji="🫧",
        picture="Test digits mapped in 2-D by t-SNE of their N2D embedding, coloured by cluster",
    ),
    Demo(
        "Gradient descent",
        "Fit a line by numpy, autograd and torch.optim; push the learning rate until it diverges.",
        "pages/7_Gradient_Descent.py",
        None,
        ":material/trending_down:",
        emoji="📉",
    ),
)


# The sidebar's sections (st.navigation in Home.py); a page not built yet is simply left out.
SECTIONS = {
    "Generate": ("pages/1_Names.py", "pages/2_Essays.py", "pages/4_VAE_Explorer.py"),
    "Embeddings": ("pages/3_Skill_Neighbors.py", "pages/10_Embedding_Maps.py"),
    "Look inside": ("pages/11_Translate.py", "pages/12_Why_Attention.py", "pages/13_Disentangling.py"),
    "Classic lab": (
        "pages/5_Digit_Recognizer.py",
        "pages/6_Clustering.py",
        "pages/7_Gradient_Descent.py",
        "pages/8_Resume_Classifier.py",
        "pages/9_NLP_Basics.py",
    ),
}


def url_path(page: str) -> str:
    """``pages/3_Skill_Neighbors.py`` -> ``Skill_Neighbors``: the URL each page has always had."""
    return page.rsplit("/", 1)[-1].removesuffix(".py").split("_", 1)[1]


def card_of(demo: Demo) -> dict | None:
    """The artifact's card.json, or None when the artifact is missing or unreadable."""
    if not demo.artifact:
        return None
    try:
        return registry.read_json(registry.PRETRAINED / demo.artifact / "card.json")
    except (OSError, ValueError):
        return None


def thumbnail_of(demo: Demo) -> Path | None:
    """The picture rendered into the demo's artifact folder (python -m tools.thumbnails), or None without one."""
    if not demo.artifact:
        return None
    path = registry.PRETRAINED / demo.artifact / registry.THUMBNAIL_FILE
    return path if path.is_file() else None


def headline_of(card: dict) -> str | None:
    """One measured number against its baseline, from a card."""
    if "headline" in card:  # newer cards carry their own one-line headline
        return card["headline"]
    m = card.get("metrics", {})
    if "test_nll_per_char" in m:
        return f"Held-out test: {m['test_nll_per_char']:.2f} nats/letter (bigram {m['bigram_test_nll_per_char']:.2f})"
    if "validation_nats_per_char" in m:
        ngram = next(((k, v) for k, v in card["baselines"].items() if k.startswith("ngram")), None)
        versus = f" ({ngram[0]} {ngram[1]['nats_per_char']:.2f})" if ngram else ""
        return f"Held-out essays: {m['validation_nats_per_char']:.2f} nats/char{versus}"
    return None


def short_list(items: list[str], chars: int = 48) -> str:
    """Up to six items, fewer when they are long, so that a card's sample fits in two lines."""
    shown = items[:1]
    for item in items[1:6]:
        if len(", ".join([*shown, item])) > chars:
            break
        shown.append(item)
    return ", ".join(shown)


def sample_of(card: dict) -> str | None:
    """A short sample output taken from a card, for the landing page."""
    samples = card.get("samples")
    if not samples:
        return None
    if isinstance(samples, dict) and all(isinstance(v, list) for v in samples.values()):
        return "  \n".join(f"*{k}:* " + short_list(v) for k, v in list(samples.items())[:2])
    text = (samples.get("0.8") or next(iter(samples.values()))).replace("\n", " ").strip()
    return "\u201c\u2026" + text[:140].rsplit(" ", 1)[0] + "\u2026\u201d"  # a continuation, cut at a word
