"""What the disentangling page's sections share: the models and cards (cached once per server), sprites encoded and
codes decoded (cached per question), and sprites shown large and crisp."""

from __future__ import annotations

import numpy as np
import streamlit as st

from gallery import registry, ui
from gallery.sprites import cards

DEFAULT = "sprites-beta-tcvae"  # the one named in the rebuild message when no sprites model is there at all
SHOWN_PIXELS = 192  # a sprite on screen, whatever its size in the model


def available() -> list[str]:
    """The sprites artifacts in pretrained/ (intact or not: a broken one explains itself when picked)."""
    return cards.sprites_artifacts(registry.list_artifacts())


@st.cache_resource(max_entries=16, show_spinner="Loading a sprites model ...")
def load(name: str):
    from gallery.sprites import model

    m = model.load(name)
    ui.limit_threads()  # visitors share the cores: one thread per request is fastest overall
    return m


@st.cache_data(max_entries=16, show_spinner=False)
def card(name: str) -> dict | None:
    """A model's card (no weights loaded), or None where its artifact is missing or broken."""
    try:
        return registry.read_json(registry.check_artifact(name) / "card.json")
    except (registry.ArtifactError, OSError, ValueError):
        return None


def all_cards(names: list[str]) -> dict[str, dict]:
    return {name: c for name in names if (c := card(name)) is not None}


@st.cache_data(max_entries=512, show_spinner=False)
def sprite(factors: tuple) -> np.ndarray:
    """(shape name, scale, orientation in radians, x, y) -> (64, 64) uint8 0/1."""
    from gallery.sprites import render

    return render.render_one(*factors)


@st.cache_data(max_entries=512, show_spinner=False)
def code(name: str, factors: tuple) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sprite's code: the encoder's mean (L,), its log-variance (L,) and the reconstruction (S, S)."""
    m = load(name)
    mean, logvar = m.encode(sprite(factors)[None])  # (1, L) each
    return mean[0], logvar[0], m.decode(mean)[0]


@st.cache_data(max_entries=256, show_spinner=False)
def decode_bytes(name: str, codes: bytes, latents: int) -> np.ndarray:
    return load(name).decode(np.frombuffer(codes, dtype=np.float32).reshape(-1, latents).copy())  # (N, S, S)


def decode(name: str, codes: np.ndarray) -> np.ndarray:
    """Codes (N, L) -> pixel probabilities (N, S, S); cached on the codes' bytes."""
    codes = np.ascontiguousarray(np.atleast_2d(codes), dtype=np.float32)
    return decode_bytes(name, codes.tobytes(), codes.shape[1])


def big(picture: np.ndarray, pixels: int = SHOWN_PIXELS) -> np.ndarray:
    """A sprite (S, S) of 0/1 or probabilities, scaled up by nearest neighbour to about ``pixels``: uint8 grey."""
    grey = np.round(np.clip(picture, 0, 1) * 255).astype(np.uint8)
    scale = max(1, pixels // grey.shape[0])
    return np.kron(grey, np.ones((scale, scale), dtype=np.uint8))


def pictured(picture: np.ndarray, caption: str) -> None:
    st.image(big(picture), caption=caption, width=SHOWN_PIXELS)
