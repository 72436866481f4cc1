"""Streamlit pieces shared by the pages (the only gallery module that imports Streamlit)."""

from __future__ import annotations

import os
import sys

import streamlit as st

from gallery.registry import ArtifactError

TORCH_THREADS = "GALLERY_TORCH_THREADS"  # compute threads per request in the served app (default 1)
_limited: set[str] = set()  # what limit_threads has set: "torch", "blas"


def torch_threads() -> int:
    """The number of intra-op threads torch (and numpy's BLAS) get in the served app: ``GALLERY_TORCH_THREADS``,
    default 1.

    One is fastest overall when visitors share few cores: each request runs on its own script thread, so several
    visitors already keep the cores busy, and a request that also splits its work fights the others for them. It is
    also cheapest: an idle OpenBLAS worker spins after every call (measured: 60-80 ms of CPU per skill query, on
    a search that takes 1-2 ms).
    """
    value = os.environ.get(TORCH_THREADS, "").strip()
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


def limit_threads(force: bool = False) -> None:
    """Set torch's intra-op threads and numpy's BLAS threads for this process, once each (``torch_threads()``).

    Called at the top of every run (Home.py), before the page: it never imports torch or numpy itself (the landing
    page stays light) and acts on the first run after a page has. Torch copies its setting into every thread that
    starts using it afterwards, Streamlit runs each rerun on a fresh thread, and OpenBLAS's setting is
    process-wide, so one call covers the server. Model loaders call it too, right after loading, so the very first
    run that uses a model is covered. ``force``: set again (after a library that sets its own).
    """
    n = torch_threads()
    if imported("numpy") is not None and (force or "blas" not in _limited):
        from threadpoolctl import threadpool_limits

        threadpool_limits(n, user_api="blas")  # kept after the call returns: process-wide for OpenBLAS
        _limited.add("blas")
    torch = imported("torch")
    if torch is not None and (force or "torch" not in _limited):
        torch.set_num_threads(n)
        _limited.add("torch")


def imported(name: str):
    """The module ``name`` if its import has finished, else None (never imported, or still being imported).

    ``sys.modules`` holds a module from the moment its import starts: Home.py's warm-up thread imports torch in the
    background, and a visitor's run that read ``sys.modules["torch"]`` meanwhile got a partially initialised module
    (``AttributeError: partially initialized module 'torch' has no attribute 'set_num_threads'``). Python marks a
    module being imported with ``__spec__._initializing`` (what ``import`` itself checks before waiting for it);
    a failed import leaves ``sys.modules`` before the mark is cleared, so a module found there again after the
    mark is gone has finished. Waiting instead (``import torch``) would hold the landing page for the seconds torch
    takes; the next run, or the page that imports torch itself, sets the threads.
    """
    module = sys.modules.get(name)
    if module is None or getattr(getattr(module, "__spec__", None), "_initializing", False):
        return None
    return module if sys.modules.get(name) is module else None


limit_torch_threads = limit_threads  # the name it first had


def load_or_stop(loader, *args):
    """Call a (cached) loader; on a missing or broken artifact show why and how to rebuild, then stop this page."""
    try:
        return loader(*args)
    except ArtifactError as err:
        st.error(f"This demo's model is unavailable: artifact **{err.name}** {err.problem}.")
        st.markdown("Rebuild it from the project folder with:")
        st.code(err.rebuild, language="bash")
        st.stop()


def training_details(
    card: dict,
    metric_rows: list[tuple[str, object, object]],
    history_keys: tuple[str, ...],
    y_label: str = "nats per character",
) -> None:
    """The "how it was trained" section: metrics next to their baseline, curves, data and command."""
    import pandas as pd

    st.markdown(
        f"**Model:** {card['model']}, {card['parameters']:,} parameters. "
        f"Trained in {card['train_seconds']:.0f} s on {card['hardware']}."
    )
    table = pd.DataFrame(metric_rows, columns=["metric", "this model", "baseline"]).astype(str)  # one type per column
    st.table(table.set_index("metric"))
    history = card.get("history") or []
    if history:
        st.plotly_chart(history_figure(history, tuple(history_keys), y_label), width="stretch")
    data = card["data"]
    st.markdown(f"**Data:** {data['data']}. **Licence:** {data['licence']}.")
    st.markdown("**Rebuild this artifact:**")
    st.code(card["train_command"], language="bash")


@st.cache_resource(max_entries=32, show_spinner=False)
def history_figure(history: list[dict], keys: tuple[str, ...], y_label: str):
    """Training curves (one line per key, against the rows' first column), built once per card and shared.

    ``plotly.graph_objects``, not Plotly Express: the same lines cost about 1 ms instead of 40. The figure is
    shared by every visitor (``st.plotly_chart`` only reads it).
    """
    import plotly.graph_objects as go

    x = next(iter(history[0]))
    fig = go.Figure(
        [
            go.Scatter(x=[r.get(x) for r in history], y=[r.get(k) for r in history], name=k, mode="lines+markers")
            for k in keys
            if any(k in r for r in history)
        ]
    )
    fig.update_layout(height=300, xaxis_title=x, yaxis_title=y_label, margin={"t": 30})
    return fig


