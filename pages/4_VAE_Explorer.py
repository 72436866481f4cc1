"""VAE latent explorer: faces and digits decoded live from latent sliders."""

import numpy as np
import streamlit as st

from gallery import ui
from gallery.vae import data as vae_data
from gallery.vae import model as vae

ui.page_config("VAE latent explorer", ":material/tune:")
st.title("VAE latent explorer")
st.caption(
    "A variational autoencoder squeezes each picture into a short code of numbers, the latent vector, and "
    "learns to draw a picture back from any code. Move the code and watch the picture change."
)

SLIDER_RANGE = 3.0  # prior standard deviations
GRID_STEPS = 7


@st.cache_resource(show_spinner="Loading the VAE ...")
def load(kind: str):
    import torch

    torch.set_num_threads(1)  # several visitors share two cores: one thread per decode is fastest overall
    return vae.load(f"vae-{kind}")


@st.cache_data(max_entries=64, show_spinner=False)
def decode_cached(kind: str, codes: bytes, n: int, digit: int) -> np.ndarray:
    """Decode a batch of codes (as bytes, so the cache can key on them) into uint8 images."""
    m = load(kind)
    return m.decode(np.frombuffer(codes, dtype=np.float32).reshape(n, -1), digit)


def decode(kind, codes, digit=0) -> np.ndarray:
    codes = np.ascontiguousarray(np.atleast_2d(codes), dtype=np.float32)
    return decode_cached(kind, codes.tobytes(), len(codes), int(digit))


def show(images, width=None, caption=None):
    """Upscale tiny images with nearest neighbour so they stay crisp, then show them."""
    scale = 4 if images[0].shape[0] <= 32 else 3
    big = [np.kron(img, np.ones((scale, scale) + (1,) * (img.ndim - 2), dtype=np.uint8)) for img in images]
    st.image(big, width=width or "content", caption=caption)


