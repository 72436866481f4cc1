"""VAE latent explorer: losses, shapes, latent tools, upload checks, smoke trainers, CLI, page, committed artifacts."""

from __future__ import annotations

import io
import json
import math
import struct
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from PIL import Image, ImageDraw

from gallery import DATA_ROOT, registry
from gallery.vae import data, latent, networks, scoring
from gallery.vae import model as vae
from gallery.vae.images import sharpness
from tests.conftest import point_registry_at

ROOT = Path(__file__).resolve().parent.parent
MALFORMED = ["61_1_20170109142408075.jpg", "61_3_20170109150557335.jpg"]
needs_vae_data = pytest.mark.skipif(
    not (DATA_ROOT / "faces" / data.FACES_ZIP).is_file() or not (DATA_ROOT / "mnist" / data.MNIST_FILE).is_file(),
    reason=f"the face and MNIST data are not at {DATA_ROOT} (set GALLERY_DATA to their folder)",
)


# ---------------------------------------------------------------- fixtures the tests make themselves


def synthetic_face(rng, gender: int, age: int) -> np.ndarray:
    """A 64x64 cartoon face: women get a warmer face and long hair, older people grey hair."""
    img = Image.new("RGB", (64, 64), tuple(int(v) for v in rng.integers(40, 200, 3)))
    d = ImageDraw.Draw(img)
    hair = (200, 200, 200) if age >= 55 else (60, 40, 20)
    if gender == 1:
        d.rectangle([10, 14, 54, 60], fill=hair)
    d.ellipse([16, 10, 48, 54], fill=(230, 170, 150) if gender else (190, 140, 110))
    d.rectangle([16, 6, 48, 16], fill=hair)
    d.ellipse([24, 26, 29, 31], fill=(20, 20, 20))
    d.ellipse([35, 26, 40, 31], fill=(20, 20, 20))
    return np.asarray(img)


