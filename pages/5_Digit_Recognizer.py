"""Digit recognizer: draw or upload a digit and watch logistic regression, an MLP and a CNN disagree."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from gallery import ui
from gallery.digits import models

ui.page_config("Digit recognizer", "✏️")
st.title("Digit recognizer")
st.caption(
    "Three classifiers trained on MNIST look at the same digit: logistic regression, an MLP and a small CNN. "
    "Draw one with the mouse, upload a picture, or start from a digit rendered in a font."
)


@st.cache_resource(max_entries=1, show_spinner="Loading the three classifiers ...")
def load_models():
    nets = {kind: models.load(kind) for kind in models.CLASSIFIERS}
    ui.limit_threads()
    return nets


@st.cache_resource(max_entries=1, show_spinner=False)  # read only: shared, not copied for every caller
def mnist_test_images():
    from gallery.digits import data

    return data.test_images_or_none()


def enlarge(image: np.ndarray, size: int = 140) -> Image.Image:
    return Image.fromarray(np.uint8(np.clip(image, 0, 1) * 255)).resize((size, size), Image.Resampling.NEAREST)


def mosaic(maps: np.ndarray, columns: int = 8, pad: int = 2) -> np.ndarray:
    """Feature maps (C,H,W) -> one grid image in [0,1], each map scaled to its own maximum."""
    c, h, w = maps.shape
    rows = -(-c // columns)
    grid = np.ones((rows * (h + pad) - pad, columns * (w + pad) - pad), dtype=np.float32)
    for i, m in enumerate(maps):
        r, q = divmod(i, columns)
        top = m.max()
        grid[r * (h + pad) : r * (h + pad) + h, q * (w + pad) : q * (w + pad) + w] = m / top if top > 0 else m
    return grid


@st.cache_resource(max_entries=len(models.CLASSIFIERS), show_spinner=False)
def confusion_figure(kind: str) -> go.Figure:
    """A model's confusion matrix on the test images: the same for every visitor, so built once per model."""
    m = load_models()[kind][1]["metrics"]
    confusion = np.array(m["confusion_matrix"])
    return go.Figure(
        go.Heatmap(
            z=np.log1p(confusion),
            x=[str(d) for d in range(10)],
            y=[str(d) for d in range(10)],
            text=confusion,
            texttemplate="%{text}",
            colorscale="Blues",
            showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{text}<extra></extra>",
        ),
        layout=dict(
            height=420,
            margin=dict(t=30, b=10),
            xaxis=dict(title="predicted", type="category"),
            yaxis=dict(title="true digit", type="category", autorange="reversed"),
            title=f"Confusion matrix on the {m['test_images']:,} test images",
        ),
    )


@st.fragment(key="digits")
def recognizer(nets: dict) -> None:
    """The digit (example, drawing or upload), the three predictions and the CNN's view of it: a change reruns this
    part only, not the page."""
    left, right = st.columns([3, 2])
    with left:
        raw = ui.digit_input()
    image = ui.mnist_digit(raw, right, "Draw a digit on the canvas (or upload a picture) to see what the models think.")
    if image is None:
        return

    probs = {kind: models.predict_proba(net, image[None])[0] for kind, (net, _) in nets.items()}
    with right:
        st.image(enlarge(image), caption="What the models see: 28x28, ink bright on black, centred by mass")
        cols = st.columns(3)
        for col, (kind, p) in zip(cols, probs.items()):
            col.metric(models.TITLES[kind], str(int(p.argmax())))
            col.caption(f"{p.max():.0%} sure")

    fig = go.Figure(
        [go.Bar(name=models.TITLES[k], x=[str(d) for d in range(10)], y=p) for k, p in probs.items()],
        layout=dict(
            barmode="group",
            height=300,
            margin=dict(t=30, b=10),
            yaxis_title="probability",
            xaxis=dict(title="digit", type="category"),
        ),
    )
    st.plotly_chart(fig, width="stretch")

    cnn = nets["cnn"][0]
    with st.expander("The CNN's first layer on this digit", expanded=True):
        import torch

        with torch.no_grad():
            maps = cnn.feature_maps(torch.from_numpy(image)[None, None])[0].numpy()
        st.image(
            Image.fromarray(np.uint8(mosaic(maps) * 255)).resize((8 * 60, 4 * 60), Image.Resampling.NEAREST),
            caption=f"The {len(maps)} feature maps after the first convolution, batch norm and ReLU (bright = active)",
        )
        kernels = cnn.conv1.weight.detach()[:, 0].numpy()
        st.image(
            Image.fromarray(np.uint8(mosaic(kernels - kernels.min(axis=(1, 2), keepdims=True)) * 255)).resize(
                (8 * 40, 4 * 40), Image.Resampling.NEAREST
            ),
            caption="The 3x3 kernels that made them (bright = positive weight)",
        )


