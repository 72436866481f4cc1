"""The bottom of the VAE rooms: images as uint8 arrays and as tensors, their sharpness, tiles of them.

Nothing here knows a network; every other module of gallery.vae may import it.
"""

from __future__ import annotations

import numpy as np
import torch


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) or (N, H, W) -> float (N, C, H, W) in [0, 1]."""
    t = torch.from_numpy(np.array(images, dtype=np.float32)) / 255  # a copy: inputs may be read-only
    return t.permute(0, 3, 1, 2) if t.dim() == 4 else t.unsqueeze(1)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float (N, C, H, W) in [0, 1] -> uint8 (N, H, W, 3) or (N, H, W)."""
    arr = (images.clamp(0, 1) * 255).round().byte().cpu().numpy()
    return arr.transpose(0, 2, 3, 1) if arr.shape[1] == 3 else arr[:, 0]


def sharpness(images: np.ndarray) -> float:
    """Mean variance of the Laplacian of the grey image (higher is sharper), images uint8 (N, H, W[, 3])."""
    g = images.astype(np.float64) / 255
    if g.ndim == 4:
        g = g @ np.array([0.299, 0.587, 0.114])
    lap = -4 * g[:, 1:-1, 1:-1] + g[:, :-2, 1:-1] + g[:, 2:, 1:-1] + g[:, 1:-1, :-2] + g[:, 1:-1, 2:]
    return float(lap.reshape(len(g), -1).var(axis=1).mean())


def tile(images: np.ndarray, cols: int) -> np.ndarray:
    """Tile (N, H, W[, C]) images into one picture with ``cols`` columns (the last row padded with black)."""
    n, h, w = images.shape[:3]
    rows = -(-n // cols)
    pad = np.zeros((rows * cols - n, *images.shape[1:]), np.uint8)
    tiles = np.concatenate([images, pad]).reshape(rows, cols, h, w, *images.shape[3:])
    return np.concatenate(np.concatenate(tiles, axis=2), axis=0)
