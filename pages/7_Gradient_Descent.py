"""Gradient descent, live: fit y = a + b x by hand-written numpy gradients, autograd and torch.optim."""

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from gallery import ui
from gallery.digits import lesson

ui.page_config("Gradient descent", "📉")
st.title("Gradient descent")
st.caption(
    "The notebooks' first lesson, live: fit a line y = a + b·x to noisy points by gradient descent, "
    "first with gradients written out in numpy, then with PyTorch's autograd, then with torch.optim."
)


@st.fragment(key="descent")
def lesson_run() -> None:
    """The controls, the fits and their three figures: a change reruns this part only, not the page."""
    c1, c2, c3, c4 = st.columns([3, 1, 2, 1])
    methods = c1.multiselect(
        "Methods",
        lesson.METHODS,
        default=["numpy", "autograd", "momentum", "adam"],
        format_func=lesson.TITLES.get,
        key="gd_methods",
    )
    lr = c2.number_input(
        "Learning rate", min_value=0.0001, max_value=100.0, value=0.1, step=0.05, format="%.4f", key="gd_lr"
    )
    epochs = c3.slider("Epochs", 1, 2000, 1000, key="gd_epochs")
    noise = c4.slider("Noise", 0.0, 1.0, 0.1, 0.05, key="gd_noise")
    if not methods:
        st.info("Pick at least one method.")
        return

    x, y, x_val, y_val = lesson.make_data(noise=noise)
    a_ls, b_ls = lesson.least_squares(x, y)
    init = lesson.start()
    fits = [lesson.fit(m, x, y, lr=lr, epochs=epochs, init=init) for m in methods]
    limit = lesson.critical_lr(x)
    diverged = [f for f in fits if f.diverged]
    if diverged:
        names = ", ".join(lesson.TITLES[f.method] for f in diverged)
        st.warning(
            f"Learning rate {lr:g} makes {names} diverge: each step overshoots the minimum by more than it corrects, "
            f"so the loss grows until it overflows (the run stopped at the last finite step). For plain gradient "
            f"descent on this data the limit is 2 / (largest curvature) = {limit:.3f}.",
            icon="⚠️",
        )

    rows = [
        {
            "method": lesson.TITLES[f.method],
            "a": f.final[0],
            "b": f.final[1],
            "training loss": f.loss[-1],
            "validation loss": float(lesson.mse(*f.final, x_val, y_val)),
            "steps": len(f.loss) - 1,
            "outcome": "diverged" if f.diverged else "finished",
        }
        for f in fits
    ]
    rows.append(
        {
            "method": "exact least squares (reference)",
            "a": a_ls,
            "b": b_ls,
            "training loss": float(lesson.mse(a_ls, b_ls, x, y)),
            "validation loss": float(lesson.mse(a_ls, b_ls, x_val, y_val)),
            "steps": 0,
            "outcome": "closed form",
        }
    )
    st.dataframe(
        pd.DataFrame(rows),
        hide_index=True,
        width="stretch",
        column_config={k: st.column_config.NumberColumn(format="%.4f") for k in ("a", "b")}
        | {k: st.column_config.NumberColumn(format="%.5g") for k in ("training loss", "validation loss")},
    )
    st.caption(
        f"True line: a = 1, b = 2. The original notebook (its own noise draw) found a = {lesson.NOTEBOOK['a']}, "
        f"b = {lesson.NOTEBOOK['b']}; on this page's data the exact answer is a = {a_ls:.4f}, b = {b_ls:.4f}. "
        f"Every method starts from the same random point (a, b) = ({init[0]:.3f}, {init[1]:.3f})."
    )

    left, right = st.columns(2)
    with left:
        grid = np.linspace(0, 1, 50)
        fig = go.Figure(
            [
                go.Scatter(x=x, y=y, mode="markers", name="training points", marker=dict(color="#888")),
                go.Scatter(x=x_val, y=y_val, mode="markers", name="validation points", marker=dict(symbol="x")),
            ]
            + [
                go.Scatter(x=grid, y=f.final[0] + f.final[1] * grid, mode="lines", name=lesson.TITLES[f.method])
                for f in fits
                if not f.diverged
            ],
            layout=dict(title="Data and fitted lines", height=380, xaxis_title="x", yaxis_title="y", margin=dict(t=40)),
        )
        st.plotly_chart(fig, width="stretch")
    with right:
        fig = go.Figure(
            [go.Scatter(y=f.loss, mode="lines", name=lesson.TITLES[f.method]) for f in fits],
            layout=dict(
                title="Loss (mean squared error) per epoch",
                height=380,
                xaxis_title="epoch",
                yaxis_title="MSE (log scale)",
                yaxis_type="log",
                margin=dict(t=40),
            ),
        )
        st.plotly_chart(fig, width="stretch")

    finite = [(a, b) for f in fits for a, b in zip(f.a, f.b)] + [(a_ls, b_ls), init]
    a_all, b_all = np.array(finite).T
    pad_a, pad_b = 0.2 * (np.ptp(a_all) + 0.5), 0.2 * (np.ptp(b_all) + 0.5)
    A, B, L = lesson.loss_surface(
        x, y, (a_all.min() - pad_a, a_all.max() + pad_a), (b_all.min() - pad_b, b_all.max() + pad_b)
    )
    surface = go.Figure(
        [
            go.Contour(
                x=A[0],
                y=B[:, 0],
                z=np.log10(L),
                colorscale="Viridis",
                contours=dict(showlabels=False),
                colorbar=dict(title="log10 MSE"),
                hovertemplate="a %{x:.3f}, b %{y:.3f}<extra></extra>",
            )
        ]
        + [
            go.Scatter(x=f.a, y=f.b, mode="lines+markers", marker=dict(size=3), name=lesson.TITLES[f.method])
            for f in fits
        ]
        + [
            go.Scatter(
                x=[a_ls], y=[b_ls], mode="markers", marker=dict(symbol="star", size=14, color="white"), name="minimum"
            )
        ],
        layout=dict(
            title="Each method's path over the loss surface",
            height=480,
            xaxis_title="a (intercept)",
            yaxis_title="b (slope)",
            legend=dict(orientation="h", yanchor="top", y=-0.15),
            margin=dict(t=40),
        ),
    )
    st.plotly_chart(surface, width="stretch")


