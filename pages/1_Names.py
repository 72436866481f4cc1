"""Indian name generator: sample names by gender and see the model's next-letter probabilities; or train a model
on your own list (a background worker, one training per server at a time) and sample from it."""

import hashlib
import math

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from gallery import ui
from gallery.names import model as names

ui.page_config("Indian name generator", "📛")
st.title("Indian name generator")
st.caption(
    "A character-level network writes Indian given names one letter at a time, conditioned on gender; "
    "or train one on your own list in the second tab."
)


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


HOW_IT_WORKS = r"""
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

OWN_HOW_IT_WORKS = r"""
Your list becomes the model's world: its characters are the vocabulary (plus an end mark), and each item is learned
as a sequence of next-character predictions, as above. With a second, tab-separated column, each item's label plays
the part of gender: a learned label vector goes into every step and sets $h_0$.

A tenth of the list (at least one item) is held out for **validation**. The **bigram** counts each pair of
neighbouring characters, with add-$\alpha$ smoothing chosen on the validation part: the baseline every model must
beat. The RNN and GRU train with AdamW on minibatches while the clock runs, the learning rate falls along a cosine
over the budget, and the validation NLL is measured many times: the weights kept (an average of the last steps') are
those with the lowest one, and training stops early when it has not improved for half the budget. The curve shows
the training loss (on minibatches, dropout on) and the validation NLL, in nats per character counting the end mark.

Training runs in a worker thread of this server, one training at a time for all visitors, so a second visitor waits
in a queue; the page asks the worker for news every second. The download is the same artifact format as the built-in
models (safetensors weights, `config.json`, `card.json`): `python -m gallery names sample --model FOLDER`.
"""
EXAMPLE_LIST = "Athena\nApollo\nArtemis\nHermes\nHera\nZeus\nDemeter\nDionysus\nHephaestus\nPoseidon\nAres\nAphrodite"
ACTIVE = ("queued", "running")


@st.cache_resource(show_spinner=False, max_entries=1)
def training_queue():
    """The server's one queue of own-list trainings, shared by every visitor (thread-safe; see gallery.names.jobs)."""
    from gallery.names import jobs

    return jobs.TrainingQueue(threads=ui.torch_threads())


def read_input(text: str, upload):
    """The list from the upload (when there is one) or the text box -> (ItemList or None, its source)."""
    from gallery.names import own

    if upload is not None:
        data, source, name = upload.getvalue(), f"the file {upload.name}", upload.name
    elif text and text.strip():
        data, source, name = text.encode("utf-8", errors="replace"), "the text box", "The pasted list"
    else:
        st.info("Paste a list (one item per line) or upload a text file to begin.")
        return None, None
    digest = hashlib.sha256(data).hexdigest()
    cached = st.session_state.get("names_own_parsed")
    if cached is None or cached[0] != digest:
        try:
            cached = (digest, own.read_list(data, name), None)
        except ValueError as err:
            cached = (digest, None, str(err))
        st.session_state["names_own_parsed"] = cached
    if cached[2]:
        st.error(cached[2])
        return None, source
    return cached[1], source


def curve_figure(history: list[dict]) -> go.Figure:
    x = [r["seconds"] for r in history]
    lines = [
        go.Scatter(x=x, y=[r["train_nll"] for r in history], name="training (minibatches)", mode="lines"),
        go.Scatter(x=x, y=[r["val_nll"] for r in history], name="validation", mode="lines"),
        go.Scatter(
            x=[x[0], x[-1]] if x else [],
            y=[history[0]["bigram_nll"]] * 2 if history else [],
            name="bigram (validation)",
            mode="lines",
            line={"dash": "dash", "color": "grey"},
        ),
    ]
    layout = dict(height=300, margin={"t": 30}, xaxis_title="seconds", yaxis_title="nats per character")
    return go.Figure(lines, layout=layout)


def training_status() -> None:
    """The visitor's training: place in the queue, then the live curve and a stop button, then the outcome."""
    job = st.session_state.get("names_own_job")
    if job is None:
        return
    queue = training_queue()
    if job.state == "queued":
        place = queue.position(job)
        ahead = (place or 1) - 1
        st.info(
            f"Waiting in this server's queue: {ahead} training{'s' if ahead != 1 else ''} ahead of yours "
            "(one runs at a time). This page updates by itself."
        )
        if st.button("Leave the queue", key="names_own_cancel"):
            queue.cancel(job)
            st.rerun()
        return
    history = list(job.history)
    if job.state == "running":
        done = min(1.0, job.elapsed() / job.seconds) if job.kind != "bigram" else 0.0
        st.progress(done, text=f"Training a {job.kind.upper()}: {job.elapsed():.0f} of at most {job.seconds} s")
        if st.button("Stop", key="names_own_stop", disabled=job.stopping, help="Keep the best model so far."):
            job.stop()
    elif job.state == "failed":
        st.error(f"The training failed: {job.error}. Try a different list or model.")
    elif job.state == "cancelled":
        st.info("You left the queue; nothing was trained.")
    if history:
        st.plotly_chart(curve_figure(history), width="stretch", key="names_own_curve")
        last = history[-1]
        best = min(r["val_nll"] for r in history)
        st.caption(
            f"Step {last['step']:,}: best validation NLL {best:.3f} nats per character; the bigram's on the same "
            f"items: {last['bigram_nll']:.3f}."
        )
    if job.finished and st.session_state.get("names_own_shown") != job.id:
        st.rerun()  # the whole tab: the results appear and this part stops polling


@st.fragment(key="names_own_results")
def own_results() -> None:
    """Generate from the trained model, mark new names, download the model and the samples."""
    from gallery.names import model as names_model

    job = st.session_state["names_own_job"]
    trained = job.result
    model, card, m = trained.model, trained.card, trained.card["metrics"]
    outcome = "stopped early by you" if job.state == "stopped" else "done"
    st.success(
        f"Training {outcome}: {card['model']}, {card['steps']:,} steps in {card['train_seconds']:.0f} s. "
        f"Validation NLL {m['validation_nll_per_char']:.3f} nats per character, bigram "
        f"{m['bigram_validation_nll_per_char']:.3f} (ratio {m['ratio_to_bigram']:.2f}; lower is better); "
        f"{m['novel_fraction']:.0%} of 1,000 samples are new."
    )
    with st.form("names_own_controls"):
        c1, c2, c3, c4 = st.columns(4)
        labels = ["either", *model.labels] if model.labelled else ["(no labels)"]
        label = c1.selectbox("Label", labels, key="names_own_label", disabled=not model.labelled)
        prefix = c2.text_input("Starts with", max_chars=model.max_len - 1 or 1, key="names_own_prefix")
        count = c3.slider("How many", 1, 100, 20, key="names_own_count")
        seed = c4.number_input("Seed", 0, 1_000_000, 0, key="names_own_sample_seed")
        c1, c2, c3 = st.columns(3)
        temperature = c1.slider("Temperature", 0.1, 2.0, 1.0, 0.1, key="names_own_temperature")
        top_k = c2.slider("Top-k (0 = off)", 0, min(50, len(model.vocab)), 0, key="names_own_top_k")
        max_len = c3.slider("Maximum length", 1, max(2, model.max_len), model.max_len, key="names_own_max_len")
        st.form_submit_button("Generate", type="primary")
    try:
        rows = names_model.sample(
            model,
            n=count,
            gender=label if model.labelled else None,
            prefix=prefix,
            temperature=temperature,
            top_k=top_k,
            max_len=max_len,
            seed=seed,
        )
    except ValueError as err:
        st.warning(str(err))
        rows = []
    if rows:
        table = pd.DataFrame(rows)
        if not model.labelled:
            table = table.drop(columns=["label"])
        table["in your list"] = table.pop("novel").map({True: "new", False: "in your list"})
        st.dataframe(
            table,
            hide_index=True,
            width="stretch",
            column_config={"nll_per_char": st.column_config.NumberColumn("nats / character", format="%.2f")},
        )
    c1, c2 = st.columns(2)
    c1.download_button(
        "Download the model (.zip)",
        job.archive,
        file_name=f"name-model-{job.kind}.zip",
        mime="application/zip",
        key="names_own_download_model",
        help="Unzip it and run: python -m gallery names sample --model name-model",
        on_click="ignore",
    )
    c2.download_button(
        "Download these samples (.csv)",
        pd.DataFrame(rows).to_csv(index=False).encode("utf-8") if rows else b"",
        file_name="samples.csv",
        mime="text/csv",
        key="names_own_download_samples",
        disabled=not rows,
        on_click="ignore",
    )
    st.caption(f"List sha256 {card['data']['list_sha256'][:16]}...; split {card['data']['split']}.")


@st.fragment(key="names_own")
def own_list() -> None:
    """Paste or upload a list, train on it in the background, then generate."""
    left, right = st.columns(2)
    text = left.text_area(
        "Your list, one item per line",
        key="names_own_text",
        height=200,
        placeholder=EXAMPLE_LIST,
        help="Names, words, places or products, in any script. An optional label may follow a tab on each line.",
    )
    upload = right.file_uploader(
        "... or a text file (UTF-8, up to 5 MB and 200,000 lines)",
        type=["txt", "tsv", "csv", "list"],
        key="names_own_upload",
    )
    items, source = read_input(text, upload)
    if items is not None:
        st.caption(f"From {source}: {items.summary()}")
    queue = training_queue()
    job = st.session_state.get("names_own_job")
    active = job is not None and job.state in ACTIVE
    c1, c2, c3 = st.columns(3)
    kind = c1.selectbox(
        "Model",
        ["gru", "rnn", "bigram"],
        key="names_own_model",
        help="gru: usually the best; rnn: a vanilla RNN; bigram: counts, instant, the baseline",
    )
    seconds = c2.slider("Time budget (seconds)", 10, 120, 30, 5, key="names_own_seconds", disabled=kind == "bigram")
    seed = c3.number_input(
        "Seed", 0, 1_000_000, 0, key="names_own_seed", help="Sets the split and the initial weights."
    )
    busy = queue.running is not None or queue.waiting()
    if st.button("Train", type="primary", key="names_own_train", disabled=items is None or active):
        from gallery.names import jobs

        for key in (
            "names_own_label",
            "names_own_prefix",
            "names_own_top_k",
            "names_own_max_len",
        ):  # the new model's own ranges apply
            st.session_state.pop(key, None)
        try:
            st.session_state["names_own_job"] = job = queue.submit(jobs.Job(items, kind, seconds, int(seed)))
            active = True
        except jobs.QueueFull as err:
            st.warning(str(err))
    elif busy and not active:
        st.caption("Another visitor's training is running on this server: yours would wait for it.")
    if job is not None and job.finished:
        st.session_state["names_own_shown"] = job.id
    st.fragment(training_status, run_every=1.0 if active else None)()
    if job is not None and job.result is not None and job.finished:
        own_results()
    with st.expander("How it works"):
        st.markdown(OWN_HOW_IT_WORKS)


builtin, own_tab = st.tabs(["Indian names", "Train on your own list"], key="names_tab", on_change="rerun")
if builtin.open:
    with builtin:
        generator()
        with st.expander("How it works"):
            st.markdown(HOW_IT_WORKS)
if own_tab.open:
    with own_tab:
        own_list()
