"""Sprites demo: the renderer of dSprites' grid (geometry on every shape, determinism, speed, bad input), MIG and
the FactorVAE score on synthetic codes whose answer is known, and the CLI's verbs and errors."""

from __future__ import annotations

import csv
import json
import math
import time

import numpy as np
import pytest
from PIL import Image

from gallery.sprites import metrics, render
from gallery.sprites.render import SHAPES, SIZE

# ---------------------------------------------------------------------------------------------- helpers


def moments(image: np.ndarray) -> tuple[float, float, float, float, float]:
    """A binary image's area, centroid, principal axis and elongation, in the frame x right, y up:
    (pixels, cx, cy, the major axis' angle in [0, pi), major / minor variance)."""
    rows, cols = np.nonzero(image)
    x, y = cols + 0.5, -(rows + 0.5)  # y up
    cx, cy = x.mean(), y.mean()
    cov = np.cov(np.stack([x - cx, y - cy]), bias=True)  # (2, 2)
    angle = 0.5 * math.atan2(2 * cov[0, 1], cov[0, 0] - cov[1, 1]) % math.pi
    low, high = np.linalg.eigvalsh(cov)
    return len(rows), cx, cy, angle, high / low


def r_squared(t: np.ndarray, values: np.ndarray) -> float:
    fit = np.polyval(np.polyfit(t, values, 1), t)
    return 1 - ((values - fit) ** 2).sum() / ((values - values.mean()) ** 2).sum()


def angle_gap(a: float, b: float, period: float = math.pi) -> float:
    d = (a - b) % period
    return min(d, period - d)


# ---------------------------------------------------------------------------------------------- the grid


def test_the_grid_is_dsprites():
    assert render.FACTOR_NAMES == ("shape", "scale", "orientation", "x", "y")
    assert render.FACTOR_SIZES == (3, 6, 40, 32, 32) and render.N_COMBINATIONS == 737_280
    orientation = render.FACTORS[2].values
    assert orientation[0] == 0 and orientation[-1] == 2 * math.pi  # both ends, as in the original
    np.testing.assert_allclose(render.FACTORS[1].values, [0.5, 0.6, 0.7, 0.8, 0.9, 1.0])


def test_sampling_covers_the_grid_and_repeats_with_its_seed():
    idx = render.sample_factors(20_000, 0)  # (N, 5)
    assert idx.shape == (20_000, 5)
    for k, size in enumerate(render.FACTOR_SIZES):
        assert set(np.unique(idx[:, k])) == set(range(size))  # every value drawn, none outside
    np.testing.assert_array_equal(idx, render.sample_factors(20_000, 0))
    assert not np.array_equal(idx[:100], render.sample_factors(100, 1))
    values = render.factor_values(idx[:3])
    assert values[0, 1] == render.FACTORS[1].values[idx[0, 1]] and values[2, 4] == render.FACTORS[4].values[idx[2, 4]]


def test_rendering_is_deterministic_and_chunks_do_not_matter():
    idx = render.sample_factors(300, 5)
    images = render.render_indices(idx)  # (300, 64, 64)
    assert images.shape == (300, SIZE, SIZE) and images.dtype == np.uint8 and set(np.unique(images)) == {0, 1}
    np.testing.assert_array_equal(images, render.render_indices(idx))
    np.testing.assert_array_equal(images, render.render_indices(idx, chunk=7))
    shape, *values = render.factor_values(idx[:1])[0]  # (5,)
    one = render.render_one(SHAPES[int(shape)], *values)
    np.testing.assert_array_equal(one, images[0])


def test_ten_thousand_sprites_in_seconds():
    idx = render.sample_factors(10_000, 1)
    start = time.perf_counter()
    images = render.render_indices(idx)
    seconds = time.perf_counter() - start
    assert images.shape == (10_000, SIZE, SIZE)
    assert seconds < 10, f"10,000 sprites took {seconds:.1f} s"


# ---------------------------------------------------------------------------------------------- geometry


