"""The source "Your own vectors": an upload of vectors and metadata, mapped on demand, then the map view and a CSV."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import streamlit as st

from gallery.maps import own
from gallery.maps.project import METHOD_NAMES, METHODS
from pages.maps import settings, view


@st.cache_resource(show_spinner="Reading your vectors ...", max_entries=4, ttl=3600)
def read(key: tuple, _raw: bytes, name: str, _meta: bytes | None, meta_name: str | None) -> own.OwnData | str:
    """Your vectors and metadata, read and checked (or what is wrong with them), cached by their content."""
    try:
        return own.parse(_raw, name, _meta, meta_name)
    except own.BadInput as err:
        return str(err)


@st.cache_resource(show_spinner=False, max_entries=8, ttl=3600)
def compute(vectors: str, s: settings.Settings, _data: own.OwnData):
    """A map of your vectors, exactly as for the built-in data sets: (rows, coords, faithfulness, projection).
    The vectors file's sha256 and the settings key the cache: metadata changes no map."""
    from gallery.maps.project import faithfulness, project

    rows = own.sample_rows(len(_data), s.n, s.seed)
    X = _data.features[rows]
    proj = project(X, s.method, s.dims, s.seed, **dict(s.params))
    return rows, proj.coords, faithfulness(X, proj.coords, seed=s.seed, keep_neighbours=True), proj


@st.cache_resource(show_spinner="Clustering ...", max_entries=8, ttl=3600)
def clusters(vectors: str, s: settings.Settings, k: int, _X: np.ndarray) -> np.ndarray:
    from gallery.maps.project import kmeans

    return kmeans(_X, k, 0)


def explorer(method_slot) -> None:
    """Upload, settings, the map with its faithfulness, search, download."""
    method = (
        method_slot.segmented_control("Method", METHODS, default="pca", format_func=METHOD_NAMES.get, key="own_method")
        or "pca"
    )
    uploaded = upload()
    if uploaded is None:
        return
    data, vectors = uploaded
    columns = list(data.columns)
    st.caption(
        f"**{data.name}**: {len(data):,} points x {data.dims:,} dimensions ({own.FORMATS[data.format]}); "
        + (f"metadata columns: {', '.join(columns)}." if columns else "no metadata (the points are numbered).")
    )

    # ------------------------------------------------------------------------------------- on-demand settings
    shown_key = f"own_map_{method}"
    mapped = (st.session_state.get(shown_key) or ("",))[0] == vectors  # the map depends on the vectors alone
    s, note, pressed, box = settings.panel(
        "Settings (3-D, sample size, seed, perplexity, neighbours)",
        method,
        len(data),
        "Points (random sample)",
        "Map these vectors",
        "own_compute",
        key="own_",
        expanded=method != "pca" and not mapped,
        caption="PCA follows the settings as they change; t-SNE and UMAP run when you press the button.",
    )
    with box:
        if (pressed or method == "pca") and settings.run(s, note, lambda s: compute(vectors, s, data)):
            st.session_state[shown_key] = (vectors, s)
    on_show = st.session_state.get(shown_key)
    if on_show is None or on_show[0] != vectors:
        st.info(f"Press **Map these vectors** to compute the {METHOD_NAMES[method]} map ({note}).")
        return
    s = on_show[1]
    rows, coords, faith, proj = compute(vectors, s, data)

    # ------------------------------------------------------------------------------------- the map view
    seen = view.show(
        view.MapView(
            key="own",
            method=s.method,
            coords=coords,
            faith=faith,
            variance=proj.explained_variance,
            caption=f"Your vectors ({data.name}), {METHOD_NAMES[s.method]} map: {s.dims}-D, {len(rows):,} of "
            f"{len(data):,} points, seed {s.seed}, {s.describe()} ({proj.seconds:.1f} s)",
            points=lambda label: data.map_data(label, rows),
            colours={c: [v[r] for r in rows] for c, v in data.columns.items()},
            clusters=lambda k: clusters(vectors, s, k, data.features[rows]),
            names=columns,
            distance_key="own_distance",
            fresh=f"_{data.sha256[:16]}",  # a new file starts with its own defaults (names and colours)
        )
    )
    with seen.side:
        st.download_button(
            "Download the map (CSV)",
            data=lambda: own.to_csv(data, coords, rows, seen.names_from),
            file_name=f"{Path(data.name).stem or 'vectors'}-{s.method}-{s.dims}d.csv",
            mime="text/csv",
            on_click="ignore",
            key="own_download",
            help="Every metadata column (the names column as `label`), then x, y (and z), in your file's order; a "
            "sample starts with `index`, the row in your file from 0.",
        )

    with st.expander("How it works"):
        st.markdown(
            f"""
    **Your points.** {seen.points.description}. The map is made from your numbers as they are: distances are Euclidean
    (normalise your vectors to unit length first if cosine is what they mean); the nearest neighbours listed for a
    searched point are measured in the original space, by cosine or Euclidean distance as you choose. A sample is
    drawn at random (the seed picks it), in your file's order.
    {view.HOW_MAPS_WORK}
    Beyond 3,000 points it is measured over 3,000 sampled points.
    """
        )


def upload() -> tuple[own.OwnData, str] | None:
    """The two uploaders, read and checked: (the vectors with their metadata, the vectors file's sha256), or None
    (and what to do) without."""
    cap_mb = st.get_option("server.maxUploadSize")
    up = st.columns(2)
    vectors = up[0].file_uploader(
        "Vectors: a Projector TSV, word2vec text or a .npy array",
        key="own_vectors",
        help="TSV: one point a line, its numbers separated by tabs, no header. word2vec text: a first line `N D`, "
        "then a word and its D numbers per line. .npy: a 2-D array saved by numpy.save.",
    )
    metadata = up[1].file_uploader(
        "Metadata (optional): a TSV with one row per point",
        key="own_metadata",
        help="In the vectors' order. A header row naming the columns when there is more than one column; a "
        "one-column file has none (as in the Embedding Projector).",
    )
    if vectors is None:
        st.info(
            f"Upload your vectors, as the TensorFlow Embedding Projector takes them: up to {own.MAX_POINTS:,} points "
            f"and {own.MAX_DIMS:,} dimensions, in a file of up to {cap_mb} MB (a float32 .npy of {cap_mb} MB holds "
            f"about {cap_mb * 250_000:,} numbers, say {cap_mb * 250_000 // own.MAX_POINTS:,} dimensions for "
            f"{own.MAX_POINTS:,} points; `python -m gallery maps project --vectors FILE` takes larger files). A "
            "metadata TSV names the points and colours the map."
        )
        return None
    raw = vectors.getvalue()
    meta = None if metadata is None else metadata.getvalue()
    for uploaded, content in ((vectors, raw), (metadata, meta)):
        if content is not None and len(content) > cap_mb * 1024 * 1024:  # the server's cap, kept here too
            st.error(
                f"{uploaded.name} is {len(content) / 1e6:,.0f} MB; files up to {cap_mb} MB can be uploaded here. "
                "`python -m gallery maps project --vectors FILE` takes larger files."
            )
            return None
    key = (hashlib.sha256(raw).hexdigest(), None if meta is None else hashlib.sha256(meta).hexdigest())
    data = read(key, raw, vectors.name, meta, None if metadata is None else metadata.name)
    if isinstance(data, str):
        st.error(f"These vectors cannot be mapped: {data.rstrip('.')}.")
        return None
    return data, key[0]
