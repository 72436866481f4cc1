"""Embedding maps: PCA, t-SNE and UMAP of skills, digits, résumés and VAE latents, or your own vectors, each with its
faithfulness."""

import hashlib
import html
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from gallery import ui
from gallery.maps import data as mdata
from gallery.maps import own
from gallery.maps.costs import estimate_seconds, load_costs
from gallery.maps.project import K_NEIGHBOURS, MAX_POINTS, METHOD_NAMES, METHODS, label_agreement, neighbours

ui.page_config("Embedding maps", "🗺️")
st.title("Embedding maps")
st.caption(
    "Skills, digits, résumés and VAE latent codes, or your own vectors, flattened to 2-D by PCA, t-SNE and UMAP. Every "
    "map carries two numbers that say how far to trust it; search a point to see its true neighbours, measured in the "
    "original space."
)

TITLES = {
    "skills-word2vec": "Skills (word2vec)",
    "skills-fasttext": "Skills (fastText)",
    "skills-glove": "Skills (GloVe)",
    "digits": "Digits (raw pixels)",
    "vae-digits": "Digits (VAE latent means)",
    "vae-faces": "Faces (VAE latent means)",
    "resumes": "Résumés (TF-IDF)",
}
HOW_MAPS_WORK = """
    **PCA** rotates the data onto the directions of largest variance and keeps the first two or three: a linear,
    global view that keeps large distances but crushes local structure.

    **t-SNE** turns distances into neighbour probabilities (a Gaussian whose width is set by the *perplexity*, about
    the number of neighbours each point cares about) and places points so that a heavy-tailed Student-t on the map
    matches them, minimising KL(P ‖ Q). **UMAP** builds a fuzzy graph of each point's *n* nearest neighbours and lays
    it out with a cross-entropy loss; *minimum distance* sets how tightly it packs points. Both keep neighbourhoods,
    not distances: the size of a cluster and the gaps between clusters mean little. Inputs wider than 50 dimensions
    are first reduced to 50 by PCA.

    **Faithfulness.** Trustworthiness T(k) = 1 − 2 / (n k (2n − 3k − 1)) Σᵢ Σ_(j ∈ Uᵢ) (r(i, j) − k), where Uᵢ are the
    map's k nearest neighbours of i that are not among its k nearest in the original space and r(i, j) is j's rank
    there."""
OWN = "own"  # the source "Your own vectors": an upload, mapped on demand
CLUSTER = "KMeans cluster"
ONE_COLOUR = "(one colour)"
DISTANCES = {"cosine": "Cosine", "euclidean": "Euclidean"}
PALETTE = (
    "#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #393b79 #637939 #8c6d31 "
    "#843c39 #7b4173 #3182bd #e6550d #31a354 #756bb1 #636363 #fd8d3c #74c476 #9e9ac8 #969696 #6baed6 #fdae6b"
).split()


@st.cache_resource(ttl=300, show_spinner=False)
def availability() -> dict:
    return mdata.available()


@st.cache_resource(max_entries=len(TITLES), show_spinner="Loading the map ...")
def load(dataset: str) -> mdata.MapArtifact:
    return mdata.load_map(dataset)


@st.cache_resource(show_spinner=False, max_entries=24)
def compute(dataset: str, method: str, dims: int, n: int, seed: int, params: tuple):
    """A map computed on demand (cached for every visitor): (rows, coords, faithfulness, projection info)."""
    from gallery.maps.project import faithfulness, project

    art = load(dataset)
    rows = art.data.sample_rows(n, seed)
    X = art.data.features[rows]
    proj = project(X, method, dims, seed, **dict(params))
    return rows, proj.coords, faithfulness(X, proj.coords, seed=seed), proj


@st.cache_resource(show_spinner="Clustering ...", max_entries=32)
def clusters(dataset: str, rows_key: tuple, k: int, seed: int) -> np.ndarray:
    from gallery.maps.project import kmeans

    art = load(dataset)
    return kmeans(art.data.features[np.asarray(rows_key)], k, seed)


@st.cache_resource(show_spinner="Reading your vectors ...", max_entries=4, ttl=3600)
def own_data(key: tuple, _raw: bytes, name: str, _meta: bytes | None, meta_name: str | None) -> own.OwnData | str:
    """Your vectors and metadata, read and checked (or what is wrong with them), cached by their content."""
    try:
        return own.parse(_raw, name, _meta, meta_name)
    except own.BadInput as err:
        return str(err)