@pytest.fixture(scope="session")
def faces_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faces")
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(folder / data.FACES_ZIP, "w") as z:
        for i in range(160):
            gender, age = i % 2, (20, 25, 60, 70)[(i // 2) % 4]
            buf = io.BytesIO()
            Image.fromarray(synthetic_face(rng, gender, age)).save(buf, "JPEG", quality=90)
            z.writestr(f"utkface_64/{age}_{gender}_{i % 5}_2017010{i:04d}.jpg", buf.getvalue())
        for name in MALFORMED:
            buf = io.BytesIO()
            Image.fromarray(synthetic_face(rng, 0, 30)).save(buf, "JPEG")
            z.writestr(f"utkface_64/{name}", buf.getvalue())
    return folder


def synthetic_digits(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Each class is a bar at its own place with a random thickness: enough for a CVAE to learn something."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n)
    x = np.zeros((n, 28, 28), np.uint8)
    for i, c in enumerate(y):
        w = rng.integers(1, 4)
        x[i, 4:24, 2 + 2 * c : 2 + 2 * c + w] = 255
    return x, y


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("mnist")
    x, y = synthetic_digits(1200, 0)
    xt, yt = synthetic_digits(200, 1)
    np.savez(folder / data.MNIST_FILE, x_train=x, y_train=y, x_test=xt, y_test=yt)
    return folder


@pytest.fixture(scope="session")
def vae_smoke_root(tmp_path_factory, faces_dir, mnist_dir):
    """pretrained/ with vae-faces and vae-digits written by the real trainer in --smoke mode."""
    from trainers import vae as trainer

    root = tmp_path_factory.mktemp("pretrained")
    ckpt = tmp_path_factory.mktemp("checkpoints")
    for kind, folder in (("faces", faces_dir), ("digits", mnist_dir)):
        trainer.main(
            ["--smoke", "--model", kind, "--data-dir", str(folder), "--out", str(root / f"vae-{kind}")]
            + ["--checkpoint", str(ckpt / f"{kind}.pt")]
        )
    trainer.main(  # the sharp decoder on the smoke sigma-VAE's encoder
        ["--smoke", "--model", "faces-sharp", "--data-dir", str(faces_dir), "--base", str(root / "vae-faces")]
        + ["--out", str(root / "vae-faces-sharp"), "--checkpoint", str(ckpt / "faces-sharp.pt")]
    )
    return root


@pytest.fixture
def vae_smoke(vae_smoke_root, monkeypatch):
    yield from point_registry_at(vae_smoke_root, monkeypatch)


def png_bytes(arr) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def bomb_png(width=100_000, height=100_000) -> bytes:
    """A tiny PNG whose header claims width x height pixels (patched IHDR with a valid CRC)."""
    raw = png_bytes(np.zeros((8, 8), np.uint8))
    ihdr = struct.pack(">II", width, height) + raw[24:29]
    chunk = b"IHDR" + ihdr
    return raw[:8] + struct.pack(">I", 13) + chunk + struct.pack(">I", zlib.crc32(chunk)) + raw[33:]


# ---------------------------------------------------------------- losses


def test_bernoulli_loss_is_non_negative_and_matches_a_hand_computation():
    x = torch.tensor([[[[0.0, 0.5], [1.0, 0.2]]]])  # (1, 1, 2, 2) intensities in [0, 1]
    logits = torch.tensor([[[[-1.0, 0.3], [2.0, 0.0]]]])
    by_hand = 0.0
    for xi, li in zip(x.flatten().tolist(), logits.flatten().tolist()):
        p = 1 / (1 + math.exp(-li))
        by_hand += -(xi * math.log(p) + (1 - xi) * math.log(1 - p))
    got = networks.bernoulli_nll(logits, x)
    assert got.shape == (1,) and got.item() == pytest.approx(by_hand, rel=1e-6) and got.item() >= 0
    # The original notebook's bug: targets in [-1, 1] make the "cross-entropy" negative.
    assert F.binary_cross_entropy_with_logits(torch.tensor([-5.0]), torch.tensor([-1.0])).item() < 0


def test_kl_and_gaussian_likelihoods_match_closed_forms():
    mu, logvar = torch.tensor([[0.5, -1.0]]), torch.tensor([[0.0, math.log(0.25)]])
    by_hand = [0.5 * 0.25, 0.5 * (1.0 + 0.25 - 1 - math.log(0.25))]
    assert networks.kl_per_dim(mu, logvar)[0].tolist() == pytest.approx(by_hand, rel=1e-6)
    assert (networks.kl_per_dim(torch.randn(5, 3), torch.randn(5, 3)) >= 0).all()

    x = torch.tensor([[[[0.0, 100 / 255], [1.0, 0.5]]]])
    mean = torch.tensor([[[[0.1, 0.4], [0.9, 0.5]]]])
    log_sigma = torch.tensor(math.log(0.1))
    phi = lambda v: 0.5 * (1 + math.erf(v / (0.1 * math.sqrt(2))))  # noqa: E731
    h = 0.5 / 255
    probs = [
        phi(h - 0.1),  # x = 0 owns the lower tail
        phi(100 / 255 + h - 0.4) - phi(100 / 255 - h - 0.4),
        1 - phi(1 - h - 0.9),  # x = 1 owns the upper tail
        phi(0.5 + h - 0.5) - phi(0.5 - h - 0.5),
    ]
    got = networks.discretised_gaussian_nll(mean, x, log_sigma)
    assert got.item() == pytest.approx(-sum(math.log(p) for p in probs), rel=1e-4) and got.item() >= 0
    cont = 0.5 * sum(((a - b) / 0.1) ** 2 for a, b in zip(x.flatten(), mean.flatten())) + 4 * math.log(
        0.1 * math.sqrt(2 * math.pi)
    )
    assert networks.gaussian_nll(mean, x, log_sigma).item() == pytest.approx(float(cont), rel=1e-5)


def test_training_losses_are_finite_and_the_cvae_loss_is_non_negative():
    torch.manual_seed(0)
    face = networks.FaceVAE(networks.FaceConfig(8, (8, 8, 16, 16)))
    loss, parts = networks.sigma_vae_loss(face, torch.rand(4, 3, 64, 64))
    assert torch.isfinite(loss) and parts["kl"] >= 0 and parts["sigma"] == pytest.approx(math.sqrt(parts["mse"]))
    digits = networks.DigitCVAE(networks.DigitConfig(4, (32,)))
    loss, parts = networks.cvae_loss(digits, torch.rand(6, 1, 28, 28), torch.arange(6))
    assert loss.item() >= 0 and parts["rec"] >= 0 and parts["kl"] >= 0


def test_encoder_and_decoder_shapes():
    face = networks.FaceVAE(networks.FaceConfig(16, (8, 16, 16, 32), 64, 1))
    mu, logvar = face.encode(torch.rand(3, 3, 64, 64))
    assert mu.shape == logvar.shape == (3, 16)
    out = face.decode(torch.randn(3, 16))
    assert out.shape == (3, 3, 64, 64) and 0 <= out.min() and out.max() <= 1
    digits = networks.DigitCVAE(networks.DigitConfig(5, (32, 16)))
    mu, _ = digits.encode(torch.rand(2, 1, 28, 28), torch.tensor([3, 7]))
    assert mu.shape == (2, 5) and digits.decode(mu, torch.tensor([3, 7])).shape == (2, 1, 28, 28)
    rebuilt = vae.build(networks.config_dict(face), face.state_dict())
    assert rebuilt.cfg == face.cfg


# ---------------------------------------------------------------- latent tools


def test_interpolation_endpoints_reproduce_the_inputs():
    a, b = torch.randn(8), torch.randn(8)
    for spherical in (False, True):
        path = latent.interpolate(a, b, 6, spherical=spherical)
        assert path.shape == (6, 8)
        assert torch.allclose(path[0], a, atol=1e-5) and torch.allclose(path[-1], b, atol=1e-5)
    # the notebook's t_from + a * t_to never reaches the end point; ours is halfway at t = 0.5
    assert torch.allclose(latent.lerp(a, b, 0.5), (a + b) / 2)
    # spherical paths keep the norm between the endpoints' norms when they are equal
    a2, b2 = a / a.norm() * 3, b / b.norm() * 3
    assert latent.slerp(a2, b2, 0.3).norm().item() == pytest.approx(3.0, rel=1e-4)


def test_attribute_directions_are_orthogonal_unit_vectors():
    rng = np.random.default_rng(0)
    mu = rng.standard_normal((400, 6))
    female, old = rng.random(400) < 0.5, rng.random(400) < 0.5
    mu[female, 0] += 2
    mu[old, 0] += 1  # age correlates with the female direction here ...
    mu[old, 1] += 2  # ... and has its own
    dirs = latent.attribute_directions({"female": (mu[female], mu[~female]), "older": (mu[old], mu[~old])})
    assert np.linalg.norm(dirs["female"]) == pytest.approx(1) and np.linalg.norm(dirs["older"]) == pytest.approx(1)
    assert abs(dirs["female"] @ dirs["older"]) < 1e-6
    assert abs(dirs["older"][1]) > 0.9


def test_attribute_direction_moves_encoded_validation_faces_toward_the_other_group(faces_dir, vae_smoke):
    from trainers.vae import face_attributes

    m = vae.load("vae-faces")
    faces = data.load_faces(faces_dir)
    train, val = data.split_indices(len(faces), 0.25, seed=1)
    mu_train, mu_val = m.encode(faces.images[train]), m.encode(faces.images[val])
    dirs, info = face_attributes(mu_train, faces.subset(train))
    men, women = mu_val[faces.gender[val] == 0], mu_val[faces.gender[val] == 1]
    pushed = men + info["female"]["gap"] * dirs["female"]
    before = np.linalg.norm(men.mean(0) - women.mean(0))
    after = np.linalg.norm(pushed.mean(0) - women.mean(0))
    assert after < before
    # and per face: most men end up closer to the women's mean
    closer = np.linalg.norm(pushed - women.mean(0), axis=1) < np.linalg.norm(men - women.mean(0), axis=1)
    assert closer.mean() > 0.5


def test_sharpness_prefers_sharp_images():
    rng = np.random.default_rng(0)
    sharp = rng.integers(0, 256, (2, 16, 16, 3)).astype(np.uint8)
    blurred = ((sharp.astype(float) + np.roll(sharp, 1, 1) + np.roll(sharp, 1, 2)) / 3).astype(np.uint8)
    assert sharpness(sharp) > sharpness(blurred) > 0


# ---------------------------------------------------------------- data and uploads


def test_face_names_are_parsed_and_malformed_ones_counted(faces_dir):
    assert data.parse_face_name("utkface_64/26_1_2_20170116174525125.jpg") == (26, 1, 2)
    assert data.parse_face_name("61_1_20170109142408075.jpg") is None
    assert data.parse_face_name("0_0_0_1.jpg") is None
    faces = data.load_faces(faces_dir)
    assert len(faces) == 160 and sorted(faces.malformed) == sorted(MALFORMED)
    assert faces.images.shape == (160, 64, 64, 3) and faces.images.dtype == np.uint8
    tr, va = data.split_indices(len(faces), 0.1)
    assert len(set(tr) & set(va)) == 0 and len(tr) + len(va) == 160


def test_upload_validation_gives_clear_messages():
    good = png_bytes(np.full((80, 120, 3), 128, np.uint8))
    assert data.open_image(good).size == (120, 80)
    cases = {
        b"": "empty",
        b"%PDF-1.4 not a picture at all": "not an image",
        good[: len(good) // 2]: "truncated",
        bomb_png(): "decompression bomb",
        bomb_png(9000, 9000): "81 megapixels",
    }
    jpeg = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(jpeg, "JPEG")
    cases[jpeg.getvalue()[:3000]] = "truncated"
    for payload, words in cases.items():
        with pytest.raises(ValueError, match=words):
            data.open_image(payload)
    with pytest.raises(ValueError, match="limit is"):
        data.open_image(good, max_bytes=100)


def test_uploads_become_model_inputs():
    rgba = np.zeros((90, 60, 4), np.uint8)
    rgba[..., 0], rgba[..., 3] = 255, 255
    face = data.face_array(data.open_image(png_bytes(rgba)))
    assert face.shape == (64, 64, 3) and face[..., 0].min() == 255
    dark_on_light = np.full((56, 56), 255, np.uint8)
    dark_on_light[10:46, 26:30] = 0
    digit, inverted = data.digit_array(data.open_image(png_bytes(dark_on_light)))
    assert inverted and digit.shape == (28, 28) and digit[0, 0] == 0 and digit[14, 14] > 200


# ---------------------------------------------------------------- smoke artifacts, CLI, benchmark


def test_smoke_artifacts_load_and_carry_their_card(vae_smoke):
    for kind in ("faces", "digits"):
        m = vae.load(f"vae-{kind}")
        assert m.card["smoke"] and m.kind == kind and len(m.ranked_dims()) == m.latent
        assert "summary" in m.card and "headline" in m.card
        assert m.decode(m.sample_codes(2), 3).shape[0] == 2
    faces = vae.load("vae-faces").card
    assert sorted(faces["data"]["malformed_names_skipped"]) == sorted(MALFORMED)
    assert faces["metrics"]["validation_neg_elbo_nats"] > 0
    assert set(vae.load("vae-faces").config["attributes"]) == {"female", "older"}


def test_cli_samples_and_scores(vae_smoke, tmp_path, capsys):
    from gallery.__main__ import main

    assert (
        main(["vae", "sample", "--model", "digits", "--digit", "7", "-n", "3", "--seed", "1", "--out", str(tmp_path)])
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert [f["digit"] for f in out["files"]] == [7, 7, 7] and all(Path(f["path"]).is_file() for f in out["files"])
    assert Image.open(out["files"][0]["path"]).size == (28, 28)
    faces_out = tmp_path / "faces"
    assert main(["vae", "sample", "--model", "faces", "-n", "2", "--out", str(faces_out)]) == 0
    capsys.readouterr()
    (faces_out / "broken.png").write_bytes(b"not an image")
    assert main(["vae", "score", "--model", "faces", "--images", str(faces_out)]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["n"] == 2 and scored["mse_per_pixel"] >= 0 and scored["neg_elbo_nats"] > 0
    assert scored["skipped"][0]["file"] == "broken.png"
    assert main(["vae", "score", "--model", "digits", "--images", str(tmp_path)]) == 0
    scored = json.loads(capsys.readouterr().out)
    assert scored["n"] == 3 and "most likely" in scored["note"]
    assert main(["vae", "sample", "--model", "faces", "--digit", "3", "--out", str(tmp_path)]) == 1
    assert "only applies" in json.loads(capsys.readouterr().out)["error"]


def test_decode_benchmark_runs(vae_smoke):
    from benchmarks import vae_decode

    r = vae_decode.measure(vae.load("vae-faces"), repeats=2)
    assert r["one_ms"] > 0 and r["batch64_ms"] > r["per_image_in_batch_ms"]


def test_trainer_resumes_from_its_checkpoint(faces_dir, tmp_path):
    from trainers import vae as trainer

    args = ["--smoke", "--model", "faces", "--data-dir", str(faces_dir), "--checkpoint", str(tmp_path / "c.pt")]
    trainer.main([*args, "--out", str(tmp_path / "a")])
    trainer.main([*args, "--out", str(tmp_path / "b"), "--resume"])  # nothing left to train: same weights
    a, b = registry.load_artifact("a", tmp_path), registry.load_artifact("b", tmp_path)
    assert torch.equal(a.tensors["to_stats.weight"], b.tensors["to_stats.weight"])
    assert b.card["epochs_run"] == 2


def test_sharp_trainer_runs_the_adversarial_recipe_and_resumes(vae_smoke_root, faces_dir, tmp_path):
    from trainers import vae as trainer

    args = [
        "--smoke",
        "--model",
        "faces-sharp",
        "--data-dir",
        str(faces_dir),
        "--base",
        str(vae_smoke_root / "vae-faces"),
    ]
    args += ["--checkpoint", str(tmp_path / "c.pt"), "--disc-weight", "0.8", "--fm-weight", "1", "--band-weight", "0"]
    trainer.main([*args, "--out", str(tmp_path / "a")])
    trainer.main([*args, "--out", str(tmp_path / "b"), "--resume", "--restart-adversarial"])
    card = registry.load_artifact("b", tmp_path).card
    assert [c["from_step"] for c in card["training"]["commands_run"]] == [0, 6]
    assert any(row.get("phase") == "adversarial" and "d" in row for row in card["history"])
    assert "hinge PatchGAN" in card["model"]


# ---------------------------------------------------------------- the page


def run_page(**kwargs):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "4_VAE_Explorer.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def open_tab(at, label: str) -> None:
    """Open one of the page's tabs (only the open one is built), as a click on it does."""
    at.session_state["vae_tab"] = label
    at.run()
    assert not at.exception, at.exception


def test_page_samples_slides_interpolates_and_uploads(vae_smoke):
    at = run_page()
    assert len(at.get("image")) >= 2  # the face and the batch (the other tabs are built when opened)
    first = np.array(at.session_state["z_faces"])
    at.button(key="faces_sample").click()
    at.number_input(key="faces_seed").set_value(5)
    at.run()
    assert not at.exception, at.exception
    assert not np.allclose(at.session_state["z_faces"], first)
    dim = vae.load("vae-faces").ranked_dims()[0]
    at.slider(key=f"faces_dim_{dim}").set_value(2.5)
    at.run()
    assert not at.exception and at.session_state["z_faces"][dim] == pytest.approx(2.5)
    at.slider(key="faces_attr_older").set_value(1.0)
    open_tab(at, "Interpolate")  # only the open tab is built
    at.selectbox(key="faces_Start_src").select("held-out example")
    at.radio(key="faces_path").set_value("spherical")
    at.slider(key="faces_frames").set_value(5)
    at.run()
    assert not at.exception, at.exception
    at.button(key="faces_reset").click()
    at.run()
    assert not np.any(at.session_state["z_faces"]) and at.session_state["faces_attr_older"] == 0

    # a bad upload: a clear message, nothing else changes
    open_tab(at, "Upload a photo")
    before = np.array(at.session_state["z_faces"])
    at.file_uploader(key="faces_upload").upload("bomb.png", bomb_png(), "image/png")
    at.run()
    assert not at.exception, at.exception
    assert "megapixels" in at.error[0].value and np.array_equal(at.session_state["z_faces"], before)
    # a good one: its code drives the sliders
    rng = np.random.default_rng(0)
    at.file_uploader(key="faces_upload").set_value(("me.png", png_bytes(synthetic_face(rng, 1, 25)), "image/png"))
    at.run()
    assert not at.exception, at.exception
    assert not at.error and at.session_state["faces_uploaded"]["name"] == "me.png"
    assert at.session_state["z_faces"][dim] == pytest.approx(at.session_state[f"faces_dim_{dim}"], abs=0.01)
    open_tab(at, "Interpolate")
    assert at.slider(key="faces_frames").value == 5  # what was set in the tab stayed while it was hidden
    at.selectbox(key="faces_End_src").select("uploaded picture")
    at.run()
    assert not at.exception, at.exception


def test_page_draws_digits_and_survives_switching_models(vae_smoke):
    at = run_page()
    at.segmented_control(key="kind").set_value("digits")
    at.run()
    assert not at.exception, at.exception
    at.select_slider(key="digits_class").set_value(7)
    open_tab(at, "Traversal grid")
    at.selectbox(key="digits_gx").select(vae.load("vae-digits").ranked_dims()[1])
    at.run()
    assert not at.exception, at.exception
    open_tab(at, "Upload a photo")
    at.file_uploader(key="digits_upload").upload("notes.txt", b"hello, not a digit", "text/plain")
    at.run()
    assert "not an image" in at.error[0].value
    at.segmented_control(key="kind").set_value("faces")
    at.run()
    assert not at.exception, at.exception
    at.slider(key="faces_attr_female").set_value(-1.0)  # the faithful decoder uses the sharp model's directions
    at.run()
    assert not at.exception, at.exception
    assert any("of men read as female" in c.value for c in at.caption)


def test_page_explains_a_missing_artifact(vae_smoke, tmp_path, monkeypatch):
    import shutil

    root = tmp_path / "pretrained"
    shutil.copytree(vae_smoke, root)
    shutil.rmtree(root / "vae-faces-sharp")
    monkeypatch.setattr(registry, "PRETRAINED", root)
    at = run_page()
    assert "unavailable" in at.error[0].value
    assert any("python -m trainers.vae --model faces-sharp" in c.value for c in at.code)
    at.segmented_control(key="kind").set_value("faces")  # the faithful decoder still works, without comparisons
    at.run()
    assert not at.exception and not at.error and at.toggle(key="faces_compare").disabled


def test_page_compares_decoders_draws_a_batch_and_samples_where_faces_live(vae_smoke):
    at = run_page()
    assert at.segmented_control(key="kind").value == "faces-sharp"
    n_images = len(at.get("image"))
    at.toggle(key="faces_compare").set_value(True)
    at.run()
    assert not at.exception, at.exception
    assert len(at.get("image")) > n_images  # the faithful decoder's pictures beside the sharp ones
    assert any("perception-distortion" in c.value for c in at.caption)
    at.radio(key="faces_density").set_value("prior")
    at.slider(key="faces_temperature").set_value(0.5)
    at.button(key="faces_sample").click()
    at.run()
    assert not at.exception, at.exception
    z = at.session_state["z_faces"]
    assert np.allclose(z, vae.load("vae-faces-sharp").sample_codes(1, seed=0, temperature=0.5)[0], atol=0.01)
    at.radio(key="faces_density").set_value("fitted")
    at.number_input(key="faces_batch_seed").set_value(3)
    at.session_state["vae_how_well"] = True  # the expander is built only while open
    at.slider(key="faces_attr_female").set_value(-1.0)
    at.run()
    assert not at.exception, at.exception
    assert any("of men read as female" in c.value for c in at.caption)
    assert any("two-sample" in t.value.lower() for t in at.markdown)  # "how well it does"
    assert any("Where its certainty comes from" in t.value for t in at.markdown)  # the card's diagnosis, in words
    at.segmented_control(key="kind").set_value("faces")
    at.run()
    assert not at.exception, at.exception
    assert np.array_equal(at.session_state["z_faces"], z)  # the same code, drawn by the other decoder


GAME_HISTORY = [  # as trainers.vae_sharp logs them: a warm-up of a new discriminator, then the game
    {"step": 250, "phase": "reconstruction", "l1": 0.1, "val_mse": 0.06, "sample_sharpness_ratio": 0.1},
    {"step": 500, "restarted": "new discriminator; moving average from the live decoder"},
    {"step": 500, "phase": "discriminator warm-up", "disc_steps": 50, "d": 1.9, "d_val_accuracy": 0.52},
    {"step": 500, "phase": "discriminator warm-up", "disc_steps": 100, "d_val_accuracy": 0.74, "d_val_real": 0.4}
    | {"d_val_fake": -0.3},
    {"step": 750, "phase": "adversarial", "val_mse": 0.01, "sample_sharpness_ratio": 0.4, "d_val_accuracy": 0.66}
    | {"d_val_real": 0.3, "d_val_fake": -0.2},
    {"step": 1000, "phase": "adversarial", "val_mse": 0.01, "sample_sharpness_ratio": 0.55, "d_val_accuracy": 0.61},
]


def test_the_adversarial_game_is_read_from_the_history_rows():
    from gallery.vae.cards import adversarial_game
    from pages.vae_explorer.how_trained import game_figure

    game = adversarial_game(GAME_HISTORY)
    (warm_up,) = game["warm_ups"]  # its rows share the step the discriminator started at
    assert warm_up["step"] == 500 and warm_up["disc_steps"] == [50, 100]
    assert warm_up["d_val_accuracy"] == [0.52, 0.74] and warm_up["d_val_real"] == [None, 0.4]
    assert game["game"] == {
        "step": [750, 1000],
        "d_val_accuracy": [0.66, 0.61],
        "d_val_real": [0.3, None],
        "d_val_fake": [-0.2, None],
    }
    assert game["sharpness"] == {"step": [750, 1000], "sample_sharpness_ratio": [0.4, 0.55]}  # from the first check
    names = [trace.name for trace in game_figure(game).data]
    assert names[-2:] == ["discriminator's held-out accuracy", "sample sharpness (real = 1)"] and len(names) == 3
    assert len(game_figure({**game, "warm_ups": []}).data) == 2  # a discriminator resumed from the artifact
    # cards written before the trainer logged the discriminator's health: no chart, nothing breaks
    assert adversarial_game([r for r in GAME_HISTORY if "d_val_accuracy" not in r]) is None
    assert adversarial_game([]) is None


def test_page_shows_the_adversarial_game_where_the_card_has_it(vae_smoke):
    history = vae.load("vae-faces-sharp").card["history"]
    assert any("d_val_accuracy" in r for r in history)  # the smoke trainer logs the discriminator's health too
    at = run_page()
    at.session_state["vae_trained"] = True  # "How it was trained", built only while open
    at.run()
    assert not at.exception, at.exception
    assert any("adversarial game" in t.value for t in at.markdown)
    assert any(c.value.startswith("Last check, step") for c in at.caption)


# ---------------------------------------------------------------- the sharp decoder's parts


def test_discriminator_and_losses_have_the_right_shapes():
    from gallery.vae import sharp

    disc = sharp.PatchDiscriminator((8, 16, 32))
    logits, feats = disc(torch.rand(3, 3, 64, 64))
    assert logits.shape == (3, 1, 8, 8) and [f.shape[1:] for f in feats] == [(8, 32, 32), (16, 16, 16), (32, 8, 8)]
    assert sharp.hinge_d_loss(torch.full((3, 1, 8, 8), 2.0), torch.full((3, 1, 8, 8), -2.0)) == 0
    assert sharp.hinge_d_loss(torch.zeros(3, 1, 8, 8), torch.zeros(3, 1, 8, 8)) == 2
    assert sharp.feature_matching(feats, feats).item() == 0
    assert sharp.r1_penalty(disc, torch.rand(2, 3, 64, 64)).item() >= 0
    dec = sharp.UpsampleDecoder(8, (16, 16, 8, 8, 8), (1, 1, 0, 0, 0))
    out = dec(torch.randn(5, 8))
    assert out.shape == (5, 3, 64, 64) and 0 <= out.min() and out.max() <= 1
    assert not any(isinstance(m, torch.nn.ConvTranspose2d) for m in dec.modules())


def test_adaptive_weight_is_finite_and_balances_the_gradients():
    from gallery.vae import sharp

    dec = sharp.UpsampleDecoder(8, (16, 16, 8, 8, 8), (0, 0, 0, 0, 0))
    fake = dec(torch.randn(4, 8))
    rec = fake.mean()
    gan = 100 * fake.std()
    w = sharp.adaptive_weight(rec, gan, dec.to_rgb.weight)
    assert torch.isfinite(w) and w > 0 and not w.requires_grad
    g_rec = torch.autograd.grad(rec, dec.to_rgb.weight, retain_graph=True)[0].norm()
    g_gan = torch.autograd.grad(w * gan, dec.to_rgb.weight)[0].norm()
    assert g_gan == pytest.approx(g_rec.item(), rel=1e-3)


def test_band_power_loss_asks_each_patch_for_its_own_detail():
    from gallery.vae import sharp

    real = torch.rand(2, 3, 64, 64)
    blurred = F.avg_pool2d(real, 3, 1, 1)
    assert sharp.band_power_loss(real, real) == 0
    assert sharp.band_power_loss(blurred, real) > 0.5
    dotted = blurred.clone()
    dotted[:, :, 10, 10] = 1.0  # one bright dot fills every band of one patch only
    assert sharp.band_power_loss(dotted, real) > 0.9 * sharp.band_power_loss(blurred, real)


def test_ema_moves_a_fraction_toward_the_live_weights():
    from gallery.vae import sharp

    live = torch.nn.Linear(2, 2)
    ema = sharp.EMA(live, decay=0.9)
    ema.updates = 1000  # past the warm-up of the decay
    before = ema.module.weight.clone()
    with torch.no_grad():
        live.weight.add_(1.0)
    ema.update(live)
    assert torch.allclose(ema.module.weight, before + 0.1, atol=1e-6)


def test_diff_augment_keeps_shapes_and_passes_gradients():
    from gallery.vae import sharp

    x = torch.rand(4, 3, 64, 64, requires_grad=True)
    y = sharp.diff_augment(x, torch.Generator().manual_seed(0))
    assert y.shape == x.shape and not torch.equal(y, x)
    y.sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0


def test_fitted_density_matches_the_codes_mean_and_covariance():
    from gallery.vae import realism

    rng = np.random.default_rng(0)
    mix = rng.standard_normal((6, 6))
    codes = rng.standard_normal((20000, 6)) @ mix + np.arange(6)
    density = realism.FittedGaussian.fit(codes)
    samples = density.sample(50000, seed=1)
    assert np.allclose(samples.mean(0), codes.mean(0), atol=0.05)
    assert np.allclose(np.cov(samples, rowvar=False), np.cov(codes, rowvar=False), atol=0.15)
    half = density.sample(50000, seed=1, temperature=0.5)
    assert np.allclose(half.std(0), 0.5 * samples.std(0), rtol=0.02)


def test_regression_directions_are_unit_vectors_that_track_their_labels_and_are_blind_to_each_other():
    from gallery.vae import realism

    rng = np.random.default_rng(0)
    codes = rng.standard_normal((3000, 8))
    gender = (codes[:, 0] + 0.5 * codes[:, 1] + 0.3 * rng.standard_normal(3000) > 0).astype(int)
    age = np.exp(3 + 0.4 * codes[:, 1] + 0.4 * codes[:, 2])
    d = realism.regression_directions(codes, gender, age)
    assert np.linalg.norm(d["female"]) == pytest.approx(1, abs=1e-5)
    assert np.linalg.norm(d["older"]) == pytest.approx(1, abs=1e-5)
    w_age = np.linalg.lstsq(np.c_[codes, np.ones(3000)], np.log(age), rcond=None)[0][:8]  # the age regression
    assert abs(d["female"] @ w_age) < 0.01 * np.linalg.norm(w_age)  # a gender edit leaves the predicted age
    assert abs(d["older"] @ np.array([1, 0.5, 0, 0, 0, 0, 0, 0])) < 0.05  # an age edit leaves the gender's logit
    assert np.argmax(np.abs(d["female"])) == 0 and d["female"][0] > 0 and d["older"][2] > 0.5


def test_attribute_offset_keeps_the_other_attribute_by_amount_squared():
    directions = {"female": np.array([1, 0, 0], np.float32), "older": np.array([0, 1, 0], np.float32)}
    pushes = {"female": {"plus": 2.0, "minus": 3.0, "keep": {"along": "older", "plus": 0.5, "minus": -1.0}}}
    assert np.allclose(latent.attribute_offset(directions, pushes, "female", 1.0), [2, 0.5, 0])
    assert np.allclose(latent.attribute_offset(directions, pushes, "female", -1.0), [-3, -1, 0])
    assert np.allclose(latent.attribute_offset(directions, pushes, "female", -0.5), [-1.5, -0.25, 0])
    plain = {"female": {"plus": 2.0, "minus": 3.0}}  # artifacts measured before the keeping moves
    assert np.allclose(latent.attribute_offset(directions, plain, "female", 0.5), [1, 0, 0])


def test_choose_keep_finds_the_move_that_undoes_a_drift_growing_on_both_sides():
    """The 'faces' are the codes; the other attribute reads y + x^2 / 2, so a push of 2 along x drifts it by 2
    wherever x starts at 0 and -2 along y undoes it; a straight direction could not for both sides."""
    from gallery.vae import realism

    codes = np.c_[np.zeros(50), np.random.default_rng(0).standard_normal(50)]
    read = lambda f: f[:, 1] + f[:, 0] ** 2 / 2  # noqa: E731
    along = np.array([0.0, 1.0])
    for sign in (1, -1):
        assert realism.choose_keep(read, lambda c: c, codes, np.array([2.0 * sign, 0]), along) == -2.0


def test_roc_auc_and_spectrum_and_blur():
    from sklearn.metrics import roc_auc_score

    from gallery.vae import realism

    rng = np.random.default_rng(0)
    pos, neg = rng.normal(1, 1, 300).round(1), rng.normal(0, 1, 200).round(1)  # rounded: ties
    labels = np.r_[np.ones(300), np.zeros(200)]
    assert realism.roc_auc(pos, neg) == pytest.approx(roc_auc_score(labels, np.r_[pos, neg]))
    noise = rng.integers(0, 256, (8, 64, 64, 3)).astype(np.uint8)
    blurred = realism.box_blur(noise)
    sharp_s, blur_s = realism.radial_spectrum(noise), realism.radial_spectrum(blurred)
    assert sharp_s.shape == (32,) and blur_s[-1] < 0.2 * sharp_s[-1]  # blur starves the high frequencies
    assert realism.sharpness_ratio(blurred, noise) < 0.2


def test_critic_controls_keep_the_images_and_lose_what_they_should():
    """A resize keeps a smooth picture (at half size it loses the finest detail); a JPEG re-save changes pixels a
    little."""
    from gallery.vae import realism

    y, x = np.mgrid[0:64, 0:64]
    smooth = np.stack([x * 4, y * 4, (x + y) * 2], -1)[None].repeat(2, 0)  # (2, 64, 64, 3) ramps
    noise = np.random.default_rng(0).integers(-20, 21, smooth.shape)
    faces = np.clip(smooth + noise, 0, 255).astype(np.uint8)
    for process in (lambda x: realism.resized(x, 32), lambda x: realism.resized(x, 60), realism.jpeg_resaved):
        out = process(faces)
        assert out.shape == faces.shape and out.dtype == np.uint8
        assert np.abs(out.astype(int) - smooth).mean() < np.abs(noise).mean()  # the picture survives
    assert realism.sharpness_ratio(realism.resized(faces, 32), faces) < 0.1  # the pixel-level detail is gone


def test_sharp_smoke_artifact_loads_with_its_density_directions_and_reader(vae_smoke):
    from gallery.vae import realism, sharp

    m = vae.load("vae-faces-sharp")
    faithful = vae.load("vae-faces")
    assert isinstance(m.net, sharp.SharpFaceVAE) and m.card["smoke"] and m.kind == "faces"
    for k in ("encoder.0.weight", "to_stats.weight"):  # the same frozen encoder, so the same codes
        assert torch.equal(m.net.state_dict()[k], faithful.net.state_dict()[k])
    assert m.density() is not None and faithful.density() is None
    assert all(abs(np.linalg.norm(m.extra[f"dir_{k}"]) - 1) < 1e-3 for k in ("female", "older"))
    assert any(k.startswith("disc.") for k in m.extra)  # the discriminator, so --resume can go on from here
    pushes = m.config["attribute_pushes"]
    female, older = m.extra["dir_female"], m.extra["dir_older"]
    keep = pushes["female"]["keep"]
    assert keep["along"] == "older" and pushes["older"]["keep"]["along"] == "female"
    assert np.allclose(m.attribute_offset("female", 1.0), pushes["female"]["plus"] * female + keep["plus"] * older)
    assert np.allclose(
        m.attribute_offset("female", -0.5), -0.5 * pushes["female"]["minus"] * female + 0.25 * keep["minus"] * older
    )
    reader = realism.AttributeReader()
    reader.load_state_dict(
        {k[len("reader.") :]: torch.from_numpy(v) for k, v in m.extra.items() if k.startswith("reader.")}
    )
    p, age = reader.read(np.zeros((2, 64, 64, 3), np.uint8))
    assert p.shape == age.shape == (2,)
    metrics = m.card["metrics"]
    for name in ("faces", "faces-sharp"):
        for sampler in ("prior", "fitted"):
            r = metrics["decoders"][name]["sampling"][sampler]
            assert 0 <= r["two_sample_auc"] <= 1 and len(r["spectrum"]) == 32
        assert set(metrics["attribute_edits"][name]) == {"female", "older"}


def test_cli_edits_faces_and_without_an_attribute_writes_plain_reconstructions(vae_smoke, tmp_path, capsys):
    from gallery.__main__ import main

    rng = np.random.default_rng(0)
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(3):
        Image.fromarray(synthetic_face(rng, i % 2, 30)).save(photos / f"p{i}.png")
    (photos / "notes.txt").write_text("not a picture")
    assert main(["vae", "edit", "--model", "faces-sharp", "--images", str(photos), "--out", str(tmp_path / "a")]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [Path(f["source"]).name for f in out["files"]] == ["p0.png", "p1.png", "p2.png"]
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["p0.png", "p1.png", "p2.png"]
    m = vae.load("vae-faces-sharp")
    images, _, _ = data.read_folder(photos, "faces")
    expected = m.decode(m.encode(images))
    written = np.stack([np.asarray(Image.open(f["path"])) for f in out["files"]])
    assert np.array_equal(written, expected)
    args = ["vae", "edit", "--model", "faces-sharp", "--images", str(photos), "--out", str(tmp_path / "b")]
    assert main([*args, "--attribute", "age", "--amount", "1"]) == 0
    moved = np.stack([np.asarray(Image.open(f["path"])) for f in json.loads(capsys.readouterr().out)["files"]])
    assert moved.shape == written.shape and not np.array_equal(moved, written)
    assert main([*args, "--amount", "1"]) == 1
    assert "needs --attribute" in json.loads(capsys.readouterr().out)["error"]
    assert main([*args, "--attribute", "gender", "--amount", "nan"]) == 1
    assert "--amount must be" in json.loads(capsys.readouterr().out)["error"]
    assert main(["vae", "edit", "--model", "digits", "--images", str(photos), "--out", str(tmp_path / "c")]) == 1
    assert "faces" in json.loads(capsys.readouterr().out)["error"]
    assert main(["vae", "sample", "--model", "faces-sharp", "-n", "2", "--out", str(tmp_path / "s")]) == 0
    assert json.loads(capsys.readouterr().out)["density"] == "fitted"
    assert main(["vae", "sample", "--model", "faces", "--density", "fitted", "--out", str(tmp_path / "s")]) == 1
    assert "no fitted density" in json.loads(capsys.readouterr().out)["error"]
    assert main(["vae", "score", "--model", "faces-sharp", "--images", str(photos)]) == 0
    assert json.loads(capsys.readouterr().out)["n"] == 3


# ---------------------------------------------------------------- committed artifacts


@pytest.mark.parametrize("kind", ["faces", "digits"])
def test_committed_artifact_is_intact(kind):
    m = vae.load(f"vae-{kind}")
    assert not m.card["smoke"]
    assert (registry.PRETRAINED / f"vae-{kind}" / registry.WEIGHTS_FILE).stat().st_size < 25 * 2**20


def test_committed_digits_card_meets_the_floor():
    m = vae.load("vae-digits").card["metrics"]
    assert m["test_neg_elbo_nats"] <= 100
    assert m["entropy_floor_nats"] < m["test_neg_elbo_nats"] < m["test_neg_elbo_nats_encoder_mean"] + 15


def test_committed_faces_card_beats_pca_with_as_many_components():
    card = vae.load("vae-faces").card
    m = card["metrics"]
    assert card["model"].count("64 latent dims") == 1 and "pca64" in card["baselines"]
    assert m["validation_mse_per_pixel"] <= m["pca_validation_mse_per_pixel"]
    assert m["sharpness_ratio_vae_over_originals"] > 0


def test_committed_faces_validation_mse_within_15_percent_of_training():
    m = vae.load("vae-faces").card["metrics"]
    assert m["validation_mse_per_pixel"] <= 1.15 * m["train_mse_per_pixel"]


def test_decoding_one_face_is_fast():
    from benchmarks import vae_decode

    torch.set_num_threads(1)
    r = vae_decode.measure(vae.load("vae-faces"), repeats=10)
    assert r["one_ms"] < vae_decode.FLOOR_FACE_MS


@needs_vae_data
def test_committed_digits_card_is_reproduced_on_the_mnist_test_set():
    m = vae.load("vae-digits")
    mnist = data.load_mnist()
    s = scoring.score(m.net, mnist["x_test"], mnist["y_test"])
    assert s.neg_elbo_nats == pytest.approx(m.card["metrics"]["test_neg_elbo_nats"], abs=0.5)


@needs_vae_data
def test_committed_faces_card_is_reproduced_on_the_validation_split():
    m = vae.load("vae-faces")
    faces = data.load_faces()
    assert len(faces.malformed) == len(m.card["data"]["malformed_names_skipped"])
    _, va = data.split_indices(len(faces), 0.1, seed=0)
    s = scoring.score(m.net, faces.images[va])
    assert s.mse_per_pixel == pytest.approx(m.card["metrics"]["validation_mse_per_pixel"], rel=0.02)


# ---------------------------------------------------------------- the committed sharp decoder (issue 16)


def sharp_metrics() -> dict:
    return vae.load("vae-faces-sharp").card["metrics"]


def test_committed_sharp_artifact_is_intact_and_shares_the_faithful_encoder():
    m, faithful = vae.load("vae-faces-sharp"), vae.load("vae-faces")
    assert not m.card["smoke"] and m.card["steps"] > m.card["optimisation"]["warmup_steps"]
    assert (registry.PRETRAINED / "vae-faces-sharp" / registry.WEIGHTS_FILE).stat().st_size < 25 * 2**20
    for k, v in faithful.net.state_dict().items():
        if k.startswith(("encoder.", "to_stats.")):
            assert torch.equal(m.net.state_dict()[k], v), k
    assert "licence" in m.card["data"] and "citation" in m.card["data"]


def test_committed_sharp_decoder_had_its_adversarial_phase():
    """Issue 23: at least 4,000 adversarial steps with a discriminator that learned (held-out accuracy above chance)."""
    card = vae.load("vae-faces-sharp").card
    warm_up = [row["step"] for row in card["history"] if row.get("phase") == "discriminator warm-up"]
    game = [row for row in card["history"] if row.get("phase") == "adversarial" and "d_val_accuracy" in row]
    assert card["steps"] - max(warm_up) >= 4000
    assert np.mean([row["d_val_accuracy"] for row in game]) > 0.55


def test_committed_sharp_samples_are_as_sharp_as_real_faces():
    low, high = 0.6, 1.6
    assert low <= sharp_metrics()["decoders"]["faces-sharp"]["sampling"]["fitted"]["sharpness_ratio"] <= high


def test_committed_two_sample_test_has_teeth():
    controls = sharp_metrics()["two_sample_controls"]
    assert controls["blurred_real_vs_real"] >= 0.9 and controls["half_resolution_real_vs_real"] >= 0.9
    assert controls["resized_to_60_real_vs_real"] >= 0.9  # a resize no viewer sees
    assert abs(controls["real_vs_real"] - 0.5) < 0.1 and abs(controls["jpeg_resaved_real_vs_real"] - 0.5) < 0.1


@pytest.mark.xfail(
    strict=True,
    reason="the critic still tells samples from real faces with AUC 1.000 (fitted and prior). It tells real faces "
    "shrunk to 32x32 and enlarged back (1.000), even to 60x60 (0.999), though not a JPEG re-save (0.47), and the sharp "
    "decoder's own reconstructions of real faces (0.9999; at 16x16 0.82, samples 0.97): the floor asks for all the "
    "detail of a 64x64 photo, which no better density for the codes gives. Tried: 14,145 adversarial steps on one CPU "
    "thread (R1 per image, D's held-out accuracy 0.51-0.73); samples 0.83 as sharp as real faces; without the "
    "band-power loss the critic is a little less sure (log loss 0.039 vs 0.015, AUC 0.9996) but samples blur to 0.53 "
    "(benchmarks.faces_recipe); band weight 1 instead of 3, batch 16 instead of 32",
)
def test_committed_sharp_samples_pass_the_two_sample_floor():
    assert sharp_metrics()["decoders"]["faces-sharp"]["sampling"]["fitted"]["two_sample_auc"] <= 0.95


def test_committed_diagnosis_finds_the_giveaway_in_the_decoders_detail():
    """The xfail above, explained: even reconstructions of real faces (the best codes any sampler could give) are
    told apart at full size, while seen at 16x16 they come closer to real faces than the samples do."""
    d = sharp_metrics()["two_sample_diagnosis"]
    assert d["reconstructions_at_64"]["auc"] >= 0.95
    assert d["reconstructions_at_16"]["log_loss"] > d["fitted_samples_at_16"]["log_loss"]


def test_committed_sharp_reconstructions_stay_within_1_5_times_pca():
    m = sharp_metrics()
    assert m["validation_mse_per_pixel"] <= 1.5 * m["pca_validation_mse_per_pixel"]


def test_committed_sharp_decoder_decodes_one_face_fast():
    from benchmarks import vae_decode

    torch.set_num_threads(1)
    r = vae_decode.measure(vae.load("vae-faces-sharp"), repeats=10)
    assert r["one_ms"] < vae_decode.FLOOR_FACE_MS


def test_committed_sharp_gender_slider_flips_most_faces():
    e = sharp_metrics()["attribute_edits"]["faces-sharp"]["female"]
    assert e["men_read_female_at_plus1"] >= 0.7 and e["women_read_male_at_minus1"] >= 0.7


def test_committed_sharp_gender_slider_keeps_the_age():
    assert sharp_metrics()["attribute_edits"]["faces-sharp"]["female"]["age_drift_years"] <= 8


def test_committed_faithful_decoder_sliders_meet_every_floor():
    e = sharp_metrics()["attribute_edits"]["faces"]  # the same directions and pushes, drawn by the faithful decoder
    assert e["female"]["men_read_female_at_plus1"] >= 0.7 and e["female"]["women_read_male_at_minus1"] >= 0.7
    assert e["female"]["age_drift_years"] <= 8
    assert e["older"]["years_added_at_plus1"] >= 12 and e["older"]["gender_drift"] <= 0.2


def test_committed_sharp_age_slider_adds_years_and_keeps_the_gender():
    e = sharp_metrics()["attribute_edits"]["faces-sharp"]["older"]
    assert e["years_added_at_plus1"] >= 12 and e["gender_drift"] <= 0.2


@needs_vae_data
def test_committed_sharp_card_is_reproduced_on_the_validation_split():
    from gallery.vae import realism

    m = vae.load("vae-faces-sharp")
    faces = data.load_faces()
    _, va = data.split_indices(len(faces), 0.1, seed=0)
    val_x = faces.images[va]
    metrics = m.card["metrics"]["decoders"]["faces-sharp"]
    recon = m.decode(m.encode(val_x))
    mse = float(((recon / 255.0 - val_x / 255.0) ** 2).mean())
    assert mse == pytest.approx(metrics["validation_mse_per_pixel"], rel=0.02)
    samples = m.decode(m.density().sample(len(val_x), seed=2))  # the card's test samples
    ratio = realism.sharpness_ratio(samples, val_x)
    assert ratio == pytest.approx(metrics["sampling"]["fitted"]["sharpness_ratio"], rel=0.02)
