"""Digit recognizer: draw or upload a digit and watch logistic regression, an MLP and a CNN disagree."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st
from PIL import Image

from gallery import ui
from gallery.digits import examples, models, preprocess

ui.page_config("Digit recognizer", ":material/draw:")
st.title("Digit recognizer")
st.caption(
    "Three classifiers trained on MNIST look at the same digit: logistic regression, an MLP and a small CNN. "
    "Draw one with the mouse, upload a picture, or start from a digit rendered in a font."
)
CANVAS = 280


@st.cache_resource(show_spinner="Loading the three classifiers ...")
def load_models():
    import torch

    torch.set_num_threads(1)
    return {kind: models.load(kind) for kind in models.CLASSIFIERS}


@st.cache_data(show_spinner=False)
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


nets = ui.load_or_stop(load_models)

source = st.segmented_control(
    "Input", ["Example", "Draw", "Upload"], default="Example", key="source", help="Where the digit comes from."
)
left, right = st.columns([3, 2])
raw = None
with left:
    if source == "Draw":
        from streamlit_drawable_canvas import st_canvas

        width = st.slider("Pen width", 6, 40, 20, key="pen", help="MNIST strokes are about 2-3 of 28 pixels wide.")
        drawn = st_canvas(
            stroke_width=width,
            stroke_color="#FFFFFF",
            background_color="#000000",
            height=CANVAS,
            width=CANVAS,
            drawing_mode="freedraw",
            return_image_data=True,
            key="canvas",
        )
        st.caption("Draw one digit, large, in the middle; the bin in the canvas toolbar clears it.")
        raw = None if drawn is None else drawn.image_data  # RGBA; the preprocessing reads strokes either way
    elif source == "Upload":
        upload = st.file_uploader(
            "A picture of one digit (PNG, JPEG, BMP, GIF, WebP; dark on light or light on dark)",
            type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
            key="upload",
        )
        if upload is not None:
            try:
                raw = preprocess.load_image(upload.getvalue())
            except ValueError as err:
                st.error(f"That file could not be used: {err}.")
                st.stop()
            st.image(raw, caption=upload.name, width=CANVAS)
    else:
        fonts = examples.font_files()
        c1, c2, c3 = st.columns(3)
        digit = c1.selectbox("Digit", list(range(10)), index=7, key="example_digit")
        font = c2.selectbox(
            "Font",
            fonts or [None],
            format_func=lambda p: p.stem if p else "Pillow's built-in font",
            key="example_font",
        )
        stroke = c3.slider("Extra stroke", 0, 12, 4, key="example_stroke", help="Thickens the glyph (pixels).")
        raw = examples.render(digit, font, stroke=stroke, size=CANVAS, dark_on_light=True)
        st.image(raw, caption="Dark on light: the preprocessing inverts it", width=CANVAS)

if raw is None or (isinstance(raw, np.ndarray) and raw.size == 0):
    right.info("Draw a digit on the canvas (or upload a picture) to see what the models think.")
    st.stop()
try:
    image = preprocess.mnist_style(raw)
except preprocess.BlankImage:
    right.info("Draw a digit: the canvas is still blank.")
    st.stop()
except ValueError as err:
    right.error(f"That picture could not be used: {err}.")
    st.stop()

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

st.subheader("Where the models go wrong")
kind = st.selectbox("Model", models.CLASSIFIERS, index=2, format_func=models.TITLES.get, key="mistakes_model")
card = nets[kind][1]
m = card["metrics"]
c1, c2 = st.columns([3, 2])
with c1:
    confusion = np.array(m["confusion_matrix"])
    heat = go.Figure(
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
    st.plotly_chart(heat, width="stretch")
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
