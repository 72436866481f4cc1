"""The "Interpolate" tab: a path of codes between two ends, linear or spherical, decoded frame by frame."""

from __future__ import annotations

import streamlit as st

from gallery.vae.latent import interpolate as path_between
from pages.vae_explorer.common import decode, show
from pages.vae_explorer.state import View, draw_codes


def interpolate(v: View, up: dict | None) -> None:
    space, model = v.space, v.model
    sources = ["random sample", "held-out example", "current sliders"] + (["uploaded picture"] if up else [])
    ends = []
    c1, c2 = st.columns(2)
    for col, label in ((c1, "Start"), (c2, "End")):
        with col:
            src = st.selectbox(f"{label} from", sources, key=f"{space}_{label}_src")
            if src == "random sample":
                s = st.number_input(f"{label} seed", 0, 1_000_000, key=f"{space}_{label}_seed")
                ends.append(draw_codes(v, 1, int(s))[0])
            elif src == "held-out example":
                n_ex = len(model.extra["examples"])
                k = st.number_input(f"{label} example", 0, n_ex - 1, key=f"{space}_{label}_ex")
                ends.append(model.extra["examples"][int(k)])
            elif src == "current sliders":
                ends.append(v.z_now)
            else:
                ends.append(up["z"])
    c1, c2 = st.columns(2)
    mode = c1.radio("Path", ["linear", "spherical"], horizontal=True, key=f"{space}_path")
    frames = c2.slider("Frames", 3, 12, key=f"{space}_frames")
    path = path_between(ends[0], ends[1], frames, spherical=mode == "spherical").numpy()
    strip = decode(v.kind, path, v.digit)
    show(list(strip))
    t = st.slider("Position along the path", 0, frames - 1, frames // 2, key=f"{space}_t")
    show([strip[t]], width=192, caption=f"frame {t}: t = {t / (frames - 1):.2f}")
    st.caption(
        "Linear: (1 - t)·a + t·b. Spherical keeps the code's length, which stays typical for a Gaussian "
        "prior, so the middle frames look less washed out."
    )
