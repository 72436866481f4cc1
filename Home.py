"""The app's entry: the sidebar's sections (st.navigation) and the landing page, a card per demo.

Imports no torch: the landing page opens fast, and each demo page loads its own model.
"""

import importlib
import threading

import streamlit as st

from gallery.demos import DEMOS, SECTIONS, card_of, headline_of, sample_of, url_path

WARM_MODULES = ("torch", "gallery.names.model", "gallery.essays.model", "gallery.skills.model", "plotly.express")


@st.cache_resource(show_spinner=False)
def warm_up() -> threading.Thread:
    """Import the demos' heavy modules in the background, once per server, after the landing page is drawn.

    Importing torch alone takes seconds; done here, a visitor's first demo page starts without that wait.
    """
    thread = threading.Thread(target=lambda: [importlib.import_module(m) for m in WARM_MODULES], daemon=True)
    thread.start()
    return thread


def landing() -> None:
    st.title("Deep Learning Experiments Gallery")
    st.markdown(
        "Small neural networks you can play with: each page loads a model trained offline on real data, "
        "lets you drive it, explains what you see, and shows how well it does against a simple baseline."
    )
    columns = st.columns(3)
    for i, demo in enumerate(DEMOS):
        with columns[i % 3].container(border=True, height=330):
            st.subheader(demo.title, anchor=False)
            st.write(demo.line)
            if demo.page is None:
                st.caption("Not built yet.")
                continue
            card = card_of(demo)
            if card is not None:
                st.markdown(sample_of(card) or "")
                st.caption(headline_of(card) or "")
            elif demo.artifact:  # pages without a trained model (a live lesson) need no caption
                st.caption("The model is missing; the page explains how to rebuild it.")
            st.page_link(demo.page, label="Open", icon=demo.icon)
    if st.runtime.exists():  # a served app, not a bare script run
        warm_up()


st.set_page_config(page_title="Deep Learning Experiments Gallery", page_icon=":material/science:", layout="wide")
built = {demo.page: demo for demo in DEMOS if demo.page}
navigation = {"": [st.Page(landing, title="Home", icon=":material/home:", default=True)]}
for section, pages in SECTIONS.items():
    navigation[section] = [
        st.Page(page, title=built[page].title, icon=built[page].icon, url_path=url_path(page))
        for page in pages
        if page in built
    ]
st.navigation(navigation).run()
