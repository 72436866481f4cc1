"""Loading the VAEs once per server, decoding codes (cached), and showing the pictures crisp."""

from __future__ import annotations

import numpy as np
import streamlit as st

from gallery import ui
from gallery.vae import model as vae

SLIDER_RANGE = 3.0  # prior standard deviations
GRID_STEPS = 7
BATCH = 16
MODEL_LABELS = {
    "faces-sharp": "Faces, sharp decoder",
    "faces": "Faces, faithful decoder",
    "digits": "Digits (MNIST, conditional)",
}


@st.cache_resource(max_entries=len(MODEL_LABELS), show_spinner="Loading the VAE ...")
def load(kind: str):
    model = vae.load(f"vae-{kind}")
    ui.limit_threads()  # several visitors share two cores: one thread per decode is fastest overall
    return model


def load_if_intact(kind: str):
    """The model, or None where its artifact is missing or broken (for the optional parts that borrow it)."""
    from gallery.registry import ArtifactError

    try:
        return load(kind)
    except ArtifactError:
        return None


def available(name: str) -> bool:
    return load_if_intact(name) is not None


def sharp_card() -> dict | None:
    """The sharp model's card (it holds the measurements of both face decoders), or None where it is broken."""
    sharp_model = load_if_intact("faces-sharp")
    return sharp_model.card if sharp_model else None


@st.cache_data(max_entries=64, show_spinner=False)
def decode_cached(kind: str, codes: bytes, n: int, digit: int) -> np.ndarray:
    """Decode a batch of codes (as bytes, so the cache can key on them) into uint8 images."""
    m = load(kind)
    return m.decode(np.frombuffer(codes, dtype=np.float32).reshape(n, -1), digit)


def decode(kind, codes, digit=0) -> np.ndarray:
    codes = np.ascontiguousarray(np.atleast_2d(codes), dtype=np.float32)
    return decode_cached(kind, codes.tobytes(), len(codes), int(digit))


def show(images, width=None, caption=None):
    """Upscale tiny images with nearest neighbour so they stay crisp, then show them."""
    scale = 4 if images[0].shape[0] <= 32 else 3
    big = [np.kron(img, np.ones((scale, scale) + (1,) * (img.ndim - 2), dtype=np.uint8)) for img in images]
    st.image(big, width=width or "content", caption=caption)


def decoder_label(name: str) -> str:
    """ "sharp decoder" or "faithful decoder": a caption under a face model's picture."""
    return MODEL_LABELS[name].split(", ")[1]
