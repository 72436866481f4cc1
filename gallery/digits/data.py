"""MNIST from ``../shared/data/mnist/mnist.npz`` (uint8 images, int labels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gallery import DATA_ROOT

DEFAULT_DATA_DIR = DATA_ROOT / "mnist"
NPZ_FILE = "mnist.npz"
LICENCE = {
    "data": "MNIST (LeCun, Cortes and Burges); test set exact, training images rebuilt from a public PNG copy",
    "licence": "CC BY-SA 3.0",
}
VALIDATION = 5000  # the last 5,000 training images choose the epoch; the test set is never used for that


def npz_path(data_dir: Path | None = None) -> Path:
    return Path(data_dir or DEFAULT_DATA_DIR) / NPZ_FILE


def load(data_dir: Path | None = None) -> dict[str, np.ndarray]:
    """``x_train`` (60000,28,28) uint8, ``y_train``, ``x_test`` (10000,28,28), ``y_test``."""
    path = npz_path(data_dir)
    if not path.is_file():
        raise FileNotFoundError(2, "MNIST file not found", str(path))
    with np.load(path) as f:
        return {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}


def test_images_or_none(data_dir: Path | None = None) -> np.ndarray | None:
    """The MNIST test images when the data folder is present (the pages show mistakes with them), else None."""
    try:
        return load(data_dir)["x_test"]
    except (FileNotFoundError, OSError, KeyError, ValueError):
        return None


def split(mnist: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """train (55,000) / val (5,000) from the training file, test (10,000) untouched."""
    x, y = mnist["x_train"], mnist["y_train"].astype(np.int64)
    return {
        "train": (x[:-VALIDATION], y[:-VALIDATION]),
        "val": (x[-VALIDATION:], y[-VALIDATION:]),
        "test": (mnist["x_test"], mnist["y_test"].astype(np.int64)),
    }


def to_tensor(images: np.ndarray):
    """uint8 (N,28,28) -> float (N,1,28,28) in [0, 1]."""
    import torch

    return torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32) / 255.0).unsqueeze(1)
