"""The first screen: factors in, code out; the latent sliders that redraw the sprite; the traversal grid and the MI
matrix it is labelled from."""

from __future__ import annotations

import base64
import io
import math

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from gallery.sprites import cards
from gallery.sprites.render import FACTOR_NAMES, FACTORS, SHAPES
from pages.sprites.common import code, decode, pictured, sprite

SLIDER_RANGE = 3.0  # prior standard deviations
TRAVERSE = np.linspace(-2.5, 2.5, 9)  # the grid's values: the latent set to each, the others kept
TILE = 96  # a traversal tile on screen, in pixels
SCALES = [round(float(v), 1) for v in FACTORS[1].values]  # 0.5 ... 1.0
STATE = "sprites_state"  # the model and factors the latent sliders were last set from, and the code before


def slider_key(i: int) -> str:
    return f"sprites_z{i}"


def latent_label(i: int, carried: tuple[str | None, float]) -> str:
    factor, share = carried
    return f"z{i}: {factor} ({share:.2f})" if factor else f"z{i}: none"


def factor_controls() -> tuple:
    """The five factor widgets; their sprite's factors (shape name, scale, radians, x, y)."""
    shape = st.segmented_control("Shape", SHAPES, default="heart", key="sprites_shape") or "heart"
    scale = st.select_slider("Scale", SCALES, value=1.0, key="sprites_scale")
    degrees = st.slider(
        "Rotation (degrees)",
        0,
        360,
        0,
        key="sprites_rotation",
        help="Counter-clockwise. dSprites' grid has 40 orientations from 0 to 360 degrees (0 and 360 draw the same "
        "sprite); the renderer draws the angles between them too.",
    )
    x = st.slider("x position", 0.0, 1.0, 0.5, step=0.01, key="sprites_x", help="0 left, 1 right (32 on the grid)")
    y = st.slider("y position", 0.0, 1.0, 0.5, step=0.01, key="sprites_y", help="0 top, 1 bottom (32 on the grid)")
    radians = min(2 * math.pi, math.radians(float(degrees)))
    return shape, float(scale), radians, min(1.0, float(x)), min(1.0, float(y))


def sync(name: str, factors: tuple, mean: np.ndarray) -> np.ndarray | None:
    """Keep the latent sliders on the sprite's code whenever the model or a factor changes; the code before the last
    factor change (None after a model change or on the first run)."""
    state = st.session_state.get(STATE)
    fresh = state is None or state["model"] != name
    if fresh or state["factors"] != factors:
        set_sliders(mean)
        before = None if fresh else state["mean"]
        st.session_state[STATE] = {"model": name, "factors": factors, "mean": mean, "before": before}
    for i, v in enumerate(mean):  # a slider that was never drawn (more latents than before)
        st.session_state.setdefault(slider_key(i), float(np.clip(v, -SLIDER_RANGE, SLIDER_RANGE)))
    return st.session_state[STATE]["before"]


def set_sliders(mean: np.ndarray) -> None:
    for i, v in enumerate(mean):
        st.session_state[slider_key(i)] = round(float(np.clip(v, -SLIDER_RANGE, SLIDER_RANGE)), 2)


def code_figure(mean, logvar, before, labels) -> go.Figure:
    fig = go.Figure()
    if before is not None:
        fig.add_bar(x=labels, y=before.tolist(), name="before the last change", marker_color="rgba(150,150,150,0.45)")
    fig.add_bar(
        x=labels,
        y=mean.tolist(),
        name="the sprite's code",
        marker_color="#1f77b4",
        error_y={"type": "data", "array": np.exp(0.5 * logvar).tolist(), "thickness": 1, "color": "#555"},
        hovertemplate="%{x}: %{y:.2f}<extra></extra>",
    )
    top = max(
        SLIDER_RANGE, float(np.abs(mean).max()) + 0.5, float(np.abs(before).max()) + 0.5 if before is not None else 0
    )
    fig.update_layout(
        height=330,
        barmode="group",
        margin={"t": 30, "b": 10, "l": 10, "r": 10},
        yaxis={"range": [-top, top], "title": "encoder mean (± σ)"},
        legend={"orientation": "h", "y": 1.12},
    )
    return fig


def moved_sentence(mean, before) -> str:
    if before is None:
        return "Move a factor and watch which bar answers: the grey bars will keep the code from before."
    delta = np.asarray(mean) - np.asarray(before)
    order = np.argsort(-np.abs(delta))
    first, second = (int(i) for i in order[:2])
    return (
        f"Since the last change of a factor, **z{first}** moved most ({delta[first]:+.2f}), then z{second} "
        f"({delta[second]:+.2f}). A disentangled code moves one bar per factor."
    )


