"""What the essay page's sections share: the cached models and a text's reading (cells) and scoring."""

from __future__ import annotations

import streamlit as st

from gallery import ui
from gallery.essays import model as essays


@st.cache_resource(max_entries=1, show_spinner="Loading the essay model ...")
def load():
    ui.limit_threads()  # visitors share the cores: one thread per request is fastest overall
    return essays.load()


@st.cache_resource(max_entries=1, show_spinner="Loading the 5-gram ...")
def load_ngram():
    from gallery.essays import yours

    return yours.load_ngram()


@st.cache_resource(max_entries=4, show_spinner="Reading the text cell by cell ...")
def read(text: str):
    """The text's trace: every cell after every character (see gallery.essays.cells), cached per text and shared
    (read only: nothing mutates it), so a rerun that shows another cell copies no arrays."""
    from gallery.essays import cells, yours

    model = load()
    return cells.read(model.net, model.vocab, text, max_chars=yours.MAX_CHARS)


def found_cells(card: dict) -> dict:
    """The card's finder: feature -> its best cell on held-out essays (empty for an older card)."""
    return {k: v for k, v in card.get("cells", {}).get("features", {}).items() if "layer" in v}
