"""Essay generator: a character-level LSTM streams text in Paul Graham's voice.

This file holds the writer and its tabs; the other sections are modules of pages/essays/.
"""

import html

import plotly.graph_objects as go
import streamlit as st

from gallery import ui
from gallery.essays import model as essays
from pages.essays import inside, trained, yours
from pages.essays.common import load

ui.page_config("Essay generator", "📝")
st.title("Essay generator")
st.caption("A character-level LSTM trained on Paul Graham's essays continues your opening, one character at a time.")

OPENINGS = [
    "How to start a startup? ",
    "The most important thing about programming is",
    "When I was in college, I thought",
    "Most people who want to get rich",
    "",
]


def use_opening():
    st.session_state.prompt = st.session_state.opening


def as_markdown(text: str) -> str:
    """Keep the essays' light markdown (bold, italics) but not LaTeX ($) or strike-through (~)."""
    return text.replace("$", "\\$").replace("~", "\\~")


def coloured(steps) -> str:
    """HTML: each generated character on a background whose strength is 1 - P(char)."""
    spans = [
        f'<span title="P={s.prob:.2f}" style="background: rgba(228,87,46,{1 - s.prob:.2f})">'
        f"{html.escape(s.char)}</span>"
        for s in steps
    ]
    return '<div style="font-family: monospace; white-space: pre-wrap; line-height: 1.6">' + "".join(spans) + "</div>"


@st.fragment(key="essays")
def writer() -> None:
    """The opening, the controls and the streamed essay: a change reruns this part only, not the page."""
    model = ui.load_or_stop(load)
    st.selectbox(
        "Try an opening",
        OPENINGS,
        key="opening",
        on_change=use_opening,
        format_func=lambda s: s or "(empty: start a new paragraph)",
    )
    with st.form("controls"):
        st.session_state.setdefault("prompt", OPENINGS[0])  # set here, not as a default, so openings can replace it
        raw_prompt = st.text_area("Opening", key="prompt", max_chars=essays.MAX_PROMPT, height=80)
        c1, c2, c3, c4, c5 = st.columns(5)
        length = c1.slider("Length (characters)", 50, essays.MAX_LENGTH, 500, 50, key="length")
        temperature = c2.slider(
            "Temperature",
            0.1,
            2.0,
            0.8,
            0.05,
            key="temperature",
            help="Below 1: safer and more repetitive. Above 1: more surprising, more typos.",
        )
        top_k = c3.slider(
            "Top-k (0 = off)", 0, 40, 0, key="top_k", help="Sample only among the k likeliest characters."
        )
        top_p = c4.slider(
            "Top-p (1 = off)",
            0.05,
            1.0,
            1.0,
            0.05,
            key="top_p",
            help="Nucleus sampling: only the likeliest characters whose probabilities add up to p.",
        )
        seed = c5.number_input("Seed", 0, 1_000_000, 0, key="seed")
        st.form_submit_button("Generate", type="primary")

    prompt = essays.prepare_prompt(raw_prompt, model.vocab)
    if prompt.note:
        st.info(prompt.note)

    steps = []

    def chunks():
        """Stream the text a few characters at a time, keeping every step for the views below."""
        buffer = ""
        for step in essays.stream(
            model, prompt.text, length=length, temperature=temperature, top_k=top_k, top_p=top_p, seed=seed, top=10
        ):
            steps.append(step)
            buffer += step.char
            if len(buffer) >= 8:
                yield as_markdown(buffer)
                buffer = ""
        yield as_markdown(buffer)

    with st.container(border=True):
        st.markdown(f"*{html.escape(prompt.text.strip())}*")
        st.write_stream(chunks())

    views(model, prompt.text, length, temperature, steps)


