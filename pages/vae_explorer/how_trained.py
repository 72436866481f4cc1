"""The "How it was trained" expander: each model's card (metrics beside their baselines, curves, data, command).

For the sharp decoder also the adversarial game, where the card's history has it: the discriminator's held-out
accuracy beside the samples' sharpness, step by step.
"""

from __future__ import annotations

import streamlit as st

from gallery import ui
from gallery.vae.cards import adversarial_game


def sharp_training(card: dict) -> None:
    import pandas as pd
    import plotly.graph_objects as go

    st.markdown(
        f"**Model:** {card['model']}, {card['parameters']:,} parameters. Trained for {card['steps']:,} steps of "
        f"{card['optimisation']['batch']} faces in {card['train_seconds']:,} s on {card['hardware']}: "
        f"{card['optimisation']['warmup_steps']:,} steps of reconstruction alone, then with the discriminator."
    )
    history = pd.DataFrame(card.get("history") or [])
    if not history.empty:
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=history["step"], y=history["val_mse"], name="held-out MSE per pixel"))
        fig.add_trace(
            go.Scatter(
                x=history["step"], y=history["sample_sharpness_ratio"], name="sample sharpness (real = 1)", yaxis="y2"
            )
        )
        fig.update_layout(
            height=300,
            margin={"t": 10, "b": 40},
            xaxis_title="step",
            yaxis={"title": "MSE"},
            yaxis2={"title": "sharpness", "overlaying": "y", "side": "right"},
            legend={"orientation": "h", "y": -0.3},
        )
        st.plotly_chart(fig, width="stretch")
    game = adversarial_game(card.get("history") or [])
    if game:
        the_game(game)
    runs = card["training"].get("commands_run") or []
    if len(runs) > 1:
        st.markdown("**The runs, each resuming the last** (the first step each began at):")
        st.table(pd.DataFrame(runs).rename(columns={"command": "command", "from_step": "from step"}).astype(str))
    data = card["data"]
    st.markdown(f"**Data:** {data['data']}. **Licence:** {data['licence']}. {data['citation']}")
    st.markdown("**Rebuild this artifact:**")
    st.code(card["train_command"], language="bash")


def game_figure(game: dict):
    """The discriminator's held-out accuracy (left axis) and the samples' sharpness (right) by decoder step; each
    warm-up of a new discriminator, by its own steps, in a narrow panel on the left."""
    import plotly.graph_objects as go

    def logits(series: dict) -> list[str]:
        pairs = zip(series["d_val_real"], series["d_val_fake"])
        return [f"mean logit: real {r:+.2f}, fake {f:+.2f}" if None not in (r, f) else "" for r, f in pairs]

    warm_ups, g, s = game["warm_ups"], game["game"], game["sharpness"]
    fig = go.Figure()
    for i, w in enumerate(warm_ups):
        fig.add_trace(
            go.Scatter(
                x=w["disc_steps"],
                y=w["d_val_accuracy"],
                xaxis="x2",
                name=f"warm-up at step {w['step']:,} (the discriminator alone)",
                mode="lines+markers",
                line={"color": "#7f7f7f", "dash": "dot"},
                hovertext=logits(w),
                showlegend=i == 0,
            )
        )
    fig.add_trace(
        go.Scatter(
            x=g["step"],
            y=g["d_val_accuracy"],
            name="discriminator's held-out accuracy",
            mode="lines+markers",
            line={"color": "#d62728"},
            hovertext=logits(g),
        )
    )
    fig.add_trace(
        go.Scatter(
            x=s["step"],
            y=s["sample_sharpness_ratio"],
            name="sample sharpness (real = 1)",
            yaxis="y2",
            mode="lines+markers",
            line={"color": "#1f77b4"},
        )
    )
    split = 0.22 if warm_ups else 0.0
    for panel in ("x", "x2") if warm_ups else ("x",):  # chance: it cannot tell them apart
        fig.add_shape(
            type="line", xref=f"{panel} domain", x0=0, x1=1, y0=0.5, y1=0.5, line={"dash": "dash", "color": "#bbbbbb"}
        )
    fig.update_layout(
        height=320,
        margin={"t": 10, "b": 40},
        xaxis={"title": "decoder step", "domain": [split + 0.06 if warm_ups else 0.0, 1.0], "anchor": "y"},
        yaxis={"title": "accuracy (0.5: chance)", "range": [0, 1.02], "anchor": "x2" if warm_ups else "x"},
        yaxis2={
            "title": "sharpness",
            "overlaying": "y",
            "side": "right",
            "anchor": "x",
            "rangemode": "tozero",
            "tickmode": "auto",
            "showgrid": False,
        },
        legend={"orientation": "h", "y": -0.3},
    )
    if warm_ups:
        fig.update_layout(xaxis2={"title": "its own steps", "domain": [0.0, split], "anchor": "y"})
    return fig


