"""The committed maps: a precomputed map, or one computed on demand from the artifact's points, then the cluster
browser and how the maps were made."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from gallery import ui
from gallery.maps import data as mdata
from gallery.maps.costs import load_costs
from gallery.maps.project import K_NEIGHBOURS, METHOD_NAMES, METHODS
from pages.maps import settings, view

TITLES = {
    "skills-word2vec": "Skills (word2vec)",
    "skills-fasttext": "Skills (fastText)",
    "skills-glove": "Skills (GloVe)",
    "digits": "Digits (raw pixels)",
    "vae-digits": "Digits (VAE latent means)",
    "vae-faces": "Faces (VAE latent means)",
    "resumes": "Résumés (TF-IDF)",
}


@st.cache_resource(ttl=300, show_spinner=False)
def availability() -> dict:
    return mdata.available()


@st.cache_resource(max_entries=len(TITLES), show_spinner="Loading the map ...")
def load(dataset: str) -> mdata.MapArtifact:
    return mdata.load_map(dataset)


@st.cache_resource(show_spinner=False, max_entries=24)
def compute(dataset: str, s: settings.Settings):
    """A map computed on demand (cached for every visitor): (rows, coords, faithfulness, projection info)."""
    from gallery.maps.project import faithfulness, project

    art = load(dataset)
    rows = art.data.sample_rows(s.n, s.seed)
    X = art.data.features[rows]
    proj = project(X, s.method, s.dims, s.seed, **dict(s.params))
    return rows, proj.coords, faithfulness(X, proj.coords, seed=s.seed), proj


@st.cache_resource(show_spinner="Clustering ...", max_entries=32)
def clusters(dataset: str, rows_key: tuple, k: int, seed: int) -> np.ndarray:
    from gallery.maps.project import kmeans

    art = load(dataset)
    return kmeans(art.data.features[np.asarray(rows_key)], k, seed)


def explorer(dataset: str, method_slot) -> None:
    """One committed map: the method, the settings to compute another, the map view, the cluster browser."""
    art = ui.load_or_stop(load, dataset)
    stored = [m for m in METHODS if m in art.coords]
    method = method_slot.segmented_control(
        "Method", METHODS, default="umap" if "umap" in art.coords else stored[-1], format_func=METHOD_NAMES.get
    )
    method = method or (stored[-1])
    data = art.data

    # ------------------------------------------------------------------------------------- on-demand settings
    custom_key = f"custom_{dataset}_{method}"
    s, note, pressed, box = settings.panel(
        "Other settings (3-D, sample size, perplexity, neighbours): computed on demand"
        if method in art.coords
        else f"{METHOD_NAMES[method]} is not precomputed for this data set: choose its settings and compute it",
        method,
        len(data),
        "Points (stratified sample)",
        "Compute this map",
        f"compute_{dataset}_{method}",
        expanded=method not in art.coords,
    )
    with box:
        if pressed and settings.run(s, note, lambda s: compute(dataset, s)):
            st.session_state[custom_key] = s
        if custom_key in st.session_state and st.button(
            "Back to the precomputed map", disabled=method not in art.coords
        ):
            del st.session_state[custom_key]
            st.rerun()

    if custom_key in st.session_state:
        s = st.session_state[custom_key]
        rows, coords, faith, proj = compute(dataset, s)
        origin = f"computed on demand: {s.dims}-D, {s.n:,} points, seed {s.seed}, {s.describe()} ({proj.seconds:.1f} s)"
        variance = proj.explained_variance
    elif method in art.coords:
        rows, coords = np.arange(len(data)), art.coords[method]
        info = art.config["maps"][method]
        faith, variance = info, info.get("explained_variance", [])
        origin = f"precomputed: 2-D, {len(data):,} points, {settings.describe(info['params'].items())}"
    else:
        st.info(f"{METHOD_NAMES[method]} has no precomputed map here: open the settings above and compute one.")
        return

    shown = data if len(rows) == len(data) else data.subset(rows)
    stored_k = art.config["clusters"]["k"]

    def cluster_labels(k: int) -> np.ndarray:
        if k == stored_k and len(shown) == len(data):
            return np.asarray(art.config["clusters"]["labels"])
        return clusters(dataset, tuple(int(r) for r in rows), k, 0)

    seen = view.show(
        view.MapView(
            key=dataset,
            method=method,
            coords=coords,
            faith=faith,
            variance=variance,
            caption=f"{TITLES[dataset]}, {METHOD_NAMES[method]} map, {origin}",
            points=lambda _: shown,
            colours=shown.labels,
            clusters=cluster_labels,
            k=stored_k,
            always_cluster=True,
        )
    )
    cluster_browser(dataset, shown, seen.clusters, seen.k)

    # ------------------------------------------------------------------------------------- explanations
    with st.expander("How it works"):
        st.markdown(
            f"""
    **The points.** {data.description}. Distances are Euclidean in that original space (skill vectors and TF-IDF rows
    have unit length, so the order is that of cosine similarity).
    {view.HOW_MAPS_WORK}
    It is measured on the stored float16 coordinates; beyond 3,000 points, over 3,000 sampled points.
    """
        )

    ui.lazy_expander("How these maps were made", "maps_made", how_these_maps_were_made, art, load_costs())


def cluster_browser(dataset: str, shown: mdata.MapData, cluster_of: np.ndarray, k: int) -> None:
    """One KMeans cluster's members: thumbnails, résumé openings or names, and its most common label."""
    st.subheader("Cluster browser")
    sizes = np.bincount(cluster_of, minlength=k)
    which = st.selectbox(
        f"KMeans with k = {k}, computed in the original space",
        range(k),
        format_func=lambda c: f"cluster {c} ({sizes[c]:,} points)",
        key=f"cluster_{dataset}",
    )
    members = np.flatnonzero(cluster_of == which)
    if shown.weights:
        members = members[np.argsort([-shown.weights[i] for i in members], kind="stable")]
    if shown.images is not None:
        st.image([shown.images[i] for i in members[:48]], width=56)
    elif shown.texts:
        st.dataframe(
            pd.DataFrame({"résumé": [shown.ids[i] for i in members], "opening": [shown.texts[i] for i in members]}),
            hide_index=True,
            width="stretch",
        )
    else:
        st.markdown(
            ", ".join(shown.ids[i].replace("_", " ") for i in members[:150]) + (" ..." if len(members) > 150 else "")
        )
    if shown.labels:
        kind = next(iter(shown.labels))
        share = pd.Series([shown.labels[kind][i] for i in members]).value_counts().head(5)
        st.caption(f"Most common {kind} in this cluster: " + ", ".join(f"{a} ({b})" for a, b in share.items()))


