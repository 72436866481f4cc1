"""Attention heatmaps: translate German to English and see where the model looked for each word it wrote."""

import html

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from gallery import ui
from gallery.translate import translator

ui.page_config("Attention heatmaps", "🌍")
st.title("Attention heatmaps")
st.caption(
    "Three models trained on 29,000 German-English image captions (Multi30k) translate your sentence; the heatmaps "
    "show which German words each English word was written from."
)

MODEL_NAMES = {
    "transformer": "Transformer (3+3 layers, 8 heads)",
    "convs2s": "ConvS2S (attention in every decoder layer)",
    "attention": "GRU with additive attention",
}
EXAMPLES = [
    "Ein Mann fährt mit dem Fahrrad über eine Brücke.",
    "Zwei Kinder spielen im Sand am Strand.",
    "Eine Frau in einem roten Kleid singt auf einer Bühne.",
    "Ein schwarzer Hund springt über einen Baumstamm im Wald.",
    "Eine Gruppe von Menschen wartet an einer Bushaltestelle.",
]
MAX_INPUT = 600


@st.cache_resource(max_entries=len(MODEL_NAMES), show_spinner="Loading the translation model ...")
def load(model: str):
    tr = translator.load(model)
    ui.limit_threads(force=True)  # translator.load sets one thread for its command line: the server's setting
    return tr


@st.cache_data(max_entries=200, show_spinner=False)
def run(model: str, text: str, beam: int):
    """Translation and every attention map behind it (cached: changing a layer or head costs nothing)."""
    tr = load(model)
    result = translator.translate(tr, text, beam=beam)
    return result, translator.attention(tr, result)


def use_example():
    st.session_state.source = st.session_state.example


READABLE = {"</s>": "[end]", "<unk>": "[unknown]", "<s>": "[start]"}  # Plotly reads "</s>" as markup


def unique(labels: list[str]) -> list[str]:
    """Plotly merges equal axis labels; number repeated ones (the 2nd 'a' becomes 'a (2)')."""
    seen: dict[str, int] = {}
    out = []
    for label in (READABLE.get(x, x) for x in labels):
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 else f"{label} ({seen[label]})")
    return out


def heatmap(
    weights: np.ndarray,
    y: list[str],
    x: list[str],
    x_title: str = "German (read)",
    y_title: str = "English (written)",
    height: int | None = None,
) -> go.Figure:
    """Attention weights, a row per word written; graph objects (Plotly Express's imshow costs 20 ms more)."""
    cells = go.Heatmap(
        z=weights,
        x=unique(x),
        y=unique(y),
        zmin=0,
        zmax=1,
        colorscale="Blues",
        colorbar={"title": {"text": "weight"}},
        hovertemplate=f"{x_title}: %{{x}}<br>{y_title}: %{{y}}<br>weight: %{{z:.2f}}<extra></extra>",
    )
    layout = dict(
        height=height or max(320, 34 * len(y) + 140),
        xaxis={"title": {"text": x_title}, "side": "top", "tickangle": -45, "type": "category"},
        yaxis={"title": {"text": y_title}, "autorange": "reversed", "type": "category"},
    )
    return go.Figure(cells, layout=layout)