@st.cache_resource(show_spinner=False, max_entries=8, ttl=3600)
def own_compute(settings: tuple, _data: own.OwnData):
    """A map of your vectors, exactly as for the built-in data sets: (rows, coords, faithfulness, projection)."""
    from gallery.maps.project import faithfulness, project

    _, method, dims, n, seed, params = settings
    rows = own.sample_rows(len(_data), n, seed)
    X = _data.features[rows]
    proj = project(X, method, dims, seed, **dict(params))
    return rows, proj.coords, faithfulness(X, proj.coords, seed=seed, keep_neighbours=True), proj


@st.cache_resource(show_spinner="Clustering ...", max_entries=8, ttl=3600)
def own_clusters(settings: tuple, k: int, _X: np.ndarray) -> np.ndarray:
    from gallery.maps.project import kmeans

    return kmeans(_X, k, 0)


@st.fragment(key="maps")
def explorer() -> None:
    """The data set, the method, the map and everything drawn from it: a change reruns this part only."""
    status = availability()
    ready = [d for d, problem in status.items() if problem is None]
    missing = {d: problem for d, problem in status.items() if problem is not None}
    if not ready:
        st.error("No map has been built yet. Build the default maps from the project folder with:")
        st.code("python -m trainers.maps", language="bash")
        st.caption("Your own vectors can be mapped all the same.")

    top = st.columns([2, 2, 1])
    dataset = top[0].selectbox(
        "Data set", [*ready, OWN], format_func=lambda d: TITLES.get(d, "Your own vectors"), key="dataset"
    )
    if missing:
        with top[2].popover(f"{len(missing)} map(s) missing"):
            for d, problem in missing.items():
                st.markdown(f"**{TITLES[d]}**: {problem}")
    if dataset == OWN:
        own_explorer(top[1])
        return
    art = ui.load_or_stop(load, dataset)
    stored = [m for m in METHODS if m in art.coords]
    method = top[1].segmented_control(
        "Method", METHODS, default="umap" if "umap" in art.coords else stored[-1], format_func=METHOD_NAMES.get
    )
    method = method or (stored[-1])

    data = art.data

    # ------------------------------------------------------------------------------------- on-demand settings
    costs = load_costs()
    custom_key = f"custom_{dataset}_{method}"
    with st.expander(
        "Other settings (3-D, sample size, perplexity, neighbours): computed on demand"
        if method in art.coords
        else f"{METHOD_NAMES[method]} is not precomputed for this data set: choose its settings and compute it",
        expanded=method not in art.coords,
    ):
        with st.container(border=True):  # plain widgets, not a form: the cost estimate follows every change
            dims, n, seed, params, note = map_settings(method, len(data), "Points (stratified sample)", costs)
            go_compute = st.button("Compute this map", type="primary", key=f"compute_{dataset}_{method}")
        if go_compute:
            if too_small(params, int(n)):
                st.error("The perplexity and the number of neighbours must be below the number of points.")
            else:
                with st.spinner(f"Computing {METHOD_NAMES[method]} of {int(n):,} points ({note}) ..."):
                    try:
                        compute(dataset, method, int(dims), int(n), int(seed), tuple(sorted(params.items())))
                        st.session_state[custom_key] = (int(dims), int(n), int(seed), tuple(sorted(params.items())))
                        if method == "umap":
                            st.session_state["umap_warm"] = True
                    except ValueError as err:
                        st.error(str(err))
        if custom_key in st.session_state and st.button(
            "Back to the precomputed map", disabled=method not in art.coords
        ):
            del st.session_state[custom_key]
            st.rerun()

    if custom_key in st.session_state:
        dims, n, seed, params = st.session_state[custom_key]
        rows, coords, faith, proj = compute(dataset, method, dims, n, seed, params)
        setting = ", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in params) or "defaults"
        origin = f"computed on demand: {dims}-D, {n:,} points, seed {seed}, {setting} ({proj.seconds:.1f} s)"
        variance = proj.explained_variance
    elif method in art.coords:
        rows, coords = np.arange(len(data)), art.coords[method]
        info = art.config["maps"][method]
        faith, variance, dims = info, info.get("explained_variance", []), 2
        setting = ", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in info["params"].items()) or "defaults"
        origin = f"precomputed: 2-D, {len(data):,} points, {setting}"
    else:
        st.info(f"{METHOD_NAMES[method]} has no precomputed map here: open the settings above and compute one.")
        return

    shown = data if len(rows) == len(data) else data.subset(rows)
    N = len(shown)

    # ------------------------------------------------------------------------------------- colours and search
    controls = st.columns([1, 1, 2])
    colour_options = [*data.labels, CLUSTER]
    colour_by = controls[0].selectbox("Colour by", colour_options, key=f"colour_{dataset}")
    k = controls[1].slider("Clusters (k)", 2, min(30, N - 1), min(art.config["clusters"]["k"], N - 1))
    if k == art.config["clusters"]["k"] and N == len(data):
        cluster_of = np.asarray(art.config["clusters"]["labels"])
    else:
        cluster_of = clusters(dataset, tuple(int(r) for r in rows), k, 0)
    groups = [f"cluster {c}" for c in cluster_of] if colour_by == CLUSTER else shown.labels[colour_by]
    query = controls[2].text_input(
        "Find a point", placeholder="e.g. " + ", ".join(shown.ids[:3]), max_chars=100, key=f"find_{dataset}"
    )
    focus, near = None, np.array([], dtype=int)
    if query.strip():
        found = shown.find(query)
        if not found:
            st.warning(f"No point on this map is named like '{query.strip()}'. Try one of: {', '.join(shown.ids[:5])}.")
        else:
            if len(found) > 1:
                focus = controls[2].selectbox(
                    f"{len(found)} matches", found, format_func=lambda i: shown.ids[i], key=f"pick_{dataset}"
                )
            else:
                focus = found[0]
            near, dist = neighbours(shown.features, focus, K_NEIGHBOURS)

    def hover(i: int) -> str:
        parts = [f"<b>{shown.ids[i]}</b>"] + [f"{kind}: {v[i]}" for kind, v in shown.labels.items()]
        if colour_by == CLUSTER:
            parts.append(f"cluster {cluster_of[i]}")
        if shown.texts:
            parts.append(shown.texts[i][:120] + "...")
        return "<br>".join(parts)

    left, right = st.columns([3, 1])
    with left:
        st.caption(f"{TITLES[dataset]}, {METHOD_NAMES[method]} map, {origin}. Box or lasso points to list them.")
        hovertext = np.array([hover(i) for i in range(N)], dtype=object)
        fig = map_figure(coords, groups, hovertext, focus, near, shown.ids, method, variance)
        event = st.plotly_chart(
            fig, key=f"map_{dataset}_{method}", on_select="rerun", selection_mode=("box", "lasso"), width="stretch"
        )
        if focus is not None:  # here, not in the narrow right column: the table needs room for its three columns
            nearest_table(shown, coords, focus, near, dist)
    with right:
        faithfulness_metrics(faith, variance)

    # ------------------------------------------------------------------------------------- selection
    selection_table(event, shown, {"cluster": [f"cluster {c}" for c in cluster_of]})

    # ------------------------------------------------------------------------------------- cluster browser
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
    if data.labels:
        kind = next(iter(data.labels))
        share = pd.Series([shown.labels[kind][i] for i in members]).value_counts().head(5)
        st.caption(f"Most common {kind} in this cluster: " + ", ".join(f"{a} ({b})" for a, b in share.items()))

    # ------------------------------------------------------------------------------------- explanations
    with st.expander("How it works"):
        st.markdown(
            f"""
    **The points.** {data.description}. Distances are Euclidean in that original space (skill vectors and TF-IDF rows
    have unit length, so the order is that of cosine similarity).
    {HOW_MAPS_WORK}
    It is measured on the stored float16 coordinates; beyond 3,000 points, over 3,000 sampled points.
    """
        )

    ui.lazy_expander("How these maps were made", "maps_made", how_these_maps_were_made, art, costs)


