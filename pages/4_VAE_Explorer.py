"""VAE latent explorer: faces and digits decoded live from latent sliders."""

import numpy as np
import streamlit as st

from gallery import ui
from gallery.vae import data as vae_data
from gallery.vae import model as vae

ui.page_config("VAE latent explorer", "🎛️")
st.title("VAE latent explorer")
st.caption(
    "A variational autoencoder squeezes each picture into a short code of numbers, the latent vector, and "
    "learns to draw a picture back from any code. Move the code and watch the picture change."
)

SLIDER_RANGE = 3.0  # prior standard deviations
GRID_STEPS = 7
BATCH = 16
MODEL_LABELS = {
    "faces-sharp": "Faces, sharp decoder",
    "faces": "Faces, faithful decoder",
    "digits": "Digits (MNIST, conditional)",
}
ATTR_LABELS = {"female": ("more male", "more female"), "older": ("younger", "older")}


@st.cache_resource(max_entries=len(MODEL_LABELS), show_spinner="Loading the VAE ...")
def load(kind: str):
    model = vae.load(f"vae-{kind}")
    ui.limit_threads()  # several visitors share two cores: one thread per decode is fastest overall
    return model


def load_if_intact(kind: str):
    """The model, or None where its artifact is missing or broken (for the optional parts that borrow it)."""
    from gallery.registry import ArtifactError

    try:
        return load(kind)
    except ArtifactError:
        return None


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


def attribute_model():
    """Whose attribute directions the sliders use: faces-sharp's measured ones serve both face decoders (one code
    space); the faithful decoder falls back to its own group-mean directions when faces-sharp is unavailable."""
    if space == "faces" and kind != "faces-sharp":
        return load_if_intact("faces-sharp") or model
    return model


def dim_key(i: int) -> str:
    return f"{space}_dim_{i}"


def face_density():
    """The Gaussian fitted to the training faces' codes (stored with faces-sharp; both face models share codes)."""
    sharp_model = load_if_intact("faces-sharp")
    return sharp_model.density() if sharp_model else None


def draw_codes(n: int, seed: int) -> np.ndarray:
    """New codes as the sampling controls say: the fitted density or the prior, at the chosen temperature."""
    temperature = float(st.session_state.get(f"{space}_temperature", 1.0))
    density = face_density() if space == "faces" and st.session_state.get("faces_density") == "fitted" else None
    if density is not None:
        return density.sample(n, seed, temperature)
    return model.sample_codes(n, seed=seed, temperature=temperature)


def set_code(z, attrs_to_zero: bool = True) -> None:
    """Make ``z`` the current code and move every latent slider to it (only from callbacks)."""
    z = np.clip(np.asarray(z, np.float32), -SLIDER_RANGE, SLIDER_RANGE)
    st.session_state[f"z_{space}"] = z
    for i in range(L):
        st.session_state[dim_key(i)] = round(float(z[i]), 2)
    if attrs_to_zero:
        for a in attributes:
            st.session_state[attr_key(a)] = 0.0


def attr_key(a: str) -> str:
    return f"{space}_attr_{a}"


def sliders_changed() -> None:
    z = st.session_state[f"z_{space}"].copy()
    for i in range(L):
        if dim_key(i) in st.session_state:
            z[i] = st.session_state[dim_key(i)]
    st.session_state[f"z_{space}"] = z


def new_sample() -> None:
    set_code(draw_codes(1, int(st.session_state[f"{space}_seed"]))[0])


def reset() -> None:
    set_code(np.zeros(L, np.float32))


def upload_changed() -> None:
    """A new upload: validate it; on success its code drives the sliders, on failure nothing else changes."""
    file = st.session_state.get(f"{space}_upload")
    st.session_state.pop(f"{space}_upload_error", None)
    if file is None:
        st.session_state.pop(f"{space}_uploaded", None)
        return
    try:
        img = vae_data.open_image(file.getvalue())
    except ValueError as err:
        st.session_state[f"{space}_upload_error"] = f"{file.name}: {err}"
        return
    note = "No face detector is available here: the photo is centre-cropped to a square and shrunk to 64x64."
    if space == "faces":
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
    st.session_state[f"{space}_uploaded"] = {"name": file.name, "preview": preview, "seen": seen, "z": z, "note": note}
    set_code(z)


