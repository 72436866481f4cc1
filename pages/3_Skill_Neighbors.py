"""Skill neighbours: word2vec, fastText and GloVe on 50,000 job postings, searched four ways."""

import time

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from gallery import ui
from gallery.skills import model as skills
from gallery.skills.cli import query
from gallery.skills.search import BACKENDS
from gallery.skills.vectors import UnknownSkill

ui.page_config("Skill neighbours", "🔗")
st.title("Skill neighbours")
st.caption(
    "Type a job skill and see the skills recruiters ask for alongside it, learned from the key-skill lists of "
    "50,000 Indian job postings by three embedding methods and searched by four engines."
)


@st.cache_resource(max_entries=len(skills.MODELS), show_spinner="Loading the skill vectors ...")
def load(kind: str):
    model = skills.load(kind)
    ui.limit_threads()  # one BLAS thread per query: an idle OpenBLAS worker spins after every search
    return model


@st.cache_resource(
    max_entries=2 * len(skills.MODELS) * len(BACKENDS),
    show_spinner="Building the search index (once, then cached on disk) ...",
)
def backend(kind: str, name: str, approximate: bool):
    return load(kind).backend(name, approximate)


def neighbours(kind, engine, approximate, positive, negative, topn):
    """(rows, milliseconds, how the query's vectors were found)."""
    model = ui.load_or_stop(load, kind)
    index = backend(kind, engine, approximate)
    vector, found = model.vectors.combine(positive, negative)
    start = time.perf_counter()
    hits = index.neighbors(vector, topn + len(found))
    ms = (time.perf_counter() - start) * 1000
    inputs = {f.token for f in found}
    rows = [{"skill": w, "similarity": round(s, 4)} for w, s in hits if w not in inputs][:topn]
    return rows, ms, found


def bars(rows, height=None) -> go.Figure:
    """Horizontal bars, the nearest skill on top (graph objects built in one go: ``update_*`` calls cost more)."""
    bar = go.Bar(
        x=[r["similarity"] for r in rows][::-1],
        y=[r["skill"] for r in rows][::-1],
        orientation="h",
        hovertemplate="%{y}: %{x:.3f}<extra></extra>",
    )
    layout = dict(
        height=height,
        margin=dict(l=0, r=0, t=10, b=0),
        xaxis=dict(range=[0, 1], title="similarity"),
        yaxis=dict(type="category"),
    )
    return go.Figure(bar, layout=layout)


def neighbour_map(skill: str, query_vector, rows, model) -> go.Figure:
    """A 2-D PCA of the query and its neighbours only."""
    subset = [query_vector] + [model.vectors.lookup(r["skill"]).vector for r in rows]
    coords = np.asarray(subset) - np.mean(subset, axis=0)
    _, _, vt = np.linalg.svd(coords, full_matrices=False)
    xy = coords @ vt[:2].T  # (n + 1, 2): PCA of the query and its neighbours
    common = dict(mode="markers+text", textposition="top center", hovertemplate="%{text}<extra></extra>")
    layout = dict(height=380, margin=dict(l=0, r=0, t=10, b=0), showlegend=False, xaxis_title="PC 1")
    traces = [  # the query first: the first colour of the theme, as before
        go.Scatter(x=xy[:1, 0], y=xy[:1, 1], text=[skill], name="query", **common),
        go.Scatter(x=xy[1:, 0], y=xy[1:, 1], text=[r["skill"] for r in rows], name="neighbour", **common),
    ]
    return go.Figure(traces, layout=layout | {"yaxis_title": "PC 2"})


def explain_unknown(err: UnknownSkill, kind: str):
    hint = f" Did you mean: **{', '.join(err.suggestions)}**?" if err.suggestions else ""
    st.warning(f"{kind} has no vector for '{err.skill}'.{hint} (fastText builds one from character n-grams.)")


def split(listed: str) -> list[str]:
    return [s.strip() for s in listed.split(",") if s.strip()]


TABS = ["Three models side by side", "Analogies", "Similarity", "Odd one out"]
TAB_INPUTS = {  # the text boxes in the tabs, and what they start with
    "positive": "php, django",
    "negative": "python",
    "sim_a": "seo",
    "sim_b": "smo",
    "odd": "java, hibernate, spring, tally",
}