def own_explorer(method_slot) -> None:
    """The source "Your own vectors": upload, settings, the map with its faithfulness, search, download."""
    method = (
        method_slot.segmented_control("Method", METHODS, default="pca", format_func=METHOD_NAMES.get, key="own_method")
        or "pca"
    )
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
        return
    raw = vectors.getvalue()
    meta = None if metadata is None else metadata.getvalue()
    for upload, content in ((vectors, raw), (metadata, meta)):
        if content is not None and len(content) > cap_mb * 1024 * 1024:  # the server's cap, kept here too
            st.error(
                f"{upload.name} is {len(content) / 1e6:,.0f} MB; files up to {cap_mb} MB can be uploaded here. "
                "`python -m gallery maps project --vectors FILE` takes larger files."
            )
            return
    key = (hashlib.sha256(raw).hexdigest(), None if meta is None else hashlib.sha256(meta).hexdigest())
    data = own_data(key, raw, vectors.name, meta, None if metadata is None else metadata.name)
    if isinstance(data, str):
        st.error(f"These vectors cannot be mapped: {data.rstrip('.')}.")
        return
    columns = list(data.columns)
    st.caption(
        f"**{data.name}**: {len(data):,} points x {data.dims:,} dimensions ({own.FORMATS[data.format]}); "
        + (f"metadata columns: {', '.join(columns)}." if columns else "no metadata (the points are numbered).")
    )

    shown_key = f"own_map_{method}"
    mapped = (st.session_state.get(shown_key) or ("",))[0] == key[0]  # the map depends on the vectors alone
    with st.expander(
        "Settings (3-D, sample size, seed, perplexity, neighbours)", expanded=method != "pca" and not mapped
    ):
        with st.container(border=True):
            dims, n, seed, params, note = map_settings(
                method, len(data), "Points (random sample)", load_costs(), key="own_"
            )
            go_compute = st.button("Map these vectors", type="primary", key="own_compute")
            st.caption("PCA follows the settings as they change; t-SNE and UMAP run when you press the button.")
        settings = (key[0], method, int(dims), int(n), int(seed), tuple(sorted(params.items())))
        if go_compute or method == "pca":
            if too_small(params, int(n)):
                st.error("The perplexity and the number of neighbours must be below the number of points.")
            else:
                with st.spinner(f"Computing {METHOD_NAMES[method]} of {int(n):,} points ({note}) ..."):
                    try:
                        own_compute(settings, data)
                        st.session_state[shown_key] = settings
                        if method == "umap":
                            st.session_state["umap_warm"] = True
                    except ValueError as err:
                        st.error(str(err))
    settings = st.session_state.get(shown_key)
    if settings is None or settings[0] != key[0]:
        st.info(f"Press **Map these vectors** to compute the {METHOD_NAMES[method]} map ({note}).")
        return
    rows, coords, faith, proj = own_compute(settings, data)
    _, _, dims, n, seed, params = settings
    N = len(rows)

    # ------------------------------------------------------------------------------------- names, colours, search
    controls = st.columns([1, 1, 1, 2])
    file_key = data.sha256[:16]  # a new file starts with its own defaults (names and colours from its columns)
    label = controls[0].selectbox("Names from", columns, key=f"own_label_{file_key}") if columns else None
    distinct = {c: len(set(data.columns[c])) for c in columns}
    colours = [ONE_COLOUR, *columns, CLUSTER]
    groupable = [c for c in columns if c != label and 1 < distinct[c] <= len(PALETTE)]
    colour_by = controls[1].selectbox(
        "Colour by", colours, index=colours.index(groupable[0]) if groupable else 0, key=f"own_colour_{file_key}"
    )
    metric = controls[2].radio("Distance", list(DISTANCES), format_func=DISTANCES.get, key="own_distance")
    shown = data.map_data(label, rows)
    cluster_of = None
    if colour_by == CLUSTER:
        k = controls[1].slider("Clusters (k)", 2, min(30, N - 1), min(8, N - 1), key="own_k")
        cluster_of = own_clusters(settings, k, shown.features)
        groups = [f"cluster {c}" for c in cluster_of]
    elif colour_by == ONE_COLOUR:
        groups = ["point"] * N
    else:
        groups = [data.columns[colour_by][r] or "(empty)" for r in rows]
    query = controls[3].text_input(
        "Find a point", placeholder="e.g. " + ", ".join(shown.ids[:3]), max_chars=100, key="find_own"
    )
    focus, near, dist = None, np.array([], dtype=int), np.array([])
    if query.strip():
        found = shown.find(query)
        if not found:
            st.warning(f"No point on this map is named like '{query.strip()}'. Try one of: {', '.join(shown.ids[:5])}.")
        else:
            if len(found) > 1:
                focus = controls[3].selectbox(
                    f"{len(found)} matches", found, format_func=lambda i: shown.ids[i], key="pick_own"
                )
            else:
                focus = found[0]
            near, dist = neighbours(shown.features, focus, K_NEIGHBOURS, metric)

    def hover(i: int) -> str:
        parts = [f"<b>{html.escape(shown.ids[i][:80])}</b>"]
        parts += [f"{html.escape(kind[:40])}: {html.escape(v[i][:60])}" for kind, v in shown.labels.items()]
        if cluster_of is not None:
            parts.append(f"cluster {cluster_of[i]}")
        return "<br>".join(parts)

    setting = ", ".join(f"{k.replace('_', ' ')} {v:g}" for k, v in params) or "defaults"
    left, right = st.columns([3, 1])
    with left:
        st.caption(
            f"Your vectors ({data.name}), {METHOD_NAMES[settings[1]]} map: {dims}-D, {N:,} of {len(data):,} points, "
            f"seed {seed}, {setting} ({proj.seconds:.1f} s). Box or lasso points to list them."
        )
        hovertext = np.array([hover(i) for i in range(N)], dtype=object)
        fig = map_figure(coords, groups, hovertext, focus, near, shown.ids, settings[1], proj.explained_variance)
        event = st.plotly_chart(
            fig, key=f"own_chart_{settings[1]}", on_select="rerun", selection_mode=("box", "lasso"), width="stretch"
        )
        if focus is not None:
            nearest_table(shown, coords, focus, near, dist, DISTANCES[metric].lower())
    with right:
        faithfulness_metrics(faith, proj.explained_variance)
        if colour_by in data.columns and 1 < len(set(groups)) < N:
            agree = label_agreement(groups, *faith["neighbours"])
            st.metric(f"{K_NEIGHBOURS}-NN same {colour_by}", f"{agree['label_agreement']:.0%}")
            st.caption(
                f"The share of each point's {K_NEIGHBOURS} nearest on the map with its {colour_by}: "
                f"{agree['label_agreement_original']:.0%} among its nearest in the original space, "
                f"{agree['label_agreement_chance']:.0%} for two points drawn at random."
            )
        stem = Path(data.name).stem or "vectors"
        st.download_button(
            "Download the map (CSV)",
            data=lambda: own.to_csv(data, coords, rows, label),
            file_name=f"{stem}-{settings[1]}-{dims}d.csv",
            mime="text/csv",
            on_click="ignore",
            key="own_download",
            help="Every metadata column (the names column as `label`), then x, y (and z), in your file's order; a "
            "sample starts with `index`, the row in your file from 0.",
        )
    selection_table(event, shown, {} if cluster_of is None else {"cluster": [f"cluster {c}" for c in cluster_of]})

    with st.expander("How it works"):
        st.markdown(
            f"""
    **Your points.** {shown.description}. The map is made from your numbers as they are: distances are Euclidean
    (normalise your vectors to unit length first if cosine is what they mean); the nearest neighbours listed for a
    searched point are measured in the original space, by cosine or Euclidean distance as you choose. A sample is
    drawn at random (the seed picks it), in your file's order.
    {HOW_MAPS_WORK}
    Beyond 3,000 points it is measured over 3,000 sampled points.
    """
        )


