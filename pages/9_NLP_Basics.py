"""NLP basics: tokens, stop words, bag of words, TF-IDF and cosine similarity on a few sentences."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from gallery import ui
from gallery.text import basics

ui.page_config("NLP basics", "🔤")
st.title("NLP basics")
st.caption(
    "How a text becomes numbers: tokens, stop words, the bag-of-words matrix, TF-IDF weights, and the cosine "
    "similarity between documents. Type a few sentences, one per line, and move the controls."
)


def heatmap(values, x: list[str], y: list[str], title: str, fmt: str, height: int, zmax=None) -> go.Figure:
    """A table of numbers as coloured cells, each cell labelled (graph objects: Plotly Express costs 20 ms more)."""
    cells = go.Heatmap(
        z=values,
        x=x,
        y=y,
        zmin=0,
        zmax=zmax,
        colorscale="Oranges",
        texttemplate=f"%{{z:{fmt}}}",
        colorbar={"title": {"text": title}},
        hovertemplate=f"%{{y}}, %{{x}}: %{{z:{fmt}}}<extra></extra>",
    )
    layout = dict(
        height=height,
        margin={"t": 20},
        xaxis={"type": "category"},
        yaxis={"type": "category", "autorange": "reversed"},
    )
    return go.Figure(cells, layout=layout)


@st.fragment(key="basics")
def lesson() -> None:
    """The sentences, the controls and the four views: a change reruns this part only, not the page."""
    left, right = st.columns([3, 2])
    with right:
        example = st.selectbox("Example sentences", list(basics.EXAMPLES), key="example")
        c1, c2 = st.columns(2)
        stop = c1.toggle("Remove stop words", True, key="stop")
        ngram = c2.radio("n-grams", ["words", "words + bigrams"], key="ngram", horizontal=True)
        c1, c2 = st.columns(2)
        min_df = c1.slider(
            "min_df (documents)", 1, 5, 1, key="min_df", help="Keep terms found in at least this many sentences."
        )
        max_df = c2.slider("max_df (fraction)", 0.1, 1.0, 1.0, 0.05, key="max_df",
                           help="Drop terms found in more than this fraction of the sentences.")  # fmt: skip
        max_features = st.slider("max_features (0 = all)", 0, 50, 0, key="max_features",
                                 help="Keep only the most frequent terms.")  # fmt: skip
    with left:
        if st.session_state.get("shown_example") != example:
            st.session_state["sentences"] = "\n".join(basics.EXAMPLES[example])
            st.session_state["shown_example"] = example
        text = st.text_area("Sentences, one per line", height=180, key="sentences")

    try:
        sentences = basics.split_sentences(text)
        mats = basics.matrices(
            sentences,
            stop_words=stop,
            ngram_max=2 if ngram == "words + bigrams" else 1,
            min_df=min_df,
            max_df=max_df,
            max_features=max_features or None,
        )
    except ValueError as err:
        st.warning(str(err))
        return

    labels = [f"S{i + 1}" for i in range(len(sentences))]
    # Only the open tab is built: switching tabs reruns this fragment.
    tab_tokens, tab_bow, tab_tfidf, tab_sim = st.tabs(
        ["Tokens", "Bag of words", "TF-IDF", "Similarity"], key="basics_tab", on_change="rerun"
    )
    if tab_tokens.open:
        with tab_tokens:
            st.markdown("Tokens in order; :gray[grey] ones are English stop words (dropped when the toggle is on).")
            for label, sentence in zip(labels, sentences):
                toks = basics.tokens(sentence)
                shown = " ".join(f":gray[~~{t['token']}~~]" if t["stop_word"] else f"`{t['token']}`" for t in toks)
                st.markdown(f"**{label}** {shown or '*(no tokens)*'}")
            if mats.dropped:
                st.caption(
                    f"Left out of the vocabulary: {len(mats.dropped)} terms ("
                    + ", ".join(list(mats.dropped)[:12])
                    + ("…" if len(mats.dropped) > 12 else "")
                    + ")."
                )
    height = 120 + 32 * len(labels)
    if tab_bow.open:
        with tab_bow:
            st.markdown(f"Each row counts how often each of the **{len(mats.terms)} terms** occurs in a sentence.")
            st.plotly_chart(heatmap(mats.counts, mats.terms, labels, "count", "d", height), width="stretch")
    if tab_tfidf.open:
        with tab_tfidf:
            st.markdown(
                "TF-IDF multiplies a count by $\\text{idf}_t = \\ln\\frac{1+n}{1+\\text{df}_t} + 1$ (rare terms weigh "
                "more) and scales every row to length 1."
            )
            st.plotly_chart(heatmap(mats.tfidf, mats.terms, labels, "TF-IDF", ".2f", height), width="stretch")
            pick = st.selectbox("Top TF-IDF terms of", range(len(sentences)), key="doc",
                                format_func=lambda i: f"{labels[i]}: {sentences[i][:60]}")  # fmt: skip
            top = basics.top_terms(mats, pick, k=8)
            if top:
                st.dataframe(pd.DataFrame(top, columns=["term", "TF-IDF"]), hide_index=True)
            else:
                st.info("This sentence has no term left in the vocabulary.")
            idf = pd.DataFrame({"term": mats.terms, "idf": mats.idf}).sort_values("idf", ascending=False)
            st.caption("idf of each term (higher = found in fewer sentences)")
            st.dataframe(idf, hide_index=True, height=200)
    if tab_sim.open:
        with tab_sim:
            st.markdown(
                "Cosine similarity of the TF-IDF rows: 1 = the same terms in the same proportions, 0 = no term shared."
            )
            sim = basics.cosine(mats.tfidf)
            fig = heatmap(sim, labels, labels, "cosine", ".2f", 160 + 40 * len(labels), zmax=1)
            st.plotly_chart(fig, width="stretch")


lesson()

with st.expander("How it works"):
    st.markdown(
        r"""
1. **Tokenise**: lower-case the text and cut it into words (letters, digits, and `+`/`#` so that *c++* survives).
2. **Stop words**: very common words (*the*, *and*, *is*) carry little meaning; scikit-learn's English list drops them.
3. **Vocabulary**: every remaining word (or pair of neighbouring words, a *bigram*) becomes a column.
   `min_df` drops terms found in too few documents, `max_df` those found in too many, `max_features` keeps the
   most frequent ones.
4. **Bag of words**: a document is its row of counts; word order is forgotten.
5. **TF-IDF**: counts times inverse document frequency, rows scaled to unit length, so shared common words count
   less than specific ones.
6. **Cosine similarity** $\cos(a, b) = \frac{a \cdot b}{\lVert a\rVert \lVert b\rVert}$ compares two rows
   regardless of document length. The résumé classifier page uses exactly these features.
"""
    )
