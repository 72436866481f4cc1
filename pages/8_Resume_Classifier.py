"""Résumé classifier: eight models guess a résumé's job category; an honest leaderboard with the leak lesson."""

import html
import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from gallery import ui
from gallery.text import classify, models, resumes

ui.page_config("Résumé classifier", "📄")
st.title("Résumé classifier")
st.caption(
    "Eight classifiers, from TF-IDF with logistic regression to a small CNN, guess a résumé's job category "
    "(25 categories). Their accuracy is measured honestly: duplicates removed before cross-validation."
)


@st.cache_resource(max_entries=1, show_spinner="Loading the classifiers ...")
def load():
    ui.limit_threads()
    return classify.load()


@st.fragment(key="resumes")
def classifier(bundle) -> None:
    """The résumé, the controls, every model's answer and the words behind it: a change reruns this part only."""
    card = bundle.card
    left, right = st.columns([3, 2])
    with right:
        example = st.selectbox("Example résumé", list(resumes.EXAMPLES), key="example")
        upload = st.file_uploader(
            "…or upload a résumé (.txt or .pdf)",
            type=["txt", "pdf"],
            key="upload",
            max_upload_size=round(resumes.MAX_UPLOAD_BYTES / 1e6),
            help=f"At most {resumes.MAX_UPLOAD_BYTES / 1e6:.0f} MB and {resumes.MAX_CHARS:,} characters of text.",
        )
        linear = [k for k in models.LINEAR]
        explain = st.selectbox(
            "Explain with",
            linear,
            index=linear.index(bundle.best) if bundle.best in linear else 0,
            key="explain",
            help="The linear models' decision is a sum over words of coefficient x TF-IDF, so it can be read off.",
        )
    with left:
        if st.session_state.get("shown_example") != example:  # a new example replaces the text
            st.session_state["resume"] = resumes.EXAMPLES[example]
            st.session_state["shown_example"] = example
        pasted = st.text_area("Résumé text", height=220, key="resume", max_chars=resumes.MAX_CHARS)

    try:
        if upload is not None:
            text = resumes.read_upload(upload.name, upload.getvalue())
            st.info(f"Classifying the uploaded file **{upload.name}** ({len(text):,} characters).")
        else:
            text = resumes.check_pasted(pasted)
    except ValueError as err:
        st.warning(str(err))
        return

    probs = bundle.predict_all(text)
    rows = []
    for kind in [r["model"] for r in card["leaderboard"]]:
        top = models.top_categories(probs[kind], bundle.classes, 3)
        rows.append(
            {
                "model": kind,
                "1st": top[0]["category"],
                "P(1st)": top[0]["probability"],
                "2nd": top[1]["category"],
                "P(2nd)": top[1]["probability"],
                "3rd": top[2]["category"],
                "P(3rd)": top[2]["probability"],
            }
        )
    st.subheader("What each model says", anchor=False)
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={"model": st.column_config.TextColumn(width=100)}
        | {k: st.column_config.TextColumn(width=190) for k in ("1st", "2nd", "3rd")}  # "Network Security Engineer"
        | {
            k: st.column_config.ProgressColumn(k, min_value=0.0, max_value=1.0, format="%.2f", width=80)
            for k in ("P(1st)", "P(2nd)", "P(3rd)")
        },
    )
    st.caption(
        "Models are listed best first (deduplicated cross-validated accuracy). The linear SVM's 'probabilities' are a "
        "softmax of its margins: a ranking, not calibrated odds. Naive Bayes is notoriously over-confident."
    )

    st.subheader(f"Words that pushed {explain} towards its answer", anchor=False)
    model = bundle.models[explain]
    winner = int(probs[explain].argmax())
    contrib = [(t, c) for t, c in model.contributions(text, winner) if c > 0][:15]
    c1, c2 = st.columns([2, 3])
    if contrib:
        bars = go.Bar(x=[c for _, c in contrib][::-1], y=[t for t, _ in contrib][::-1], orientation="h",
                      marker_color="#e4572e", hovertemplate="%{y}: %{x:.3f}<extra></extra>")  # fmt: skip
        layout = dict(
            height=420, xaxis_title=f"coefficient x TF-IDF for {bundle.classes[winner]}", yaxis_type="category"
        )
        c1.plotly_chart(go.Figure(bars, layout=layout), width="stretch")
        weight = {}
        for term, c in contrib:
            for word in term.split():
                weight[word] = weight.get(word, 0.0) + (c if " " not in term else c / 2)
        peak = max(weight.values())
        pieces, last = [], 0
        shown = text[:6000]
        for m in re.finditer(resumes.TOKEN_PATTERN, shown):
            w = weight.get(m.group().lower())
            if w:
                pieces.append(html.escape(shown[last : m.start()]))
                alpha = 0.2 + 0.7 * w / peak
                pieces.append(f'<mark style="background: rgba(228,87,46,{alpha:.2f})">{html.escape(m.group())}</mark>')
                last = m.end()
        pieces.append(html.escape(shown[last:]) + (" …" if len(text) > len(shown) else ""))
        with c2.container(height=420):
            st.html(f'<div style="white-space: pre-wrap; font-size: 0.9em">{"".join(pieces)}</div>')
    else:
        c1.info("No word of this text pushed the model towards its answer (the text shares no terms with training).")