def sharp_card() -> dict | None:
    """The sharp model's card (it holds the measurements of both face decoders), or None where it is broken."""
    sharp_model = load_if_intact("faces-sharp")
    return sharp_model.card if sharp_model else None


def perception_distortion_note() -> str:
    card = sharp_card()
    if not card:
        return ""
    m = card["metrics"]
    faithful = m["decoders"]["faces"]["validation_mse_per_pixel"]
    return (
        f"Held-out reconstruction error: sharp {m['validation_mse_per_pixel']:.4f}, faithful {faithful:.4f} per pixel "
        f"({m['mse_over_faithful']:.2f}x). A decoder that minimises pixel error draws the average of every face a "
        "code could be, a blur; drawing plausible detail costs some pixel accuracy (the perception-distortion "
        "trade-off, Blau and Michaeli 2018)."
    )


def attribute_note(a: str) -> str:
    """What a full push of an attribute slider does, as measured on held-out faces (or the group-gap notes)."""
    card = attr_model.card
    edits = card.get("metrics", {}).get("attribute_edits", {}).get(kind)
    if edits and a == "female":
        e = edits["female"]
        return (
            f"The normal of a logistic regression of gender on the codes. At the full push, read by a CNN on "
            f"held-out faces: {e['men_read_female_at_plus1']:.0%} of men read as female (+1), "
            f"{e['women_read_male_at_minus1']:.0%} of women as male (-1); the read age moves "
            f"{e['age_drift_years']:.1f} years on average."
        )
    if edits and a == "older":
        e = edits["older"]
        return (
            f"A regression of log(age) on the codes, minus its gender part, so ageing keeps the gender. "
            f"The full push adds {e['years_added_at_plus1']:.0f} years as read by a CNN on held-out faces "
            f"(-1 removes {e['years_removed_at_minus1']:.0f}); P(female) moves {e['gender_drift']:.2f}."
        )
    side = card.get("attributes", {}).get(a, {}).get("side_effects", {})
    note = "; ".join(
        f"{abs(v):.0%} of the way {ATTR_LABELS.get(o, (o, o))[int(v > 0)]}" for o, v in side.items() if abs(v) >= 0.005
    )
    what = {
        "female": "Moves the code along the difference between the average female and male face.",
        "older": "Moves along the difference between faces aged 55+ and 18-30, with the gender part "
        "removed so ageing keeps the gender.",
    }.get(a, "")
    return what + (f" A full push also moves the face {note} (the groups differ in that too)." if note else "")


def available(name: str) -> bool:
    return load_if_intact(name) is not None


def show_both(codes, width, caption=None):
    """Decode with this model, and beside it with the other face decoder when "compare" is on."""
    if not compare:
        show(decode(kind, codes, digit), width=width, caption=caption)
        return
    for col, name in zip(st.columns(2), (kind, other)):
        with col:
            show(decode(name, codes, digit), width=width, caption=MODEL_LABELS[name].split(", ")[1])


def sampling_table(card: dict):
    """Both face decoders and both samplers: sharpness, two-sample AUC, and reconstruction beside them."""
    import pandas as pd

    m, rows = card["metrics"], []
    for name in ("faces-sharp", "faces"):
        d = m["decoders"][name]
        label = MODEL_LABELS[name].split(", ")[1]
        for sampler, what in (("fitted", "where faces live"), ("prior", "prior N(0, I)")):
            r = d["sampling"][sampler]
            rows.append((label, what, f"{r['sharpness_ratio']:.2f}", f"{r['two_sample_auc']:.3f}"))
        rows.append((label, "reconstructions", f"{d['reconstruction_sharpness_ratio']:.2f}", "—"))
    rows.append(("real faces, 3x3 box blur", "control", "—", f"{m['two_sample_controls']['blurred_real_vs_real']:.3f}"))
    rows.append(("real faces", "control", "1.00", f"{m['two_sample_controls']['real_vs_real']:.3f}"))
    columns = ["decoder", "codes", "sharpness (real = 1)", "two-sample AUC (0.5 = can't tell)"]
    return pd.DataFrame(rows, columns=columns)


