"""Why attention: five translators trained the same way, from the context-vector bottleneck to the Transformer."""

import time
from urllib.parse import urlencode

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from streamlit.errors import StreamlitPageNotFoundError

from gallery import registry, ui
from gallery.demos import url_path
from gallery.translate import metrics, translator

ui.page_config("Why attention", "🔭")
st.title("Why attention")
st.caption(
    "Five German-English translators trained on the same 29,000 image captions (Multi30k), with the same subword "
    "vocabulary, batches and decoder, one rung of the seq2seq ladder each. Where does each one break?"
)

RUNGS = {  # model: (name, paper, what its decoder reads from the German)
    "seq2seq": ("LSTM encoder-decoder", "Sutskever et al. 2014", "one vector, only at the start"),
    "context": ("GRU + context at every step", "Cho et al. 2014", "one vector, at every step"),
    "attention": ("GRU + additive attention", "Bahdanau et al. 2015", "every German piece, reweighted each step"),
    "convs2s": ("ConvS2S", "Gehring et al. 2017", "every piece, in every decoder layer"),
    "transformer": ("Transformer", "Vaswani et al. 2017", "every piece, 8 heads in every layer"),
}
COLOURS = {"seq2seq": "#d62728", "context": "#ff7f0e", "attention": "#2ca02c", "convs2s": "#9467bd"}
COLOURS["transformer"] = "#1f77b4"
EXAMPLES = [
    "Ein Mann fährt mit dem Fahrrad über eine Brücke.",
    "Eine Gruppe von Menschen steht vor einem großen Gebäude, während ein Mann in einem roten Hemd auf einer "
    "Leiter steht und ein Schild an der Wand befestigt.",
    "Zwei Kinder spielen im Sand am Strand.",
    "Ein kleiner Junge in einer blauen Jacke und einer grünen Mütze sitzt neben seiner Mutter auf einer Bank im "
    "Park und füttert die Enten, die vor ihnen im Wasser schwimmen.",
]
MAX_INPUT = 600
HEATMAPS = "pages/11_Translate.py"
SCORES = {"bleu": "BLEU", "chrf": "chrF"}


@st.cache_resource(max_entries=len(RUNGS), show_spinner="Loading a translation model ...")
def load(model: str):
    tr = translator.load(model)
    ui.limit_threads(force=True)  # translator.load sets one thread for its command line: the server's setting
    return tr


@st.cache_data(max_entries=len(RUNGS), show_spinner=False)
def card(model: str) -> dict | None:
    """A model's card (no weights loaded), or None when its artifact is missing or broken."""
    try:
        return registry.read_json(registry.check_artifact(f"translate-{model}") / "card.json")
    except registry.ArtifactError:
        return None


@st.cache_data(max_entries=200, show_spinner=False)
def run(model: str, text: str, beam: int) -> tuple[translator.Translation, float]:
    """A translation and the seconds it took (measured when first asked; the same question is answered from cache)."""
    tr = load(model)
    start = time.perf_counter()
    result = translator.translate(tr, text, beam=beam)
    return result, time.perf_counter() - start


@st.cache_data(max_entries=100, show_spinner=False)
def vectors(model: str, text: str, beam: int) -> dict[str, np.ndarray]:
    return translator.context_vector(load(model), run(model, text, beam)[0])


def beam_scores(card: dict) -> dict:
    """The test set's beam-search scores (beam 5 on the committed cards)."""
    test = card["metrics"]["test_2016_flickr"]
    return test[next(k for k in test if k.startswith("beam"))]