@st.cache_resource(max_entries=1, show_spinner=False)
def leaderboard_figure(card: dict):
    """The leaderboard's bars: the same for every visitor and résumé, so built once."""
    import plotly.express as px

    board = pd.DataFrame(card["leaderboard"])
    long = board.melt(id_vars="model", value_vars=["accuracy", "accuracy_naive"], var_name="split", value_name="acc")
    long["split"] = long["split"].map({"accuracy": "deduplicated CV", "accuracy_naive": "naive CV (duplicates)"})
    fig = px.bar(long, x="model", y="acc", color="split", barmode="group", height=340,
                 labels={"acc": "accuracy", "model": "", "split": ""},
                 color_discrete_map={"deduplicated CV": "#e4572e", "naive CV (duplicates)": "#bbbbbb"})  # fmt: skip
    fig.add_hline(y=card["metrics"]["majority_class_accuracy"], line_dash="dot", annotation_text="majority class")
    return fig


def how_it_was_trained(card: dict, ev: dict) -> None:
    st.markdown(
        f"**Data:** {card['data']['data']}; licence: {card['data']['licence']}. "
        f"{card['data']['rows']} rows, {card['data']['distinct_rows']} distinct, {card['data']['categories']} "
        f"categories. **Cleaning:** {card['data']['cleaning']}."
    )
    st.markdown(f"**Evaluation:** {ev['method']}. {ev['tuning'].capitalize()}. {ev['word_vectors'].capitalize()}.")
    st.markdown(
        f"The stored models are refitted on all {card['data']['distinct_rows']} distinct résumés "
        f"({card['parameters']:,} numbers in all) in {card['train_seconds']:.0f} s on {card['hardware']}."
    )
    per = pd.DataFrame(
        {
            "category": list(card["data"]["distinct_per_category"]),
            "distinct résumés": list(card["data"]["distinct_per_category"].values()),
        }
    )
    st.dataframe(per, hide_index=True, height=250)
    st.markdown("**Rebuild this artifact:**")
    st.code(card["train_command"], language="bash")


bundle = ui.load_or_stop(load)
card = bundle.card
classifier(bundle)

st.subheader("Leaderboard, and the leak most tutorials miss", anchor=False)
ev = card["evaluation"]
board = pd.DataFrame(card["leaderboard"])
st.markdown(
    f"Only **{card['data']['distinct_rows']} of the {card['data']['rows']} rows are distinct**: the same résumés "
    "appear many times. Split the raw rows, and copies of a test résumé sit in the training part, so the model "
    "is graded on résumés it has memorised: the **naive** column. The **deduplicated** figures come from "
    f"{ev['method']}. k = {ev['folds']} because {ev['why_k']}."
)
st.plotly_chart(leaderboard_figure(card), width="stretch")
st.dataframe(
    board[["model", "description", "accuracy", "accuracy_std", "macro_f1", "macro_f1_std", "accuracy_naive"]],
    hide_index=True,
    width="stretch",
    column_config={  # short headers (help on hover) leave the description room
        "model": st.column_config.TextColumn(width=100),
        "accuracy": st.column_config.NumberColumn(
            "dedup CV", format="%.3f", width=80, help="accuracy, cross-validated on distinct résumés"
        ),
        "accuracy_std": st.column_config.NumberColumn("±", format="%.3f", width=60, help="spread over the folds"),
        "macro_f1": st.column_config.NumberColumn("macro-F1", format="%.3f", width=80),
        "macro_f1_std": st.column_config.NumberColumn("±", format="%.3f", width=60, help="spread over the folds"),
        "accuracy_naive": st.column_config.NumberColumn(
            "naive CV", format="%.3f", width=80, help="accuracy when copies of a résumé sit in both splits"
        ),
    },
)

with st.expander("How it works"):
    st.markdown(
        r"""
**TF-IDF.** A résumé becomes a vector with one entry per word or word pair (bigram) of the training vocabulary:
$\text{tfidf}(t, d) = (1 + \log \text{tf}_{t,d}) \cdot \text{idf}_t$ with
$\text{idf}_t = \log\frac{1+n}{1+\text{df}_t} + 1$, then scaled to unit length.
Rare, specific terms (*autocad*, *payroll*) weigh more than common ones.

**Linear models** (logistic regression, linear SVM, SGD) score each category $c$ as $w_c \cdot x + b_c$: a sum over
the résumé's terms of coefficient x TF-IDF, which is what the highlighted words show. **Naive Bayes** adds the
log-probabilities of the terms under each category. The **random forest** votes over 300 decision trees.

**Word vectors**: word2vec (skip-gram) learned on the training résumés; a résumé is the mean of its words' vectors,
then logistic regression. **fastText-style**: the mean of learned embeddings of its words and bigrams, then a
linear layer. **CNN**: filters of widths 3, 4 and 5 slide over word embeddings and keep their strongest response.
With about 110 training résumés per fold, the neural models have far too little data: the leaderboard shows it.
"""
    )

ui.lazy_expander("How it was trained", "resumes_trained", how_it_was_trained, card, ev)
