"""The settings of a map computed on demand, what they will cost (said before it runs), and running it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st

from gallery.maps.costs import estimate_seconds, load_costs
from gallery.maps.project import MAX_POINTS, METHOD_NAMES


@dataclass(frozen=True)
class Settings:
    """One map to compute: the method, its dimensions, sample size and seed, and the method's own settings."""

    method: str
    dims: int
    n: int
    seed: int
    params: tuple  # (name, value) pairs, sorted: hashable, so the caches can key on them

    def describe(self) -> str:
        return describe(self.params)


def describe(params) -> str:
    """``(("perplexity", 30.0), ...)`` -> "perplexity 30, ..."; no settings -> "defaults"."""
    return ", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in params) or "defaults"


def panel(
    title: str,
    method: str,
    total: int,
    points_label: str,
    button: str,
    button_key: str,
    *,
    key: str = "",
    expanded: bool = False,
    caption: str = "",
):
    """The settings in an expander, in a bordered box with their button (plain widgets, not a form: the cost
    estimate follows every change): (settings, cost note, pressed, the expander for more)."""
    box = st.expander(title, expanded=expanded)
    with box, st.container(border=True):
        s, note = choose(method, total, points_label, key)
        pressed = st.button(button, type="primary", key=button_key)
        if caption:
            st.caption(caption)
    return s, note, pressed, box


def choose(method: str, total: int, points_label: str, key: str = "") -> tuple[Settings, str]:
    """Dimensions, sample size, seed and the method's own settings, then what they will cost: (settings, note).
    ``key`` prefixes the widgets' keys (none: Streamlit's keys from the labels)."""
    name = (lambda w: f"{key}{w}") if key else (lambda w: None)
    c = st.columns(4)
    dims = c[0].radio("Dimensions", (2, 3), horizontal=True, key=name("dims"))
    cap = min(total, MAX_POINTS[method])
    n = c[1].number_input(points_label, 5, cap, min(cap, total), step=100, key=name("n"))
    seed = c[2].number_input("Seed", 0, 10_000, 0, key=name("seed"))
    params: dict = {}
    if method == "tsne":
        params["perplexity"] = c[3].slider("Perplexity", 2.0, 100.0, 30.0, 1.0, key=name("perplexity"))
        params["iterations"] = c[3].slider("Iterations", 250, 3000, 1000, 250, key=name("iterations"))
    elif method == "umap":
        params["n_neighbors"] = c[3].slider("Neighbours", 2, 200, 15, key=name("neighbours"))
        params["min_dist"] = c[3].slider("Minimum distance", 0.0, 1.0, 0.1, 0.05, key=name("min_dist"))
    first_umap = method == "umap" and not st.session_state.get("umap_warm", False)
    est = estimate_seconds(load_costs(), method, int(n), params.get("iterations", 1000), first_umap)
    note = f"about {est:.0f} s on this machine" if est is not None else "unknown (no benchmark table)"
    if first_umap:
        note += ", including UMAP's one-off numba compile"
    st.caption(
        f"Estimated cost: {note}. Caps: t-SNE {MAX_POINTS['tsne']:,} points (its cost grows fast and the "
        f"Embedding Projector stops there too), UMAP {MAX_POINTS['umap']:,}; this map has {total:,} points."
    )
    return Settings(method, int(dims), int(n), int(seed), tuple(sorted(params.items()))), note


def run(s: Settings, note: str, compute: Callable[[Settings], object]) -> bool:
    """``compute(s)`` (a cached call), with a spinner that says what it costs: whether the map was made."""
    if any(dict(s.params).get(p, 2) >= s.n for p in ("n_neighbors", "perplexity")):
        st.error("The perplexity and the number of neighbours must be below the number of points.")
        return False
    with st.spinner(f"Computing {METHOD_NAMES[s.method]} of {s.n:,} points ({note}) ..."):
        try:
            compute(s)
        except ValueError as err:
            st.error(str(err))
            return False
    if s.method == "umap":
        st.session_state["umap_warm"] = True
    return True
