"""Skill neighbours: word2vec, fastText and GloVe on 50,000 job postings, searched four ways."""

import time

import numpy as np
import pandas as pd
import plotly.express as px
import streamlit as st

from gallery import ui
from gallery.skills import model as skills
from gallery.skills.cli import query
from gallery.skills.search import BACKENDS
from gallery.skills.vectors import UnknownSkill

ui.page_config("Skill neighbours", ":material/hub:")
st.title("Skill neighbours")
st.caption(
    "Type a job skill and see the skills recruiters ask for alongside it, learned from the key-skill lists of "
    "50,000 Indian job postings by three embedding methods and searched by four engines."
)


@st.cache_resource(show_spinner="Loading the skill vectors ...")
def load(kind: str):
    return skills.load(kind)


@st.cache_resource(show_spinner="Building the search index (once, then cached on disk) ...")
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


def bars(rows, height=None):
    frame = pd.DataFrame(rows)
    fig = px.bar(frame[::-1], x="similarity", y="skill", orientation="h", range_x=[0, 1], height=height)
    fig.update_layout(margin=dict(l=0, r=0, t=10, b=0), yaxis_title=None)
    return fig


def explain_unknown(err: UnknownSkill, kind: str):
    hint = f" Did you mean: **{', '.join(err.suggestions)}**?" if err.suggestions else ""
    st.warning(f"{kind} has no vector for '{err.skill}'.{hint} (fastText builds one from character n-grams.)")


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
    st.stop()

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
        model = load(kind)
        subset = [found[0].vector] + [model.vectors.lookup(r["skill"]).vector for r in rows]
        coords = np.asarray(subset) - np.mean(subset, axis=0)
        _, _, vt = np.linalg.svd(coords, full_matrices=False)
        xy = coords @ vt[:2].T  # (n + 1, 2): PCA of the query and its neighbours
        frame = pd.DataFrame({"x": xy[:, 0], "y": xy[:, 1], "skill": [skill] + [r["skill"] for r in rows]})
        frame["role"] = ["query"] + ["neighbour"] * len(rows)
        fig = px.scatter(frame, x="x", y="y", text="skill", color="role", height=380)
        fig.update_traces(textposition="top center")
        fig.update_layout(margin=dict(l=0, r=0, t=10, b=0), showlegend=False, xaxis_title="PC 1", yaxis_title="PC 2")
        st.plotly_chart(fig, width="stretch", key="map")
        st.caption("A 2-D PCA of the query and its neighbours only: distances are approximate.")

compare, analogy, pair, odd = st.tabs(["Three models side by side", "Analogies", "Similarity", "Odd one out"])
with compare:
    columns = st.columns(3)
    for column, other in zip(columns, skills.MODELS):
        with column:
            st.markdown(f"**{other}**")
            try:
                found_rows, found_ms, _ = neighbours(other, "exact", False, [skill], [], 10)
                st.dataframe(pd.DataFrame(found_rows), hide_index=True, width="stretch")
                st.caption(f"{found_ms:.2f} ms, exact search")
            except UnknownSkill as err:
                explain_unknown(err, other)
            except ValueError as err:
                st.warning(str(err))

with analogy:
    st.markdown("Add and subtract skills, as gensim's `most_similar(positive, negative)` does.")
    a1, a2 = st.columns(2)
    positive = a1.text_input("Positive skills (comma-separated)", "php, django", key="positive", max_chars=300)
    negative = a2.text_input("Negative skills (comma-separated)", "python", key="negative", max_chars=300)
    pos = [s.strip() for s in positive.split(",") if s.strip()]
    neg = [s.strip() for s in negative.split(",") if s.strip()]
    try:
        result, _ = query(load(kind), backend(kind, "exact", False), pos, neg, 10), None
        st.dataframe(pd.DataFrame(result).rename(columns={"word": "skill", "score": "similarity"}), hide_index=True)
    except UnknownSkill as err:
        explain_unknown(err, kind)
    except ValueError as err:
        st.warning(str(err))

with pair:
    p1, p2 = st.columns(2)
    first_skill = p1.text_input("First skill", "seo", key="sim_a", max_chars=60)
    second_skill = p2.text_input("Second skill", "smo", key="sim_b", max_chars=60)
    try:
        st.metric("Cosine similarity", f"{load(kind).vectors.similarity(first_skill, second_skill):.3f}")
    except UnknownSkill as err:
        explain_unknown(err, kind)
    except ValueError as err:
        st.warning(str(err))

with odd:
    listed = st.text_input("Skills (comma-separated)", "java, hibernate, spring, tally", key="odd", max_chars=300)
    try:
        st.success(
            f"Odd one out: **{load(kind).vectors.odd_one_out([s.strip() for s in listed.split(',') if s.strip()])}**"
        )
    except UnknownSkill as err:
        explain_unknown(err, kind)
    except ValueError as err:
        st.warning(str(err))

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

with st.expander("How it was trained", expanded=False):
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
