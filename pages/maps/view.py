"""The one map view: whatever the points (skills, digits, faces, captions, your own vectors), a source fills a
MapView and calls show(). It draws, in this order: names, colours and clusters, search, the figure with the searched
point's true neighbours, the faithfulness, and the points picked with the box or lasso."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import streamlit as st

from gallery.maps.data import MapData
from gallery.maps.project import K_NEIGHBOURS, label_agreement, neighbours
from pages.maps.figure import PALETTE, map_figure

CLUSTER = "KMeans cluster"
ONE_COLOUR = "(one colour)"
DISTANCES = {"cosine": "Cosine", "euclidean": "Euclidean"}
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


@dataclass
class MapView:
    """A map ready to draw, as a source hands it to show()."""

    key: str  # names the widgets: colour_<key>, k_<key>, find_<key>, pick_<key>, names_<key>, map_<key>_<method>
    method: str
    coords: np.ndarray  # (N, 2) or (N, 3): one row per point on the map
    faith: (
        dict  # trustworthiness and knn_overlap; with "neighbours" (kept by faithfulness) also each colour's agreement
    )
    variance: list  # PCA's share of the variance on each axis; empty for t-SNE and UMAP
    caption: str  # what the map is and how it was made: one sentence, without its full stop
    points: Callable[[str | None], MapData]  # the points on the map, named by one of ``names`` (None: their own)
    colours: dict[str, list[str]]  # what can colour the map: a name -> one value per point on the map
    clusters: Callable[[int], np.ndarray]  # KMeans labels of the points on the map for k, from the original space
    k: int = 8  # the clusters' first k
    always_cluster: bool = False  # cluster whatever the colour, k in its own column: the source shows clusters too
    names: list[str] = field(default_factory=list)  # columns that can name the points ("Names from"), if any
    distance_key: str | None = None  # the key of a cosine or Euclidean choice for the neighbours (None: Euclidean)
    fresh: str = ""  # ends the names' and colours' keys: new points (another file) start from their own defaults


@dataclass
class Seen:
    """What show() drew, for the source's own parts below it."""

    points: MapData
    names_from: str | None  # the column that names the points, where the source offered some
    clusters: np.ndarray | None  # the KMeans label of each point on the map, where it was clustered
    k: int
    side: object  # the column right of the map, under the faithfulness: the source may add to it


def show(m: MapView) -> Seen:
    N = len(m.coords)
    widths = [1] * bool(m.names) + [1] + [1] * m.always_cluster + [1] * bool(m.distance_key) + [2]
    slots = iter(st.columns(widths))
    names_slot = next(slots) if m.names else None
    colour_slot = next(slots)
    k_slot = next(slots) if m.always_cluster else colour_slot
    distance_slot = next(slots) if m.distance_key else None
    find_slot = next(slots)

    # ------------------------------------------------------------------------------------- names, colours, clusters
    label = names_slot.selectbox("Names from", m.names, key=f"names_{m.key}{m.fresh}") if m.names else None
    shown = m.points(label)
    groupable = [c for c, v in m.colours.items() if c != label and 1 < len(set(v)) <= len(PALETTE)]
    options = [ONE_COLOUR, *m.colours, CLUSTER]
    first = groupable[0] if groupable else CLUSTER if m.always_cluster else ONE_COLOUR
    colour_by = colour_slot.selectbox("Colour by", options, index=options.index(first), key=f"colour_{m.key}{m.fresh}")
    k, cluster_of = m.k, None
    if colour_by == CLUSTER or m.always_cluster:
        k = k_slot.slider("Clusters (k)", 2, min(30, N - 1), min(m.k, N - 1), key=f"k_{m.key}")
        cluster_of = m.clusters(k)
    if colour_by == CLUSTER:
        groups = [f"cluster {c}" for c in cluster_of]
    elif colour_by == ONE_COLOUR:
        groups = ["point"] * N
    else:
        groups = [g or "(empty)" for g in m.colours[colour_by]]

    # ------------------------------------------------------------------------------------- search
    metric = "euclidean"
    if m.distance_key:
        metric = distance_slot.radio("Distance", list(DISTANCES), format_func=DISTANCES.get, key=m.distance_key)
    query = find_slot.text_input(
        "Find a point", placeholder="e.g. " + ", ".join(shown.ids[:3]), max_chars=100, key=f"find_{m.key}"
    )
    focus, near, dist = None, np.array([], dtype=int), np.array([])
    if query.strip():
        found = shown.find(query)
        if not found:
            st.warning(f"No point on this map is named like '{query.strip()}'. Try one of: {', '.join(shown.ids[:5])}.")
        else:
            if len(found) > 1:
                focus = find_slot.selectbox(
                    f"{len(found)} matches", found, format_func=lambda i: shown.ids[i], key=f"pick_{m.key}"
                )
            else:
                focus = found[0]
            near, dist = neighbours(shown.features, focus, K_NEIGHBOURS, metric)

    def hover(i: int) -> str:
        parts = [f"<b>{html.escape(shown.ids[i][:80])}</b>"]
        parts += [f"{html.escape(kind[:40])}: {html.escape(str(v[i])[:60])}" for kind, v in shown.labels.items()]
        if colour_by == CLUSTER:
            parts.append(f"cluster {cluster_of[i]}")
        if shown.texts:
            parts.append(html.escape(shown.texts[i][:120]) + "...")
        return "<br>".join(parts)

    # ------------------------------------------------------------------------------------- the map, faithfulness
    left, right = st.columns([3, 1])
    with left:
        st.caption(f"{m.caption}. Box or lasso points to list them.")
        hovertext = np.array([hover(i) for i in range(N)], dtype=object)
        fig = map_figure(m.coords, groups, hovertext, focus, near, shown.ids, m.method, m.variance)
        event = st.plotly_chart(
            fig, key=f"map_{m.key}_{m.method}", on_select="rerun", selection_mode=("box", "lasso"), width="stretch"
        )
        if focus is not None:  # here, not in the narrow right column: the table needs room for its three columns
            nearest_table(shown, m.coords, focus, near, dist, DISTANCES[metric].lower() if m.distance_key else "")
    with right:
        faithfulness_metrics(m.faith, m.variance)
        if "neighbours" in m.faith and colour_by in m.colours and 1 < len(set(groups)) < N:
            agree = label_agreement(groups, *m.faith["neighbours"])
            st.metric(f"{K_NEIGHBOURS}-NN same {colour_by}", f"{agree['label_agreement']:.0%}")
            st.caption(
                f"The share of each point's {K_NEIGHBOURS} nearest on the map with its {colour_by}: "
                f"{agree['label_agreement_original']:.0%} among its nearest in the original space, "
                f"{agree['label_agreement_chance']:.0%} for two points drawn at random."
            )

    # ------------------------------------------------------------------------------------- selection
    selection_table(event, shown, {} if cluster_of is None else {"cluster": [f"cluster {c}" for c in cluster_of]})
    return Seen(shown, label, cluster_of, k, right)


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
