"""The "Batch of 16" tab: sixteen new codes, drawn as the sampling controls say, by one decoder or both."""

from __future__ import annotations

import streamlit as st

from gallery.vae.images import tile
from pages.vae_explorer.common import BATCH, decode, decoder_label, show
from pages.vae_explorer.state import View, draw_codes


def batch(v: View) -> None:
    space = v.space
    st.number_input(
        "Batch seed",
        0,
        1_000_000,
        key=f"{space}_batch_seed",
        help="Sixteen new codes, drawn as the sampling controls say.",
    )
    codes = draw_codes(v, BATCH, int(st.session_state[f"{space}_batch_seed"]) + 10_000)
    if v.compare:
        for col, name in zip(st.columns(2), (v.kind, v.other)):
            with col:
                show([tile(decode(name, codes, v.digit), 4)], width=360, caption=decoder_label(name))
    else:
        show([tile(decode(v.kind, codes, v.digit), 4)], width=420)
