"""Digits rendered from the fonts installed on this machine: a default example and a test set that is not MNIST."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

FONT_DIRS = (Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path.home() / ".fonts")
SKIP = ("math", "symbol", "emoji", "dingbat")  # fonts whose digits are not ordinary digits


def font_files() -> list[Path]:
    """TrueType/OpenType fonts found under the usual folders (sorted; may be empty)."""
    found = []
    for folder in FONT_DIRS:
        if folder.is_dir():
            found += [p for p in folder.rglob("*") if p.suffix.lower() in (".ttf", ".otf")]
    return sorted(p for p in found if not any(s in p.name.lower() for s in SKIP))


def render(
    digit: int,
    font: Path | str | None = None,
    stroke: int = 0,
    size: int = 280,
    dark_on_light: bool = False,
    angle: float = 0.0,
) -> np.ndarray:
    """A (size, size) uint8 picture of one digit (light on dark unless ``dark_on_light``).

    ``stroke`` thickens the glyph by that many pixels (PIL's text stroke); ``font=None`` uses Pillow's
    bundled font, so this works on a machine without fonts too.
    """
    if not 0 <= int(digit) <= 9:
        raise ValueError("digit must be 0-9")
    face = ImageFont.truetype(str(font), int(size * 0.6)) if font else ImageFont.load_default(size=int(size * 0.6))
    img = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(img)
    draw.text(
        (size / 2, size / 2), str(int(digit)), fill=255, font=face, anchor="mm", stroke_width=stroke, stroke_fill=255
    )
    if angle:
        img = img.rotate(angle, resample=Image.Resampling.BILINEAR)
    arr = np.asarray(img)
    return 255 - arr if dark_on_light else arr
