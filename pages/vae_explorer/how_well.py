"""The "How well it does" expander: both face decoders measured on held-out faces (from the sharp model's card)."""

from __future__ import annotations

import streamlit as st

from gallery.vae.cards import sampling_table, spectrum_lines


@st.cache_data(max_entries=4, show_spinner=False)
def spectrum_figure(card_json: str):
    """Radially averaged power spectra of real faces and of samples (fitted density) from both decoders."""
    import json

    import plotly.graph_objects as go

    fig = go.Figure()
    for name, values, colour in spectrum_lines(json.loads(card_json)["metrics"]):
        fig.add_trace(go.Scatter(x=list(range(1, len(values) + 1)), y=values, name=name, line={"color": colour}))
    fig.update_layout(
        height=320,
        margin={"t": 10, "b": 40},
        xaxis_title="spatial frequency (cycles per 64 pixels)",
        yaxis_title="power",
        yaxis_type="log",
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def diagnosis_note(d: dict | None) -> str:
    """Where the critic's certainty comes from, in the card's own figures ("" for cards without them)."""
    if not d:
        return ""
    return (
        " Where its certainty comes from (half the real faces against stand-ins for the other half): the sharp "
        f"decoder's own reconstructions of real faces, the best any way of drawing codes could give it, are told "
        f"apart with AUC {d['reconstructions_at_64']['auc']:.3f}; seen at 16x16, where only the coarse picture is "
        f"left, reconstructions score {d['reconstructions_at_16']['auc']:.2f} and samples from where faces live "
        f"{d['fitted_samples_at_16']['auc']:.2f}."
    )


def how_well_it_does(card_sharp: dict) -> None:
    import json

    m = card_sharp["metrics"]
    st.markdown(
        "Measured on the 928 validation faces, which neither decoder saw. **Sharpness** is the variance of the "
        "Laplacian of the grey image over that of real faces (1 is right; below is blur, far above is noise). "
        "The **two-sample test** trains a small CNN to tell real training faces from samples and scores it on "
        "validation faces against new samples by ROC AUC: 0.5 means it cannot tell them apart, 1.0 always "
        "can; its log loss (0.693 at chance) keeps ranking decoders once the AUC reaches 1. The controls show what "
        "it catches: not a JPEG re-save, but a 3x3 blur of real faces at once, real faces shrunk to 32x32 and "
        "enlarged back, and even a resize to 60x60 that no viewer sees: it asks for all the detail of a 64x64 photo."
        + diagnosis_note(m.get("two_sample_diagnosis"))
    )
    st.table(sampling_table(card_sharp).set_index(["decoder", "codes"]))
    st.markdown("**Power spectrum**: blur starves the high frequencies; noise or checkerboards would inflate them.")
    st.plotly_chart(spectrum_figure(json.dumps(card_sharp)), width="stretch")
    r = m["attribute_reader"]
    st.caption(
        f"Attribute reader (for the slider numbers): gender accuracy {r['gender_accuracy']:.1%} "
        f"(majority class {r['majority_gender_accuracy']:.1%}), age error {r['age_mae_years']:.1f} years "
        f"(always the median age: {r['median_age_mae_years']:.1f}) on real validation faces. "
        f"Reconstruction error: sharp {m['validation_mse_per_pixel']:.4f}, faithful "
        f"{m['decoders']['faces']['validation_mse_per_pixel']:.4f}, PCA with 64 components "
        f"{m['pca_validation_mse_per_pixel']:.4f} per pixel."
    )