def the_game(game: dict) -> None:
    alone = (
        " A new discriminator first trains alone, against the decoder as it stands, until it tells them apart (left)."
    )
    st.markdown(
        "**The adversarial game.** The discriminator learns to tell real faces from decoded ones, and the decoder to "
        "fool it. Its accuracy on held-out faces (real validation faces against the live decoder's decodings of "
        "others) says whether it still sees a difference: 0.5 is chance, 1 always. Beside it, the sharpness of "
        "samples from the averaged decoder (real faces = 1)." + (alone if game["warm_ups"] else "")
    )
    st.plotly_chart(game_figure(game), width="stretch")
    g, s = game["game"], game["sharpness"]
    if not g["step"]:
        return
    real, fake = g["d_val_real"][-1], g["d_val_fake"][-1]
    logit = f" (mean logit on real faces {real:+.2f}, on decoded ones {fake:+.2f})" if None not in (real, fake) else ""
    sharp = f"; sample sharpness {s['sample_sharpness_ratio'][-1]:.2f}" if s["step"] else ""
    st.caption(f"Last check, step {g['step'][-1]:,}: held-out accuracy {g['d_val_accuracy'][-1]:.2f}{logit}{sharp}.")


def how_it_was_trained(model, kind: str) -> None:
    import pandas as pd

    card = model.card
    if kind == "faces-sharp":
        sharp_training(card)
    else:
        st.markdown(
            f"**Model:** {card['model']}, {card['parameters']:,} parameters. Trained in {card['train_seconds']:,} s on "
            f"{card['hardware']}; best of {card['epochs_run']} epochs: {card['best_epoch']}."
        )
        m, b = card["metrics"], card["baselines"]
        if kind == "faces":
            pca = next(iter(b.values()))
            rows = [
                (
                    "validation MSE per pixel",
                    f"{m['validation_mse_per_pixel']:.5f}",
                    f"{pca['validation_mse_per_pixel']:.5f}",
                ),
                ("train MSE per pixel", f"{m['train_mse_per_pixel']:.5f}", f"{pca['train_mse_per_pixel']:.5f}"),
                ("validation -ELBO, nats per image", f"{m['validation_neg_elbo_nats']:,.0f}", "—"),
                ("validation bits per dimension", f"{m['validation_bits_per_dim']:.3f}", "—"),
                (
                    "sharpness (Laplacian variance)",
                    f"{m['sharpness_laplacian_var']['vae']:.5f}",
                    f"originals: {m['sharpness_laplacian_var']['originals']:.5f}",
                ),
            ]
            base_name = "PCA, as many components as latents"
        else:
            bern = b["bernoulli_per_class"]["test_neg_log_likelihood_nats"]
            rows = [
                ("test -ELBO, nats per image (sampled z)", f"{m['test_neg_elbo_nats']:.2f}", f"{bern:.2f}"),
                ("test -ELBO with the encoder mean", f"{m['test_neg_elbo_nats_encoder_mean']:.2f}", "—"),
                ("entropy floor of the convention", f"{m['entropy_floor_nats']:.2f}", "—"),
                ("test MSE per pixel", f"{m['test_mse_per_pixel']:.5f}", "—"),
            ]
            base_name = "per-class Bernoulli pixels"
        st.table(pd.DataFrame(rows, columns=["metric", "this model", base_name]).set_index("metric"))
        for note in card.get("metric_notes", {}).values():
            st.caption(note)
        if card.get("history"):
            figure = ui.history_figure(card["history"], ("val_neg_elbo",), "-ELBO")
            st.plotly_chart(figure, width="stretch")
        data = card["data"]
        st.markdown(f"**Data:** {data['data']}. **Licence:** {data['licence']}.")
        if kind == "faces" and data.get("malformed_names_skipped"):
            st.caption(f"Skipped {len(data['malformed_names_skipped'])} files whose names carry no labels.")
        st.markdown("**Rebuild this artifact:**")
        st.code(card["train_command"], language="bash")
