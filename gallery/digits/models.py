"""The three classifiers: logistic regression, an MLP and a small CNN (inputs (N,1,28,28) in [0,1])."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from gallery import registry

CLASSIFIERS = ("logreg", "mlp", "cnn")
TITLES = {"logreg": "Logistic regression", "mlp": "MLP", "cnn": "CNN"}
MEAN, STD = 0.1307, 0.3081  # MNIST pixel statistics; every model standardises its input the same way


class LogReg(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(784, 10)

    def forward(self, x):
        return self.linear(((x - MEAN) / STD).flatten(1))


class MLP(nn.Module):
    def __init__(self, hidden: int = 800, dropout: float = 0.3):
        super().__init__()
        self.hidden, self.dropout = hidden, dropout
        self.net = nn.Sequential(
            nn.Flatten(),
            nn.Linear(784, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, 10),
        )

    def forward(self, x):
        return self.net((x - MEAN) / STD)


class CNN(nn.Module):
    """Two conv blocks (conv 3x3, batch norm, ReLU, max-pool), then a dense layer with dropout."""

    def __init__(self, c1: int = 32, c2: int = 64, dense: int = 128, dropout: float = 0.4):
        super().__init__()
        self.c1, self.c2, self.dense, self.dropout = c1, c2, dense, dropout
        self.conv1 = nn.Conv2d(1, c1, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(c1)
        self.conv2 = nn.Conv2d(c1, c2, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(c2)
        self.fc1 = nn.Linear(c2 * 7 * 7, dense)
        self.drop = nn.Dropout(dropout)
        self.fc2 = nn.Linear(dense, 10)

    def feature_maps(self, x):
        """First-layer activations (after batch norm and ReLU), (N, c1, 28, 28)."""
        return F.relu(self.bn1(self.conv1((x - MEAN) / STD)))

    def forward(self, x):
        h = F.max_pool2d(self.feature_maps(x), 2)
        h = F.max_pool2d(F.relu(self.bn2(self.conv2(h))), 2)
        return self.fc2(self.drop(F.relu(self.fc1(h.flatten(1)))))


def config_of(kind: str, net: nn.Module) -> dict:
    if kind == "mlp":
        return {"kind": kind, "hidden": net.hidden, "dropout": net.dropout}
    if kind == "cnn":
        return {"kind": kind, "c1": net.c1, "c2": net.c2, "dense": net.dense, "dropout": net.dropout}
    return {"kind": kind}


def build(config: dict) -> nn.Module:
    kind = config["kind"]
    if kind == "logreg":
        return LogReg()
    if kind == "mlp":
        return MLP(config["hidden"], config["dropout"])
    if kind == "cnn":
        return CNN(config["c1"], config["c2"], config["dense"], config["dropout"])
    raise ValueError(f"unknown classifier kind {kind!r}")


def from_artifact(art: registry.Artifact) -> nn.Module:
    net = build(art.config["model"])
    net.load_state_dict(art.tensors)
    return net.eval()


def load(kind: str, root=None):
    """(net, card) of ``digits-<kind>``; raises ArtifactError naming the rebuild command."""
    if kind not in CLASSIFIERS:
        raise ValueError(f"model must be one of {', '.join(CLASSIFIERS)}, not {kind!r}")
    art = registry.load_artifact(f"digits-{kind}", root)
    try:
        net = from_artifact(art)
    except (RuntimeError, KeyError, TypeError, ValueError) as err:
        raise registry.ArtifactError(art.name, f"does not fit the current code ({str(err).splitlines()[0]})") from err
    return net, art.card


@torch.no_grad()
def predict_proba(net: nn.Module, images, batch: int = 2000) -> np.ndarray:
    """Class probabilities (N,10) for float images (N,28,28) or (N,1,28,28) in [0,1] (numpy or torch)."""
    x = torch.as_tensor(np.asarray(images, dtype=np.float32))
    if x.dim() == 2:
        x = x[None]
    if x.dim() == 3:
        x = x.unsqueeze(1)
    net.eval()
    return np.concatenate([F.softmax(net(x[i : i + batch]), 1).numpy() for i in range(0, len(x), batch)])