def map_settings(method: str, total: int, points_label: str, costs, key: str = ""):
    """Dimensions, sample size, seed and the method's own settings, then what they will cost (said before it runs):
    (dims, n, seed, params, note). ``key`` prefixes the widgets' keys (none: Streamlit's keys from the labels)."""
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
    est = estimate_seconds(costs, method, int(n), params.get("iterations", 1000), first_umap)
    note = f"about {est:.0f} s on this machine" if est is not None else "unknown (no benchmark table)"
    if first_umap:
        note += ", including UMAP's one-off numba compile"
    st.caption(
        f"Estimated cost: {note}. Caps: t-SNE {MAX_POINTS['tsne']:,} points (its cost grows fast and the "
        f"Embedding Projector stops there too), UMAP {MAX_POINTS['umap']:,}; this map has {total:,} points."
    )
    return dims, n, seed, params, note


def too_small(params: dict, n: int) -> bool:
    """Perplexity and UMAP's neighbours must stay below the number of points."""
    return any(params.get(p, 2) >= n for p in ("n_neighbors", "perplexity"))


def map_figure(coords, groups, hovertext, focus, near, ids, method, variance) -> go.Figure:
    """The map: one WebGL trace for all points, an empty trace per group for the legend, the searched point and its
    nearest neighbours (original space) on top."""
    fig = go.Figure()
    N = len(coords)
    three = coords.shape[1] == 3
    names = sorted(set(groups), key=lambda g: (len(g), g))
    size = 3 if N > 2000 else 5 if N > 500 else 8
    colour_of = {g: PALETTE[j % len(PALETTE)] for j, g in enumerate(names)}
    # One WebGL trace for all points (many traces make the browser slow to draw); the legend comes from
    # empty traces, one per group.
    marker = dict(size=size, color=[colour_of[g] for g in groups], opacity=0.35 if focus is not None else 0.8)
    common = dict(mode="markers", marker=marker, hovertext=hovertext, hoverinfo="text", showlegend=False)
    if three:
        fig.add_trace(go.Scatter3d(x=coords[:, 0], y=coords[:, 1], z=coords[:, 2], **common))
    else:
        trace = go.Scattergl if N > 1000 else go.Scatter
        fig.add_trace(trace(x=coords[:, 0], y=coords[:, 1], customdata=np.arange(N), **common))
    for g in names[:40] if len(names) > 1 else []:
        blank = dict(mode="markers", name=g, marker=dict(size=8, color=colour_of[g]), hoverinfo="skip")
        fig.add_trace(
            go.Scatter3d(x=[None], y=[None], z=[None], **blank) if three else go.Scatter(x=[None], y=[None], **blank)
        )
    if focus is not None:
        for idx, name, mk in (
            (near, f"{K_NEIGHBOURS} nearest (original space)", dict(size=12, symbol="circle-open", color="black")),
            (np.array([focus]), ids[focus], dict(size=18, symbol="star", color="#e4572e")),
        ):
            common = dict(name=name, mode="markers", marker=mk, hovertext=hovertext[idx], hoverinfo="text")
            if three:
                fig.add_trace(go.Scatter3d(x=coords[idx, 0], y=coords[idx, 1], z=coords[idx, 2], **common))
            else:
                fig.add_trace(go.Scatter(x=coords[idx, 0], y=coords[idx, 1], customdata=idx, **common))
    axis = [f"{METHOD_NAMES[method]} {a}" for a in "123"]
    if variance:
        axis = [f"PC{i + 1} ({v:.1%} of variance)" for i, v in enumerate(variance)]
    fig.update_layout(height=620, margin=dict(l=0, r=0, t=30, b=0), legend=dict(itemsizing="constant"))
    if three:
        fig.update_layout(scene=dict(xaxis_title=axis[0], yaxis_title=axis[1], zaxis_title=axis[2]))
    else:
        fig.update_layout(xaxis_title=axis[0], yaxis_title=axis[1], dragmode="lasso")
    return fig