def how_these_maps_were_made(art, costs) -> None:
    card = art.card
    rows_table = [
        {
            "map": METHOD_NAMES[m],
            "trustworthiness": v["trustworthiness"],
            f"{K_NEIGHBOURS}-NN kept": v["knn_overlap"],
            "seconds": v["seconds"],
        }
        for m, v in card["metrics"].items()
    ]
    r = card["baseline"]["random placement"]
    rows_table.append(
        {
            "map": "random placement (baseline)",
            "trustworthiness": r["trustworthiness"],
            f"{K_NEIGHBOURS}-NN kept": r["knn_overlap"],
            "seconds": 0.0,
        }
    )
    st.table(pd.DataFrame(rows_table).set_index("map"))
    st.markdown(
        f"{card['model']}, computed in {card['train_seconds']:.0f} s on {card['hardware']}. "
        f"**Data:** {card['data']['data']} (licence: {card['data']['licence']})."
    )
    st.markdown("**Rebuild this artifact:**")
    st.code(card["train_command"], language="bash")
    if costs:
        st.markdown("**What a map costs on this machine** (`python -m benchmarks.maps`):")
        cost_rows = [
            {"points": f"{r2['n']:,}"}
            | {METHOD_NAMES.get(k2, k2): ("capped" if v is None else f"{v:.1f} s") for k2, v in r2.items() if k2 != "n"}
            for r2 in costs["rows"]
        ]
        st.table(pd.DataFrame(cost_rows).set_index("points"))
        if costs.get("umap_compile_seconds"):
            st.caption(f"UMAP's first call in a server process adds about {costs['umap_compile_seconds']:.0f} s.")