@pytest.mark.parametrize("shape", range(3), ids=SHAPES)
def test_centroid_moves_linearly_with_x_and_y(shape):
    grid = render.FACTORS[3].values  # (32,)
    turn = render.FACTORS[2].values[7]  # any orientation: shapes turn about their centroid
    along_x = [moments(im)[1] for im in render.render(shape, 1.0, turn, grid, 0.5)]
    along_y = [moments(im)[2] for im in render.render(shape, 1.0, turn, 0.5, grid)]
    assert r_squared(grid, np.array(along_x)) > 0.99 and r_squared(grid, np.array(along_y)) > 0.99
    span = render.CENTRE_HIGH - render.CENTRE_LOW
    assert np.polyfit(grid, along_x, 1)[0] == pytest.approx(span, rel=0.03)  # x = 1 is right
    assert np.polyfit(grid, along_y, 1)[0] == pytest.approx(-span, rel=0.03)  # y = 1 is the bottom (y up here)


@pytest.mark.parametrize("shape", range(3), ids=SHAPES)
def test_area_scales_with_scale_squared(shape):
    rng = np.random.default_rng(shape)
    turn, x, y = rng.uniform(0, 2 * math.pi, 200), rng.uniform(0, 1, 200), rng.uniform(0, 1, 200)
    scales = render.FACTORS[1].values
    areas = np.array([render.render(shape, s, turn, x, y).sum((1, 2)).mean() for s in scales])  # (6,) mean pixels
    np.testing.assert_allclose(areas / areas[-1], scales**2, rtol=0.03)
    a, b = render.ELLIPSE_AXES
    exact = {0: 4.0, 1: math.pi * a * b, 2: 3.662}[shape] * render.UNIT**2  # the heart's area: a fine grid's
    assert areas[-1] == pytest.approx(exact, rel=0.02)  # pixel centres sample the continuous shape fairly


@pytest.mark.parametrize("shape, degrees", [(1, 2), (2, 6)], ids=["ellipse", "heart"])
def test_rotation_turns_the_principal_axis(shape, degrees):
    """The heart is only 16% wider than tall (second moments), so pixel steps move its axis by up to 4 degrees."""
    turns = render.FACTORS[2].values  # (40,)
    images = render.render(shape, 1.0, turns, 0.5, 0.5)
    for turn, image in zip(turns, images):
        _, _, _, axis, elongation = moments(image)
        assert elongation > 1.1  # an axis to measure
        assert angle_gap(axis, turn) < math.radians(degrees), (math.degrees(turn), math.degrees(axis))


@pytest.mark.parametrize("shape", range(3), ids=SHAPES)
def test_quarter_turns_are_counter_clockwise(shape):
    """Centred at x = y = 0.5, a quarter turn maps pixel centres onto pixel centres: the sprite is np.rot90's."""
    upright, quarter, half = render.render(shape, 1.0, [0, math.pi / 2, math.pi], 0.5, 0.5)
    assert (quarter != np.rot90(upright)).sum() <= 4  # a few boundary pixels may round the other way
    assert (half != np.rot90(upright, 2)).sum() <= 4


def test_rotation_turns_the_square():
    """The square has no principal axis (its second moments are round): its width grows by sqrt(2) at 45 degrees."""
    flat, turned = render.render(0, 1.0, [0, math.pi / 4], 0.5, 0.5)
    width = lambda im: np.ptp(np.nonzero(im.any(0))[0]) + 1
    assert width(turned) / width(flat) == pytest.approx(math.sqrt(2), rel=0.06)


@pytest.mark.parametrize("shape", range(3), ids=SHAPES)
def test_sprites_never_touch_the_frame(shape):
    turns = render.FACTORS[2].values
    corners = [(x, y) for x in (0, 0.5, 1) for y in (0, 0.5, 1)]
    x, y = np.array(corners).T.repeat(len(turns), axis=1)
    images = render.render(shape, 1.0, np.tile(turns, len(corners)), x, y)  # (360, 64, 64) at max scale
    assert images.sum((1, 2)).min() > 0
    frame = images[:, 0].sum() + images[:, -1].sum() + images[:, :, 0].sum() + images[:, :, -1].sum()
    assert frame == 0


# ---------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    "args, words",
    [
        (("star", 1, 0, 0.5, 0.5), "unknown shape 'star': choose square, ellipse or heart"),
        (("Heart", 1, 0, 0.5, 0.5), "choose square, ellipse or heart"),
        (("heart", 0.4, 0, 0.5, 0.5), "scale must be between 0.5 and 1"),
        (("heart", math.nan, 0, 0.5, 0.5), "scale must be between 0.5 and 1; got nan"),
        (("heart", 1, 7, 0.5, 0.5), "orientation must be between 0 and 2*pi"),
        (("heart", 1, -0.1, 0.5, 0.5), "orientation must be between 0 and 2*pi"),
        (("heart", 1, 0, 1.5, 0.5), "x must be between 0 and 1"),
        (("heart", 1, 0, 0.5, -math.inf), "y must be between 0 and 1"),
    ],
    ids=lambda v: str(v[:2]) if isinstance(v, tuple) else None,
)
def test_bad_factors_get_a_sentence(args, words):
    with pytest.raises(ValueError) as err:
        render.render_one(*args)
    assert words in str(err.value)


