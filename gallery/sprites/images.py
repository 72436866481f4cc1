"""Pictures from outside (a folder, an upload) made into sprites the models read: 64x64, 0/1, white shape on black.

A picture that is already one (a PNG that ``python -m gallery sprites sample`` wrote) passes unchanged. Any other
is made into one, and its note says what was done: turned to grey, resized to 64x64 (area-averaged, so a larger
sprite keeps its shape), thresholded at half brightness, and inverted when most of it came out white (dSprites
draws white shapes on black, and no sprite on its grid covers half the frame).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gallery.sprites.render import SIZE

MAX_IMAGES = 1_000  # pictures one ``encode`` call reads
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")
GREY_SHARE = 0.02  # more than this share of pixels between dark and bright: not binary


def to_sprite(img) -> tuple[np.ndarray, str | None]:
    """A decoded PIL image -> (64, 64) uint8 0/1 and a note of what was changed (None when nothing was)."""
    from PIL import Image

    changes = []
    if img.mode not in ("L", "1"):
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            img = img.convert("RGBA")
            black = Image.new("RGBA", img.size, (0, 0, 0, 255))
            img = Image.alpha_composite(black, img)  # see-through counts as background
        img = img.convert("L")
        changes.append("turned to grey")
    elif img.mode == "1":
        img = img.convert("L")
    if img.size != (SIZE, SIZE):
        changes.append(f"resized from {img.size[0]}x{img.size[1]} to {SIZE}x{SIZE}")
        img = img.resize((SIZE, SIZE), Image.Resampling.BOX if min(img.size) >= SIZE else Image.Resampling.BILINEAR)
    grey = np.asarray(img, dtype=np.uint8)  # (64, 64)
    if ((grey > 32) & (grey < 223)).mean() > GREY_SHARE:
        changes.append("thresholded at half brightness")
    sprite = (grey >= 128).astype(np.uint8)
    if sprite.mean() > 0.5:
        sprite = 1 - sprite
        changes.append("inverted (a dark shape on a light background)")
    return sprite, ("; ".join(changes) if changes else None)


def read_folder(folder: str) -> tuple[list[str], np.ndarray, list[dict], list[str]]:
    """Every picture in ``folder``, in file-name order: (names read, sprites (N, 64, 64), rows, skipped names).

    ``rows`` holds one dict per picture file in order: {"file", "note"?} for those read, {"file", "error"} for
    those that could not be. Files whose names do not end like a picture, and sub-folders, are skipped."""
    from gallery.vae.data import open_image

    if not folder.strip():
        raise ValueError("--images must name a folder of pictures")
    path = Path(folder)
    if not path.exists():
        raise ValueError(f"no folder {path}: --images must name a folder of pictures")
    if not path.is_dir():
        raise ValueError(f"{path} is a file, not a folder: --images must name a folder of pictures")
    entries = sorted(path.iterdir(), key=lambda p: p.name)
    pictures = [p for p in entries if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file()]
    skipped = [p.name for p in entries if p not in pictures]
    if not pictures:
        raise ValueError(f"{path} holds no pictures ({', '.join(IMAGE_SUFFIXES)}); it is empty or holds other files")
    if len(pictures) > MAX_IMAGES:
        raise ValueError(f"{path} holds {len(pictures):,} pictures; the limit is {MAX_IMAGES:,} a call: split it")
    names, sprites, rows = [], [], []
    for p in pictures:
        try:
            sprite, note = to_sprite(open_image(p.read_bytes()))
        except (ValueError, OSError) as err:
            rows.append({"file": p.name, "error": str(err)})
            continue
        names.append(p.name)
        sprites.append(sprite)
        rows.append({"file": p.name, **({"note": note} if note else {})})
    if not sprites:
        raise ValueError(f"none of the {len(pictures)} pictures in {path} could be read: {rows[0]['error']}")
    return names, np.stack(sprites), rows, skipped