def lazy_expander(label: str, key: str, build, *args, **kwargs) -> None:
    """An expander that builds its content only while it is open: ``build(*args, **kwargs)`` runs inside it then.

    Streamlit builds a collapsed expander's content on every run unless the expander tracks its state
    (``on_change="rerun"``). Here it also sits in a fragment of its own, so opening or closing it reruns just the
    expander, not the page. Inside another fragment, the enclosing fragment's reruns rebuild it only while open.
    """

    @st.fragment
    def expander() -> None:
        with st.expander(label, key=key, on_change="rerun") as box:
            if box.open:
                build(*args, **kwargs)

    expander()


def page_config(title: str, icon: str) -> None:
    """``st.set_page_config`` for a demo page, which also makes sure the visit runs through Home.py's navigation.

    A deep link (say /Names) opened first on a fresh server runs in Streamlit's old ``pages/`` mode: the page
    alone, under a plain list of file names, and the server stays in that mode until someone opens the landing
    page. Switching the server to ``st.navigation`` and rerunning sends this visit, and every later one, through
    Home.py and its sections.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if st.runtime.exists() and PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
    st.set_page_config(page_title=title, page_icon=icon, layout="wide")


def digit_input(prefix: str = "", canvas: int = 280):
    """A digit from an example (a font), a drawing or an upload: the raw picture, or None while there is none.

    The caller turns it into MNIST's form with ``gallery.digits.preprocess.mnist_style``. A file that is not an
    image is explained here (None is returned). Widget keys start with ``prefix``, so two pages keep their own digit.
    """
    from gallery.digits import examples, preprocess

    source = st.segmented_control(
        "Input",
        ["Example", "Draw", "Upload"],
        default="Example",
        key=f"{prefix}source",
        help="Where the digit comes from.",
    )
    if source == "Draw":
        from streamlit_drawable_canvas import st_canvas

        width = st.slider("Pen width", 6, 40, 20, key=f"{prefix}pen", help="MNIST strokes are 2-3 of 28 pixels wide.")
        drawn = st_canvas(
            stroke_width=width,
            stroke_color="#FFFFFF",
            background_color="#000000",
            height=canvas,
            width=canvas,
            drawing_mode="freedraw",
            return_image_data=True,
            key=f"{prefix}canvas",
        )
        st.caption("Draw one digit, large, in the middle; the bin in the canvas toolbar clears it.")
        return None if drawn is None else drawn.image_data  # RGBA; the preprocessing reads strokes either way
    if source == "Upload":
        upload = st.file_uploader(
            "A picture of one digit (PNG, JPEG, BMP, GIF, WebP; dark on light or light on dark)",
            type=["png", "jpg", "jpeg", "bmp", "gif", "webp"],
            key=f"{prefix}upload",
        )
        if upload is None:
            return None
        try:
            raw = preprocess.load_image(upload.getvalue())
        except ValueError as err:
            st.error(f"That file could not be used: {err}.")
            return None
        preview = raw.copy()
        preview.thumbnail((canvas, canvas))  # Streamlit's own resize fails on a 3000x7 strip (a height of 0)
        st.image(preview, caption=upload.name, width=canvas)
        return raw
    fonts = examples.font_files()
    c1, c2, c3 = st.columns(3)
    digit = c1.selectbox("Digit", list(range(10)), index=7, key=f"{prefix}example_digit")
    font = c2.selectbox(
        "Font",
        fonts or [None],
        format_func=lambda p: p.stem if p else "Pillow's built-in font",
        key=f"{prefix}example_font",
    )
    stroke = c3.slider("Extra stroke", 0, 12, 4, key=f"{prefix}example_stroke", help="Thickens the glyph (pixels).")
    raw = examples.render(digit, font, stroke=stroke, size=canvas, dark_on_light=True)
    st.image(raw, caption="Dark on light: the preprocessing inverts it", width=canvas)
    return raw


def mnist_digit(raw, where, waiting: str):
    """The (28,28) MNIST-style image of a ``digit_input`` picture, or None after saying in ``where`` why there is none
    (``waiting``: the hint while nothing is drawn or uploaded)."""
    from gallery.digits import preprocess

    if raw is None or getattr(raw, "size", 1) == 0:
        where.info(waiting)
        return None
    try:
        return preprocess.mnist_style(raw)
    except preprocess.BlankImage:
        where.info("Draw a digit: the canvas is still blank.")
    except ValueError as err:
        where.error(f"That picture could not be used: {err}.")
    return None
