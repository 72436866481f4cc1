"""The app's entry: the sidebar's sections (st.navigation) and the landing page, a card per demo.

Imports no torch: the landing page opens fast, and each demo page loads its own model.
"""

import importlib
import threading

import streamlit as st

from gallery import ui
from gallery.demos import DEMOS, SECTIONS, card_of, headline_of, sample_of, thumbnail_of, url_path

CARDS_PER_ROW = 3
WARM_THREAD = "gallery-warm-up"  # the only thread that may import torch for the landing page (tests check it)
WARM_MODULES = ("torch", "gallery.names.model", "gallery.essays.model", "gallery.skills.model", "plotly.express")


@st.cache_resource(max_entries=1, show_spinner=False)
def warm_up() -> threading.Thread:
    """Import the demos' heavy modules in the background, once per server, after the landing page is drawn.

    Importing torch alone takes seconds; done here, a visitor's first demo page starts without that wait.
    """
    thread = threading.Thread(
        target=lambda: [importlib.import_module(m) for m in WARM_MODULES], name=WARM_THREAD, daemon=True
    )
    thread.start()
    return thread


def landing() -> None:
    st.title("Deep Learning Experiments Gallery")
    st.markdown(
        "Small neural networks you can play with: each page loads a model trained offline on real data, "
        "lets you drive it, explains what you see, and shows how well it does against a simple baseline."
    )
    for i, demo in enumerate(DEMOS):
        if i % CARDS_PER_ROW == 0:
            columns = iter(st.columns(CARDS_PER_ROW))
        with next(columns).container(border=True, height="stretch"):  # a row's cards as tall as its tallest
            st.subheader(demo.title, anchor=False)
            card = card_of(demo) if demo.page else None
            picture = thumbnail_of(demo) if card is not None else None  # no picture of a missing model
            if picture is not None:  # rendered offline by python -m tools.thumbnails
                st.image(str(picture), alt=demo.picture or f"What the {demo.title.lower()} demo makes")
            st.write(demo.line)
            if demo.page is None:
                st.caption("Not built yet.")
                continue
            if card is not None:
                st.markdown(sample_of(card) or "")
                st.caption(headline_of(card) or "")
            elif demo.artifact:  # pages without a trained model (a live lesson) need no caption
                st.caption("The model is missing; the page explains how to rebuild it.")
            st.page_link(demo.page, label="Open", icon=demo.icon)
    if st.runtime.exists():  # a served app, not a bare script run
        warm_up()


ui.limit_threads()  # once torch is loaded: GALLERY_TORCH_THREADS (default 1) for the whole server
st.set_page_config(page_title="Deep Learning Experiments Gallery", page_icon="🧪", layout="wide")
built = {demo.page: demo for demo in DEMOS if demo.page}
navigation = {"": [st.Page(landing, title="Home", icon=":material/home:", default=True)]}
for section, pages in SECTIONS.items():
    navigation[section] = [
        st.Page(page, title=built[page].title, icon=built[page].icon, url_path=url_path(page))
        for page in pages
        if page in built
    ]
st.navigation(navigation).run()