@st.fragment(key="skills")
def explorer() -> None:
    """The query, its answers and the tabs: a change reruns this part only, not the page."""
    first = ui.load_or_stop(load, "glove")  # the best model on the cards; all three share one vocabulary
    options = first.vectors.words
    shared = st.query_params.get("skill", "").strip()[:60]  # a link such as ?skill=pyhton opens with that skill
    if shared and shared not in first.vectors.index:
        options = [shared, *options]
    c1, c2, c3, c4, c5 = st.columns([3, 1.2, 1.2, 1, 1])
    skill = c1.selectbox(
        "Skill",
        options,
        index=options.index(shared) if shared else first.vectors.index.get("php", 0),
        key="skill",
        accept_new_options=True,
        help="Start typing: suggestions come from the vocabulary. You may also type a skill it has never seen.",
    )
    kind = c2.selectbox("Model", skills.MODELS, index=skills.MODELS.index("glove"), key="model")
    engine = c3.selectbox("Search", BACKENDS, key="backend", help="All four return cosine similarities.")
    approximate = c4.toggle("Approximate", key="approx", help="Faiss: HNSW graph instead of flat. Magnitude: Annoy.")
    topn = c5.slider("Top n", 5, 50, 10, key="topn")

    if not (skill or "").strip():
        st.info("Type a skill, e.g. python, seo or tally.")
        return

    try:
        rows, ms, found = neighbours(kind, engine, approximate, [skill], [], topn)
    except UnknownSkill as err:
        explain_unknown(err, kind)
        rows = None
    except ValueError as err:
        st.warning(str(err))
        rows = None

    if rows:
        left, right = st.columns([3, 2])
        with left:
            source = found[0].source
            if source == "subwords":
                st.info(f"'{skill}' is not in fastText's vocabulary: its vector was built from character n-grams.")
            elif source == "words":
                st.info(f"'{skill}' is not a skill token: its vector is the mean of its words' vectors.")
            st.plotly_chart(bars(rows, 28 * len(rows) + 60), width="stretch", key="bars")
        with right:
            index = backend(kind, engine, approximate)
            st.metric("Query time", f"{ms:.2f} ms", help="The search alone, one query, on this server.")
            st.caption(
                f"Engine: **{index.name}** ({'approximate' if index.approximate else 'exact'}); index ready in "
                f"{index.build_seconds:.2f} s on first use. Vocabulary: {len(load(kind).vectors.words):,} skills."
            )
            st.plotly_chart(neighbour_map(skill, found[0].vector, rows, load(kind)), width="stretch", key="map")
            st.caption("A 2-D PCA of the query and its neighbours only: distances are approximate.")

    # Only the open tab is built (switching tabs reruns this fragment); the text boxes of hidden tabs keep what
    # was typed in them (Streamlit forgets the state of widgets a run does not draw, but not Session State's own).
    for key, default in TAB_INPUTS.items():
        st.session_state[key] = st.session_state.get(key, default)
    compare, analogy, pair, odd = st.tabs(TABS, key="skills_tab", on_change="rerun")
    if compare.open:
        with compare:
            columns = st.columns(3)
            for column, other in zip(columns, skills.MODELS):
                with column:
                    st.markdown(f"**{other}**")
                    try:
                        if rows and topn >= 10 and (other, "exact", False) == (kind, engine, approximate):
                            found_rows, found_ms = rows[:10], ms  # the query above, answered already
                        else:
                            found_rows, found_ms, _ = neighbours(other, "exact", False, [skill], [], 10)
                        st.dataframe(pd.DataFrame(found_rows), hide_index=True, width="stretch")
                        st.caption(f"{found_ms:.2f} ms, exact search")
                    except UnknownSkill as err:
                        explain_unknown(err, other)
                    except ValueError as err:
                        st.warning(str(err))

    if analogy.open:
        with analogy:
            st.markdown("Add and subtract skills, as gensim's `most_similar(positive, negative)` does.")
            a1, a2 = st.columns(2)
            positive = a1.text_input("Positive skills (comma-separated)", key="positive", max_chars=300)
            negative = a2.text_input("Negative skills (comma-separated)", key="negative", max_chars=300)
            try:
                result = query(load(kind), backend(kind, "exact", False), split(positive), split(negative), 10)
                st.dataframe(
                    pd.DataFrame(result).rename(columns={"word": "skill", "score": "similarity"}), hide_index=True
                )
            except UnknownSkill as err:
                explain_unknown(err, kind)
            except ValueError as err:
                st.warning(str(err))

    if pair.open:
        with pair:
            p1, p2 = st.columns(2)
            first_skill = p1.text_input("First skill", key="sim_a", max_chars=60)
            second_skill = p2.text_input("Second skill", key="sim_b", max_chars=60)
            try:
                st.metric("Cosine similarity", f"{load(kind).vectors.similarity(first_skill, second_skill):.3f}")
            except UnknownSkill as err:
                explain_unknown(err, kind)
            except ValueError as err:
                st.warning(str(err))

    if odd.open:
        with odd:
            listed = st.text_input("Skills (comma-separated)", key="odd", max_chars=300)
            try:
                st.success(f"Odd one out: **{load(kind).vectors.odd_one_out(split(listed))}**")
            except UnknownSkill as err:
                explain_unknown(err, kind)
            except ValueError as err:
                st.warning(str(err))

    ui.lazy_expander("How it was trained", "skills_trained", how_it_was_trained, kind)