def test_bad_arrays_get_a_sentence():
    with pytest.raises(ValueError, match="shape must be an index 0-2"):
        render.render([0, 3], 1.0, 0.0, 0.5, 0.5)
    with pytest.raises(ValueError, match="scale must be between 0.5 and 1; got 2"):
        render.render([0, 1], [1.0, 2.0], 0.0, 0.5, 0.5)
    with pytest.raises(ValueError, match="one row per point"):
        metrics.mig(np.zeros((10, 3)), np.zeros((9, 5), dtype=int))
    with pytest.raises(ValueError, match="at least two latents"):
        metrics.mig(np.zeros((10, 1)), np.zeros((10, 5), dtype=int))


# ---------------------------------------------------------------------------------------------- metrics

SIZES = np.array(render.FACTOR_SIZES)
ROTATION = np.linalg.qr(np.random.default_rng(2).standard_normal((10, 10)))[0]  # (10, 10) orthogonal


def perfect_code(indices: np.ndarray, seed: int = 1) -> np.ndarray:
    """Latent k = factor k (standardised) + small noise, then five latents of pure noise: (N, 10)."""
    rng = np.random.default_rng(seed + len(indices))
    z = (indices / (SIZES - 1) - 0.5) * math.sqrt(12)  # (N, 5) unit variance
    return np.concatenate([z + 0.02 * rng.standard_normal(z.shape), rng.standard_normal((len(indices), 5))], axis=1)


def rotated_code(indices: np.ndarray) -> np.ndarray:
    return perfect_code(indices) @ ROTATION  # (N, 10): every latent mixes every factor


def noise_code(indices: np.ndarray) -> np.ndarray:
    return np.random.default_rng(len(indices)).standard_normal((len(indices), 10))


SMALL = dict(n_train=600, n_eval=400, n_variance=2_000)  # the defaults are the published 10,000 / 5,000 / 10,000


def test_mig_of_a_perfect_code_is_about_one_and_a_rotation_much_less():
    factors = render.sample_factors(10_000, 0)
    perfect = metrics.mig(perfect_code(factors), factors)
    assert perfect.score > 0.8  # 20 bins cannot hold 32 positions or 40 angles: about 0.87, not 1
    assert perfect.mi.shape == (10, 5) and list(perfect.mi.argmax(0)) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(perfect.entropy, np.log(SIZES), rtol=0.01)  # uniform factors
    assert perfect.gaps[0] > 0.95 and perfect.gaps[1] > 0.95  # 3 shapes and 6 scales fit in 20 bins
    assert metrics.mig(rotated_code(factors), factors).score < 0.3


def test_factorvae_score_of_a_perfect_code_is_about_one():
    result = metrics.factorvae_score(perfect_code, rng=0, **SMALL)
    assert result.score > 0.95 and result.train_accuracy > 0.95
    assert list(result.classifier[:5]) == [0, 1, 2, 3, 4] and result.active.all()
    assert result.votes.shape == (5, 10) and result.votes.sum() == SMALL["n_train"]
    assert metrics.factorvae_score(noise_code, rng=0, **SMALL).score < 0.5  # about chance, one in five


def test_factorvae_score_prunes_collapsed_latents():
    collapsed = lambda idx: np.concatenate([perfect_code(idx), np.full((len(idx), 2), 3.0)], axis=1)  # (N, 12)
    result = metrics.factorvae_score(collapsed, rng=0, **SMALL)
    assert list(result.active) == [True] * 10 + [False] * 2 and result.score > 0.95
    nothing = metrics.factorvae_score(lambda idx: np.zeros((len(idx), 4)), rng=0, **SMALL)
    assert nothing.score == 0 and not nothing.active.any()