def grid(images, cols) -> np.ndarray:
    """Tile (N, H, W[, C]) images into one picture with cols columns."""
    n, h, w = images.shape[:3]
    rows = -(-n // cols)
    pad = np.zeros((rows * cols - n, *images.shape[1:]), np.uint8)
    tiles = np.concatenate([images, pad]).reshape(rows, cols, h, w, *images.shape[3:])
    return np.concatenate(np.concatenate(tiles, axis=2), axis=0)


# ---------------------------------------------------------------- state: one code per model, kept in session_state

kind = st.segmented_control(
    "Model",
    ["faces", "digits"],
    default="faces",
    key="kind",
    format_func={"faces": "Faces (UTKFace 64x64)", "digits": "Digits (MNIST, conditional)"}.get,
)
kind = kind or "faces"
model = ui.load_or_stop(load, kind)
L = model.latent
ranked = model.ranked_dims()
attributes = model.config.get("attributes", [])
ATTR_LABELS = {"female": ("more male", "more female"), "older": ("younger", "older")}


def dim_key(i: int) -> str:
    return f"{kind}_dim_{i}"


def set_code(z, attrs_to_zero: bool = True) -> None:
    """Make ``z`` the current code and move every latent slider to it (only from callbacks)."""
    z = np.clip(np.asarray(z, np.float32), -SLIDER_RANGE, SLIDER_RANGE)
    st.session_state[f"z_{kind}"] = z
    for i in range(L):
        st.session_state[dim_key(i)] = round(float(z[i]), 2)
    if attrs_to_zero:
        for a in attributes:
            st.session_state[f"{kind}_attr_{a}"] = 0.0


def sliders_changed() -> None:
    z = st.session_state[f"z_{kind}"].copy()
    for i in range(L):
        if dim_key(i) in st.session_state:
            z[i] = st.session_state[dim_key(i)]
    st.session_state[f"z_{kind}"] = z


def new_sample() -> None:
    set_code(model.sample_codes(1, seed=int(st.session_state[f"{kind}_seed"]))[0])


def reset() -> None:
    set_code(np.zeros(L, np.float32))


st.session_state.setdefault(f"{kind}_seed", 0)
if f"z_{kind}" not in st.session_state:
    new_sample()
# Streamlit forgets the state of widgets that were not drawn in a run (another model's sliders, sliders beyond
# "how many"): put them back from the code before drawing.
for _i, _v in enumerate(st.session_state[f"z_{kind}"]):
    st.session_state.setdefault(dim_key(_i), round(float(_v), 2))
for _a in attributes:
    st.session_state.setdefault(f"{kind}_attr_{_a}", 0.0)


def upload_changed() -> None:
    """A new upload: validate it; on success its code drives the sliders, on failure nothing else changes."""
    file = st.session_state.get(f"{kind}_upload")
    st.session_state.pop(f"{kind}_upload_error", None)
    if file is None:
        st.session_state.pop(f"{kind}_uploaded", None)
        return
    try:
        img = vae_data.open_image(file.getvalue())
    except ValueError as err:
        st.session_state[f"{kind}_upload_error"] = f"{file.name}: {err}"
        return
    note = "No face detector is available here: the photo is centre-cropped to a square and shrunk to 64x64."
    if kind == "faces":
        seen = vae_data.face_array(img)
        z = model.encode(seen[None])[0]
        digit = 0
    else:
        seen, inverted = vae_data.digit_array(img)
        digit = int(vae.most_likely_class(model.net, seen[None])[0])
        z = model.encode(seen[None], [digit])[0]
        note = (
            "Centre-cropped, shrunk to 28x28 and greyscaled"
            + (", then inverted to light-on-dark like MNIST" if inverted else "")
            + f". The model finds class {digit} most likely, so it is encoded as a {digit}."
        )
        st.session_state["digits_class"] = digit
    preview = np.asarray(vae_data.centre_square(img.convert("RGB"), 128))
    st.session_state[f"{kind}_uploaded"] = {"name": file.name, "preview": preview, "seen": seen, "z": z, "note": note}
    set_code(z)


# ---------------------------------------------------------------- first screen: the picture, decoded live

z_base = st.session_state[f"z_{kind}"]
offset = np.zeros(L, np.float32)
for a in attributes:
    gap = model.card.get("attributes", {}).get(a, {}).get("gap", 1.0)
    offset += float(st.session_state.get(f"{kind}_attr_{a}", 0.0)) * gap * model.extra[f"dir_{a}"]
z_now = z_base + offset
digit = int(st.session_state.get("digits_class", 0)) if kind == "digits" else 0

left, right = st.columns([1, 2], gap="large")
with left:
    show(decode(kind, z_now, digit), width=256)
    b1, b2, b3 = st.columns([1, 1, 1], vertical_alignment="bottom")
    b1.number_input("Seed", 0, 1_000_000, key=f"{kind}_seed", on_change=new_sample)
    b2.button("New sample", on_click=new_sample, key=f"{kind}_sample", width="stretch")
    b3.button("Reset", on_click=reset, key=f"{kind}_reset", help="All sliders to 0: the centre.", width="stretch")
    if kind == "digits":
        st.select_slider("Digit to draw", options=list(range(10)), key="digits_class")
    active = model.active_dims()
    st.caption(
        f"{active} of {L} latent dimensions are active (average KL above 0.01 nats on held-out images); "
        "the sliders are the busiest ones first. A VAE switches off the dimensions it does not need."
    )

with right:
    n_sliders = st.slider("How many latent sliders", 2, min(24, L), min(8, L), key=f"{kind}_n_sliders")
    cols = st.columns(4)
    kl = model.extra["kl_per_dim"]
    for j, i in enumerate(ranked[:n_sliders]):
        cols[j % 4].slider(
            f"z{i} ({kl[i]:.1f} nats)",
            -SLIDER_RANGE,
            SLIDER_RANGE,
            step=0.05,
            key=dim_key(i),
            on_change=sliders_changed,
            help=f"Latent dimension {i}; its average KL on held-out images is {kl[i]:.2f} nats.",
        )
    if attributes:
        st.markdown("**Attribute sliders** (directions built from the labels in the file names)")
        info = model.card.get("attributes", {})
        acols = st.columns(len(attributes))
        for col, a in zip(acols, attributes):
            lo, hi = ATTR_LABELS.get(a, (f"less {a}", f"more {a}"))
            col.slider(
                f"{lo} \u2194 {hi}",
                -1.5,
                1.5,
                step=0.1,
                key=f"{kind}_attr_{a}",
                help="In units of the distance between the two groups' average codes.",
            )
            side = info.get(a, {}).get("side_effects", {})
            note = "; ".join(
                f"{abs(v):.0%} of the way {ATTR_LABELS.get(o, (o, o))[int(v > 0)]}"
                for o, v in side.items()
                if abs(v) >= 0.005
            )
            what = {
                "female": "Moves the code along the difference between the average female and male face.",
                "older": "Moves along the difference between faces aged 55+ and 18-30, with the gender part "
                "removed so ageing keeps the gender.",
            }.get(a, "")
            col.caption(
                what + (f" A full push also moves the face {note} (the groups differ in that too)." if note else "")
            )

# ---------------------------------------------------------------- upload, interpolation, traversal

tab_up, tab_interp, tab_grid = st.tabs(["Upload a photo", "Interpolate", "Traversal grid"])

with tab_up:
    st.file_uploader(
        "A face photo (the face should fill the middle)" if kind == "faces" else "A picture of one digit",
        key=f"{kind}_upload",
        on_change=upload_changed,
        help=f"JPEG, PNG, WebP or BMP, up to {vae_data.MAX_UPLOAD_BYTES // 2**20} MB "
        f"and {vae_data.MAX_UPLOAD_PIXELS // 10**6} megapixels.",
    )
    if err := st.session_state.get(f"{kind}_upload_error"):
        st.error(err + " Nothing else was changed.")
    up = st.session_state.get(f"{kind}_uploaded")
    if up:
        st.caption(up["note"])
        c1, c2, c3 = st.columns(3)
        with c1:
            st.image(up["preview"], caption="your picture (centre square)", width=192)
        with c2:
            show([up["seen"]], width=192, caption="what the model sees")
        with c3:
            show(decode(kind, up["z"], digit), width=192, caption="its reconstruction")
        st.caption("Its code now drives the sliders above; press Reset or New sample to leave it.")

with tab_interp:
    sources = ["random sample", "held-out example", "current sliders"] + (["uploaded picture"] if up else [])
    ends = []
    c1, c2 = st.columns(2)
    for col, label, default_seed in ((c1, "Start", 1), (c2, "End", 2)):
        with col:
            src = st.selectbox(f"{label} from", sources, key=f"{kind}_{label}_src")
            if src == "random sample":
                s = st.number_input(f"{label} seed", 0, 1_000_000, default_seed, key=f"{kind}_{label}_seed")
                ends.append(model.sample_codes(1, seed=int(s))[0])
            elif src == "held-out example":
                n_ex = len(model.extra["examples"])
                k = st.number_input(f"{label} example", 0, n_ex - 1, default_seed, key=f"{kind}_{label}_ex")
                ends.append(model.extra["examples"][int(k)])
            elif src == "current sliders":
                ends.append(z_now)
            else:
                ends.append(up["z"])
    c1, c2 = st.columns(2)
    mode = c1.radio("Path", ["linear", "spherical"], horizontal=True, key=f"{kind}_path")
    frames = c2.slider("Frames", 3, 12, 8, key=f"{kind}_frames")
    path = vae.interpolate(ends[0], ends[1], frames, spherical=mode == "spherical").numpy()
    strip = decode(kind, path, digit)
    show(list(strip))
    t = st.slider("Position along the path", 0, frames - 1, frames // 2, key=f"{kind}_t")
    show([strip[t]], width=192, caption=f"frame {t}: t = {t / (frames - 1):.2f}")
    st.caption(
        "Linear: (1 - t)·a + t·b. Spherical keeps the code's length, which stays typical for a Gaussian "
        "prior, so the middle frames look less washed out."
    )

with tab_grid:
    options = ranked[: max(2, min(L, 16))]
    c1, c2 = st.columns(2)
    dx = c1.selectbox("Across", options, index=0, key=f"{kind}_gx", format_func=lambda i: f"z{i}")
    dy = c2.selectbox("Down", options, index=1, key=f"{kind}_gy", format_func=lambda i: f"z{i}")
    if dx == dy:
        st.warning("Pick two different dimensions.")
    else:
        vals = np.linspace(-SLIDER_RANGE, SLIDER_RANGE, GRID_STEPS, dtype=np.float32)
        codes = np.repeat(z_now[None], GRID_STEPS * GRID_STEPS, axis=0)
        codes[:, dy] = np.repeat(vals, GRID_STEPS)
        codes[:, dx] = np.tile(vals, GRID_STEPS)
        show([grid(decode(kind, codes, digit), GRID_STEPS)], width=560)
        st.caption(f"z{dx} from -3 to 3 across, z{dy} from -3 to 3 down; the other dimensions stay as the sliders.")

# ---------------------------------------------------------------- how it works, how it was trained

with st.expander("How it works", expanded=False):
    st.markdown(
        r"""
An encoder maps a picture $x$ to a Gaussian $q(z\mid x) = \mathcal N(\mu(x), \sigma^2(x))$ over codes, a decoder
maps a code back to a picture, and both are trained to maximise the evidence lower bound

$$\text{ELBO}(x) = \mathbb E_{q(z\mid x)}[\log p(x\mid z)] - \mathrm{KL}\big(q(z\mid x)\,\|\,\mathcal N(0, I)\big).$$

The KL term keeps codes near a standard normal, which is why sampling $z \sim \mathcal N(0, I)$ gives new pictures
and why sliders run over a few standard deviations.

- **Faces**: convolutional encoder and decoder, $p(x\mid z)$ Gaussian with one shared $\sigma$ set to the
  root mean squared error (a *calibrated* decoder, the σ-VAE). A fixed $\sigma$ is a hidden weight on the KL
  term; summing squared errors with weight 1 makes faces blurrier. Scores use the Gaussian binned to 256
  grey levels, a probability, so the negative ELBO is never below zero.
- **Digits**: a conditional VAE: the class is given to the encoder and the decoder, so the code only has to
  hold the *style* (slant, thickness), and the same code drawn as another digit keeps its style.
  $p(x\mid z, y)$ is Bernoulli on intensities $x/255 \in [0, 1]$.

**What went wrong in the original notebook**

1. *Negative loss.* Pixels were scaled to $[-1, 1]$ and fed to binary cross-entropy, which is a
   log-likelihood only for targets in $[0, 1]$. For a pixel at $x=-1$ the term $-[x\log p + (1-x)\log(1-p)]$
   becomes $\log p - 2\log(1-p)$, which falls without bound as $p \to 0$: the "loss" went negative and
   training chased that instead of the data. Here the targets are $x/255 \in [0, 1]$, and the loss is never
   negative.
2. *Interpolation.* Frames were computed as $z_{\text{from}} + a\,z_{\text{to}}$, which never reaches the end
   face and drifts off the prior. The right path is $(1-a)\,z_{\text{from}} + a\,z_{\text{to}}$ (or the
   spherical version), whose end frames reproduce the two inputs.
"""
    )

with st.expander("How it was trained", expanded=False):
    import pandas as pd
    import plotly.express as px

    card = model.card
    st.markdown(
        f"**Model:** {card['model']}, {card['parameters']:,} parameters. Trained in {card['train_seconds']:,} s on "
        f"{card['hardware']}; best of {card['epochs_run']} epochs: {card['best_epoch']}."
    )
    m, b = card["metrics"], card["baselines"]
    if kind == "faces":
        pca = next(iter(b.values()))
        rows = [
            (
                "validation MSE per pixel",
                f"{m['validation_mse_per_pixel']:.5f}",
                f"{pca['validation_mse_per_pixel']:.5f}",
            ),
            ("train MSE per pixel", f"{m['train_mse_per_pixel']:.5f}", f"{pca['train_mse_per_pixel']:.5f}"),
            ("validation -ELBO, nats per image", f"{m['validation_neg_elbo_nats']:,.0f}", "—"),
            ("validation bits per dimension", f"{m['validation_bits_per_dim']:.3f}", "—"),
            (
                "sharpness (Laplacian variance)",
                f"{m['sharpness_laplacian_var']['vae']:.5f}",
                f"originals: {m['sharpness_laplacian_var']['originals']:.5f}",
            ),
        ]
        base_name = "PCA, as many components as latents"
    else:
        bern = b["bernoulli_per_class"]["test_neg_log_likelihood_nats"]
        rows = [
            ("test -ELBO, nats per image (sampled z)", f"{m['test_neg_elbo_nats']:.2f}", f"{bern:.2f}"),
            ("test -ELBO with the encoder mean", f"{m['test_neg_elbo_nats_encoder_mean']:.2f}", "—"),
            ("entropy floor of the convention", f"{m['entropy_floor_nats']:.2f}", "—"),
            ("test MSE per pixel", f"{m['test_mse_per_pixel']:.5f}", "—"),
        ]
        base_name = "per-class Bernoulli pixels"
    st.table(pd.DataFrame(rows, columns=["metric", "this model", base_name]).set_index("metric"))
    for note in card.get("metric_notes", {}).values():
        st.caption(note)
    history = pd.DataFrame(card.get("history") or [])
    if not history.empty:
        st.plotly_chart(
            px.line(history, x="epoch", y="val_neg_elbo", markers=True, height=280, labels={"val_neg_elbo": "-ELBO"}),
            width="stretch",
        )
    data = card["data"]
    st.markdown(f"**Data:** {data['data']}. **Licence:** {data['licence']}.")
    if kind == "faces" and data.get("malformed_names_skipped"):
        st.caption(f"Skipped {len(data['malformed_names_skipped'])} files whose names carry no labels.")
    st.markdown("**Rebuild this artifact:**")
    st.code(card["train_command"], language="bash")