@st.cache_data(max_entries=64, show_spinner=False)
def traversal_png(name: str, factors: tuple, order: tuple[int, ...]) -> tuple[str, int]:
    """The grid as one PNG (data address): a row per latent in ``order``, a column per value; and the tile's size."""
    from PIL import Image

    mean = code(name, factors)[0]  # (L,)
    rows = []
    for i in order:
        codes = np.repeat(mean[None], len(TRAVERSE), axis=0)  # (T, L)
        codes[:, i] = TRAVERSE
        rows.append(decode(name, codes))  # (T, S, S)
    grid = np.stack(rows)  # (R, T, S, S)
    s = grid.shape[-1]
    scale = max(1, TILE // s)
    gap = 2 * scale
    tiles = np.kron(grid, np.ones((scale, scale)))  # (R, T, S*k, S*k) nearest neighbour
    size = s * scale
    mosaic = np.full((len(order) * (size + gap) - gap, len(TRAVERSE) * (size + gap) - gap), 0.35)
    for r in range(len(order)):
        for c in range(len(TRAVERSE)):
            mosaic[r * (size + gap) : r * (size + gap) + size, c * (size + gap) : c * (size + gap) + size] = tiles[r, c]
    buf = io.BytesIO()
    Image.fromarray(np.round(np.clip(mosaic, 0, 1) * 255).astype(np.uint8)).save(buf, "PNG")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode(), size + gap


def traversal_figure(source: str, pitch: int, row_labels: list[str]) -> go.Figure:
    fig = go.Figure(go.Image(source=source, hoverinfo="skip"))
    half = (pitch - 2) / 2
    fig.update_layout(
        height=min(900, 70 + 46 * len(row_labels)),
        margin={"t": 30, "b": 10, "l": 10, "r": 10},
        xaxis={
            "tickvals": [c * pitch + half for c in range(len(TRAVERSE))],
            "ticktext": [f"{v:+.2f}" for v in TRAVERSE],
            "title": "the latent's value (the others kept)",
            "side": "top",
        },
        yaxis={"tickvals": [r * pitch + half for r in range(len(row_labels))], "ticktext": row_labels},
    )
    return fig


def mi_figure(nmi: np.ndarray, order: list[int]) -> go.Figure:
    fig = go.Figure(
        go.Heatmap(
            z=nmi[order],
            x=list(FACTOR_NAMES),
            y=[f"z{i}" for i in order],
            zmin=0,
            zmax=1,
            colorscale="Blues",
            texttemplate="%{z:.2f}",
            hovertemplate="%{y} and %{x}: %{z:.2f} of the factor's entropy<extra></extra>",
            colorbar={"title": "MI / H"},
        )
    )
    fig.update_layout(height=min(900, 60 + 44 * len(order)), margin={"t": 30, "b": 10, "l": 10, "r": 10})
    fig.update_yaxes(autorange="reversed")
    return fig


@st.fragment
def explorer(name: str, model) -> None:
    """Moving a factor or a latent slider reruns this part only."""
    card = model.card
    latents = model.latents
    carried = cards.carriers(card, latents)
    labels = [latent_label(i, c) for i, c in enumerate(carried)]
    order = cards.kl_order(card, latents)
    kl = cards.kl_per_latent(card, latents)

    st.subheader("Factors in, code out", anchor=False)
    left, middle, right = st.columns([1.1, 0.9, 2], gap="medium")
    with left:
        factors = factor_controls()
    mean, logvar, reconstruction = code(name, factors)
    before = sync(name, factors, mean)
    with middle:
        pictured(sprite(factors), "The sprite (64x64)")
        pictured(reconstruction, f"Decoded from its code ({reconstruction.shape[-1]}x{reconstruction.shape[-1]})")
    with right:
        st.plotly_chart(code_figure(mean, logvar, before, labels), width="stretch", key="sprites_code")
        st.caption(moved_sentence(mean, before))

    st.subheader("Latent sliders", anchor=False)
    st.caption(
        "Ordered by KL (nats each latent spends on held-out sprites, from the card): the first ones carry the most; "
        "a latent near 0 nats has collapsed to the prior and moves nothing. They start at the sprite's code."
    )
    sliders, picture = st.columns([3, 1], gap="medium")
    with sliders:
        columns = st.columns(5)
        for j, i in enumerate(order):
            columns[j % 5].slider(
                f"z{i}" + (f" ({kl[i]:.2f} nats)" if kl[i] is not None else ""),
                -SLIDER_RANGE,
                SLIDER_RANGE,
                step=0.05,
                key=slider_key(i),
                help=labels[i].replace(": ", " carries most: ") + " (normalised mutual information, from the card)",
            )
        st.button("Back to the sprite's code", on_click=set_sliders, args=(mean,), key="sprites_reset")
    z = np.array([st.session_state[slider_key(i)] for i in range(latents)], dtype=np.float32)  # (L,)
    with picture:
        pictured(decode(name, z)[0], "Decoded from the sliders")

    st.subheader("Traversal grid", anchor=False)
    nmi = cards.normalised_mi(card)
    grid, matrix = st.columns([3, 2], gap="medium")
    with grid:
        source, pitch = traversal_png(name, factors, tuple(order))
        st.plotly_chart(traversal_figure(source, pitch, [labels[i] for i in order]), width="stretch")
        st.caption(
            "Each row sets one latent to -2.5 ... +2.5 from the sprite's code above, the others kept. A row is "
            f"labelled by the factor it carries most (share of that factor's entropy; 'none' under {cards.CARRIES})."
        )
    with matrix:
        if nmi is None or len(nmi) != latents:
            st.info("This model's card holds no mutual-information matrix.")
        else:
            st.plotly_chart(mi_figure(nmi, order), width="stretch")
            st.caption(
                "Mutual information between each latent (20 equal-width bins of its encoder mean) and each true "
                "factor, divided by the factor's entropy. Disentangled: one bright cell per column, in its own row."
            )
