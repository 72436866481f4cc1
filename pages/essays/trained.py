"""How the essay model was trained: metrics beside baselines, the ladder of models, curves, cells, commands."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gallery import ui
from pages.essays import inside

LADDER_NAMES = {"unigram": "unigram", "ngram5": "5-gram", "first_lstm": "the first LSTM", "lstm_now": "the LSTM now"}


def section(model) -> None:
    card, m, b = model.card, model.card["metrics"], model.card["baselines"]
    ngram = next(k for k in b if k.startswith("ngram"))
    rows = [
        ("validation nats per character", m["validation_nats_per_char"], f"{b[ngram]['nats_per_char']} ({ngram})"),
        ("validation bits per character", m["validation_bits_per_char"], f"{b[ngram]['bits_per_char']} ({ngram})"),
        ("unigram baseline, nats per character", "—", b["unigram"]["nats_per_char"]),
    ]
    if "known_word_share" in m:
        rows.append(("words of samples seen twice in training", m["known_word_share"]["share"], "—"))
    ui.training_details(card, rows, ("train_loss", "val_nats"))
    st.caption(
        f"Validation: {len(card['data']['validation_essays'])} whole essays the model never saw, "
        f"{card['data']['validation_chars']:,} characters."
    )
    ladder(card)
    inside.card_table(card)
    commands(card)


def ladder(card: dict) -> None:
    rungs = card.get("ladder")
    if not rungs:
        for t, text in card["samples"].items():
            st.markdown(f"**Sample at temperature {t}**")
            st.text(text)
        return
    st.markdown("**The ladder**: each model's validation nats per character, and a sample at temperature 0.8.")
    table = [
        {"model": LADDER_NAMES.get(k, k), "what": v.get("what", ""), "nats per character": v["nats_per_char"]}
        for k, v in rungs.items()
    ]
    st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch")
    for k, v in rungs.items():
        st.markdown(f"**{LADDER_NAMES.get(k, k)}**" + (f" (after *{v['prompt']}*)" if v.get("prompt") else ""))
        st.text(v["sample"])


def commands(card: dict) -> None:
    runs = card.get("commands_run")
    if runs:
        st.markdown("**Every run that trained these weights:**")
        st.code(
            "\n".join(f"# steps {r.get('from_step', 0)}-{r.get('to_step', '?')}\n{r['command']}" for r in runs),
            language="bash",
        )
