"""VAE latent explorer: faces and digits decoded live from latent sliders.

This file lays the page out and holds the model choice; each section is a module of pages/vae_explorer/.
"""

import streamlit as st

from gallery import ui
from pages.vae_explorer import batch, face, how_it_works, how_trained, how_well, interpolate, state, traversal, upload
from pages.vae_explorer.common import MODEL_LABELS, sharp_card

ui.page_config("VAE latent explorer", "🎛️")
st.title("VAE latent explorer")
st.caption(
    "A variational autoencoder squeezes each picture into a short code of numbers, the latent vector, and "
    "learns to draw a picture back from any code. Move the code and watch the picture change."
)


@st.fragment(key="vae")
def explorer() -> None:
    """The model, its code, the pictures and the tabs: moving a slider reruns this part only, not the page."""
    kind = st.segmented_control(
        "Model",
        list(MODEL_LABELS),
        default="faces-sharp",
        key="kind",
        format_func=MODEL_LABELS.get,
        help="Both face models read the same code (one encoder): the faithful decoder was trained to reconstruct, "
        "the sharp one to reconstruct and to look real.",
    )
    v = state.prepare(kind or "faces-sharp")  # the face models share their codes, sliders and upload

    # ---------------------------------------------------------------- first screen: the picture, decoded live

    left, right = st.columns([1, 2], gap="large")
    with left:
        face.picture(v)
    with right:
        face.sliders(v)

    # ---------------------------------------------------------------- batch, upload, interpolation, traversal

    # Only the open tab is built (switching tabs reruns this fragment): the traversal grid alone decodes 49 pictures.
    # What was set in a hidden tab stays (Streamlit forgets the state of widgets a run does not draw, not Session
    # State's own): those widgets take their start values from Session State, not from a default argument.
    for key, start in state.tab_defaults(v).items():
        st.session_state[key] = st.session_state.get(key, start)
    up = st.session_state.get(f"{v.space}_uploaded")
    tab_batch, tab_up, tab_interp, tab_grid = st.tabs(
        ["Batch of 16", "Upload a photo", "Interpolate", "Traversal grid"], key="vae_tab", on_change="rerun"
    )
    if tab_batch.open:
        with tab_batch:
            batch.batch(v)
    if tab_up.open:
        with tab_up:
            upload.upload(v, up)
    if tab_interp.open:
        with tab_interp:
            interpolate.interpolate(v, up)
    if tab_grid.open:
        with tab_grid:
            traversal.traversal(v)

    # ---------------------------------------------------------------- how it works, how it was trained

    ui.lazy_expander("How it works", "vae_how", how_it_works.how_it_works)
    if v.space == "faces" and (card_sharp := sharp_card()):
        ui.lazy_expander("How well it does", "vae_how_well", how_well.how_well_it_does, card_sharp)
    ui.lazy_expander("How it was trained", "vae_trained", how_trained.how_it_was_trained, v.model, v.kind)


explorer()
