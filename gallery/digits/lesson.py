"""The notebooks' first lesson: fit y = a + b x by gradient descent, three ways.

1. numpy, with the gradients written out by hand;
2. PyTorch autograd computing the gradients, the update still by hand;
3. ``torch.optim`` (SGD, SGD with momentum, Adam) doing the update too.

Each returns the path of (a, b, loss) so a page can draw the fitted line, the loss curve and the
path over the loss surface. A learning rate that is too large makes the path diverge: the fit stops
as soon as the loss is no longer finite (or explodes) and says so, rather than returning NaNs.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

METHODS = ("numpy", "autograd", "sgd", "momentum", "adam")
TITLES = {
    "numpy": "numpy, hand-written gradients",
    "autograd": "torch autograd, manual update",
    "sgd": "torch.optim.SGD",
    "momentum": "torch.optim.SGD, momentum 0.9",
    "adam": "torch.optim.Adam",
}
NOTEBOOK = {"a": 1.0091, "b": 2.0065}  # the original notebook's fitted values (its own noise draw)
EXPLODED = 1e8  # a loss above this counts as divergence


@dataclass
class Fit:
    method: str
    lr: float
    a: list[float] = field(default_factory=list)
    b: list[float] = field(default_factory=list)
    loss: list[float] = field(default_factory=list)
    diverged: bool = False

    @property
    def final(self) -> tuple[float, float]:
        return self.a[-1], self.b[-1]

    def record(self, a: float, b: float, loss: float) -> bool:
        """Keep one step; False (and ``diverged``) once the loss is not finite or has exploded."""
        if not (np.isfinite(loss) and np.isfinite(a) and np.isfinite(b)) or loss > EXPLODED:
            self.diverged = True
            return False
        self.a.append(float(a))
        self.b.append(float(b))
        self.loss.append(float(loss))
        return True


def make_data(n: int = 100, noise: float = 0.1, seed: int = 42):
    """x ~ U(0,1), y = 1 + 2x + noise; the first 80% (after a shuffle) train, the rest validate."""
    if n < 5:
        raise ValueError("need at least 5 points")
    rng = np.random.RandomState(seed)
    x = rng.rand(n)
    y = 1 + 2 * x + noise * rng.randn(n)
    idx = np.arange(n)
    rng.shuffle(idx)
    cut = int(0.8 * n)
    return x[idx[:cut]], y[idx[:cut]], x[idx[cut:]], y[idx[cut:]]


def least_squares(x, y) -> tuple[float, float]:
    """The exact minimiser, for reference."""
    a, b = np.linalg.lstsq(np.c_[np.ones(len(x)), x], y, rcond=None)[0]
    return float(a), float(b)


def mse(a, b, x, y):
    return np.mean((y - (a + b * x)) ** 2)


def start(seed: int = 42) -> tuple[float, float]:
    rng = np.random.RandomState(seed)
    return float(rng.randn()), float(rng.randn())


def fit(method: str, x, y, lr: float, epochs: int, init: tuple[float, float] | None = None) -> Fit:
    """Full-batch gradient descent on the mean squared error, from ``init`` (random by default)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}")
    if not (lr > 0 and np.isfinite(lr)):
        raise ValueError("the learning rate must be a positive number")
    if epochs < 1:
        raise ValueError("need at least one epoch")
    a, b = init or start()
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    out = Fit(method, lr)
    if method == "numpy":
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(epochs):
                if not out.record(a, b, mse(a, b, x, y)):
                    break
                error = y - (a + b * x)
                a, b = a - lr * (-2 * error.mean()), b - lr * (-2 * (x * error).mean())
            else:
                out.record(a, b, mse(a, b, x, y))
        return out
    import torch

    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    pa = torch.tensor(a, dtype=torch.float64, requires_grad=True)
    pb = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    opt = {
        "sgd": lambda: torch.optim.SGD([pa, pb], lr=lr),
        "momentum": lambda: torch.optim.SGD([pa, pb], lr=lr, momentum=0.9),
        "adam": lambda: torch.optim.Adam([pa, pb], lr=lr),
        "autograd": lambda: None,
    }[method]()
    for _ in range(epochs + 1):
        loss = ((yt - (pa + pb * xt)) ** 2).mean()
        if not out.record(pa.item(), pb.item(), loss.item()) or len(out.loss) > epochs:
            break
        loss.backward()
        if opt is None:
            with torch.no_grad():
                pa -= lr * pa.grad
                pb -= lr * pb.grad
            pa.grad.zero_()
            pb.grad.zero_()
        else:
            opt.step()
            opt.zero_grad()
    return out


def loss_surface(x, y, a_range, b_range, steps: int = 80):
    """(A, B, L) grids of the mean squared error over a rectangle of (a, b)."""
    a = np.linspace(*a_range, steps)
    b = np.linspace(*b_range, steps)
    A, B = np.meshgrid(a, b)
    pred = A[..., None] + B[..., None] * np.asarray(x)[None, None]
    return A, B, ((np.asarray(y)[None, None] - pred) ** 2).mean(-1)


def critical_lr(x) -> float:
    """Plain gradient descent on this loss diverges above 2 / (largest Hessian eigenvalue)."""
    x = np.asarray(x, dtype=np.float64)
    hessian = 2 * np.array([[1.0, x.mean()], [x.mean(), (x**2).mean()]])
    return float(2 / np.linalg.eigvalsh(hessian).max())
