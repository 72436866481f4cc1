"""The "Upload a photo" tab: a face photo or a digit, checked, encoded, and its code put on the sliders."""

from __future__ import annotations

import numpy as np
import streamlit as st

from gallery.vae import data as vae_data
from gallery.vae.scoring import most_likely_class
from pages.vae_explorer.common import decode, show
from pages.vae_explorer.state import View, set_code


def upload_changed(v: View) -> None:
    """A new upload: validate it; on success its code drives the sliders, on failure nothing else changes."""
    space, model = v.space, v.model
    file = st.session_state.get(f"{space}_upload")
    st.session_state.pop(f"{space}_upload_error", None)
    if file is None:
        st.session_state.pop(f"{space}_uploaded", None)
        return
    try:
        img = vae_data.open_image(file.getvalue())
    except ValueError as err:
        st.session_state[f"{space}_upload_error"] = f"{file.name}: {err}"
        return
    note = "No face detector is available here: the photo is centre-cropped to a square and shrunk to 64x64."
    if space == "faces":
        seen = vae_data.face_array(img)
        z = model.encode(seen[None])[0]
        digit = 0
    else:
        seen, inverted = vae_data.digit_array(img)
        digit = int(most_likely_class(model.net, seen[None])[0])
        z = model.encode(seen[None], [digit])[0]
        note = (
            "Centre-cropped, shrunk to 28x28 and greyscaled"
            + (", then inverted to light-on-dark like MNIST" if inverted else "")
            + f". The model finds class {digit} most likely, so it is encoded as a {digit}."
        )
        st.session_state["digits_class"] = digit
    preview = np.asarray(vae_data.centre_square(img.convert("RGB"), 128))
    st.session_state[f"{space}_uploaded"] = {"name": file.name, "preview": preview, "seen": seen, "z": z, "note": note}
    set_code(v, z)


def upload(v: View, up: dict | None) -> None:
    """The uploader, its error, and (after an upload) what the model sees and draws back."""
    space = v.space
    st.file_uploader(
        "A face photo (the face should fill the middle)" if space == "faces" else "A picture of one digit",
        key=f"{space}_upload",
        on_change=upload_changed,
        args=(v,),
        help=f"JPEG, PNG, WebP or BMP, up to {vae_data.MAX_UPLOAD_BYTES // 2**20} MB "
        f"and {vae_data.MAX_UPLOAD_PIXELS // 10**6} megapixels.",
    )
    if err := st.session_state.get(f"{space}_upload_error"):
        st.error(err + " Nothing else was changed.")
    if up:
        st.caption(up["note"])
        c1, c2, c3 = st.columns(3)
        with c1:
            st.image(up["preview"], caption="your picture (centre square)", width=192)
        with c2:
            show([up["seen"]], width=192, caption="what the model sees")
        with c3:
            show(decode(v.kind, up["z"], v.digit), width=192, caption="its reconstruction")
        st.caption("Its code now drives the sliders above; press Reset or New sample to leave it.")
