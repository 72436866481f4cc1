"""The "Traversal grid" tab: two latent dimensions swept from -3 to 3, the others held at the sliders' code."""

from __future__ import annotations

import numpy as np
import streamlit as st

from gallery.vae.images import tile
from pages.vae_explorer.common import GRID_STEPS, SLIDER_RANGE, decode, show
from pages.vae_explorer.state import View, grid_options


def traversal(v: View) -> None:
    space = v.space
    options = grid_options(v)
    c1, c2 = st.columns(2)
    dx = c1.selectbox("Across", options, key=f"{space}_gx", format_func=lambda i: f"z{i}")
    dy = c2.selectbox("Down", options, key=f"{space}_gy", format_func=lambda i: f"z{i}")
    if dx == dy:
        st.warning("Pick two different dimensions.")
        return
    vals = np.linspace(-SLIDER_RANGE, SLIDER_RANGE, GRID_STEPS, dtype=np.float32)
    codes = np.repeat(v.z_now[None], GRID_STEPS * GRID_STEPS, axis=0)
    codes[:, dy] = np.repeat(vals, GRID_STEPS)
    codes[:, dx] = np.tile(vals, GRID_STEPS)
    show([tile(decode(v.kind, codes, v.digit), GRID_STEPS)], width=560)
    st.caption(f"z{dx} from -3 to 3 across, z{dy} from -3 to 3 down; the other dimensions stay as the sliders.")
