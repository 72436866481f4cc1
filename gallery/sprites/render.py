"""dSprites' factor grid, rendered here: 64x64 binary sprites whose five true factors are known.

Matthey et al. (2017) published the grid: shape {square, ellipse, heart}, scale linspace(0.5, 1, 6), orientation
linspace(0, 2*pi, 40) (both ends included, as in the original, so 0 and 2*pi draw the same sprite), and x and y
linspace(0, 1, 32): 3 * 6 * 40 * 32 * 32 = 737,280 combinations. Their file cannot be downloaded here, so this
module draws the same grid itself. It is an approximation of dSprites: the original's heart outline and base sizes
were never published. Here the heart is the implicit curve (x^2 + y^2 - 1)^3 <= x^2 y^3, centred on its centroid;
the ellipse's axes are 2:1; at scale 1 the square is 18 pixels a side.

A pixel is on when its centre lies inside the shape: each pixel centre is moved into the sprite's own frame (shifted
to the sprite's centre, turned back by the orientation, divided by the size) and tested against the shape's
implicit function there. Positions map [0, 1] to a centre range that keeps the largest sprite, at any rotation,
at least a pixel away from the frame's edge, as dSprites keeps its shapes inside.

Image axes: x runs left to right along columns, y top to bottom along rows (y = 0 is the top row); orientation
turns the shape counter-clockwise on screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SIZE = 64  # pixels a side


@dataclass(frozen=True)
class Factor:
    name: str
    values: np.ndarray  # (size,) the grid's values, in index order

    @property
    def size(self) -> int:
        return len(self.values)


SHAPES = ("square", "ellipse", "heart")
FACTORS = (
    Factor("shape", np.arange(len(SHAPES), dtype=np.float64)),  # an index into SHAPES
    Factor("scale", np.linspace(0.5, 1.0, 6)),
    Factor("orientation", np.linspace(0.0, 2 * math.pi, 40)),  # radians, counter-clockwise
    Factor("x", np.linspace(0.0, 1.0, 32)),
    Factor("y", np.linspace(0.0, 1.0, 32)),
)
FACTOR_NAMES = tuple(f.name for f in FACTORS)
FACTOR_SIZES = tuple(f.size for f in FACTORS)
N_COMBINATIONS = math.prod(FACTOR_SIZES)  # 737,280
RANGES = {"scale": (0.5, 1.0), "orientation": (0.0, 2 * math.pi), "x": (0.0, 1.0), "y": (0.0, 1.0)}

# ---------------------------------------------------------------------------------------------- the shapes

UNIT = 9.0  # pixels per shape unit at scale 1: the square's half-side
ELLIPSE_AXES = (1.4, 0.7)  # semi-axes in units, along the sprite's own x and y
HEART_CENTROID_Y = 0.2935  # the heart curve's centroid lies this far above its origin (measured on a fine grid)


def inside_square(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    return (np.abs(u) <= 1) & (np.abs(v) <= 1)


def inside_ellipse(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    a, b = ELLIPSE_AXES
    return (u / a) ** 2 + (v / b) ** 2 <= 1


def inside_heart(u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """The heart (x^2 + y^2 - 1)^3 <= x^2 y^3, point up, shifted so that its centroid is the sprite's centre."""
    v = v + HEART_CENTROID_Y
    r = u * u + v * v - 1
    return r * r * r <= u * u * v * v * v


INSIDE = (inside_square, inside_ellipse, inside_heart)  # in SHAPES' order
RADIUS = (math.sqrt(2), ELLIPSE_AXES[0], 1.2935)  # farthest point of each shape from its centre, in units
MARGIN = max(RADIUS) * UNIT + 1.0  # pixels between the frame's edge and the nearest sprite centre
CENTRE_LOW, CENTRE_HIGH = MARGIN, SIZE - MARGIN  # x = 0 and x = 1 put the centre here (pixel coordinates)
PIXEL_CENTRES = np.arange(SIZE, dtype=np.float32) + 0.5  # (64,)

# ---------------------------------------------------------------------------------------------- validation


