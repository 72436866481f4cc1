"""The map as a Plotly figure: every point in one WebGL trace, a legend of groups, the searched point on top."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from gallery.maps.project import K_NEIGHBOURS, METHOD_NAMES

PALETTE = (
    "#1f77b4 #ff7f0e #2ca02c #d62728 #9467bd #8c564b #e377c2 #7f7f7f #bcbd22 #17becf #393b79 #637939 #8c6d31 "
    "#843c39 #7b4173 #3182bd #e6550d #31a354 #756bb1 #636363 #fd8d3c #74c476 #9e9ac8 #969696 #6baed6 #fdae6b"
).split()


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