def test_metrics_through_the_renderer():
    """A hand-made encoder (centroid and size from the pixels) carries x, y and scale, and nothing of orientation."""

    def encode(images):  # (N, 64, 64) -> (N, 3)
        area = images.sum((1, 2))  # (N,)
        cols, rows = np.arange(SIZE), np.arange(SIZE)
        cx = (images.sum(1) * cols).sum(1) / area
        cy = (images.sum(2) * rows).sum(1) / area
        return np.stack([cx, cy, np.sqrt(area)], axis=1)

    represent = metrics.through_renderer(encode)
    result = metrics.sprites_mig(represent, n_points=3_000, rng=0)
    assert result.mi.argmax(0)[[1, 3, 4]].tolist() == [2, 0, 1]  # scale -> size, x -> cx, y -> cy
    assert result.gaps[3] > 0.6 and result.gaps[4] > 0.6 and result.gaps[2] < 0.05
    score = metrics.factorvae_score(represent, rng=0, n_train=300, n_eval=200, n_variance=1_000)
    assert list(score.classifier) == [3, 4, 1] and 0.4 < score.score < 0.8  # x, y and scale named; 3 of 5 factors


# ---------------------------------------------------------------------------------------------- the CLI


def run_main(argv, capsys) -> tuple[int, dict]:
    from gallery.__main__ import main

    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    return code, json.loads(capsys.readouterr().out)


def test_cli_render(tmp_path, capsys):
    out = tmp_path / "new" / "F.png"
    argv = ["sprites", "render", "--shape", "heart", "--scale", "0.8", "--orientation", "1.0", "--x", "0.3"]
    code, body = run_main([*argv, "--y", "0.7", "--out", str(out)], capsys)
    assert code == 0 and body["path"] == str(out) and body["shape"] == "heart" and body["y"] == 0.7
    pixels = np.asarray(Image.open(out))
    np.testing.assert_array_equal(pixels, render.render_one("heart", 0.8, 1.0, 0.3, 0.7) * 255)


def test_cli_sample(tmp_path, capsys):
    code, body = run_main(["sprites", "sample", "-n", "12", "--seed", "4", "--out", str(tmp_path / "s")], capsys)
    assert code == 0 and body["n"] == 12
    with open(body["factors"]) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["file", "shape", "scale", "orientation", "x", "y"] and len(rows) == 12
    assert sorted(p.name for p in (tmp_path / "s").glob("*.png")) == [r["file"] for r in rows]  # name order
    for row in rows:  # the CSV holds the factors exactly: they draw the same sprite again
        again = render.render_one(row["shape"], *(float(row[k]) for k in ("scale", "orientation", "x", "y")))
        np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "s" / row["file"])), again * 255)


@pytest.mark.parametrize(
    "argv, words",
    [
        (["render", "--shape", "star", "--out", "{tmp}/a.png"], "choose square, ellipse or heart"),
        (["render", "--shape", "heart", "--scale", "1.5", "--out", "{tmp}/a.png"], "scale must be between 0.5 and 1"),
        (["render", "--shape", "heart", "--x", "nan", "--out", "{tmp}/a.png"], "x must be between 0 and 1"),
        (["render", "--shape", "heart", "--orientation", "7", "--out", "{tmp}/a.png"], "between 0 and 2*pi"),
        (["render", "--shape", "heart", "--out", "{tmp}/a.jpg"], "--out must name a .png file"),
        (["render", "--shape", "heart", "--out", ""], "--out must name a .png file"),
        (["render", "--out", "{tmp}/a.png"], "--shape"),
        (["render", "--shape", "heart", "--scale", "big", "--out", "{tmp}/a.png"], "invalid float"),
        (["sample", "-n", "0", "--out", "{tmp}/s"], "-n must be between 1 and 10,000"),
        (["sample", "-n", "10001", "--out", "{tmp}/s"], "-n must be between 1 and 10,000"),
        (["sample", "-n", "3", "--seed", "-1", "--out", "{tmp}/s"], "--seed must be 0 or more"),
        (["sample", "-n", "3", "--out", "{tmp}/taken"], "already holds sprites"),
        (["sample", "-n", "3", "--out", "{tmp}/file.txt"], "is a file, not a folder"),
        (["sample", "-n", "3", "--out", ""], "--out must name a folder"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else None,
)
def test_cli_errors(argv, words, tmp_path, capsys):
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "sprite_0.png").write_bytes(b"")
    (tmp_path / "file.txt").write_text("x")
    code, body = run_main(["sprites", *(a.format(tmp=tmp_path) for a in argv)], capsys)
    assert code == 1 and words in body["error"], body
    assert not (tmp_path / "a.png").exists() and not (tmp_path / "s").exists()
