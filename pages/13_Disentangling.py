"""Disentangling factors: VAE, β-VAE, FactorVAE and β-TCVAE on sprites whose five true factors are known.

This file lays the page out and holds the model choice; each section is a module of pages/sprites/.
"""

import streamlit as st

from gallery import ui
from gallery.sprites import cards
from pages.sprites import common, compare, explore, how_it_works

ui.page_config("Disentangling factors", "🧩")
st.title("Disentangling factors")
st.caption(
    "Each sprite is drawn from five known factors: shape, scale, rotation, x and y. Move a factor and see which "
    "latent of a VAE's code answers: one latent per factor is a disentangled code. The sprites are this project's "
    "rendering of the dSprites factor grid (Matthey et al. 2017); the original's heart outline and base sizes were "
    "never published, so they are an approximation of it."
)

names = common.available()
if not names:  # no sprites model at all: say which command makes one
    ui.load_or_stop(common.load, common.DEFAULT)
default = names.index(common.DEFAULT) if common.DEFAULT in names else 0
name = st.selectbox(
    "Model",
    names,
    index=default,
    format_func=cards.label,
    key="sprites_model",
    help="Four objectives on one network; a second seed, where there is one, shows how much seeds alone move the "
    "scores.",
)
model = ui.load_or_stop(common.load, name or names[default])
explore.explorer(name or names[default], model)

st.subheader("Every model, beside the published figures", anchor=False)
found = common.all_cards(names)
compare.table(found)
st.subheader("The β trade-off: reconstruction against MIG", anchor=False)
compare.tradeoff(found)

ui.lazy_expander("How it works", "sprites_how", how_it_works.how_it_works)
ui.lazy_expander("How it was trained", "sprites_trained", how_it_works.how_it_was_trained, model.card)
