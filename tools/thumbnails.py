"""Render the landing page's pictures: one small PNG per demo, ``pretrained/<artifact>/thumbnail.png``.

    python -m tools.thumbnails                     # every artifact that has a renderer below
    python -m tools.thumbnails --only digits-n2d   # one artifact again, after it was retrained

Each picture is drawn from the committed model itself (faces it generates, its map, its attention, its clusters),
with fixed seeds, so rendering twice gives the same file. Drawn with Pillow and numpy (no plotting library), in the
app's typeface; shapes are drawn at three times the size and scaled down, which smooths their edges. The landing
page reads the files as plain images and never imports torch; a missing file only leaves its card without a picture.

The registry verifies an artifact by its weights' sha256 (card.json), so a thumbnail beside the weights changes
nothing there; a trainer that rewrites an artifact replaces the whole folder, thumbnail included: render it again.
"""

from __future__ import annotations

import argparse
import functools
import io
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from gallery import registry

WIDTH, HEIGHT = 240, 160
SCALE = 3  # supersampling: drawn at 720x480, scaled down with Lanczos
MAX_BYTES = 40_000
COLOURS = 128  # palette size of the stored PNG
THEME = (228, 87, 46)  # .streamlit/config.toml's primaryColor
INK = (49, 51, 63)  # Streamlit's text colour
GREY = (200, 202, 208)
TAB10 = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
]
BLUES = [(247, 251, 255), (198, 219, 239), (107, 174, 214), (33, 113, 181), (8, 48, 107)]  # light to dark

# Inputs of the pictures: what the pages show first where they have a default.
FACES_SEED = 0
SKILL = "python"
SKILL_NEIGHBOURS = 8
GERMAN = "Ein Mann fährt mit dem Fahrrad über eine Brücke."  # pages/11_Translate.py's first example
DIGIT, DIGIT_STROKE = 7, 4  # pages/5_Digit_Recognizer.py's example; Pillow's own font, the same on every machine


# ---------------------------------------------------------------------------------------------- drawing helpers


@functools.cache
def font(size: float) -> ImageFont.FreeTypeFont:
    """The app's own typeface (Source Sans, shipped inside Streamlit) at ``size`` final pixels: the same glyphs on
    every machine with the pinned Streamlit; Pillow's bundled font where that file is not found."""
    import streamlit

    media = Path(streamlit.__file__).parent / "static" / "static" / "media"
    found = sorted(media.glob("SourceSansVF-Upright*.woff2"))
    if not found:
        return ImageFont.load_default(size=round(size * SCALE))
    face = ImageFont.truetype(str(found[0]), round(size * SCALE))
    face.set_variation_by_name("Regular")
    return face


def canvas(background=(255, 255, 255)) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    img = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), background)
    return img, ImageDraw.Draw(img)


def finish(img: Image.Image) -> Image.Image:
    """A supersampled canvas scaled down to the thumbnail's size."""
    return img.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS) if img.size != (WIDTH, HEIGHT) else img


def ramp(values: np.ndarray, stops=BLUES) -> np.ndarray:
    """Values in [0, 1] -> (..., 3) uint8 colours along ``stops`` (linear between them)."""
    stops_arr = np.asarray(stops, np.float64)
    pos = np.clip(np.asarray(values, np.float64), 0, 1) * (len(stops) - 1)
    low = np.minimum(pos.astype(int), len(stops) - 2)
    frac = (pos - low)[..., None]
    return np.round(stops_arr[low] * (1 - frac) + stops_arr[low + 1] * frac).astype(np.uint8)