@st.cache_data(max_entries=4, show_spinner=False)
def spectrum_figure(card_json: str):
    """Radially averaged power spectra of real faces and of samples (fitted density) from both decoders."""
    import json

    import plotly.graph_objects as go

    m = json.loads(card_json)["metrics"]
    fig = go.Figure()
    lines = [("real faces", m["real_spectrum"], "black")] + [
        (f"{MODEL_LABELS[n].split(', ')[1]} decoder, {s}", m["decoders"][n]["sampling"][s]["spectrum"], c)
        for n, s, c in (
            ("faces-sharp", "fitted", "#d62728"),
            ("faces", "fitted", "#1f77b4"),
            ("faces", "prior", "#9ecae1"),
        )
    ]
    for name, values, colour in lines:
        fig.add_trace(go.Scatter(x=list(range(1, len(values) + 1)), y=values, name=name, line={"color": colour}))
    fig.update_layout(
        height=320,
        margin={"t": 10, "b": 40},
        xaxis_title="spatial frequency (cycles per 64 pixels)",
        yaxis_title="power",
        yaxis_type="log",
        legend={"orientation": "h", "y": -0.25},
    )
    return fig


def sharp_training(card: dict) -> None:
    import pandas as pd
    import plotly.graph_objects as go

    st.markdown(
        f"**Model:** {card['model']}, {card['parameters']:,} parameters. Trained for {card['steps']:,} steps of "
        f"{card['optimisation']['batch']} faces in {card['train_seconds']:,} s on {card['hardware']}: "
        f"{card['optimisation']['warmup_steps']:,} steps of reconstruction alone, then with the discriminator."
    )
    history = pd.DataFrame(card.get("history") or [])
    if not history.empty:
        fig = go.Figure()
        fig.add_trace(go.Scatter(x=history["step"], y=history["val_mse"], name="held-out MSE per pixel"))
        fig.add_trace(
            go.Scatter(
                x=history["step"], y=history["sample_sharpness_ratio"], name="sample sharpness (real = 1)", yaxis="y2"
            )
        )
        fig.update_layout(
            height=300,
            margin={"t": 10, "b": 40},
            xaxis_title="step",
            yaxis={"title": "MSE"},
            yaxis2={"title": "sharpness", "overlaying": "y", "side": "right"},
            legend={"orientation": "h", "y": -0.3},
        )
        st.plotly_chart(fig, width="stretch")
    runs = card["training"].get("commands_run") or []
    if len(runs) > 1:
        st.markdown("**The runs, each resuming the last** (the first step each began at):")
        st.table(pd.DataFrame(runs).rename(columns={"command": "command", "from_step": "from step"}).astype(str))
    data = card["data"]
    st.markdown(f"**Data:** {data['data']}. **Licence:** {data['licence']}. {data['citation']}")
    st.markdown("**Rebuild this artifact:**")
    st.code(card["train_command"], language="bash")


def tab_defaults() -> dict:
    """The start values of the widgets in the tabs (theirs, not a default argument's: see the tabs below)."""
    start = {f"{space}_batch_seed": 0, f"{space}_frames": 8}
    for label, first in (("Start", 1), ("End", 2)):
        start |= {f"{space}_{label}_seed": first, f"{space}_{label}_ex": first}
    options = grid_options()
    return start | {f"{space}_gx": options[0], f"{space}_gy": options[1]}


def grid_options() -> list[int]:
    """The latent dimensions the traversal grid offers: the busiest first."""
    return ranked[: max(2, min(L, 16))]


def how_it_works() -> None:
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
- **Faces, sharp decoder**: the same frozen encoder, so the same codes, and a second decoder
  (nearest-neighbour upsampling and 3x3 convolutions, no transposed convolutions and their checkerboards)
  trained on codes drawn from $q(z\mid x)$ with three terms: L1 reconstruction; *feature matching*, the
  distance between a discriminator's features of the real and the decoded face (a learned similarity, since
  no pretrained perceptual network is available here); and a hinge-loss PatchGAN discriminator with spectral
  norm, whose weight is set at each step from the ratio of the two terms' gradients at the decoder's last layer
  (as in VQGAN). The discriminator sees randomly shifted, recoloured and cut-out faces (only 8,350 training
  faces), pays a small R1 penalty, and the decoder kept is a moving average of its weights.
