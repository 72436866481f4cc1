"""Inside the LSTM: one cell over a text, the cells that track named features, and how saturated the gates are."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from gallery.essays import cells, features
from pages.essays import colour
from pages.essays.common import found_cells, read

TRACKS = {"yes/no": 0.75, "count": 0.3}  # below these (AUC, |correlation|) the page says no cell tracks it


def one_cell(model, text: str, key: str) -> None:
    """Pick a layer and a cell (or a cell the card found), then the text coloured by its activation."""
    try:
        reading = read(text)
    except ValueError as err:
        st.warning(str(err))
        return
    found = found_cells(model.card)
    presets = {"(choose a cell yourself)": None} | {
        f"{features.DESCRIPTIONS[k]}: layer {v['layer']}, cell {v['cell']}": v for k, v in found.items()
    }
    preset = st.selectbox(
        "Start from a cell found on held-out essays", list(presets), index=min(1, len(found)), key=f"{key}_preset"
    )
    chosen = presets[preset] or {"layer": model.net.cfg.layers, "cell": 0}
    c1, c2 = st.columns(2)
    layer = c1.selectbox(
        "Layer", list(range(1, model.net.cfg.layers + 1)), index=chosen["layer"] - 1, key=f"{key}_layer_{preset}"
    )
    cell = c2.number_input("Cell", 0, model.net.cfg.hidden - 1, chosen["cell"], key=f"{key}_cell_{preset}")
    values = cells.values_per_char(reading, layer, int(cell))
    st.caption(
        "Each character is coloured by tanh of the cell's state just after it was read: blue -1, white 0, red +1 "
        "(hover for the value)."
    )
    note = cells.mapping_note(reading.aligned)
    if note:
        st.info(note)
    st.html(colour.by_activation(text, values))


def finder(text: str, key: str) -> None:
    """The cells that best predict each named feature of this text, and the features no cell tracks."""
    if not st.toggle("Find the cells that track features of this text", key=f"{key}_find"):
        return
    try:
        reading = read(text)
    except ValueError as err:
        st.warning(str(err))
        return
    found = features.best_cells(reading.trace.cells, reading.text, top=1)
    rows, untracked = [], []
    for name, result in found.items():
        kind = features.FEATURES[name][1]
        if isinstance(result, dict):
            untracked.append(f"{features.DESCRIPTIONS[name]} ({result['absent']})")
            continue
        best = result[0]
        figure = best.get("auc", abs(best.get("corr", 0)))
        if figure < TRACKS[kind]:
            untracked.append(f"{features.DESCRIPTIONS[name]} (best {figure:.2f})")
        rows.append(
            {
                "feature": features.DESCRIPTIONS[name],
                "layer": best["layer"],
                "cell": best["cell"],
                "score": f"{'AUC' if kind == 'yes/no' else '|corr|'} {figure:.2f}",
            }
        )
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
    if untracked:
        st.markdown("**No cell tracks:** " + "; ".join(untracked) + ".")
    st.caption(
        f"AUC for yes/no features (0.5 is chance; a cell may track one by going down), |correlation| for counts. "
        f"Below {TRACKS['yes/no']} AUC or {TRACKS['count']} |correlation| the page counts a feature as untracked."
    )
    gate_figure(reading.trace.saturation)


def gate_figure(saturation: dict) -> None:
    """Karpathy et al.'s saturation plot: per cell, the share of steps its gate is below 0.1 against above 0.9."""
    fig = go.Figure()
    for gate, values in saturation.items():
        for k in range(values.shape[0]):
            fig.add_trace(
                go.Scattergl(
                    x=values[k, :, 0],
                    y=values[k, :, 1],
                    mode="markers",
                    marker={"size": 4},
                    name=f"{gate} gate, layer {k + 1}",
                )
            )
    fig.update_layout(
        height=380,
        xaxis_title="share of steps below 0.1 (closed)",
        yaxis_title="share of steps above 0.9 (open)",
        margin={"t": 30},
    )
    st.markdown("**Gate saturation**: one dot per cell and gate over this text.")
    st.plotly_chart(fig, width="stretch")


def card_table(card: dict) -> None:
    """The card's finder: picked on half the validation essays, scored on the other half."""
    info = card.get("cells")
    if not info:
        return
    rows = []
    for name, v in info["features"].items():
        if "layer" not in v:
            continue
        key = "auc" if "auc" in v else "corr"
        rows.append(
            {
                "feature": features.DESCRIPTIONS[name],
                "layer": v["layer"],
                "cell": v["cell"],
                "picked on (half A)": abs(v[key]),
                "held out (half B)": v[f"held_out_{key}"],
                "measure": "AUC" if key == "auc" else "|corr|",
            }
        )
    st.markdown(f"**Cells found** on {info['picked_on']}, scored on {info['held_out']} ({info['activation']}):")
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
