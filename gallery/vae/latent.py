"""Moving through a latent space: interpolation paths and attribute directions from group means."""

from __future__ import annotations

import math

import numpy as np
import torch


def lerp(a, b, t: float):
    return (1 - t) * a + t * b


def slerp(a, b, t: float):
    """Spherical interpolation (Shoemake); falls back to linear when a and b are (anti)parallel."""
    a, b = torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)
    na, nb = a.norm(), b.norm()
    if na < 1e-8 or nb < 1e-8:
        return lerp(a, b, t)
    cos = torch.clamp((a / na) @ (b / nb), -1.0, 1.0)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-4 or (math.pi - omega).abs() < 1e-4:
        return lerp(a, b, t)
    so = torch.sin(omega)
    return torch.sin((1 - t) * omega) / so * a + torch.sin(t * omega) / so * b


def interpolate(a, b, steps: int, spherical: bool = False) -> torch.Tensor:
    """(steps, L) codes from a to b, endpoints included: (1 - t) a + t b (not a + t b as in the notebook)."""
    f = slerp if spherical else lerp
    a, b = torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)
    return torch.stack([f(a, b, t) for t in torch.linspace(0, 1, steps).tolist()])


def attribute_directions(groups: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """Unit directions in latent space from mean differences, made orthogonal to each other in the given order.

    ``groups`` maps a name to (codes of the group the direction points towards, codes of the other group).
    Gram-Schmidt keeps the first direction as it is and removes from each later one its component along the
    earlier ones, so that moving along "older" does not also move along "female".
    """
    out: dict[str, np.ndarray] = {}
    for name, (towards, away) in groups.items():
        d = np.asarray(towards, np.float64).mean(0) - np.asarray(away, np.float64).mean(0)
        for prev in out.values():
            d = d - (d @ prev) * prev
        out[name] = (d / max(np.linalg.norm(d), 1e-12)).astype(np.float32)
    return out


def group_gap(towards: np.ndarray, away: np.ndarray, direction: np.ndarray) -> float:
    """Distance along a direction between the means of two groups (how far to push to swap groups)."""
    return float((np.asarray(towards).mean(0) - np.asarray(away).mean(0)) @ direction)


def attribute_offset(directions: dict[str, np.ndarray], pushes: dict, name: str, amount: float) -> np.ndarray:
    """The code's move for an attribute slider at ``amount`` in [-1, 1] (+1: the full push toward female or older).

    ``pushes[name]`` holds the full push's length on each side ("plus", "minus", in code units along
    ``directions[name]``) and, where the card measured one, "keep": how far to move along another attribute's
    direction at the full push on each side, so that the reader sees that other attribute unchanged (pushed far,
    the decoder ages faces it turns male, and no straight direction undoes that on both sides). The keeping move
    grows with amount squared, as the drift it cancels does.
    """
    push = pushes[name]
    side = "plus" if amount >= 0 else "minus"
    offset = float(amount) * push[side] * np.asarray(directions[name], np.float32)
    keep = push.get("keep")
    if keep:
        offset = offset + float(amount) ** 2 * keep[side] * np.asarray(directions[keep["along"]], np.float32)
    return offset.astype(np.float32)
