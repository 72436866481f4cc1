"""Digit clustering without labels: the ladder from KMeans on pixels to DEC, IDEC and N2D, measured on all of MNIST."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from gallery import ui
from gallery.digits import cluster, ladder, n2d
from gallery.registry import ArtifactError

ui.page_config("Digit clustering", "🫧")
st.title("Digit clustering")
st.caption(
    "Sort 70,000 handwritten digits into ten groups without ever seeing a label. Each rung of the ladder below "
    "changes one thing, and each is measured here beside its published figure."
)
MODELS = {"N2D": "digits-n2d", "DEC": "digits-dec", "IDEC": "digits-idec"}  # IDEC: DEC that keeps its decoder


@st.cache_resource(show_spinner="Loading the clustering models ...", max_entries=len(MODELS))
def load(artifact: str):
    ui.limit_torch_threads()
    return n2d.load(artifact) if artifact == "digits-n2d" else cluster.load(artifact)


@st.cache_data(show_spinner=False, max_entries=1)
def mnist_test_images():
    from gallery.digits import data

    return data.test_images_or_none()


def strip(images, size: int = 56) -> list[Image.Image]:
    return [
        Image.fromarray(np.uint8(np.clip(im, 0, 1) * 255)).resize((size, size), Image.Resampling.NEAREST)
        for im in images
    ]


def load_all() -> dict:
    """Each model that loads; a broken one says why and how to rebuild it, and the page goes on without it."""
    models = {}
    for title, artifact in MODELS.items():
        try:
            models[title] = load(artifact)
        except ArtifactError as err:
            st.warning(
                f"{title} is unavailable: artifact **{err.name}** {err.problem}. Rebuild it with `{err.rebuild}`."
            )
    return models


@st.cache_data(show_spinner=False, max_entries=4)
def ladder_figure(frame: pd.DataFrame) -> go.Figure:
    fig = go.Figure(
        [
            go.Bar(name="measured here", x=frame["method"], y=frame["accuracy"], marker_color="#e4572e"),
            go.Bar(name="published", x=frame["method"], y=frame["published accuracy"], marker_color="#8c8c8c"),
        ],
        layout=dict(
            barmode="group",
            height=340,
            margin=dict(t=30, b=10),
            yaxis=dict(title="accuracy", range=[0, 1], tickformat=".0%"),
            legend=dict(orientation="h", y=1.12),
        ),
    )
    return fig


def show_ladder(models: dict) -> None:
    st.subheader("The ladder")
    frame = pd.DataFrame(ladder.rows({art: m.card for art, m in ((MODELS[t], m) for t, m in models.items())}))
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        column_config={
            "accuracy": st.column_config.NumberColumn(format="percent"),
            "published accuracy": st.column_config.NumberColumn(format="percent"),
            "published NMI": st.column_config.NumberColumn(format="%.3f"),
            "notebook": st.column_config.NumberColumn(format="percent"),
            "NMI": st.column_config.NumberColumn(format="%.3f"),
            "ARI": st.column_config.NumberColumn(format="%.3f"),
        },
    )
    st.plotly_chart(ladder_figure(frame), width="stretch")
    st.caption(
        "All 70,000 MNIST images; labels are used only to score. Accuracy matches each cluster to one digit "
        "(Hungarian algorithm); NMI and ARI need no matching. 'Notebook' is the learning notebook this page grew from."
    )


@st.fragment
def show_map(models: dict) -> None:
    st.subheader("Maps of the codes")
    c1, c2 = st.columns(2)
    title = c1.segmented_control("Model", list(models), default=list(models)[0], key="map_model") or list(models)[0]
    colour = c2.segmented_control("Colour by", ["cluster", "true digit"], default="cluster", key="colour")
    extras = models[title].extras
    values = extras["label"] if colour == "true digit" else extras["cluster"]
    xy = extras["xy"]
    fig = go.Figure(
        [
            go.Scattergl(
                x=xy[values == v, 0],
                y=xy[values == v, 1],
                mode="markers",
                name=str(v),
                marker=dict(size=4),
                customdata=np.stack([extras["label"][values == v], extras["cluster"][values == v]], 1),
                hovertemplate="true digit %{customdata[0]}, cluster %{customdata[1]}<extra></extra>",
            )
            for v in range(10)
        ],
        layout=dict(
            height=520,
            margin=dict(t=40, b=10),
            title=f"t-SNE of the {title} {'embedding' if title == 'N2D' else 'codes'} of {len(xy):,} test images",
            xaxis=dict(visible=False),
            yaxis=dict(visible=False),
            legend_title_text=colour or "cluster",
        ),
    )
    st.plotly_chart(fig, width="stretch")


@st.fragment
def show_clusters(models: dict) -> None:
    st.subheader("What each cluster holds")
    title = st.segmented_control("Model", list(models), default=list(models)[0], key="cluster_model")
    model = models[title or list(models)[0]]
    extras = model.extras
    counts = pd.crosstab(pd.Series(extras["cluster"], name="cluster"), pd.Series(extras["label"], name="digit"))
    counts = counts.reindex(index=range(10), columns=range(10), fill_value=0)
    test_images = mnist_test_images()
    centres = model.decoded_centres() if hasattr(model, "decoded_centres") else None
    for c in range(10):
        row = counts.loc[c]
        purity = row.max() / row.sum() if row.sum() else 0.0
        cols = st.columns([3, 1, 12])
        cols[0].markdown(
            f"**Cluster {c}** → digit {model.mapping[c]}  \n{purity:.0%} of its mapped images are {row.idxmax()}"
        )
        if centres is not None:
            cols[1].image(strip(centres[c : c + 1])[0], caption="centre")
        if test_images is not None:
            typical = [i for i in extras["typical"][c] if i >= 0]
            cols[2].image(strip(test_images[typical] / 255.0, 48), width=48)
    if test_images is None:
        st.caption(
            "Each cluster's most typical test images are shown when `../shared/data/mnist/mnist.npz` is present."
        )


@st.fragment
def try_a_digit(models: dict) -> None:
    st.subheader("Where does your digit fall?")
    left, right = st.columns([3, 2])
    with left:
        raw = ui.digit_input("cluster_")
    image = ui.mnist_digit(raw, right, "Draw a digit (or upload a picture) to see which cluster it falls in.")
    if image is None:
        return
    with right:
        st.image(strip([image], 140)[0], caption="28x28, ink bright on black, centred by mass")
        cols = st.columns(len(models))
        bars = []
        for col, (title, model) in zip(cols, models.items()):
            q = model.assign(image[None])[0]
            c = int(q.argmax())
            col.metric(title, f"cluster {c}", help="The cluster with the highest soft assignment.")
            col.caption(f"{q[c]:.0%} sure; its images are mostly {model.mapping[c]}s")
            bars.append(go.Bar(name=title, x=[f"{i} ({model.mapping[i]}s)" for i in range(10)], y=q))
    st.plotly_chart(
        go.Figure(bars, layout=dict(barmode="group", height=280, margin=dict(t=20, b=10), yaxis_title="assignment")),
        width="stretch",
    )
    st.caption(
        "DEC's and IDEC's confidence is their Student-t soft assignment. N2D's comes from the digit's nearest "
        "training codes: weighted as UMAP weighs neighbours, they average their own cluster probabilities under the "
        "mixture."
    )


def how_it_works() -> None:
    st.subheader("How it works")
    st.markdown(
        """
