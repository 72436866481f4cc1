"""Faces (UTKFace, 64x64) and MNIST digits for the VAEs, and checking of uploaded images.

UTKFace file names are ``age_gender_race_date.jpg`` (gender 0 male, 1 female; race 0-4: White, Black,
Asian, Indian, Others). A few names are malformed (a field is missing): those faces are skipped and counted.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gallery import DATA_ROOT

FACES_DIR = DATA_ROOT / "faces"
FACES_ZIP = "utkface_64.zip"
MNIST_DIR = DATA_ROOT / "mnist"
MNIST_FILE = "mnist.npz"
FACE_SIZE = 64
DIGIT_SIZE = 28
RACES = ("White", "Black", "Asian", "Indian", "Others")
_FACE_NAME = re.compile(r"(?P<age>\d{1,3})_(?P<gender>[01])_(?P<race>[0-4])_\d+\.jpg(?:\.chip\.jpg)?")

# Upload limits: enough for any phone photo, small enough that decoding cannot exhaust memory.
MAX_UPLOAD_BYTES = 15 * 1024 * 1024
MAX_UPLOAD_PIXELS = 50_000_000


@dataclass
class Faces:
    images: np.ndarray  # (N, 64, 64, 3) uint8
    age: np.ndarray  # (N,) int
    gender: np.ndarray  # (N,) int, 0 male 1 female
    race: np.ndarray  # (N,) int 0-4
    names: list[str]
    malformed: list[str]  # file names skipped because their labels could not be read

    def subset(self, idx) -> Faces:
        idx = np.asarray(idx)
        return Faces(
            self.images[idx], self.age[idx], self.gender[idx], self.race[idx], [self.names[i] for i in idx], []
        )

    def __len__(self) -> int:
        return len(self.names)


def parse_face_name(name: str) -> tuple[int, int, int] | None:
    """``'utkface_64/26_1_2_2017.jpg'`` -> (26, 1, 2); None when the name does not carry all three labels."""
    m = _FACE_NAME.fullmatch(Path(name).name)
    if not m or not 0 < int(m["age"]) <= 116:
        return None
    return int(m["age"]), int(m["gender"]), int(m["race"])


def load_faces(path: Path | None = None, limit: int | None = None) -> Faces:
    """Read every well-named JPEG of the zip into memory (sorted by name, so splits are reproducible)."""
    from PIL import Image

    path = Path(path or FACES_DIR / FACES_ZIP)
    if path.is_dir():
        path = path / FACES_ZIP
    images, labels, names, malformed = [], [], [], []
    with zipfile.ZipFile(path) as z:
        members = sorted(n for n in z.namelist() if n.lower().endswith(".jpg"))
        for member in members:
            parsed = parse_face_name(member)
            if parsed is None:
                malformed.append(Path(member).name)
                continue
            with Image.open(io.BytesIO(z.read(member))) as img:
                arr = np.asarray(img.convert("RGB").resize((FACE_SIZE, FACE_SIZE), Image.BILINEAR))
            images.append(arr)
            labels.append(parsed)
            names.append(Path(member).name)
            if limit and len(names) >= limit:
                break
    lab = np.array(labels, dtype=np.int64).reshape(-1, 3)
    return Faces(np.stack(images), lab[:, 0], lab[:, 1], lab[:, 2], names, malformed)


def split_indices(n: int, val_fraction: float = 0.1, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """A seeded random split: (train indices, validation indices)."""
    perm = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(n * val_fraction)))
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


def load_mnist(path: Path | None = None) -> dict[str, np.ndarray]:
    path = Path(path or MNIST_DIR / MNIST_FILE)
    if path.is_dir():
        path = path / MNIST_FILE
    with np.load(path, allow_pickle=False) as f:
        return {k: f[k] for k in ("x_train", "y_train", "x_test", "y_test")}


# ---------------------------------------------------------------- uploads and image folders


def open_image(data: bytes, max_bytes: int = MAX_UPLOAD_BYTES, max_pixels: int = MAX_UPLOAD_PIXELS):
    """Decode an uploaded image safely, or raise ValueError with a sentence for the user.

    Checks the size in bytes, that the bytes are an image, the pixel count *before* decoding
    (a decompression bomb is a small file that claims a huge canvas) and that the file is complete.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError

    if not data:
        raise ValueError("The file is empty.")
    if len(data) > max_bytes:
        raise ValueError(f"The file is {len(data) / 2**20:.1f} MB; the limit is {max_bytes / 2**20:.0f} MB.")
    try:
        img = Image.open(io.BytesIO(data))
    except UnidentifiedImageError:
        raise ValueError("This file is not an image that can be read (try a JPEG or PNG).") from None
    except Image.DecompressionBombError:
        raise ValueError(
            f"The image claims far more than {max_pixels / 1e6:.0f} megapixels (a decompression bomb); refused."
        ) from None
    w, h = img.size
    if w * h > max_pixels:
        raise ValueError(
            f"The image is {w}x{h} pixels ({w * h / 1e6:.0f} megapixels); the limit is {max_pixels / 1e6:.0f} "
            "megapixels (larger ones could be decompression bombs). Shrink it and try again."
        )
    if w < 8 or h < 8:
        raise ValueError(f"The image is only {w}x{h} pixels; send one at least 8x8.")
    try:
        img.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as err:
        raise ValueError(f"The image is truncated or damaged and cannot be decoded ({err}).") from None
    try:
        img = ImageOps.exif_transpose(img)
    except Exception:  # noqa: BLE001  a broken EXIF block should not stop an otherwise good photo
        pass
    return img


def centre_square(img, size: int):
    """Centre-crop to a square and resize (no face detector is available: the face should fill the middle)."""
    from PIL import Image

    w, h = img.size
    s = min(w, h)
    left, top = (w - s) // 2, (h - s) // 2
    return img.crop((left, top, left + s, top + s)).resize((size, size), Image.BILINEAR)


def face_array(img) -> np.ndarray:
    """PIL image -> (64, 64, 3) uint8, as the face model sees it."""
    if img.mode in ("RGBA", "LA", "P"):
        from PIL import Image

        rgba = img.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, rgba)
    return np.asarray(centre_square(img.convert("RGB"), FACE_SIZE))


def digit_array(img) -> tuple[np.ndarray, bool]:
    """PIL image -> (28, 28) uint8 white-on-black like MNIST; True when the image was inverted to get there."""
    grey = np.asarray(centre_square(img.convert("L"), DIGIT_SIZE))
    # MNIST digits are light strokes on a dark background: a mostly light picture is inverted.
    border = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    inverted = bool(border.mean() > 127)
    return (255 - grey if inverted else grey).astype(np.uint8), inverted


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff")


def read_folder(folder: Path, kind: str) -> tuple[np.ndarray, list[str], list[dict]]:
    """Every image in a folder, as the model of ``kind`` ('faces' | 'digits') sees it; unreadable files listed."""
    folder = Path(folder)
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    arrays, names, skipped = [], [], []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in IMAGE_SUFFIXES or not path.is_file():
            continue
        try:
            img = open_image(path.read_bytes())
        except ValueError as err:
            skipped.append({"file": path.name, "error": str(err)})
            continue
        arrays.append(face_array(img) if kind == "faces" else digit_array(img)[0])
        names.append(path.name)
    if not arrays:
        raise ValueError(f"no readable images in {folder}")
    return np.stack(arrays), names, skipped