def check_ranges(shape, scale, orientation, x, y) -> None:
    """Raise ValueError naming the factor and its range when any value lies outside dSprites' grid (or is NaN)."""
    shape = np.asarray(shape)
    if not (np.issubdtype(shape.dtype, np.number) and np.all((shape >= 0) & (shape < len(SHAPES)) & (shape % 1 == 0))):
        raise ValueError(f"shape must be an index 0-{len(SHAPES) - 1} ({', '.join(SHAPES)})")
    for name, value in (("scale", scale), ("orientation", orientation), ("x", x), ("y", y)):
        low, high = RANGES[name]
        value = np.asarray(value, dtype=np.float64)
        bad = ~((value >= low) & (value <= high))  # NaN is bad too
        if bad.any():
            top = "2*pi (6.2832)" if name == "orientation" else f"{high:g}"
            raise ValueError(f"{name} must be between {low:g} and {top}; got {float(value[bad].flat[0]):g}")


# ---------------------------------------------------------------------------------------------- rendering


def sprite_coordinates(scale, orientation, x, y) -> tuple[np.ndarray, np.ndarray]:
    """Every pixel centre in each sprite's own frame, in shape units: u, v of shape (B, 64, 64), v pointing up."""
    size = scale * UNIT  # (B,) pixels per shape unit
    cx = (CENTRE_LOW + x * (CENTRE_HIGH - CENTRE_LOW)).astype(np.float32)[:, None, None]
    cy = (CENTRE_LOW + y * (CENTRE_HIGH - CENTRE_LOW)).astype(np.float32)[:, None, None]
    dx = PIXEL_CENTRES[None, None, :] - cx  # (B, 1, 64) rightwards
    dy = cy - PIXEL_CENTRES[None, :, None]  # (B, 64, 1) upwards: rows grow downwards
    cos = (np.cos(orientation) / size).astype(np.float32)[:, None, None]  # (B, 1, 1)
    sin = (np.sin(orientation) / size).astype(np.float32)[:, None, None]
    u = cos * dx + sin * dy  # (B, 64, 64): the inverse rotation, then the inverse scaling
    v = cos * dy - sin * dx  # (B, 64, 64)
    return u, v


def render(shape, scale, orientation, x, y, chunk: int = 512) -> np.ndarray:
    """Sprites from factor values (arrays that broadcast to N values, or scalars): (N, 64, 64) uint8 of 0 and 1.

    ``shape`` holds indices into SHAPES; the others real values in dSprites' ranges (between grid points is fine).
    Sprites are drawn shape by shape, ``chunk`` at a time, so memory stays at a few arrays of (chunk, 64, 64)."""
    factors = np.broadcast_arrays(*(np.atleast_1d(a) for a in (shape, scale, orientation, x, y)))
    shape, scale, orientation, x, y = (a.ravel() for a in factors)  # each (N,)
    check_ranges(shape, scale, orientation, x, y)
    scale, orientation, x, y = (np.asarray(a, dtype=np.float64) for a in (scale, orientation, x, y))
    out = np.zeros((len(shape), SIZE, SIZE), dtype=np.uint8)  # (N, 64, 64)
    for s, inside in enumerate(INSIDE):
        rows = np.flatnonzero(shape == s)
        for start in range(0, len(rows), chunk):
            j = rows[start : start + chunk]
            out[j] = inside(*sprite_coordinates(scale[j], orientation[j], x[j], y[j]))
    return out


def render_one(shape: str, scale: float, orientation: float, x: float, y: float) -> np.ndarray:
    """One sprite by shape name: (64, 64) uint8 of 0 and 1. Unknown shapes and values off the grid's range raise
    ValueError with a sentence that names what is allowed."""
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}: choose {', '.join(SHAPES[:-1])} or {SHAPES[-1]}")
    return render(SHAPES.index(shape), scale, orientation, x, y)[0]


# ---------------------------------------------------------------------------------------------- the grid


def sample_factors(n: int, rng: np.random.Generator | int | None = None) -> np.ndarray:
    """``n`` points drawn uniformly from the full grid, on the fly: (n, 5) int64 factor indices."""
    rng = np.random.default_rng(rng)
    return rng.integers(0, FACTOR_SIZES, size=(n, len(FACTORS)))  # uniform per factor = uniform over the grid


def factor_values(indices: np.ndarray) -> np.ndarray:
    """Grid indices (N, 5) -> the factors' real values (N, 5); the shape column stays its index."""
    indices = np.asarray(indices)
    return np.stack([f.values[indices[:, k]] for k, f in enumerate(FACTORS)], axis=1)


def render_indices(indices: np.ndarray, chunk: int = 512) -> np.ndarray:
    """Grid indices (N, 5) -> sprites (N, 64, 64) uint8."""
    values = factor_values(indices)  # (N, 5)
    return render(values[:, 0].astype(np.int64), *values[:, 1:].T, chunk=chunk)
