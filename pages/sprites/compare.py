"""Every model's card beside the published figures, and the β trade-off: reconstruction against MIG."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from gallery.sprites import cards

COLOURS = {"vae": "#7f7f7f", "beta-vae": "#ff7f0e", "factor-vae": "#2ca02c", "beta-tcvae": "#1f77b4"}


def table(found: dict[str, dict]) -> None:
    import pandas as pd

    st.dataframe(pd.DataFrame(cards.table_rows(found)), hide_index=True, width="stretch")
    points = {c.get("metrics", {}).get("mig_points") for c in found.values()}
    steps = [c.get("steps") for c in found.values() if isinstance(c.get("steps"), int)]
    notes = [
        "Ours are scored on freshly rendered sprites from a seed training never drew (MIG on "
        + ", ".join(f"{p:,}" for p in sorted(p for p in points if isinstance(p, int)))
        + " sprites; disentanglement_lib uses 10,000), the published ones on the original dSprites file.",
    ]
    if steps:
        ran = f"{min(steps):,}" if min(steps) == max(steps) else f"{min(steps):,} to {max(steps):,}"
        notes.append(f"Ours ran {ran} steps against disentanglement_lib's {cards.PUBLISHED_STEPS:,}.")
    notes.append(
        "Locatello et al. (2019) found that the random seed moves these scores as much as the choice of model: "
        "where a model has two seeds, both are shown."
    )
    st.caption(" ".join(notes))
    floor = cards.floors(found)
    if floor:
        verdict = "above" if floor["best_mig"] > floor["vae_mig"] else "not above"
        st.markdown(
            f"Best disentangler here: **{cards.LABELS[floor['best']]}**, MIG {floor['best_mig']:.3f} and FactorVAE "
            f"score {floor['best_factorvae']:.3f} (the issue's floors: 0.25 and 0.75), {verdict} the plain VAE's "
            f"MIG of {floor['vae_mig']:.3f}."
        )


def tradeoff_figure(found: dict[str, dict]) -> go.Figure:
    fig = go.Figure()
    for name, card in found.items():
        parsed = cards.parse(name)
        m = card.get("metrics", {})
        if parsed is None or not all(isinstance(m.get(k), (int, float)) for k in ("mig", "reconstruction_nll")):
            continue
        weight = card.get("objective", {}).get("beta", card.get("objective", {}).get("gamma"))
        fig.add_trace(
            go.Scatter(
                x=[m["mig"]],
                y=[m["reconstruction_nll"]],
                mode="markers+text",
                text=[cards.label(name)],
                textposition="top center",
                marker={"size": 13, "color": COLOURS[parsed[0]]},
                name=cards.label(name),
                hovertemplate=f"{cards.label(name)} (weight {weight}): MIG %{{x:.3f}}, reconstruction %{{y:.1f}} nats"
                f", FactorVAE score {cards.number(m.get('factorvae_score'))}<extra></extra>",
            )
        )
    fig.update_layout(
        height=380,
        margin={"t": 30, "b": 10, "l": 10, "r": 10},
        xaxis={"title": "MIG (higher: more disentangled)", "rangemode": "tozero"},
        yaxis={"title": "reconstruction, nats per sprite (lower: more faithful)"},
        showlegend=False,
    )
    return fig


def tradeoff(found: dict[str, dict]) -> None:
    st.plotly_chart(tradeoff_figure(found), width="stretch")
    st.caption(
        "A heavier weight on the KL (β-VAE) buys independence with reconstruction: the code carries less about "
        "each sprite. FactorVAE and β-TCVAE weigh only the total correlation, the part of the KL that ties latents "
        "together, and so should buy the same MIG for less reconstruction."
    )