@st.fragment(key="mistakes")
def mistakes_view(nets: dict) -> None:
    """Where the chosen model goes wrong: a change of model reruns this part only."""
    kind = st.selectbox("Model", models.CLASSIFIERS, index=2, format_func=models.TITLES.get, key="mistakes_model")
    card = nets[kind][1]
    m = card["metrics"]
    c1, c2 = st.columns([3, 2])
    with c1:
        st.plotly_chart(confusion_figure(kind), width="stretch")
    with c2:
        mistakes = pd.DataFrame(m["confident_mistakes"][:12])
        mistakes.columns = ["test image", "true digit", "predicted", "confidence"]
        st.markdown(f"**Most confident mistakes** ({m['test_errors']} errors in all)")
        st.dataframe(mistakes, hide_index=True, width="stretch")
    test_images = mnist_test_images()
    if test_images is not None:
        shown = m["confident_mistakes"][:12]
        cols = st.columns(len(shown) or 1)
        for col, row in zip(cols, shown):
            col.image(enlarge(test_images[row["index"]] / 255.0, 84), caption=f"{row['label']} → {row['predicted']}")
    else:
        st.caption("The MNIST test images themselves are shown when `../shared/data/mnist/mnist.npz` is present.")


nets = ui.load_or_stop(load_models)
recognizer(nets)
st.subheader("Where the models go wrong")
mistakes_view(nets)

st.subheader("How it works")
st.markdown(
    """
- **Preprocessing, the MNIST way.** MNIST digits are light ink on black, scaled to fit a 20x20 box and placed in
  a 28x28 field so that their centre of mass is in the middle. A drawing or a photo is turned into the same thing:
  transparent or dark backgrounds are read as such, a light background is inverted, the picture is cropped to the
  ink, scaled into 20x20 keeping its proportions, and shifted so its centre of mass is at (14, 14).
- **Logistic regression** weighs each of the 784 pixels once per digit: ten linear templates.
- **The MLP** stacks two hidden layers of 800 ReLU units: it can combine strokes but knows nothing of where
  pixels sit relative to each other.
- **The CNN** slides 3x3 filters over the image (the feature maps above), pools, and repeats: it sees strokes and
  corners wherever they are, which is why it shrugs off small shifts that confuse the other two.
"""
)

st.subheader("How it was trained")
kinds = list(models.CLASSIFIERS)
cards = {k: nets[k][1] for k in kinds}
rows = [
    {
        "model": models.TITLES[k],
        "test accuracy": cards[k]["metrics"]["test_accuracy"],
        "nearest class mean": cards[k]["metrics"]["nearest_centroid_test_accuracy"],
        "parameters": cards[k]["parameters"],
        "epochs": cards[k]["optimisation"]["epochs"],
        "train seconds": cards[k]["train_seconds"],
    }
    for k in kinds
]
st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
history = pd.DataFrame([{"model": models.TITLES[k], **h} for k in kinds for h in cards[k].get("history", [])])
if not history.empty:
    curve = go.Figure(
        [
            go.Scatter(x=g["epoch"], y=g["val_accuracy"], name=name, mode="lines+markers")
            for name, g in history.groupby("model")
        ],
        layout=dict(height=280, margin=dict(t=30, b=10), xaxis_title="epoch", yaxis_title="validation accuracy"),
    )
    st.plotly_chart(curve, width="stretch")
for k in kinds:
    c = cards[k]
    st.markdown(f"**{models.TITLES[k]}:** {c['model']}; {c['optimisation']['augmentation']} augmentation.")
    st.code(c["train_command"], language="bash")
d = cards["cnn"]["data"]
st.markdown(f"**Data:** {d['data']}. **Licence:** {d['licence']}. {d['split_rule'].capitalize()}.")