@st.fragment
def views(model, prompt_text: str, length: int, temperature: float, steps: list) -> None:
    """The tabs under the essay. Only the open one is built; switching tabs reruns these tabs alone (not the
    essay: they read the steps the last essay kept)."""
    tab_colour, tab_next, tab_greedy, tab_inside = st.tabs(
        ["Surprise per character", "What comes next", "Greedy vs sampled", "Inside the LSTM"],
        key="essays_tab",
        on_change="rerun",
    )
    if tab_colour.open:
        with tab_colour:
            st.caption(
                "The darker the background, the less the model expected that character (hover for its probability)."
            )
            st.html(coloured(steps))
    if tab_next.open and steps:
        with tab_next:
            last = steps[-1]
            shown = {"\n": "⏎", " ": "␣"}
            st.caption("The model's top choices for the final character above, before it was sampled.")
            bar = go.Bar(x=[shown.get(c, c) for c, _ in last.top], y=[p for _, p in last.top])
            layout = dict(height=320, xaxis={"title": "character", "type": "category"}, yaxis_title="probability")
            st.plotly_chart(go.Figure(bar, layout=layout), width="stretch")
    if tab_greedy.open:
        with tab_greedy:
            n = min(length, 400)
            left, right = st.columns(2)
            left.markdown("**Greedy** (always the likeliest character)")
            left.text(essays.generate(model, prompt_text, length=n, temperature=0))
            right.markdown(f"**Sampled** (temperature {temperature})")
            right.text("".join(s.char for s in steps[:n]))
            st.caption(
                "Greedy decoding tends to fall into a loop, repeating the same likely phrase; sampling escapes it. "
                "This is what the original notebook ran into."
            )
    if tab_inside.open and steps:
        with tab_inside:
            essay = prompt_text + "".join(s.char for s in steps)
            inside.one_cell(model, essay, "essay")
            inside.finder(essay, "essay")


def how_it_was_trained(model) -> None:
    card, m, b = model.card, model.card["metrics"], model.card["baselines"]
    ngram = next(k for k in b if k.startswith("ngram"))
    ui.training_details(
        card,
        [
            ("validation nats per character", m["validation_nats_per_char"], f"{b[ngram]['nats_per_char']} ({ngram})"),
            ("validation bits per character", m["validation_bits_per_char"], f"{b[ngram]['bits_per_char']} ({ngram})"),
            ("unigram baseline, nats per character", "—", b["unigram"]["nats_per_char"]),
        ],
        ("train_loss", "val_nats"),
    )
    st.caption(
        f"Validation: {len(card['data']['validation_essays'])} whole essays the model never saw, "
        f"{card['data']['validation_chars']:,} characters."
    )
    for t, text in card["samples"].items():
        st.markdown(f"**Sample at temperature {t}**")
        st.text(text)


writer()

st.subheader("Your own text, scored")
st.caption("How predictable is a text to the model? Paste your own, or compare a held-out essay with another voice.")
yours.section(ui.load_or_stop(load))
ui.lazy_expander("How it was trained", "essays_trained", trained.section, ui.load_or_stop(load))

with st.expander("How it works"):
    st.markdown(
        r"""
The model reads text one character at a time. An LSTM keeps a memory $(h_t, c_t)$ of everything read so far and
outputs a probability for each of the 96 possible next characters: $P(x_{t+1} \mid x_{\le t}) =
\mathrm{softmax}(W h_t / T)$, where $T$ is the **temperature**. Generation draws a character, feeds it back in, and
carries the memory forward, so each new character costs the same small amount of work.

**Inside the LSTM.** Each layer holds 512 cells; a cell's state $c_t = f_t \odot c_{t-1} + i_t \odot g_t$ is
kept or overwritten by its forget gate $f_t$ and input gate $i_t$. Karpathy, Johnson and Fei-Fei (2015) found
single cells that switch on inside quotes or brackets, or count along a line. The page colours a text by one
cell's $\tanh(c_t)$, and finds the cell that best predicts each named feature (AUC for yes/no features,
correlation for counts), on the essays it was picked on and on essays it was not.

**Nucleus sampling** (top-p) draws only from the smallest set of likeliest characters whose probabilities add up
to p; it cuts the long tail that produces typos while leaving confident steps alone.

Unlike the original notebook, which lowercased the text and removed line breaks, this model keeps **capitals,
punctuation and paragraph breaks**. That makes the task harder (more symbols to predict, structure across
paragraphs), but the output reads like real prose instead of an endless lowercase stream.
"""
    )