- **Where faces live**: the prior $\mathcal N(0, I)$ is what the KL term pulls codes toward, but real faces
  fill it unevenly. New codes can instead come from a Gaussian with the mean and full covariance of the
  training faces' codes (as the RAE paper does), which "How well it does" shows makes samples more real.
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


def how_well_it_does(card_sharp: dict) -> None:
    import json

    m = card_sharp["metrics"]
    st.markdown(
        "Measured on the 928 validation faces, which neither decoder saw. **Sharpness** is the variance of the "
        "Laplacian of the grey image over that of real faces (1 is right; below is blur, far above is noise). "
        "The **two-sample test** trains a small CNN to tell real training faces from samples and scores it on "
        "validation faces against new samples by ROC AUC: 0.5 means it cannot tell them apart, 1.0 always "
        "can. The controls show the test has teeth: a 3x3 blur of real faces is caught at once."
    )
    st.table(sampling_table(card_sharp).set_index(["decoder", "codes"]))
    st.markdown("**Power spectrum**: blur starves the high frequencies; noise or checkerboards would inflate them.")
    st.plotly_chart(spectrum_figure(json.dumps(card_sharp)), width="stretch")
    r = m["attribute_reader"]
    st.caption(
        f"Attribute reader (for the slider numbers): gender accuracy {r['gender_accuracy']:.1%} "
        f"(majority class {r['majority_gender_accuracy']:.1%}), age error {r['age_mae_years']:.1f} years "
        f"(always the median age: {r['median_age_mae_years']:.1f}) on real validation faces. "
        f"Reconstruction error: sharp {m['validation_mse_per_pixel']:.4f}, faithful "
        f"{m['decoders']['faces']['validation_mse_per_pixel']:.4f}, PCA with 64 components "
        f"{m['pca_validation_mse_per_pixel']:.4f} per pixel."
    )


def how_it_was_trained(model, kind: str) -> None:
    import pandas as pd

    card = model.card
    if kind == "faces-sharp":
        sharp_training(card)
    else:
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
        if card.get("history"):
            figure = ui.history_figure(card["history"], ("val_neg_elbo",), "-ELBO")
            st.plotly_chart(figure, width="stretch")
        data = card["data"]
        st.markdown(f"**Data:** {data['data']}. **Licence:** {data['licence']}.")
        if kind == "faces" and data.get("malformed_names_skipped"):
            st.caption(f"Skipped {len(data['malformed_names_skipped'])} files whose names carry no labels.")
        st.markdown("**Rebuild this artifact:**")
        st.code(card["train_command"], language="bash")


