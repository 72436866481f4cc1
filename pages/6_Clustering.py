"""Digit clustering without labels: KMeans on pixels, on an autoencoder's codes, then Deep Embedded Clustering."""

import numpy as np
import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from gallery import ui
from gallery.digits import cluster, examples, preprocess

ui.page_config("Digit clustering", ":material/bubble_chart:")
st.title("Digit clustering")
st.caption(
    "Sort 70,000 handwritten digits into ten groups without ever seeing a label: KMeans on raw pixels, KMeans on "
    "a 10-number code learned by an autoencoder, then DEC, which refines the code and the clusters together."
)


@st.cache_resource(show_spinner="Loading the autoencoder and the DEC clusters ...")
def load():
    import torch

    torch.set_num_threads(1)
    return cluster.load("digits-dec")


@st.cache_data(show_spinner=False)
def mnist_test_images():
    from gallery.digits import data

    return data.test_images_or_none()


def strip(images, size: int = 56) -> list[Image.Image]:
    return [
        Image.fromarray(np.uint8(np.clip(im, 0, 1) * 255)).resize((size, size), Image.Resampling.NEAREST)
        for im in images
    ]


model = ui.load_or_stop(load)
card, m = model.card, model.card["metrics"]
stages = [("KMeans on raw pixels", "raw_kmeans"), ("KMeans on autoencoder codes", "autoencoder_kmeans"), ("DEC", "dec")]
table = pd.DataFrame(
    [
        {
            "method": title,
            "accuracy": m[key]["accuracy"],
            "NMI": m[key]["nmi"],
            "ARI": m[key]["ari"],
            "accuracy (test images only)": m["test_only"][key]["accuracy"],
        }
        for title, key in stages
    ]
)
st.dataframe(
    table,
    hide_index=True,
    width="stretch",
    column_config={k: st.column_config.NumberColumn(format="%.3f") for k in table.columns[1:]},
)
st.caption(
    f"All {m['images']:,} MNIST images; labels are used only to score. Accuracy matches each cluster to one digit "
    "(Hungarian algorithm); NMI and ARI do not need a matching. The original notebooks reached 53.5%, 82.3% and "
    "87.4% accuracy."
)

xy, extras = model.extras["xy"], model.extras
colour = st.segmented_control(
    "Colour the map by",
    ["DEC cluster", "true digit", "autoencoder KMeans cluster"],
    default="DEC cluster",
    key="colour",
)
colour = colour or "DEC cluster"
values = {
    "DEC cluster": extras["cluster"],
    "true digit": extras["label"],
    "autoencoder KMeans cluster": extras["ae_cluster"],
}[colour]
frame = pd.DataFrame(
    {
        "x": xy[:, 0],
        "y": xy[:, 1],
        colour: [str(v) for v in values],
        "true digit": [str(v) for v in extras["label"]],
        "DEC cluster": [str(v) for v in extras["cluster"]],
    }
)
fig = px.scatter(
    frame,
    x="x",
    y="y",
    color=colour,
    category_orders={colour: [str(i) for i in range(10)]},
    hover_data=["true digit", "DEC cluster"],
    height=520,
    title=f"t-SNE map of the DEC codes of {len(frame):,} test images",
)
fig.update_traces(marker=dict(size=4))
fig.update_layout(xaxis=dict(visible=False), yaxis=dict(visible=False), legend_title_text=colour)
st.plotly_chart(fig, width="stretch")

st.subheader("What each cluster holds")
mapping = model.mapping
counts = pd.crosstab(pd.Series(extras["cluster"], name="cluster"), pd.Series(extras["label"], name="digit"))
counts = counts.reindex(index=range(10), columns=range(10), fill_value=0)
centres = model.decoded_centres()
test_images = mnist_test_images()
for c in range(10):
    row = counts.loc[c]
    purity = row.max() / row.sum() if row.sum() else 0.0
    cols = st.columns([3, 1, 12])
    cols[0].markdown(f"**Cluster {c}** → digit {mapping[c]}  \n{purity:.0%} of its sampled images are {row.idxmax()}")
    cols[1].image(strip(centres[c : c + 1])[0], caption="centre")
    if test_images is not None:
        typical = [i for i in extras["typical"][c] if i >= 0]
        cols[2].image(strip(test_images[typical] / 255.0, 48), width=48)