def heads_grid(grid: np.ndarray, x: list[str], y: list[str], columns: int = 4, label: str = "head") -> go.Figure:
    """One small heatmap per head (or layer), ``columns`` to a row, on one colour scale."""
    heads = len(grid)
    rows = -(-heads // columns)
    gap_x, gap_y = 0.03, 0.12
    w, h = (1 - gap_x * (columns - 1)) / columns, (1 - gap_y * (rows - 1)) / rows
    traces, layout, titles = [], {}, []
    for k in range(heads):
        r, c = divmod(k, columns)
        n = "" if k == 0 else str(k + 1)
        x0, y1 = c * (w + gap_x), 1 - r * (h + gap_y)
        traces.append(
            go.Heatmap(z=grid[k], x=unique(x), y=unique(y), coloraxis="coloraxis", xaxis=f"x{n}", yaxis=f"y{n}")
        )
        layout[f"xaxis{n}"] = dict(
            domain=[round(x0, 4), round(min(1.0, x0 + w), 4)], anchor=f"y{n}", type="category", tickangle=-45
        )
        layout[f"yaxis{n}"] = dict(
            domain=[round(max(0.0, y1 - h), 4), round(y1, 4)],
            anchor=f"x{n}",
            type="category",
            autorange="reversed",
            showticklabels=c == 0,
        )
        titles.append(
            dict(
                text=f"{label} {k + 1}",
                x=x0 + w / 2,
                y=y1,
                xref="paper",
                yref="paper",
                showarrow=False,
                yanchor="bottom",
            )
        )
    layout |= dict(
        coloraxis={"colorscale": "Blues", "cmin": 0, "cmax": 1},
        annotations=titles,
        height=rows * max(260, 26 * len(y) + 80),
        margin={"t": 30},
    )
    return go.Figure(traces, layout=layout)


def highlighted(words: list[str], weights: np.ndarray) -> str:
    spans = [
        f'<span title="{w:.2f}" style="background: rgba(31,119,180,{min(1.0, float(w)):.2f}); padding: 2px 4px; '
        f'border-radius: 4px; margin: 1px">{html.escape(word)}</span>'
        for word, w in zip(words, weights)
    ]
    return '<div style="line-height: 2.2; font-size: 1.1rem">' + " ".join(spans) + "</div>"


@st.fragment(key="translate")
def translation() -> None:
    """The sentence, the controls, the translation and its heatmaps: a change reruns this part only."""
    left, right = st.columns([2, 1])
    asked = st.query_params.to_dict()  # "Why attention" links here with ?model=...&text=...: applied once per link
    if asked and asked != st.session_state.get("translate_asked"):
        st.session_state.translate_asked = asked
        if asked.get("model") in MODEL_NAMES:
            st.session_state.model = asked["model"]
        if asked.get("text", "").strip():
            st.session_state.source = asked["text"][:MAX_INPUT]
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
        return
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

    def merged(weights: np.ndarray, rows, columns) -> np.ndarray:
        return weights if show_pieces else translator.word_attention(weights, rows, columns)

    cross = maps["cross"]  # (layers, heads, T, S) over tokens
    layers, heads = cross.shape[:2]
    if model_key == "transformer":
        c1, c2 = st.columns(2)
        layer = c1.selectbox("Layer", range(1, layers + 1), index=layers - 1, key="layer") - 1
        head_choice = c2.selectbox("Head", ["mean of all heads", *range(1, heads + 1)], key="head")
        chosen = cross[layer].mean(0) if head_choice == "mean of all heads" else cross[layer, head_choice - 1]
        label = f"layer {layer + 1}, {head_choice if isinstance(head_choice, str) else f'head {head_choice}'}"
    elif model_key == "convs2s":  # one attention per decoder layer
        column = st.columns(2)[0]
        layer = column.selectbox("Decoder layer", range(1, layers + 1), index=layers - 1, key="conv_layer") - 1
        chosen, label = cross[layer, 0], f"decoder layer {layer + 1}"
    else:
        chosen, label = cross[0, 0], "additive attention"
    words_cross = merged(chosen, tgt_groups, src_groups)  # (T words, S words)

    # Only the open tab is built: switching tabs reruns this fragment.
    names = ["Cross-attention", "Follow one word"]
    if model_key == "transformer":
        names += ["All heads of a layer", "Encoder self-attention", "Decoder self-attention"]
    elif model_key == "convs2s":
        names += ["Every decoder layer"]
    if st.session_state.get("translate_tab") not in names:  # the attention model has fewer tabs
        st.session_state["translate_tab"] = names[0]
    tab = st.tabs(names, key="translate_tab", on_change="rerun")
    if tab[0].open:
        with tab[0]:
            st.caption(f"Each row is an English word; its cells show how much it drew on each German word ({label}).")
            st.plotly_chart(heatmap(words_cross, tgt_labels, src_labels), width="stretch")
    if tab[1].open:
        with tab[1]:
            pick = st.select_slider("Written word", options=unique(tgt_labels), key="follow")
            row = unique(tgt_labels).index(pick)
            st.markdown(f"While writing **{html.escape(pick)}**, the model attended to:")
            st.html(highlighted([READABLE.get(x, x) for x in src_labels], words_cross[row]))
    if model_key == "convs2s" and tab[2].open:
        with tab[2]:
            grid = np.stack([merged(cross[k, 0], tgt_groups, src_groups) for k in range(layers)])  # (layers, T, S)
            st.caption(
                "Each decoder layer attends on its own (Gehring et al.'s multi-step attention): lower layers often "
                "spread out, upper ones align."
            )
            st.plotly_chart(heads_grid(grid, src_labels, tgt_labels, label="layer"), width="stretch")
    if model_key == "transformer" and tab[2].open:
        with tab[2]:
            grid = np.stack([merged(cross[layer, h], tgt_groups, src_groups) for h in range(heads)])  # (h, T, S)
            st.caption(
                f"Cross-attention of every head in layer {layer + 1}: heads specialise (some align, some look ahead)."
            )
            st.plotly_chart(heads_grid(grid, src_labels, tgt_labels), width="stretch")
    if model_key == "transformer" and tab[3].open:
        with tab[3]:
            enc = merged(maps["encoder"][layer].mean(0), src_groups, src_groups)
            st.caption(f"How German words read each other in encoder layer {layer + 1} (mean of heads).")
            st.plotly_chart(heatmap(enc, src_labels, src_labels, y_title="German (reading)"), width="stretch")
    if model_key == "transformer" and tab[4].open:
        with tab[4]:
            dec = merged(maps["decoder"][layer].mean(0), tgt_groups, tgt_groups)
            st.caption(
                f"How each English word looks back at the words written before it (decoder layer {layer + 1}, mean "
                "of heads); the upper triangle is empty because the future is masked."
            )
            st.plotly_chart(heatmap(dec, tgt_labels, tgt_labels, x_title="English (earlier)"), width="stretch")

    ui.lazy_expander("How it was trained", "translate_trained", how_it_was_trained, tr)


def how_it_was_trained(tr) -> None:
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


translation()

with st.expander("How it works"):
    st.markdown(
        r"""
**Subword pieces.** All three models read and write pieces from one 8,000-piece vocabulary shared by German and
English (byte-pair encoding learned on the training captions): frequent words are one piece, rare ones are split
(`anstarrt` → `an` `st` `ar` `rt`). The heatmaps merge pieces back into words: a German word receives the
**sum** of what its pieces received, and an English word shows the **average** of its pieces' rows, so every row
still sums to one. The toggle shows the raw pieces. Everything is lowercased, as in training.

**GRU with additive attention** (Bahdanau et al., 2015). A bidirectional GRU reads the German sentence into one
vector per piece, $h_j$. The decoder writes one piece at a time; before each, it scores every source vector with
$e_{ij} = v^\top \tanh(W_s s_{i-1} + W_h h_j)$, turns the scores into weights $a_{ij} = \mathrm{softmax}_j(e_{ij})$
(one row of the heatmap) and reads the weighted average $\sum_j a_{ij} h_j$. Padding gets exactly zero weight.

**ConvS2S** (Gehring et al., 2017). Gated convolutions read the German, three pieces at a time per layer, all
positions at once; the decoder's convolutions see only earlier English pieces. Every decoder layer attends on its
own: its state plus the current piece's embedding is dotted with each source position's encoder output, and the
weighted sum of those outputs plus the source embeddings is added back ("multi-step attention").

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