@st.fragment(key="vae")
def explorer() -> None:
    """The model, its code, the pictures and the tabs: moving a slider reruns this part only, not the page."""
    # The helpers above (and the widgets' callbacks) read these as the page's globals, as when this ran unwrapped.
    global kind, space, model, L, ranked, attr_model, attributes, z_now, digit, other, compare
    kind = st.segmented_control(
        "Model",
        list(MODEL_LABELS),
        default="faces-sharp",
        key="kind",
        format_func=MODEL_LABELS.get,
        help="Both face models read the same code (one encoder): the faithful decoder was trained to reconstruct, "
        "the sharp one to reconstruct and to look real.",
    )
    kind = kind or "faces-sharp"
    space = "digits" if kind == "digits" else "faces"  # the face models share their codes, sliders and upload
    model = ui.load_or_stop(load, kind)
    L = model.latent
    ranked = model.ranked_dims()

    attr_model = attribute_model()
    attributes = attr_model.config.get("attributes", [])

    st.session_state.setdefault(f"{space}_seed", 0)
    st.session_state.setdefault("faces_density", "fitted")
    if f"z_{space}" not in st.session_state:
        new_sample()
    # Streamlit forgets the state of widgets that were not drawn in a run (another model's sliders, sliders beyond
    # "how many"): put them back from the code before drawing.
    for _i, _v in enumerate(st.session_state[f"z_{space}"]):
        st.session_state.setdefault(dim_key(_i), round(float(_v), 2))
    for _a in attributes:
        st.session_state.setdefault(attr_key(_a), 0.0)

    # ---------------------------------------------------------------- first screen: the picture, decoded live

    z_base = st.session_state[f"z_{space}"]
    offset = np.zeros(L, np.float32)
    for a in attributes:
        offset += attr_model.attribute_offset(a, float(st.session_state.get(attr_key(a), 0.0)))
    z_now = z_base + offset
    digit = int(st.session_state.get("digits_class", 0)) if kind == "digits" else 0
    other = {"faces-sharp": "faces", "faces": "faces-sharp"}.get(kind)  # the other decoder of the same code

    compare = bool(other and st.session_state.get("faces_compare") and available(other))

    left, right = st.columns([1, 2], gap="large")
    with left:
        show_both(z_now, 256 if not compare else 176)
        b1, b2, b3 = st.columns([1, 1, 1], vertical_alignment="bottom")
        b1.number_input("Seed", 0, 1_000_000, key=f"{space}_seed", on_change=new_sample)
        b2.button("New sample", on_click=new_sample, key=f"{space}_sample", width="stretch")
        b3.button("Reset", on_click=reset, key=f"{space}_reset", help="All sliders to 0: the centre.", width="stretch")
        if kind == "digits":
            st.select_slider("Digit to draw", options=list(range(10)), key="digits_class")
        else:
            st.toggle(
                "Show both decoders",
                key="faces_compare",
                help="The same code drawn by the sharp and by the faithful decoder.",
                disabled=not available(other),
            )
            if compare:
                st.caption(perception_distortion_note())
            c1, c2 = st.columns(2)
            c1.radio(
                "New codes from",
                ["fitted", "prior"],
                key="faces_density",
                format_func={"fitted": "where faces live", "prior": "the prior N(0, I)"}.get,
                help="Where faces live: a Gaussian fitted to the codes of the training faces. The prior: what the "
                "VAE was trained to match, which real faces only roughly fill.",
                disabled=face_density() is None,
            )
            c2.slider(
                "Temperature",
                0.3,
                1.5,
                1.0,
                step=0.1,
                key="faces_temperature",
                help="Scales the spread of new codes: below 1 typical faces, above 1 unusual ones.",
            )
        active = model.active_dims()
        st.caption(
            f"{active} of {L} latent dimensions are active (average KL above 0.01 nats on held-out images); "
            "the sliders are the busiest ones first. A VAE switches off the dimensions it does not need."
        )

    with right:
        n_sliders = st.slider("How many latent sliders", 2, min(24, L), min(8, L), key=f"{space}_n_sliders")
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
            reach = attr_model.attribute_range()
            acols = st.columns(len(attributes))
            for col, a in zip(acols, attributes):
                lo, hi = ATTR_LABELS.get(a, (f"less {a}", f"more {a}"))
                col.slider(
                    f"{lo} \u2194 {hi}",
                    -reach,
                    reach,
                    step=0.1,
                    key=attr_key(a),
                    help="±1 is the full push, chosen so that most faces read as the other group."
                    if reach == 1
                    else "In units of the distance between the two groups' average codes.",
                )
                col.caption(attribute_note(a))

    # ---------------------------------------------------------------- batch, upload, interpolation, traversal

    # Only the open tab is built (switching tabs reruns this fragment): the traversal grid alone decodes 49 pictures.
    # What was set in a hidden tab stays (Streamlit forgets the state of widgets a run does not draw, not Session
    # State's own): those widgets take their start values from Session State, not from a default argument.
    for key, start in tab_defaults().items():
        st.session_state[key] = st.session_state.get(key, start)
    up = st.session_state.get(f"{space}_uploaded")
    tab_batch, tab_up, tab_interp, tab_grid = st.tabs(
        ["Batch of 16", "Upload a photo", "Interpolate", "Traversal grid"], key="vae_tab", on_change="rerun"
    )

    if tab_batch.open:
        with tab_batch:
            st.number_input(
                "Batch seed",
                0,
                1_000_000,
                key=f"{space}_batch_seed",
                help="Sixteen new codes, drawn as the sampling controls say.",
            )
            codes = draw_codes(BATCH, int(st.session_state[f"{space}_batch_seed"]) + 10_000)
            if compare:
                for col, name in zip(st.columns(2), (kind, other)):
                    with col:
                        caption = MODEL_LABELS[name].split(", ")[1]
                        show([grid(decode(name, codes, digit), 4)], width=360, caption=caption)
            else:
                show([grid(decode(kind, codes, digit), 4)], width=420)

    if tab_up.open:
        with tab_up:
            st.file_uploader(
                "A face photo (the face should fill the middle)" if space == "faces" else "A picture of one digit",
                key=f"{space}_upload",
                on_change=upload_changed,
                help=f"JPEG, PNG, WebP or BMP, up to {vae_data.MAX_UPLOAD_BYTES // 2**20} MB "
                f"and {vae_data.MAX_UPLOAD_PIXELS // 10**6} megapixels.",
            )
            if err := st.session_state.get(f"{space}_upload_error"):
                st.error(err + " Nothing else was changed.")
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

    if tab_interp.open:
        with tab_interp:
            sources = ["random sample", "held-out example", "current sliders"] + (["uploaded picture"] if up else [])
            ends = []
            c1, c2 = st.columns(2)
            for col, label in ((c1, "Start"), (c2, "End")):
                with col:
                    src = st.selectbox(f"{label} from", sources, key=f"{space}_{label}_src")
                    if src == "random sample":
                        s = st.number_input(f"{label} seed", 0, 1_000_000, key=f"{space}_{label}_seed")
                        ends.append(draw_codes(1, int(s))[0])
                    elif src == "held-out example":
                        n_ex = len(model.extra["examples"])
                        k = st.number_input(f"{label} example", 0, n_ex - 1, key=f"{space}_{label}_ex")
                        ends.append(model.extra["examples"][int(k)])
                    elif src == "current sliders":
                        ends.append(z_now)
                    else:
                        ends.append(up["z"])
            c1, c2 = st.columns(2)
            mode = c1.radio("Path", ["linear", "spherical"], horizontal=True, key=f"{space}_path")
            frames = c2.slider("Frames", 3, 12, key=f"{space}_frames")
            path = vae.interpolate(ends[0], ends[1], frames, spherical=mode == "spherical").numpy()
            strip = decode(kind, path, digit)
            show(list(strip))
            t = st.slider("Position along the path", 0, frames - 1, frames // 2, key=f"{space}_t")
            show([strip[t]], width=192, caption=f"frame {t}: t = {t / (frames - 1):.2f}")
            st.caption(
                "Linear: (1 - t)·a + t·b. Spherical keeps the code's length, which stays typical for a Gaussian "
                "prior, so the middle frames look less washed out."
            )

    if tab_grid.open:
        with tab_grid:
            options = grid_options()
            c1, c2 = st.columns(2)
            dx = c1.selectbox("Across", options, key=f"{space}_gx", format_func=lambda i: f"z{i}")
            dy = c2.selectbox("Down", options, key=f"{space}_gy", format_func=lambda i: f"z{i}")
            if dx == dy:
                st.warning("Pick two different dimensions.")
            else:
                vals = np.linspace(-SLIDER_RANGE, SLIDER_RANGE, GRID_STEPS, dtype=np.float32)
                codes = np.repeat(z_now[None], GRID_STEPS * GRID_STEPS, axis=0)
                codes[:, dy] = np.repeat(vals, GRID_STEPS)
                codes[:, dx] = np.tile(vals, GRID_STEPS)
                show([grid(decode(kind, codes, digit), GRID_STEPS)], width=560)
                st.caption(
                    f"z{dx} from -3 to 3 across, z{dy} from -3 to 3 down; the other dimensions stay as the sliders."
                )

    # ---------------------------------------------------------------- how it works, how it was trained

    ui.lazy_expander("How it works", "vae_how", how_it_works)
    if space == "faces" and (card_sharp := sharp_card()):
        ui.lazy_expander("How well it does", "vae_how_well", how_well_it_does, card_sharp)
    ui.lazy_expander("How it was trained", "vae_trained", how_it_was_trained, model, kind)


explorer()