1. **KMeans on pixels.** Ten centres in the space of 784 pixel values; a slightly shifted 1 is far from another 1
   there, so the clusters follow ink placement more than shape.
2. **Autoencoder + KMeans.** A 784-500-500-2000-10 network learns to squeeze each image into 10 numbers and rebuild
   it, on all 70,000 images without labels; KMeans runs on the 10-number codes, where distance tracks shape.
   How the autoencoder is trained matters: SGD with momentum and a large learning rate (DEC-keras's recipe) gives
   codes KMeans separates far better than Adam's.
3. **DEC** (Xie, Girshick and Farhadi, 2016) keeps the encoder and the centres and trains both again: each code's
   soft assignment to each centre is a Student-t similarity *q*, and the target *p* squares *q* and renormalises
   it, so confident assignments pull harder and big clusters are held back. Minimising KL(p‖q) sharpens the
   clusters; it stops when almost no image changes cluster between target updates.
4. **IDEC** (Guo et al., 2017) starts where DEC starts but keeps the decoder, and trains the whole autoencoder and
   the centres on reconstruction error + γ·KL(p‖q) (γ = 0.1). DEC alone may pull codes into clusters however it
   likes, even when that tears apart images that looked alike; the reconstruction term keeps each code able to
   rebuild its image, so the codes keep their local structure while the clusters sharpen.
5. **UMAP on pixels + a mixture.** No network: UMAP builds a graph of each image's nearest neighbours and lays it
   out in 10 dimensions with neighbours packed tight (`min_dist=0`); a Gaussian mixture with full covariances
   finds ten elongated groups there.
6. **N2D** (McConville et al., 2020) runs the same UMAP on the autoencoder's codes instead of the pixels. The
   neighbours in code space are far more often the same digit, so the graph, and the groups, follow the digits.
   Which UMAP to keep (`n_neighbors`, seed) is chosen by the mixture's BIC, never by labels.

**Where it goes wrong.** Ten clusters need not be ten digits: the commonest failure is one digit split in two
(upright and slanted 1s) while two similar digits share a cluster (4 and 9). Accuracy counts every image in the
merged or split cluster that does not match its cluster's digit as wrong.
"""
    )


def accuracy_curve(x, y, title: str, x_title: str) -> go.Figure:
    return go.Figure(
        go.Scatter(x=x, y=y, mode="lines+markers"),
        layout=dict(
            title=title,
            xaxis_title=x_title,
            yaxis=dict(title="cluster accuracy", tickformat=".0%"),
            height=300,
            margin=dict(t=40),
        ),
    )


def dec_training(card: dict) -> None:
    st.markdown(
        f"**DEC:** {card['model']}, {card['parameters']:,} parameters, "
        f"{card['train_seconds']:.0f} s on {card['hardware']}."
    )
    opt = card["optimisation"]
    st.markdown(f"- autoencoder: {opt['autoencoder']}\n- KMeans: {opt['kmeans']}\n- DEC: {opt['dec']}")
    hist, dec_hist = pd.DataFrame(card.get("history") or []), pd.DataFrame(card.get("dec_history") or [])
    c1, c2 = st.columns(2)
    if "kmeans_accuracy" in hist:
        scored = hist.dropna(subset=["kmeans_accuracy"])
        c1.plotly_chart(
            accuracy_curve(
                scored["epoch"], scored["kmeans_accuracy"], "Autoencoder pretraining: KMeans on its codes", "epoch"
            ),
            width="stretch",
        )
    if not dec_hist.empty:
        c2.plotly_chart(
            accuracy_curve(dec_hist["step"], dec_hist["accuracy"], "DEC fine-tuning", "batch"), width="stretch"
        )
    st.code(card["train_command"], language="bash")


def idec_training(card: dict) -> None:
    m = card["metrics"]
    st.markdown(
        f"**IDEC:** {card['model']}, {card['parameters']:,} parameters, "
        f"{card['train_seconds']:.0f} s on {card['hardware']}."
    )
    mse = m["reconstruction_mse"]
    st.markdown(
        f"- start: the autoencoder of `{card['autoencoder']['artifact']}` ({card['autoencoder']['pretraining']})\n"
        f"- KMeans: {card['optimisation']['kmeans']}\n- IDEC: {card['optimisation']['idec']}\n"
        f"- reconstruction error (MSE per pixel): {mse['pretrained']:.4f} before IDEC, {mse['idec']:.4f} after\n"
        f"- DEC on the same encoder: {m['dec_same_encoder']['accuracy']:.1%}; IDEC: {m['idec']['accuracy']:.1%}"
    )
    hist = pd.DataFrame(card.get("idec_history") or [])
    if not hist.empty:
        st.plotly_chart(accuracy_curve(hist["step"], hist["accuracy"], "IDEC fine-tuning", "batch"), width="stretch")
    st.code(card["train_command"], language="bash")


def n2d_training(card: dict) -> None:
    st.markdown(f"**N2D:** {card['model']}; {card['train_seconds']:.0f} s on {card['hardware']}.")
    st.markdown(f"Chosen: {card['selection']}. New images: {card['new_images']}.")
    runs = pd.DataFrame(card["metrics"]["runs"])
    runs["chosen"] = np.where(runs["bic"] == runs["bic"].min(), "✔", "")
    st.dataframe(runs, hide_index=True, width="stretch")
    st.caption("Lower BIC is better; accuracy, NMI and ARI are shown only to report, never to choose.")
    st.code(card["train_command"], language="bash")


@st.fragment
def reconstructions(models: dict) -> None:
    st.markdown("The encoder squeezes 784 pixels into 10 numbers; the decoder rebuilds the picture from them.")
    seed = st.number_input("Sample", 0, 10_000, 0, key="recon_seed", help="Pick another set of digits.")
    test_images = mnist_test_images()
    if test_images is None:
        st.caption(
            "MNIST test images and what the autoencoder rebuilds from their codes are shown when "
            "`../shared/data/mnist/mnist.npz` is present."
        )
        return
    rng = np.random.default_rng(int(seed))
    originals = test_images[rng.choice(len(test_images), 10, replace=False)] / 255.0
    st.image(strip(originals), caption=["original"] * 10, width=56)
    st.image(strip(models["DEC"].reconstruct(originals)), caption=["rebuilt"] * 10, width=56)
    if "IDEC" in models:
        st.image(strip(models["IDEC"].reconstruct(originals)), caption=["IDEC"] * 10, width=56)
    st.caption(
        "Top: MNIST test images. Then what the autoencoder rebuilds from their 10-number codes"
        + (
            " (the pretrained one, which DEC's encoder started from), and what IDEC's rebuilds after clustering."
            if "IDEC" in models
            else "."
        )
    )


models = load_all()
if not models:
    st.stop()
show_ladder(models)
show_map(models)
show_clusters(models)
try_a_digit(models)
how_it_works()
st.subheader("How they were trained")
if "DEC" in models:
    dec_training(models["DEC"].card)
if "IDEC" in models:
    idec_training(models["IDEC"].card)
if "N2D" in models:
    n2d_training(models["N2D"].card)
if "DEC" in models:
    with st.expander("Autoencoder reconstructions"):
        reconstructions(models)
d = next(iter(models.values())).card["data"]
st.markdown(f"**Data:** {d['data']}. **Licence:** {d['licence']}.")