def fit(xy: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Scale points (N, 2) into ``box`` (left, top, right, bottom; final pixels), keeping their aspect; y up."""
    xy = np.asarray(xy, np.float64)
    lo, hi = np.percentile(xy, 0.5, axis=0), np.percentile(xy, 99.5, axis=0)  # a stray point does not shrink the map
    left, top, right, bottom = box
    span = np.maximum(hi - lo, 1e-9)
    scale = min((right - left) / span[0], (bottom - top) / span[1])
    centre = (lo + hi) / 2
    x = (left + right) / 2 + (xy[:, 0] - centre[0]) * scale
    y = (top + bottom) / 2 - (xy[:, 1] - centre[1]) * scale
    return np.stack([x, y], 1) * SCALE


def dots(draw: ImageDraw.ImageDraw, xy: np.ndarray, colours, radius: float) -> None:
    r = radius * SCALE
    for (x, y), colour in zip(xy, colours):
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(colour))


def tile(images: np.ndarray, cols: int, size: int) -> Image.Image:
    """(N, H, W[, 3]) uint8 pictures, each scaled to ``size`` square, in rows of ``cols``."""
    rows = -(-len(images) // cols)
    sheet = Image.new("RGB", (cols * size, rows * size), (255, 255, 255))
    for i, picture in enumerate(images):
        one = Image.fromarray(np.asarray(picture, np.uint8)).convert("RGB")
        sheet.paste(one.resize((size, size), Image.Resampling.LANCZOS), ((i % cols) * size, (i // cols) * size))
    return sheet


# ---------------------------------------------------------------------------------------------- one per artifact


def faces(root: Path) -> Image.Image:
    """Six faces the sharp decoder makes from codes drawn where training faces live (the page's default)."""
    from gallery.vae import model as vae

    m = vae.load("vae-faces-sharp", root)
    codes = m.sample_codes(6, seed=FACES_SEED, fitted=True)
    return tile(m.decode(codes), cols=3, size=WIDTH // 3)


def embedding_map(root: Path) -> Image.Image:
    """The word2vec skills' UMAP (else t-SNE, else PCA) map, coloured by the artifact's k-means clusters."""
    from gallery.maps import data

    art = data.load_map("skills-word2vec", root)
    method = next(m for m in ("umap", "tsne", "pca", *art.coords) if m in art.coords)
    labels = np.asarray(art.config.get("clusters", {}).get("labels") or np.zeros(len(art.data)), int)
    img, draw = canvas()
    xy = fit(art.coords[method], (6, 6, WIDTH - 6, HEIGHT - 6))
    order = np.random.default_rng(0).permutation(len(xy))  # no cluster painted over all the others
    dots(draw, xy[order], [TAB10[c % 10] for c in labels[order]], radius=1.3)
    return finish(img)


def rotated_text(text: str, size: float, angle: int, fill=INK) -> Image.Image:
    f = font(size)
    left, top, right, bottom = f.getbbox(text)
    label = Image.new("RGBA", (right + 2, bottom + 2), (255, 255, 255, 0))
    ImageDraw.Draw(label).text((0, 0), text, font=f, fill=fill)
    return label.rotate(angle, expand=True)


def attention_heatmap(root: Path) -> Image.Image:
    """Cross-attention of the Transformer's last layer (mean of its heads), word by word, for the page's first
    example; English words written down the left, German words read along the bottom."""
    from gallery.translate import translator

    tr = translator.load("transformer", root)
    result = translator.translate(tr, GERMAN, beam=1)
    cross = translator.attention(tr, result)["cross"]  # (layers, heads, T, S)
    english, rows = translator.words(tr, result.out_ids)
    german, columns = translator.words(tr, result.src_ids)
    weights = translator.word_attention(cross[-1].mean(0), rows, columns)  # (T words, S words)
    keep_rows = [i for i, w in enumerate(english) if w.strip() and not w.startswith("<")]
    keep_cols = [j for j, w in enumerate(german) if w.strip() and not w.startswith("<")]
    weights = weights[np.ix_(keep_rows, keep_cols)]
    english, german = [english[i] for i in keep_rows], [german[j] for j in keep_cols]

    size = 9
    label_w = max(font(size).getlength(w) for w in english) / SCALE + 4
    label_h = max(font(size).getlength(w) for w in german) / SCALE + 4
    left, top, right, bottom = label_w, 3, WIDTH - 3, HEIGHT - label_h
    cell_w, cell_h = (right - left) / len(german), (bottom - top) / len(english)
    img, draw = canvas()
    colours = ramp(weights / max(float(weights.max()), 1e-9))
    for i in range(len(english)):
        for j in range(len(german)):
            box = (left + j * cell_w, top + i * cell_h, left + (j + 1) * cell_w, top + (i + 1) * cell_h)
            draw.rectangle([round(v * SCALE) for v in box], fill=tuple(colours[i, j]))
        y = (top + (i + 0.5) * cell_h) * SCALE
        draw.text(((left - 2) * SCALE, y), english[i], font=font(size), fill=INK, anchor="rm")
    for j, word in enumerate(german):
        label = rotated_text(word, size, 90)
        x = round((left + (j + 0.5) * cell_w) * SCALE - label.width / 2)
        img.paste(label, (x, round((bottom + 2) * SCALE)), label)
    return finish(img)


def digit_recognizer(root: Path) -> Image.Image:
    """The page's example digit as drawn (dark on light), and the CNN's probability for each digit."""
    from gallery.digits import examples, models, preprocess

    raw = examples.render(DIGIT, None, stroke=DIGIT_STROKE, size=280, dark_on_light=True)
    net, _ = models.load("cnn", root)
    probs = models.predict_proba(net, preprocess.mnist_style(raw)[None])[0]
    img, draw = canvas()
    side = HEIGHT - 24
    drawn = Image.fromarray(raw).convert("RGB").resize((side * SCALE, side * SCALE), Image.Resampling.LANCZOS)
    img.paste(drawn, (6 * SCALE, 12 * SCALE))
    draw.rectangle([6 * SCALE, 12 * SCALE, (6 + side) * SCALE - 1, (12 + side) * SCALE - 1], outline=GREY, width=3)
    left, right, top, bottom = side + 16, WIDTH - 6, 14, HEIGHT - 20
    width = (right - left) / 10
    best = int(np.argmax(probs))
    draw.line([left * SCALE, bottom * SCALE, right * SCALE, bottom * SCALE], fill=GREY, width=3)
    for d, p in enumerate(probs):
        x0, x1 = left + d * width + 1.5, left + (d + 1) * width - 1.5
        y0 = bottom - max(float(p), 0.01) * (bottom - top)
        draw.rectangle([x0 * SCALE, y0 * SCALE, x1 * SCALE, bottom * SCALE], fill=THEME if d == best else GREY)
        draw.text(((x0 + x1) / 2 * SCALE, (bottom + 3) * SCALE), str(d), font=font(10), fill=INK, anchor="mt")
    return finish(img)


def digit_clusters(root: Path, name: str = "digits-dec") -> Image.Image:
    """The clusterer's 2-D map of test digits coloured by cluster, each cluster's decoded centre on top of it where
    the model can decode its centres (DEC; N2D has no decoder); the decoded centres alone where there is no map."""
    from gallery.digits import cluster, n2d

    model = n2d.load(name, root) if name == "digits-n2d" else cluster.load(name, root)
    extras = getattr(model, "extras", None) or {}
    pictures = []
    if hasattr(model, "decoded_centres"):
        centres = np.asarray(model.decoded_centres())  # (k, 28, 28) in [0, 1]
        pictures = np.uint8(np.round(255 * (1 - np.clip(centres, 0, 1))))  # dark ink on white
    if "xy" not in extras or "cluster" not in extras:
        if not len(pictures):
            raise registry.ArtifactError(name, "holds neither a map nor decodable centres to draw")
        grid = tile(pictures, cols=5, size=WIDTH // 5)
        sheet = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
        sheet.paste(grid, (0, max(0, (HEIGHT - grid.height) // 2)))
        return sheet
    xy, groups = fit(extras["xy"], (4, 4, WIDTH - 4, HEIGHT - 4)), np.asarray(extras["cluster"], int)
    img, draw = canvas()
    order = np.random.default_rng(0).permutation(len(xy))
    dots(draw, xy[order], [TAB10[c % 10] for c in groups[order]], radius=1.2)
    side = 22 * SCALE
    for c, picture in enumerate(pictures):
        members = xy[groups == c]
        if not len(members):
            continue
        x, y = np.median(members, axis=0)
        x = int(np.clip(x - side / 2, 0, img.width - side))
        y = int(np.clip(y - side / 2, 0, img.height - side))
        draw.rectangle([x - 3, y - 3, x + side + 2, y + side + 2], fill=TAB10[c % 10])
        img.paste(Image.fromarray(picture).convert("RGB").resize((side, side), Image.Resampling.LANCZOS), (x, y))
    return finish(img)


def skill_neighbours(root: Path) -> Image.Image:
    """A skill and its nearest GloVe neighbours (cosine), laid out by a 2-D PCA of their vectors, as the page does."""
    from gallery.skills import model as skills

    sv = skills.load("glove", root).vectors
    words = list(sv.words)
    vectors = np.asarray(sv.vectors, np.float64)
    unit = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    query = words.index(SKILL) if SKILL in words else 0
    order = [i for i in np.argsort(-(unit @ unit[query]), kind="stable") if i != query][:SKILL_NEIGHBOURS]
    rows = unit[[query, *order]]
    centred = rows - rows.mean(0)
    xy = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T  # (n + 1, 2)
    xy[:, 0] *= np.sign(xy[0, 0] or 1.0)  # the same way round however the SVD signs fall
    xy[:, 1] *= np.sign(xy[0, 1] or 1.0)
    img, draw = canvas()
    points = fit(xy, (34, 14, WIDTH - 34, HEIGHT - 14))
    for p in points[1:]:
        draw.line([*points[0], *p], fill=GREY, width=SCALE)
    dots(draw, points[1:], [TAB10[0]] * len(order), radius=3)
    dots(draw, points[:1], [THEME], radius=4.5)
    labels = [words[query], *(words[i] for i in order)]
    place_labels(draw, labels, points, [11, *[9.5] * len(order)])
    return finish(img)


def place_labels(draw: ImageDraw.ImageDraw, labels, points, sizes) -> None:
    """Each label beside its point: above it, else below, right or left, wherever it overlaps no earlier label."""
    taken: list[tuple] = []
    gap = 4 * SCALE
    for label, (x, y), size in zip(labels, points, sizes):
        f = font(size)
        tries = [((x, y - gap), "md"), ((x, y + gap), "ma"), ((x + gap, y), "lm"), ((x - gap, y), "rm")]
        for at, anchor in tries:
            box = draw.textbbox(at, label, font=f, anchor=anchor)
            inside = box[0] >= 0 and box[1] >= 0 and box[2] <= WIDTH * SCALE and box[3] <= HEIGHT * SCALE
            if inside and not any(overlap(box, other) for other in taken):
                break
        else:
            at, anchor = tries[0]
            box = draw.textbbox(at, label, font=f, anchor=anchor)
        taken.append(box)
        draw.text(at, label, font=f, fill=INK, anchor=anchor)


def overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def classifier_leaderboard(root: Path) -> Image.Image:
    """The leaderboard from the card (no model is run): each classifier's accuracy when duplicate résumés are kept
    apart (dark) beside its accuracy on a naive split that leaks them (light)."""
    card = registry.read_json(registry.check_artifact("text-classifiers", root) / "card.json")
    board = [r for r in card.get("leaderboard", []) if "accuracy" in r][:5]
    if not board:
        raise registry.ArtifactError("text-classifiers", "has no leaderboard in card.json to draw")
    img, draw = canvas()
    size = 10
    label_w = max(font(size).getlength(r["model"]) for r in board) / SCALE + 6
    left, right, top, bottom = label_w, WIDTH - 30, 6, HEIGHT - 16
    band = (bottom - top) / len(board)
    for i, row in enumerate(board):
        y = top + i * band
        for k, (key, colour) in enumerate((("accuracy_naive", GREY), ("accuracy", THEME))):
            value = float(row.get(key, 0.0))
            y0, y1 = y + 2 + k * (band - 4) / 2, y + 2 + (k + 1) * (band - 4) / 2 - 1
            draw.rectangle([left * SCALE, y0 * SCALE, (left + value * (right - left)) * SCALE, y1 * SCALE], fill=colour)
            text = f"{value:.2f}"
            at = ((left + value * (right - left) + 2) * SCALE, (y0 + y1) / 2 * SCALE)
            draw.text(at, text, font=font(8.5), fill=INK, anchor="lm")
        draw.text(((left - 3) * SCALE, (y + band / 2) * SCALE), row["model"], font=font(size), fill=INK, anchor="rm")
    draw.text((left * SCALE, (HEIGHT - 3) * SCALE), "leaky split", font=font(8.5), fill=(130, 132, 140), anchor="ls")
    at = ((left + 60) * SCALE, (HEIGHT - 3) * SCALE)
    draw.text(at, "duplicates kept apart", font=font(8.5), fill=THEME, anchor="ls")
    return finish(img)


LADDER = ("seq2seq", "context", "attention", "convs2s", "transformer")  # gallery.translate.translator.MODELS


def length_curve(root: Path) -> Image.Image:
    """From the cards (no model is run): each translator's test BLEU (beam 5) per German sentence length, the two
    models without attention dashed, as on pages/12_Why_Attention.py."""
    curves = {}
    for model in LADDER:
        card = registry.read_json(registry.check_artifact(f"translate-{model}", root) / "card.json")
        buckets = card["metrics"]["test_2016_flickr"]["beam5"].get("by_length")
        if not buckets:
            raise registry.ArtifactError(f"translate-{model}", "has no BLEU by length in card.json to draw")
        curves[model] = [b["bleu"] for b in buckets.values()]
    labels = list(buckets)
    top_value = max(max(c) for c in curves.values())
    img, draw = canvas()
    left, right, top, bottom = 20, WIDTH - 6, 6, HEIGHT - 16
    step = (right - left) / (len(labels) - 1)
    for k, label in enumerate(labels):
        draw.text(((left + k * step) * SCALE, (HEIGHT - 3) * SCALE), label, font=font(8.5), fill=INK, anchor="ms")
    for value in range(0, int(top_value) + 1, 10):
        y = bottom - value / top_value * (bottom - top)
        draw.line([left * SCALE, y * SCALE, right * SCALE, y * SCALE], fill=GREY, width=1)
        draw.text(((left - 3) * SCALE, y * SCALE), str(value), font=font(8), fill=INK, anchor="rm")
    for i, (model, values) in enumerate(curves.items()):
        points = [
            ((left + k * step) * SCALE, (bottom - v / top_value * (bottom - top)) * SCALE) for k, v in enumerate(values)
        ]
        colour = (TAB10[3], TAB10[1], TAB10[2], TAB10[4], TAB10[0])[i]
        if model in ("seq2seq", "context"):  # dashed: no attention
            for a, b in zip(points, points[1:]):
                for t in np.arange(0, 1, 0.2):
                    start = (a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t)
                    end = (a[0] + (b[0] - a[0]) * (t + 0.1), a[1] + (b[1] - a[1]) * (t + 0.1))
                    draw.line([start, end], fill=colour, width=2 * SCALE)
        else:
            draw.line(points, fill=colour, width=2 * SCALE, joint="curve")
        dots(draw, np.array(points), [colour] * len(points), 2.2)
    return finish(img)


RENDERERS: dict[str, Callable[[Path], Image.Image]] = {
    "translate-seq2seq": length_curve,
    "vae-faces-sharp": faces,
    "maps-skills-word2vec": embedding_map,
    "translate-transformer": attention_heatmap,
    "digits-cnn": digit_recognizer,
    "digits-n2d": lambda root: digit_clusters(root, "digits-n2d"),
    "skills-glove": skill_neighbours,
    "text-classifiers": classifier_leaderboard,
}


# ---------------------------------------------------------------------------------------------- writing


def png_bytes(img: Image.Image) -> bytes:
    """A small, reproducible PNG: a fixed-size palette (no dithering), no timestamps or other metadata."""
    small = img.convert("RGB").quantize(COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    buffer = io.BytesIO()
    small.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def render(name: str, root: Path | None = None) -> Path:
    """Draw ``name``'s picture and write it into its artifact folder (atomically); returns the file's path."""
    import torch

    root = Path(root or registry.PRETRAINED)
    folder = registry.check_artifact(name, root)
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one thread: the same sums in the same order on every machine
    try:
        img = RENDERERS[name](root)
    finally:
        torch.set_num_threads(threads)
    if img.size != (WIDTH, HEIGHT):
        raise ValueError(f"the {name} renderer drew {img.size[0]}x{img.size[1]} pixels, not {WIDTH}x{HEIGHT}")
    data = png_bytes(img)
    target = folder / registry.THUMBNAIL_FILE
    fd, tmp = tempfile.mkstemp(prefix=".thumbnail.", suffix=".png", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--only",
        action="append",
        choices=sorted(RENDERERS),
        metavar="NAME",
        help=f"render only this artifact (repeatable): {', '.join(sorted(RENDERERS))}",
    )
    parser.add_argument("--root", type=Path, default=None, help="the pretrained/ folder (default: the gallery's)")
    args = parser.parse_args(argv)
    failed = 0
    for name in args.only or RENDERERS:
        try:
            path = render(name, args.root)
        except registry.ArtifactError as err:
            print(f"{name}: not rendered: {err}", file=sys.stderr)
            failed += 1
            continue
        size = path.stat().st_size
        note = "" if size <= MAX_BYTES else f"  (over {MAX_BYTES // 1000} KB)"
        print(f"{path}  {WIDTH}x{HEIGHT}  {size / 1000:.1f} KB{note}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