lesson_run()

st.subheader("How it works")
st.markdown(
    r"""
The loss is the mean squared error $L(a, b) = \frac{1}{n}\sum_i (y_i - a - b x_i)^2$. Its gradient is
$\partial L/\partial a = -\frac{2}{n}\sum_i e_i$ and $\partial L/\partial b = -\frac{2}{n}\sum_i x_i e_i$ with
$e_i = y_i - a - b x_i$, and each epoch moves $(a, b)$ a learning rate's worth against it (full batch).

- **numpy**: exactly those two formulas, written by hand.
- **autograd**: `loss.backward()` computes the same gradients; the update is still `a -= lr * a.grad`.
- **torch.optim**: the optimizer does the update too. *Momentum* keeps a running velocity, which cuts through the
  long narrow valley of this loss; *Adam* scales each parameter's step by its recent gradient size, so its steps
  are about `lr` long whatever the gradient (it does not blow up at large rates, but it can hover).

The surface is a long, tilted valley because `a` and `b` are correlated (x is never negative): plain gradient
descent zig-zags across it and crawls along it. Above a learning rate of 2 / (largest curvature of the valley)
every step overshoots further than the last, which is the divergence the warning shows.
"""
)
with st.expander("The code, three ways"):
    st.code(
        """# 1. numpy
error = y - (a + b * x)
a, b = a - lr * (-2 * error.mean()), b - lr * (-2 * (x * error).mean())

# 2. autograd
loss = ((y_t - (a_t + b_t * x_t)) ** 2).mean()
loss.backward()
with torch.no_grad():
    a_t -= lr * a_t.grad; b_t -= lr * b_t.grad
a_t.grad.zero_(); b_t.grad.zero_()

# 3. torch.optim
opt = torch.optim.SGD([a_t, b_t], lr=lr, momentum=0.9)   # or torch.optim.Adam([a_t, b_t], lr=lr)
loss = ((y_t - (a_t + b_t * x_t)) ** 2).mean()
loss.backward(); opt.step(); opt.zero_grad()
""",
        language="python",
    )
