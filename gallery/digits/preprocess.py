"""Turn any picture of one digit into an MNIST-style input.

MNIST's recipe (LeCun et al.): light ink on black, the digit scaled to fit a 20x20 box keeping its
aspect ratio, then placed in a 28x28 field so that its centre of mass is at the centre.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

BOX, FIELD = 20, 28
INK = 0.2  # normalised intensity that counts as ink when cropping
MIN_INK_FRACTION = 0.002  # less ink than this (as a fraction of the picture) is a blank input
MAX_PIXELS = 40_000_000
MAX_CROP = 280  # a larger crop (a big photo) is shrunk to this first: stroke normalisation then stays cheap
# Stroke width in 20-box pixels: MNIST's median is 2.6 (5th-95th percentile 2.1-4.1). Bolder or thinner
# strokes (a fat marker, a bold font, a hairline pen) are eroded or dilated towards it before scaling.
STROKE_TARGET, STROKE_RANGE = 3.0, (1.6, 3.8)


class BlankImage(ValueError):
    """The input holds no digit (a blank canvas or a flat picture)."""


def load_image(source) -> Image.Image:
    """Open a path, bytes or file-like object as a PIL image; a clear ValueError when it is not one."""
    if isinstance(source, (str, Path)):
        source = Path(source).read_bytes()
    if isinstance(source, (bytes, bytearray)):
        source = io.BytesIO(source)
    try:
        img = Image.open(source)
        if img.width * img.height > MAX_PIXELS:
            raise ValueError(f"the image is too large ({img.width}x{img.height} pixels)")
        img.load()
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError, SyntaxError) as err:
        raise ValueError(f"not a readable image ({type(err).__name__}): use a PNG, JPEG, BMP or GIF file") from err
    if img.mode in ("I", "F") or img.mode.startswith("I;16"):
        img = eight_bit(img)
    return img


def eight_bit(img: Image.Image) -> Image.Image:
    """A 16-bit, 32-bit or float greyscale picture as 8-bit grey ("L"), scaled rather than clipped: PIL's own
    conversion clips at 255, and Streamlit cannot show such a picture at all."""
    arr = np.nan_to_num(np.asarray(img, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0)
    top = 65535.0 if img.mode.startswith("I;16") else max(255.0, float(arr.max(initial=0.0)))
    return Image.fromarray((np.clip(arr, 0, top) / top * 255).round().astype(np.uint8), "L")


def ink_map(image) -> np.ndarray:
    """Float (H,W) in [0,1] where 1 is ink and 0 is background, for any picture of a digit.

    Transparency (a drawing canvas, a PNG cut-out) is taken as the ink when part of the picture is
    transparent; otherwise the grey level is used, inverted when the border is light (dark ink on paper).
    """
    if isinstance(image, Image.Image):
        img = image
        if img.mode in ("P", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            img = img.convert("RGBA")
        arr = np.asarray(img.convert("RGBA") if img.mode == "RGBA" else img.convert("L"), dtype=np.float32)
    else:
        arr = np.asarray(image, dtype=np.float32)
    if arr.ndim == 2:
        grey, alpha = arr, None
    elif arr.ndim == 3 and arr.shape[2] in (3, 4):
        grey = arr[..., :3] @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
        alpha = arr[..., 3] if arr.shape[2] == 4 else None
    else:
        raise ValueError(f"expected a grey, RGB or RGBA image, got an array of shape {arr.shape}")
    if arr.size == 0:
        raise ValueError("the image is empty")
    if grey.max() > 1.0 + 1e-6 or (alpha is not None and alpha.max() > 1.0 + 1e-6):
        grey = grey / 255.0
        alpha = None if alpha is None else alpha / 255.0
    if alpha is not None and alpha.min() < 0.5:
        # Transparent background: the opaque strokes are the ink, whatever their colour
        # (unless the strokes are a light colour on a transparent sheet that is meant as white paper).
        return np.clip(alpha, 0, 1)
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    background = float(np.median(border))
    ink = 1.0 - grey if background > 0.5 else grey
    background = 1.0 - background if background > 0.5 else background
    top = float(np.percentile(ink, 99.9))
    if top - background < 0.1:
        return np.zeros_like(ink)
    return np.clip((ink - background) / (top - background), 0, 1)


def mnist_style(image, min_ink: float = MIN_INK_FRACTION) -> np.ndarray:
    """(28,28) float32 in [0,1]: ink bright on black, fitted into 20x20 and centred by mass.

    Raises :class:`BlankImage` when there is no ink to speak of.
    """
    ink = ink_map(image)
    mask = ink > INK
    if mask.mean() < min_ink or mask.sum() < 4:
        raise BlankImage("no digit found: the picture is blank (draw or upload a digit)")
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    if max(crop.shape) > MAX_CROP:  # else a thin stroke on a big photo needs a huge dilation (MemoryError)
        shrink = MAX_CROP / max(crop.shape)
        size = (max(1, round(crop.shape[1] * shrink)), max(1, round(crop.shape[0] * shrink)))
        crop = np.asarray(Image.fromarray(crop.astype(np.float32), mode="F").resize(size, Image.Resampling.BOX))
    crop = normalise_stroke(crop)
    h, w = crop.shape
    scale = BOX / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    small = Image.fromarray(np.uint8(np.round(crop * 255))).resize(size, Image.Resampling.LANCZOS)
    small = np.clip(np.asarray(small, dtype=np.float32) / 255.0, 0, 1)
    if small.max() > 0:
        small = small / small.max()
    field = np.zeros((FIELD, FIELD), dtype=np.float32)
    top, left = (FIELD - size[1]) // 2, (FIELD - size[0]) // 2
    field[top : top + size[1], left : left + size[0]] = small
    return centre_by_mass(field)


def stroke_width(ink: np.ndarray) -> float:
    """Mean stroke width in pixels: twice the ink area over the length of its outline (area = length x width)."""
    from scipy import ndimage

    solid = ink > 0.5
    outline = solid & ~ndimage.binary_erosion(solid)
    return 2.0 * solid.sum() / max(int(outline.sum()), 1)


def normalise_stroke(crop: np.ndarray) -> np.ndarray:
    """Erode very bold or dilate very thin strokes so that, once scaled into 20x20, they are MNIST-like."""
    from scipy import ndimage

    per_box = BOX / max(crop.shape)  # crop pixels -> 20-box pixels
    width = stroke_width(crop) * per_box
    if STROKE_RANGE[0] <= width <= STROKE_RANGE[1]:
        return crop
    radius = int(round(abs(width - STROKE_TARGET) / 2 / per_box))
    if radius < 1:
        return crop
    yy, xx = np.mgrid[-radius : radius + 1, -radius : radius + 1]
    disk = xx**2 + yy**2 <= radius**2
    if width > STROKE_RANGE[1]:
        thinner = ndimage.grey_erosion(crop, footprint=disk)
        return thinner if (thinner > INK).sum() >= 0.2 * (crop > INK).sum() else crop  # never erase the digit
    pad = np.pad(crop, radius)  # dilation grows the ink: keep room so the bounding box still holds it
    return ndimage.grey_dilation(pad, footprint=disk)


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    total = image.sum()
    if total <= 0:
        raise BlankImage("no digit found: the picture is blank")
    ys, xs = np.indices(image.shape)
    return float((ys * image).sum() / total), float((xs * image).sum() / total)


def centre_by_mass(field: np.ndarray) -> np.ndarray:
    """Shift (by whole pixels, never clipping ink) so the centre of mass is as near the centre as possible."""
    cy, cx = centre_of_mass(field)
    target = field.shape[0] / 2  # MNIST's mean centre of mass is (14.0, 14.0) in pixel indices
    dy, dx = round(target - cy), round(target - cx)
    rows, cols = np.flatnonzero(field.any(1)), np.flatnonzero(field.any(0))
    dy = int(np.clip(dy, -rows[0], field.shape[0] - 1 - rows[-1]))
    dx = int(np.clip(dx, -cols[0], field.shape[1] - 1 - cols[-1]))
    return np.roll(field, (dy, dx), axis=(0, 1))
