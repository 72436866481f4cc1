"""Indian name generator: sample names by gender and see the model's next-letter probabilities."""

import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from gallery import ui
from gallery.names import model as names

ui.page_config("Indian name generator", "📛")
st.title("Indian name generator")
st.caption("A character-level network writes Indian given names one letter at a time, conditioned on gender.")


@st.cache_resource(max_entries=len(names.MODELS), show_spinner="Loading the name model ...")
def load(kind: str):
    ui.limit_threads()  # visitors share the cores: one thread per request is fastest overall
    return names.load(f"names-{kind}")


def next_letter_figure(picked: dict, steps: list[dict]) -> go.Figure:
    """Heatmap of every next-letter probability at each step of one name, circles on the letters written."""
    letters = ["end", *sorted(c for c, _ in steps[0]["top"] if c != "end")]
    z = [[dict(s["top"])[c] for s in steps] for c in letters]  # (letters, steps)
    columns = [f"{i}. {s['context'] or '(start)'}" for i, s in enumerate(steps)]
    heat = go.Heatmap(
        z=z,
        x=columns,
        y=letters,
        colorscale="Oranges",
        colorbar={"title": "P"},
        hovertemplate="after %{x}<br>next %{y}: %{z:.3f}<extra></extra>",
    )
    chosen = go.Scatter(
        x=columns,
        y=[s["next"] for s in steps],
        mode="markers",
        name="chosen",
        marker={"symbol": "circle-open", "size": 12, "color": "black"},
    )
    layout = dict(
        height=520,
        margin={"t": 30},
        yaxis={"autorange": "reversed"},
        showlegend=False,
        title=f"Next-letter probabilities while writing “{picked['name']}”",
    )
    return go.Figure([heat, chosen], layout=layout)  # in one go: update_layout and add_trace cost more


@st.fragment(key="names")
def generator() -> None:
    """The controls and everything they drive: a change reruns this part only, not the page."""
    with st.form("controls"):
        c1, c2, c3, c4 = st.columns(4)
        gender = c1.selectbox("Gender", ["female", "male", "either"], key="gender")
        prefix = c2.text_input("Starts with", max_chars=19, key="prefix", help="Letters a-z; leave empty for any name.")
        count = c3.slider("How many", 1, 100, 20, key="count")
        kind = c4.selectbox(
            "Model",
            names.MODELS,
            key="model",
            help="gru: the default and best; rnn: the notebook's vanilla RNN; bigram: count baseline",
        )
        c1, c2, c3, c4 = st.columns(4)
        temperature = c1.slider(
            "Temperature",
            0.1,
            2.0,
            0.8,
            0.1,
            key="temperature",
            help="Below 1: safer, common names. Above 1: stranger ones.",
        )
        top_k = c2.slider("Top-k (0 = off)", 0, 26, 0, key="top_k", help="Sample only among the k likeliest letters.")
        max_len = c3.slider("Maximum length", 2, 20, 12, key="max_len")
        seed = c4.number_input("Seed", 0, 1_000_000, 0, key="seed")
        st.form_submit_button("Generate", type="primary")

    model = ui.load_or_stop(load, kind)
    try:
        rows = names.sample(
            model,
            n=count,
            gender=gender,
            prefix=prefix,
            temperature=temperature,
            top_k=top_k,
            max_len=max_len,
            seed=seed,
        )
    except ValueError as err:
        st.warning(str(err))
        return

    table = pd.DataFrame(rows)
    table["probability"] = [math.exp(-r["nll_per_char"] * (len(r["name"]) + 1)) for r in rows]
    table["seen in training"] = table.pop("novel").map({True: "new", False: "in training"})
    left, right = st.columns([1, 1])  # the table needs about 430 px for its five columns
    left.dataframe(
        table,
        hide_index=True,
        width="stretch",
        column_config={
            "nll_per_char": st.column_config.NumberColumn(
                "nats / letter", format="%.2f", help="Lower is more typical for the model."
            ),
            "probability": st.column_config.NumberColumn("P(name)", format="%.1e"),
        },
    )

    with right:
        # The options are this batch's labels (not row numbers), so a new batch replaces the choice and its label.
        labels = [f"{i + 1}. {r['name']} ({r['gender']})" for i, r in enumerate(rows)]
        choice = st.selectbox("Look inside one name", labels, key="pick")
        picked = rows[labels.index(choice)]
        steps = names.next_char_steps(model, picked["name"], picked["gender"], top=len(names.VOCAB))
        st.plotly_chart(next_letter_figure(picked, steps), width="stretch")
        st.caption(
            "Each column is one step: the letters so far, and how likely the model found every possible next "
            'letter ("end" finishes the name). Circles mark the letter that was actually written.'
        )

    ui.lazy_expander("How it was trained", "names_trained", how_it_was_trained, model)


def how_it_was_trained(model) -> None:
    card, m = model.card, model.card["metrics"]
    ui.training_details(
        card,
        [
            ("test NLL, nats per letter (lower is better)", m["test_nll_per_char"], m["bigram_test_nll_per_char"]),
            (
                "test NLL, female names",
                m["test_nll_per_char_by_gender"]["female"],
                m["bigram_test_nll_per_char_by_gender"]["female"],
            ),
            (
                "test NLL, male names",
                m["test_nll_per_char_by_gender"]["male"],
                m["bigram_test_nll_per_char_by_gender"]["male"],
            ),
            ("gender accuracy", m["gender_accuracy"], m["bigram_gender_accuracy"]),
            ("gender accuracy of a char n-gram classifier (reference)", "—", m.get("classifier_gender_accuracy", "—")),
            ("new names among 1,000 samples", m["novel_fraction"], "—"),
        ],
        ("val_nll",),
    )
    st.caption(
        f"Baseline: the bigram count model on the same {m['test_names']} held-out test names. "
        f"Cleaning: {card['data']['cleaning']}."
    )


generator()

with st.expander("How it works"):
    st.markdown(
        r"""
A name is a sequence of letters that ends with a special **end** token: `ravi` is learned as five predictions
(r, a, v, i, end). The network reads one letter at a time together with a learned **gender vector**, keeps a hidden
state $h_t = \mathrm{GRU}(h_{t-1}, [e(x_t); e(g)])$ (the gender vector also sets $h_0$), and outputs
$P(x_{t+1} \mid x_{\le t}, g) = \mathrm{softmax}(W h_t)$.

Sampling draws one letter at a time from that distribution, divided by the **temperature** before the softmax
(lower is more conservative) and optionally restricted to the **top-k** letters, until the end token or the maximum
length. All names of a request advance together as one batch. The likelihood column scores the finished name at
temperature 1: nats per letter, $-\frac{1}{n+1}\sum \log P$, counting the end step.

Training minimises that same NLL, plus a small term that asks each training name to be more likely under its own
gender than under the other: $-\log \sigma(\mathrm{NLL}_{other} - \mathrm{NLL}_{own})$. This sharpens the gender
conditioning, which a plain likelihood objective leaves weak (the notebook saw "little visible gender separation").
"""
    )