def how_it_was_trained(kind: str) -> None:
    cards = {k: load(k).card for k in skills.MODELS}
    table = pd.DataFrame(
        [
            {
                "model": k,
                "hit@10": c["metrics"]["hit@10"],
                "hit@50": c["metrics"]["hit@50"],
                "pairs in vocabulary": c["metrics"]["in_vocabulary"],
                "vocabulary": c["corpus"]["vocabulary"],
                "train seconds": c["train_seconds"],
            }
            for k, c in cards.items()
        ]
    )
    counts = cards["word2vec"]["baselines"]["cooccurrence_counts"]
    ppmi = cards["word2vec"]["baselines"]["ppmi_rows"]
    st.dataframe(table, hide_index=True, width="stretch")
    st.markdown(
        f"Measured in the same run: ranking skills by how often they share a posting with the query "
        f"(hit@10 **{counts['hit@10']}**, hit@50 **{counts['hit@50']}**), and a strong count-based reference, "
        f"sparse PPMI rows compared by cosine (hit@10 **{ppmi['hit@10']}**, hit@50 **{ppmi['hit@50']}**). "
        f"{cards['word2vec']['evaluation']}."
    )
    corpus_card = cards["word2vec"]["corpus"]
    measured = corpus_card.get("tokenisation_measured") or {}
    if measured:
        st.markdown(
            "**Tokenisation** (how `core php` becomes tokens), measured with word2vec: "
            + "; ".join(f"{t}: hit@10 {s['hit@10']}" for t, s in measured.items() if isinstance(s, dict))
            + f". Chosen: **{corpus_card['tokenisation']}**."
        )
    data = cards["word2vec"]["data"]
    st.markdown(
        f"**Data:** {data['data']}, {data['postings']:,} distinct postings after cleaning "
        f"({data['contact_cells_dropped']} cells with contact details dropped). **Licence:** {data['licence']}. "
        f"**Cite:** {data['citation']}"
    )
    st.code(cards[kind]["train_command"], language="bash")


explorer()

with st.expander("How it works"):
    st.markdown(
        r"""
Every posting is a list of skills, treated as one unordered sentence: the context of a skill is the
whole posting (a wide window that is never shrunk).

- **word2vec** (skip-gram, negative sampling) learns vectors so that $\sigma(u_c \cdot v_w)$ is high for
  skills $c$ seen with $w$ and low for random skills.
- **fastText** is the same objective, but a word's vector is the sum of vectors of its character
  n-grams (3-6 letters, hashed into buckets), so a misspelling such as *pyhton* still gets a vector.
- **GloVe** factorises the co-occurrence counts: it minimises
  $\sum_{ij} f(X_{ij})\,(w_i \cdot \tilde w_j + b_i + \tilde b_j - \log X_{ij})^2$ with AdaGrad,
  $f(x) = \min(1, (x/10)^{0.75})$. Implemented here in PyTorch: gensim has no GloVe.

Neighbours are the skills with the highest cosine similarity. **Exact** search multiplies the unit vectors
by the query; **Faiss** offers the same exact search (flat) or an HNSW graph; **Annoy** a forest of random
projection trees; **Magnitude** reads the vectors from a `.magnitude` SQLite file (its n-gram index skips
n-grams with non-alphanumeric characters, so *c++* or multi-word skills get weaker out-of-vocabulary vectors
there). Approximate engines trade a little recall for speed: `python -m benchmarks.ann` measures both.

**Starspace**, which the original notebook also tried (hit@10 of 0.038, called inconclusive there), is not
rebuilt: it is a C++ tool with no maintained Python package, and it learns from labelled pairs this data
does not have; the three methods here answer the same question from the postings alone.
"""
    )
