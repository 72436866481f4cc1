"""Embedding maps: PCA, t-SNE and UMAP of skills, digits, résumés and VAE latents, or your own vectors, each with its
faithfulness.

This file holds the choice of points; each source is a module of pages/maps/, and both draw through pages/maps/view.
"""

import streamlit as st

from gallery import ui
from pages.maps import built_in, own_vectors

ui.page_config("Embedding maps", "🗺️")
st.title("Embedding maps")
st.caption(
    "Skills, digits, résumés and VAE latent codes, or your own vectors, flattened to 2-D by PCA, t-SNE and UMAP. Every "
    "map carries two numbers that say how far to trust it; search a point to see its true neighbours, measured in the "
    "original space."
)
OWN = "own"  # the source "Your own vectors": an upload, mapped on demand


@st.fragment(key="maps")
def explorer() -> None:
    """The data set, the method, the map and everything drawn from it: a change reruns this part only."""
    status = built_in.availability()
    ready = [d for d, problem in status.items() if problem is None]
    missing = {d: problem for d, problem in status.items() if problem is not None}
    if not ready:
        st.error("No map has been built yet. Build the default maps from the project folder with:")
        st.code("python -m trainers.maps", language="bash")
        st.caption("Your own vectors can be mapped all the same.")

    top = st.columns([2, 2, 1])
    dataset = top[0].selectbox(
        "Data set", [*ready, OWN], format_func=lambda d: built_in.TITLES.get(d, "Your own vectors"), key="dataset"
    )
    if missing:
        with top[2].popover(f"{len(missing)} map(s) missing"):
            for d, problem in missing.items():
                st.markdown(f"**{built_in.TITLES[d]}**: {problem}")
    if dataset == OWN:
        own_vectors.explorer(top[1])
    else:
        built_in.explorer(dataset, top[1])


explorer()
