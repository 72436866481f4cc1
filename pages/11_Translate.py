"""Attention heatmaps: translate German to English and see where the model looked for each word it wrote."""

import html

import numpy as np
import plotly.express as px
import streamlit as st

from gallery import ui
from gallery.translate import translator

ui.page_config("Attention heatmaps", ":material/translate:")
st.title("Attention heatmaps")
st.caption(
    "Two models trained on 29,000 German-English image captions (Multi30k) translate your sentence; the heatmaps show "
    "which German words each English word was written from."
)

MODEL_NAMES = {"transformer": "Transformer (3+3 layers, 8 heads)", "attention": "GRU with additive attention"}
EXAMPLES = [
    "Ein Mann fährt mit dem Fahrrad über eine Brücke.",
    "Zwei Kinder spielen im Sand am Strand.",
    "Eine Frau in einem roten Kleid singt auf einer Bühne.",
    "Ein schwarzer Hund springt über einen Baumstamm im Wald.",
    "Eine Gruppe von Menschen wartet an einer Bushaltestelle.",
]
MAX_INPUT = 600


@st.cache_resource(show_spinner="Loading the translation model ...")
def load(model: str):
    return translator.load(model)


@st.cache_data(max_entries=200, show_spinner=False)
def run(model: str, text: str, beam: int):
    """Translation and every attention map behind it (cached: changing a layer or head costs nothing)."""
    tr = load(model)
    result = translator.translate(tr, text, beam=beam)
    return result, translator.attention(tr, result)


def use_example():
    st.session_state.source = st.session_state.example


left, right = st.columns([2, 1])
with right:
    model_key = st.radio("Model", list(MODEL_NAMES), format_func=MODEL_NAMES.get, key="model")
    beam = st.slider("Beam size (1 = greedy)", 1, 10, 5, key="beam", help="Keep this many candidate translations.")
    show_pieces = st.toggle("Show subword pieces", False, key="pieces", help="Off: pieces merged into whole words.")
tr = ui.load_or_stop(load, model_key)
examples = EXAMPLES + [e["german"] for e in tr.card.get("examples", [])]
with left:
    st.selectbox("Try an example", examples, key="example", on_change=use_example)
    st.session_state.setdefault("source", examples[0])
    text = st.text_area("German sentence", key="source", max_chars=MAX_INPUT, height=80)

try:
    result, maps = run(model_key, text, beam)
except ValueError as err:
    st.warning(str(err))
    st.stop()
for note in result.notes:
    st.info(note)
english = result.text[:1].upper() + result.text[1:]
st.subheader(english or "(no translation)", anchor=False)
st.caption(f"{MODEL_NAMES[model_key]}, {'greedy' if beam == 1 else f'beam search with {beam} beams'}.")

if show_pieces:
    src_labels, src_groups = translator.tokens(tr, result.src_ids), [[i] for i in range(len(result.src_ids))]
    tgt_labels, tgt_groups = translator.tokens(tr, result.out_ids), [[i] for i in range(len(result.out_ids))]
else:
    src_labels, src_groups = translator.words(tr, result.src_ids)
    tgt_labels, tgt_groups = translator.words(tr, result.out_ids)


READABLE = {"</s>": "[end]", "<unk>": "[unknown]", "<s>": "[start]"}  # Plotly reads "</s>" as markup


def unique(labels: list[str]) -> list[str]:
    """Plotly merges equal axis labels; number repeated ones (the 2nd 'a' becomes 'a (2)')."""
    seen: dict[str, int] = {}
    out = []
    for label in (READABLE.get(x, x) for x in labels):
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def merged(weights: np.ndarray, rows, columns) -> np.ndarray:
    return weights if show_pieces else translator.word_attention(weights, rows, columns)


def heatmap(weights: np.ndarray, y: list[str], x: list[str], title: str = "", height: int | None = None):
    fig = px.imshow(
        weights,
        x=unique(x),
        y=unique(y),
        zmin=0,
        zmax=1,
        color_continuous_scale="Blues",
        labels={"x": "German (read)", "y": "English (written)", "color": "weight"},
        aspect="auto",
        height=height or max(320, 34 * len(y) + 140),
        title=title,
    )
    fig.update_xaxes(side="top", tickangle=-45)
    return fig


def highlighted(words: list[str], weights: np.ndarray) -> str:
    spans = [
        f'<span title="{w:.2f}" style="background: rgba(31,119,180,{min(1.0, float(w)):.2f}); padding: 2px 4px; '
        f'border-radius: 4px; margin: 1px">{html.escape(word)}</span>'
        for word, w in zip(words, weights)
    ]
    return '<div style="line-height: 2.2; font-size: 1.1rem">' + " ".join(spans) + "</div>"


cross = maps["cross"]  # (layers, heads, T, S) over tokens
layers, heads = cross.shape[:2]
if model_key == "transformer":
    c1, c2 = st.columns(2)
    layer = c1.selectbox("Layer", range(1, layers + 1), index=layers - 1, key="layer") - 1
    head_choice = c2.selectbox("Head", ["mean of all heads", *range(1, heads + 1)], key="head")
    chosen = cross[layer].mean(0) if head_choice == "mean of all heads" else cross[layer, head_choice - 1]
    label = f"layer {layer + 1}, {head_choice if isinstance(head_choice, str) else f'head {head_choice}'}"
else:
    chosen, label = cross[0, 0], "additive attention"