def nearest_table(shown, coords, focus: int, near, dist, metric: str = "") -> None:
    """The searched point's nearest neighbours in the original space, and whether the map keeps them near."""
    map_near = set(neighbours(coords, focus, K_NEIGHBOURS)[0].tolist())
    st.markdown(f"**Nearest to {shown.ids[focus]}** (original space{', ' + metric if metric else ''})")
    st.dataframe(
        pd.DataFrame(
            {
                "point": [shown.ids[i] for i in near],
                "distance": np.round(dist, 3),
                "near on map": ["yes" if i in map_near else "no" for i in near],
            }
        ),
        hide_index=True,
        width="stretch",
    )
    if shown.images is not None:
        st.image([shown.images[i] for i in [focus, *near]], width=48)


def faithfulness_metrics(faith: dict, variance) -> None:
    st.metric("Trustworthiness", f"{faith['trustworthiness']:.3f}")
    st.metric(f"{K_NEIGHBOURS}-NN kept", f"{faith['knn_overlap']:.0%}")
    st.caption(
        "Trustworthiness (sklearn, k = 10) is 1 when no point has map neighbours that are far away in the original "
        "space, and about 0.5 for a random placement. *10-NN kept* is the share of each point's 10 true nearest "
        "neighbours that are also among its 10 nearest on the map: what the map really preserves. Distances "
        "*between* clusters on t-SNE and UMAP maps mean little."
    )
    if variance:
        st.caption("PCA keeps " + ", ".join(f"{v:.1%}" for v in variance) + " of the variance on its axes.")


def selection_table(event, shown, extra: dict) -> None:
    """The points picked with the box or lasso: their names, labels (and ``extra`` columns), thumbnails."""
    points = (event.selection.points if event and event.selection else []) or []
    picked = sorted({int(p["customdata"]) for p in points if isinstance(p.get("customdata"), (int, float))})
    if picked:
        st.subheader(f"Selected: {len(picked):,} points")
        table = {"point": [shown.ids[i] for i in picked]}
        for kind, v in shown.labels.items():
            table[kind] = [v[i] for i in picked]
        for kind, v in extra.items():
            table[kind] = [v[i] for i in picked]
        st.dataframe(pd.DataFrame(table), hide_index=True, width="stretch", height=min(400, 40 + 35 * len(picked)))
        if shown.images is not None:
            st.image([shown.images[i] for i in picked[:48]], width=48)


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


explorer()