def ladder_table(cards: dict) -> None:
    import pandas as pd

    rows = []
    for model, c in cards.items():
        test = c["metrics"]["test_2016_flickr"]
        published = c["baselines"]["published"]
        rows.append(
            {
                "model": RUNGS[model][0],
                "paper": RUNGS[model][1],
                "reads from the German": RUNGS[model][2],
                "test BLEU (beam 5)": beam_scores(c)["bleu"],
                "greedy": test["greedy"]["bleu"],
                "chrF": beam_scores(c)["chrf"],
                "perplexity per piece": test["perplexity"],
                "published BLEU (spaCy words)": str(published["bleu"] or "not given"),
                "parameters": f"{c['parameters'] / 1e6:.1f} M",
                "trained": f"{c['train_seconds'] / 60:.0f} min on {c['hardware']}",
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def by_length_figure(cards: dict, score: str) -> go.Figure:
    """Bahdanau et al. (2015), figure 2, on our test set: the score of each length bucket, a line per model."""
    fig = go.Figure()
    for model, c in cards.items():
        buckets = beam_scores(c).get("by_length")
        if not buckets:
            continue
        fig.add_trace(
            go.Scatter(
                x=list(buckets),
                y=[b[score] for b in buckets.values()],
                customdata=[b["n"] for b in buckets.values()],
                name=RUNGS[model][0],
                mode="lines+markers",
                line={"color": COLOURS[model], "dash": "solid" if model in translator.ATTENDS else "dash"},
                hovertemplate=f"%{{x}} words: {SCORES[score]} %{{y:.1f}} over %{{customdata}} sentences<extra></extra>",
            )
        )
    fig.update_layout(
        height=380,
        xaxis={"title": {"text": "German sentence length (words)"}, "type": "category"},
        yaxis={"title": {"text": f"{SCORES[score]} (test_2016_flickr, beam 5)"}, "rangemode": "tozero"},
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 20},
    )
    return fig


def vector_figure(rows: dict[str, np.ndarray]) -> go.Figure:
    """Each vector as what it is: a row of numbers, one cell per dimension."""
    names = list(rows)
    z = np.stack([rows[n] for n in names])  # (rows, H)
    limit = float(np.abs(z).max()) or 1.0
    cells = go.Heatmap(
        z=z,
        y=names,
        zmin=-limit,
        zmax=limit,
        colorscale="RdBu",
        colorbar={"title": {"text": "value"}, "len": 1.0, "thickness": 12},
        hovertemplate="%{y}, dimension %{x}: %{z:.3f}<extra></extra>",
    )
    layout = dict(
        height=max(170, 90 + 45 * len(names)),
        xaxis={"title": {"text": f"dimension (0-{z.shape[1] - 1})"}},
        yaxis={"autorange": "reversed"},
        margin={"t": 10},
    )
    return go.Figure(cells, layout=layout)


def use_example():
    st.session_state.why_source = st.session_state.why_example


@st.fragment(key="why")
def side_by_side() -> None:
    """One sentence, every model: a change of sentence or beam reruns this part only."""
    left, right = st.columns([3, 1])
    with left:
        st.selectbox("Try an example (the long ones are where the first two rungs fail)", EXAMPLES, key="why_example")
        st.session_state.setdefault("why_source", EXAMPLES[0])
        text = st.text_area("German sentence", key="why_source", max_chars=MAX_INPUT, height=80)
    with right:
        beam = st.slider("Beam size (1 = greedy)", 1, 10, 5, key="why_beam")
    words = len(text.split())
    st.caption(f"{words} words: the {metrics.length_bucket(text)} bucket of the curve above." if words else "")
    columns = st.columns(len(RUNGS))
    done = {}
    for column, (model, (name, paper, _)) in zip(columns, RUNGS.items()):
        with column.container(border=True, height="stretch"):
            st.markdown(f"**{name}**  \n{paper}")
            try:
                result, seconds = run(model, text, beam)
            except registry.ArtifactError as err:
                st.error(f"Unavailable: artifact **{err.name}** {err.problem}. Rebuild it with `{err.rebuild}`.")
                continue
            except ValueError as err:
                st.warning(str(err))
                return
            english = result.text[:1].upper() + result.text[1:]
            st.markdown(english or "*(nothing)*")
            st.caption(f"{seconds * 1000:.0f} ms on this server")
            done[model] = result
    notes = {note for result in done.values() for note in result.notes}
    for note in sorted(notes):
        st.info(note)
    if not done:
        return

    st.subheader("The one vector", anchor=False)
    st.markdown(
        "Without attention, this is **all** the decoder learns about the German sentence, whatever its length. "
        "Red and blue are the signs of each number; hover for its value."
    )
    for model in ("seq2seq", "context"):
        if model not in done:
            continue
        rows = vectors(model, text, beam)
        if model == "seq2seq":
            shown = {f"{kind}, layer {i + 1}": rows[kind][i] for kind in ("h", "c") for i in range(len(rows[kind]))}
            size = sum(v.size for v in shown.values())
            st.markdown(
                f"**{RUNGS[model][0]}**: the encoder's final hidden state *h* and cell state *c* of both layers "
                f"({size:,} numbers). The decoder starts from them and never sees the German again."
            )
        else:
            shown = {"context c": rows["context"]}
            st.markdown(
                f"**{RUNGS[model][0]}**: the encoder's final state *c* ({rows['context'].size} numbers), handed to "
                "the decoder at every step and to its output layer."
            )
        st.plotly_chart(vector_figure(shown), width="stretch", key=f"vector_{model}")

    st.markdown("**See where the models with attention look** for this sentence:")
    links = st.columns(len(translator.ATTENDS))
    for column, model in zip(links, translator.ATTENDS):
        label = f"{RUNGS[model][0]} heatmaps"
        asked = {"model": model, "text": text}
        try:
            column.page_link(HEATMAPS, label=label, icon=":material/grid_on:", query_params=asked)
        except StreamlitPageNotFoundError:  # this page run on its own, outside Home.py's navigation
            column.markdown(f"[{label}]({url_path(HEATMAPS)}?{urlencode(asked)})")


cards = {model: c for model in RUNGS if (c := card(model)) is not None}
missing = [model for model in RUNGS if model not in cards]
for model in missing:
    st.warning(
        f"The {RUNGS[model][0]} model is missing: rebuild it with `{registry.rebuild_command('translate-' + model)}`."
    )

st.subheader("Quality against sentence length", anchor=False)
score = st.radio("Score", ["bleu", "chrf"], format_func=SCORES.get, horizontal=True, key="why_score")
if cards:
    st.plotly_chart(by_length_figure(cards, score), width="stretch")
    st.caption(
        "Dashed: no attention. Each point scores the test sentences of one length bucket (beam 5, sacreBLEU, "
        "lowercased); hover for how many sentences it holds. The buckets over 16 words hold few sentences: "
        "Multi30k's captions are short, so the gap opens later than in Bahdanau et al.'s news sentences."
    )
    ladder_table(cards)

st.subheader("One sentence, five translators", anchor=False)
side_by_side()

with st.expander("How it works"):
    st.markdown(
        r"""
**The bottleneck.** An encoder-decoder without attention reads the German into a fixed-size vector and writes
the English from it. Sutskever et al.'s LSTM starts its decoder from the encoder's final state $(h, c)$ and then
must carry every remaining detail of the source in its own state while it also keeps track of what it has
written. Four words or forty, the source gets the same 2,048 numbers, so long sentences lose their ends and
details get swapped ("a man in a red shirt" becomes "a man in a blue shirt").

**Reading it backwards.** Sutskever et al. fed the source reversed, so the first German words are read last and
sit closest to the first English words; our LSTM's card records the validation perplexity of both orders.

**Teacher forcing.** In training, each decoder step is fed the *reference* previous word, not the model's own
guess: every step learns in parallel from a correct prefix. When translating, the model feeds itself, and an
early mistake is never corrected: one reason greedy decoding trails beam search.

**The context at every step.** Cho et al.'s GRU hands the same context vector $c$ to every decoder step,
$s_t = \mathrm{GRU}([e(y_{t-1}); c], s_{t-1})$, and to the output layer, $p(y_t \mid s_t, c, e(y_{t-1}))$. The
decoder's state no longer has to remember the source; it can spend itself on the English. Still one vector.

**Attention** (Bahdanau et al. 2015) removes the bottleneck: the encoder keeps a vector per German piece and
the decoder takes a fresh weighted average of them before every word, so a long sentence simply has more
vectors. **ConvS2S** (Gehring et al. 2017) replaces recurrence by gated convolutions and attends in every decoder
layer; the **Transformer** (Vaswani et al. 2017) replaces both by attention alone. Their heatmaps are on the
attention page.

**Fair rungs.** All five share the 8,000-piece vocabulary, the length-bucketed batches, label smoothing, the
optimiser and schedule, greedy and beam decoding and the sacreBLEU scorer. They differ in the hardware and time
they were given: the table above says which.
"""
    )