if test_images is None:
    st.caption(
        "Each cluster's most typical test images are shown when `../shared/data/mnist/mnist.npz` is present; the "
        "'centre' is the decoder's picture of the cluster centre, which needs no data."
    )

st.subheader("Autoencoder reconstructions")
st.markdown("The encoder squeezes 784 pixels into 10 numbers; the decoder rebuilds the picture from them.")
fonts = examples.font_files()
seed = st.number_input("Sample", 0, 10_000, 0, key="recon_seed", help="Pick another set of digits.")
rng = np.random.default_rng(int(seed))
if test_images is not None:
    originals = test_images[rng.choice(len(test_images), 10, replace=False)] / 255.0
    source = "MNIST test images"
else:
    originals = np.stack(
        [
            preprocess.mnist_style(
                examples.render(d, fonts[rng.integers(len(fonts))] if fonts else None, stroke=int(rng.integers(0, 8)))
            )
            for d in range(10)
        ]
    )
    source = "digits rendered from this machine's fonts (the MNIST file is not present)"
recon = model.reconstruct(originals)
st.image(strip(originals), caption=["original"] * len(originals), width=56)
st.image(strip(recon), caption=["rebuilt"] * len(recon), width=56)
st.caption(f"Top: {source}. Bottom: what the autoencoder rebuilds from their 10-number codes.")

st.subheader("How it works")
st.markdown(
    """
1. **Autoencoder.** A 784-500-500-2000-10 network learns to squeeze each image into 10 numbers and rebuild it
   (mean squared error), trained on all 70,000 images without labels.
2. **KMeans on the codes.** Ten centres in the 10-number code space; distances there track shape far better
   than distances between raw pixels, where a slightly shifted 1 is far from another 1.
3. **DEC** (Xie, Girshick and Farhadi, 2016) keeps the encoder and the centres and trains both again: each code's
   soft assignment to each centre is a Student-t similarity *q*, and the target *p* squares *q* and
   renormalises it, so confident assignments pull harder and big clusters are held back. Minimising KL(p‖q)
   sharpens the clusters; it stops when almost no image changes cluster between target updates.

**Where it goes wrong.** Ten clusters need not be ten digits: the commonest failure, visible above, is one digit
split in two (upright and slanted 1s) while two similar digits share a cluster (4 and 9). Accuracy counts every
image in the merged or split cluster that does not match its cluster's digit as wrong.
"""
)

st.subheader("How it was trained")
st.markdown(
    f"**Model:** {card['model']}, {card['parameters']:,} parameters. Trained in {card['train_seconds']:.0f} s "
    f"on {card['hardware']}."
)
opt = card["optimisation"]
st.markdown(f"- autoencoder: {opt['autoencoder']}\n- KMeans: {opt['kmeans']}\n- DEC: {opt['dec']}")
hist = pd.DataFrame(card.get("history") or [])
dec_hist = pd.DataFrame(card.get("dec_history") or [])
c1, c2 = st.columns(2)
if not hist.empty:
    fig = go.Figure(go.Scatter(x=hist["epoch"], y=hist["reconstruction_mse"], mode="lines+markers", name="MSE"))
    fig.update_layout(
        title="Autoencoder pretraining",
        xaxis_title="epoch",
        yaxis_title="reconstruction MSE",
        height=300,
        margin=dict(t=40),
    )
    c1.plotly_chart(fig, width="stretch")
if not dec_hist.empty:
    fig = go.Figure(go.Scatter(x=dec_hist["step"], y=dec_hist["accuracy"], mode="lines+markers", name="accuracy"))
    fig.update_layout(
        title="DEC fine-tuning", xaxis_title="batch", yaxis_title="cluster accuracy", height=300, margin=dict(t=40)
    )
    c2.plotly_chart(fig, width="stretch")
d = card["data"]
st.markdown(f"**Data:** {d['data']}. **Licence:** {d['licence']}.")
st.markdown("**Rebuild this artifact:**")
st.code(card["train_command"], language="bash")