words_cross = merged(chosen, tgt_groups, src_groups)  # (T words, S words)

tabs = ["Cross-attention", "Follow one word"]
if model_key == "transformer":
    tabs += ["All heads of a layer", "Encoder self-attention", "Decoder self-attention"]
tab = st.tabs(tabs)
with tab[0]:
    st.caption(f"Each row is an English word; its cells show how much it drew on each German word ({label}).")
    st.plotly_chart(heatmap(words_cross, tgt_labels, src_labels), width="stretch")
with tab[1]:
    pick = st.select_slider("Written word", options=unique(tgt_labels), key="follow")
    row = unique(tgt_labels).index(pick)
    st.markdown(f"While writing **{html.escape(pick)}**, the model attended to:")
    st.html(highlighted([READABLE.get(x, x) for x in src_labels], words_cross[row]))
if model_key == "transformer":
    with tab[2]:
        grid = np.stack([merged(cross[layer, h], tgt_groups, src_groups) for h in range(heads)])  # (h, T, S)
        fig = px.imshow(
            grid,
            facet_col=0,
            facet_col_wrap=4,
            x=unique(src_labels),
            y=unique(tgt_labels),
            zmin=0,
            zmax=1,
            color_continuous_scale="Blues",
            aspect="auto",
            height=2 * max(260, 26 * len(tgt_labels) + 80),
        )
        fig.for_each_annotation(lambda a: a.update(text=f"head {int(a.text.split('=')[-1]) + 1}"))
        st.caption(
            f"Cross-attention of every head in layer {layer + 1}: heads specialise (some align, some look ahead)."
        )
        st.plotly_chart(fig, width="stretch")
    with tab[3]:
        enc = merged(maps["encoder"][layer].mean(0), src_groups, src_groups)
        st.caption(f"How German words read each other in encoder layer {layer + 1} (mean of heads).")
        fig = heatmap(enc, src_labels, src_labels)
        fig.update_layout(yaxis_title="German (reading)")
        st.plotly_chart(fig, width="stretch")
    with tab[4]:
        dec = merged(maps["decoder"][layer].mean(0), tgt_groups, tgt_groups)
        st.caption(
            f"How each English word looks back at the words written before it (decoder layer {layer + 1}, mean of "
            "heads); the upper triangle is empty because the future is masked."
        )
        fig = heatmap(dec, tgt_labels, tgt_labels)
        fig.update_layout(xaxis_title="English (earlier)")
        st.plotly_chart(fig, width="stretch")

with st.expander("How it works"):
    st.markdown(
        r"""
**Subword pieces.** Both models read and write pieces from one 8,000-piece vocabulary shared by German and
English (byte-pair encoding learned on the training captions): frequent words are one piece, rare ones are split
(`anstarrt` → `an` `st` `ar` `rt`). The heatmaps merge pieces back into words: a German word receives the
**sum** of what its pieces received, and an English word shows the **average** of its pieces' rows, so every row
still sums to one. The toggle shows the raw pieces. Everything is lowercased, as in training.

**GRU with additive attention** (Bahdanau et al., 2015). A bidirectional GRU reads the German sentence into one
vector per piece, $h_j$. The decoder writes one piece at a time; before each, it scores every source vector with
$e_{ij} = v^\top \tanh(W_s s_{i-1} + W_h h_j)$, turns the scores into weights $a_{ij} = \mathrm{softmax}_j(e_{ij})$
(one row of the heatmap) and reads the weighted average $\sum_j a_{ij} h_j$. Padding gets exactly zero weight.

**Transformer** (Vaswani et al., 2017). No recurrence: every layer lets each position look at all others with
$\mathrm{softmax}(QK^\top/\sqrt{d})V$, in 8 heads at once. The encoder's self-attention mixes German words with each
other, the decoder's self-attention looks back at the English written so far (never ahead), and the
cross-attention, shown first, links each English piece to the German ones. Heads of the last layer often align
words; others track position or punctuation.

**Decoding.** Greedy takes the likeliest piece at each step; beam search keeps the best few partial translations
and picks the finished one with the best score divided by a length penalty $((5 + |y|)/6)^\alpha$. The heatmaps are
the weights the model computes for the translation it chose.
"""
    )

with st.expander("How it was trained"):
    card = tr.card
    test = card["metrics"]["test_2016_flickr"]
    beam_key = next(k for k in test if k.startswith("beam"))
    retrieval, published = card["baselines"]["retrieval"], card["baselines"]["published"]
    ui.training_details(
        card,
        [
            ("test BLEU, beam", test[beam_key]["bleu"], f"{retrieval['bleu']} (nearest training sentence)"),
            ("test BLEU, greedy", test["greedy"]["bleu"], f"{published['bleu']} (published, {published['source']})"),
            ("test chrF, beam", test[beam_key]["chrf"], retrieval["chrf"]),
            ("test perplexity per piece", test["perplexity"], f"{published['perplexity']} per word (published)"),
        ],
        ("val_perplexity",),
        y_label="validation perplexity",
    )
    st.caption(
        f"BLEU and chrF by sacreBLEU on lowercased, detokenised text ({test['greedy']['bleu_signature']}); "
        "the published numbers were measured on spaCy-tokenised words, which reads 0.5-2 BLEU higher. "
        f"Weights: {card['decoding']['weights']}. Length penalty α = {card['decoding']['length_penalty']}, chosen on "
        "the validation set."
    )
