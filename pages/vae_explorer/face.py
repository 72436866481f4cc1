"""The first screen: the picture decoded live (alone or beside the other face decoder), and its sliders."""

from __future__ import annotations

import streamlit as st

from gallery.vae.cards import ATTR_LABELS, attribute_note, perception_distortion_note
from pages.vae_explorer.common import SLIDER_RANGE, available, decode, decoder_label, sharp_card, show
from pages.vae_explorer.state import View, face_density, new_sample, reset, sliders_changed


def show_both(v: View, codes, width, caption=None):
    """Decode with this model, and beside it with the other face decoder when "compare" is on."""
    if not v.compare:
        show(decode(v.kind, codes, v.digit), width=width, caption=caption)
        return
    for col, name in zip(st.columns(2), (v.kind, v.other)):
        with col:
            show(decode(name, codes, v.digit), width=width, caption=decoder_label(name))


def picture(v: View) -> None:
    """The face (or digit) of the current code, the sampling buttons and the sampling controls."""
    space = v.space
    show_both(v, v.z_now, 256 if not v.compare else 176)
    b1, b2, b3 = st.columns([1, 1, 1], vertical_alignment="bottom")
    b1.number_input("Seed", 0, 1_000_000, key=f"{space}_seed", on_change=new_sample, args=(v,))
    b2.button("New sample", on_click=new_sample, args=(v,), key=f"{space}_sample", width="stretch")
    b3.button(
        "Reset", on_click=reset, args=(v,), key=f"{space}_reset", help="All sliders to 0: the centre.", width="stretch"
    )
    if v.kind == "digits":
        st.select_slider("Digit to draw", options=list(range(10)), key="digits_class")
    else:
        st.toggle(
            "Show both decoders",
            key="faces_compare",
            help="The same code drawn by the sharp and by the faithful decoder.",
            disabled=not available(v.other),
        )
        if v.compare:
            st.caption(perception_distortion_note(sharp_card()))
        c1, c2 = st.columns(2)
        c1.radio(
            "New codes from",
            ["fitted", "prior"],
            key="faces_density",
            format_func={"fitted": "where faces live", "prior": "the prior N(0, I)"}.get,
            help="Where faces live: a Gaussian fitted to the codes of the training faces. The prior: what the "
            "VAE was trained to match, which real faces only roughly fill.",
            disabled=face_density() is None,
        )
        c2.slider(
            "Temperature",
            0.3,
            1.5,
            1.0,
            step=0.1,
            key="faces_temperature",
            help="Scales the spread of new codes: below 1 typical faces, above 1 unusual ones.",
        )
    active = v.model.active_dims()
    st.caption(
        f"{active} of {v.latent} latent dimensions are active (average KL above 0.01 nats on held-out images); "
        "the sliders are the busiest ones first. A VAE switches off the dimensions it does not need. Each slider "
        "mixes several changes because nothing in training asks one dimension to hold one factor: "
        "[Disentangling factors](Disentangling) measures it on sprites whose true factors are known."
    )


def sliders(v: View) -> None:
    """The busiest latent dimensions as sliders, then the attribute sliders with what a full push does."""
    L = v.latent
    n_sliders = st.slider("How many latent sliders", 2, min(24, L), min(8, L), key=f"{v.space}_n_sliders")
    cols = st.columns(4)
    kl = v.model.extra["kl_per_dim"]
    for j, i in enumerate(v.ranked[:n_sliders]):
        cols[j % 4].slider(
            f"z{i} ({kl[i]:.1f} nats)",
            -SLIDER_RANGE,
            SLIDER_RANGE,
            step=0.05,
            key=v.dim_key(i),
            on_change=sliders_changed,
            args=(v,),
            help=f"Latent dimension {i}; its average KL on held-out images is {kl[i]:.2f} nats.",
        )
    if v.attributes:
        st.markdown("**Attribute sliders** (directions built from the labels in the file names)")
        reach = v.attr_model.attribute_range()
        acols = st.columns(len(v.attributes))
        for col, a in zip(acols, v.attributes):
            lo, hi = ATTR_LABELS.get(a, (f"less {a}", f"more {a}"))
            col.slider(
                f"{lo} \u2194 {hi}",
                -reach,
                reach,
                step=0.1,
                key=v.attr_key(a),
                help="±1 is the full push, chosen so that most faces read as the other group."
                if reach == 1
                else "In units of the distance between the two groups' average codes.",
            )
            col.caption(attribute_note(v.attr_model.card, v.kind, a))
