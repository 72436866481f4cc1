"""The code on show, kept in Session State per code space, and the callbacks that move it.

The two face models share one code space ("faces": one encoder), so they share their code, sliders and upload;
the digits have their own. A View is what one run of the explorer shows: every section reads it, and each
callback gets the View of the run that drew its widget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from gallery import ui
from gallery.vae.model import VAEModel
from pages.vae_explorer.common import SLIDER_RANGE, available, load, load_if_intact


@dataclass
class View:
    kind: str  # the model on show: "faces-sharp", "faces" or "digits"
    model: VAEModel
    attr_model: VAEModel  # whose attribute directions the sliders use (faces-sharp's serve both face decoders)
    ranked: list[int] = field(default_factory=list)  # latent dimensions, busiest first
    z_now: np.ndarray | None = None  # the code on show: the sliders' code moved by the attribute sliders
    digit: int = 0
    compare: bool = False  # the other face decoder draws the same code beside this one

    @property
    def space(self) -> str:
        return "digits" if self.kind == "digits" else "faces"

    @property
    def latent(self) -> int:
        return self.model.latent

    @property
    def attributes(self) -> list[str]:
        return self.attr_model.config.get("attributes", [])

    @property
    def other(self) -> str | None:
        """The other decoder of the same code (None for the digits)."""
        return {"faces-sharp": "faces", "faces": "faces-sharp"}.get(self.kind)

    def dim_key(self, i: int) -> str:
        return f"{self.space}_dim_{i}"

    def attr_key(self, a: str) -> str:
        return f"{self.space}_attr_{a}"


def attribute_model(kind: str, model):
    """Whose attribute directions the sliders use: faces-sharp's measured ones serve both face decoders (one code
    space); the faithful decoder falls back to its own group-mean directions when faces-sharp is unavailable."""
    if kind == "faces":
        return load_if_intact("faces-sharp") or model
    return model


def face_density():
    """The Gaussian fitted to the training faces' codes (stored with faces-sharp; both face models share codes)."""
    sharp_model = load_if_intact("faces-sharp")
    return sharp_model.density() if sharp_model else None


def prepare(kind: str) -> View:
    """Load the model (or stop with the reason), make sure its code and sliders exist, and compute the code on show."""
    model = ui.load_or_stop(load, kind)
    v = View(kind, model, attribute_model(kind, model), model.ranked_dims())
    space = v.space
    st.session_state.setdefault(f"{space}_seed", 0)
    st.session_state.setdefault("faces_density", "fitted")
    if f"z_{space}" not in st.session_state:
        new_sample(v)
    # Streamlit forgets the state of widgets that were not drawn in a run (another model's sliders, sliders beyond
    # "how many"): put them back from the code before drawing.
    for i, value in enumerate(st.session_state[f"z_{space}"]):
        st.session_state.setdefault(v.dim_key(i), round(float(value), 2))
    for a in v.attributes:
        st.session_state.setdefault(v.attr_key(a), 0.0)

    offset = np.zeros(v.latent, np.float32)
    for a in v.attributes:
        offset += v.attr_model.attribute_offset(a, float(st.session_state.get(v.attr_key(a), 0.0)))
    v.z_now = st.session_state[f"z_{space}"] + offset
    v.digit = int(st.session_state.get("digits_class", 0)) if kind == "digits" else 0
    v.compare = bool(v.other and st.session_state.get("faces_compare") and available(v.other))
    return v


def draw_codes(v: View, n: int, seed: int) -> np.ndarray:
    """New codes as the sampling controls say: the fitted density or the prior, at the chosen temperature."""
    temperature = float(st.session_state.get(f"{v.space}_temperature", 1.0))
    fitted = v.space == "faces" and st.session_state.get("faces_density") == "fitted"
    density = face_density() if fitted else None
    if density is not None:
        return density.sample(n, seed, temperature)
    return v.model.sample_codes(n, seed=seed, temperature=temperature)


def set_code(v: View, z, attrs_to_zero: bool = True) -> None:
    """Make ``z`` the current code and move every latent slider to it (only from callbacks)."""
    z = np.clip(np.asarray(z, np.float32), -SLIDER_RANGE, SLIDER_RANGE)
    st.session_state[f"z_{v.space}"] = z
    for i in range(v.latent):
        st.session_state[v.dim_key(i)] = round(float(z[i]), 2)
    if attrs_to_zero:
        for a in v.attributes:
            st.session_state[v.attr_key(a)] = 0.0


def sliders_changed(v: View) -> None:
    z = st.session_state[f"z_{v.space}"].copy()
    for i in range(v.latent):
        if v.dim_key(i) in st.session_state:
            z[i] = st.session_state[v.dim_key(i)]
    st.session_state[f"z_{v.space}"] = z


def new_sample(v: View) -> None:
    set_code(v, draw_codes(v, 1, int(st.session_state[f"{v.space}_seed"]))[0])


def reset(v: View) -> None:
    set_code(v, np.zeros(v.latent, np.float32))


def grid_options(v: View) -> list[int]:
    """The latent dimensions the traversal grid offers: the busiest first."""
    return v.ranked[: max(2, min(v.latent, 16))]


def tab_defaults(v: View) -> dict:
    """The start values of the widgets in the tabs (theirs, not a default argument's: see the page's tabs)."""
    space = v.space
    start = {f"{space}_batch_seed": 0, f"{space}_frames": 8}
    for label, first in (("Start", 1), ("End", 2)):
        start |= {f"{space}_{label}_seed": first, f"{space}_{label}_ex": first}
    options = grid_options(v)
    return start | {f"{space}_gx": options[0], f"{space}_gy": options[1]}
