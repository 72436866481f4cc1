"""Streamlit pieces shared by the pages (the only gallery module that imports Streamlit)."""

from __future__ import annotations

import streamlit as st

from gallery.registry import ArtifactError


def load_or_stop(loader, *args):
    """Call a (cached) loader; on a missing or broken artifact show why and how to rebuild, then stop this page."""
    try:
        return loader(*args)
    except ArtifactError as err:
        st.error(f"This demo's model is unavailable: artifact **{err.name}** {err.problem}.")
        st.markdown("Rebuild it from the project folder with:")
        st.code(err.rebuild, language="bash")
        st.stop()


def training_details(
    card: dict,
    metric_rows: list[tuple[str, object, object]],
    history_keys: tuple[str, ...],
    y_label: str = "nats per character",
) -> None:
    """The "how it was trained" section: metrics next to their baseline, curves, data and command."""
    import pandas as pd
    import plotly.express as px

    st.markdown(
        f"**Model:** {card['model']}, {card['parameters']:,} parameters. "
        f"Trained in {card['train_seconds']:.0f} s on {card['hardware']}."
    )
    table = pd.DataFrame(metric_rows, columns=["metric", "this model", "baseline"]).astype(str)  # one type per column
    st.table(table.set_index("metric"))
    history = card.get("history") or []
    if history:
        frame = pd.DataFrame(history)
        x = frame.columns[0]
        fig = px.line(
            frame,
            x=x,
            y=[k for k in history_keys if k in frame],
            markers=True,
            labels={"value": y_label, "variable": ""},
            height=300,
        )
        st.plotly_chart(fig, width="stretch")
    data = card["data"]
    st.markdown(f"**Data:** {data['data']}. **Licence:** {data['licence']}.")
    st.markdown("**Rebuild this artifact:**")
    st.code(card["train_command"], language="bash")


def page_config(title: str, icon: str) -> None:
    """``st.set_page_config`` for a demo page, which also makes sure the visit runs through Home.py's navigation.

    A deep link (say /Names) opened first on a fresh server runs in Streamlit's old ``pages/`` mode: the page
    alone, under a plain list of file names, and the server stays in that mode until someone opens the landing
    page. Switching the server to ``st.navigation`` and rerunning sends this visit, and every later one, through
    Home.py and its sections.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if st.runtime.exists() and PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
    st.set_page_config(page_title=title, page_icon=icon, layout="wide")
