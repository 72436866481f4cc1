"""The disentangling page (AppTest, on smoke artifacts), what it reads off the cards, and the CLI's model verbs:
encode, traverse and metrics, good and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from gallery.sprites import cards, render, scores
from gallery.sprites import model as sprites_model
from tests.conftest import point_registry_at
from trainers import sprites as trainer

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "13_Disentangling.py")
TIMEOUT = 90
ARTIFACTS = {  # artifact name: extra trainer flags (32 pixels mostly, as the real runs; one at 64)
    "sprites-vae": ["--size", "32"],
    "sprites-vae-seed2": ["--size", "32", "--seed", "2"],
    "sprites-beta-vae": [],
    "sprites-factor-vae": ["--size", "32"],
    "sprites-beta-tcvae": ["--size", "32"],
}


@pytest.fixture(scope="module")
def sprites_root(tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrained")
    for name, extra in ARTIFACTS.items():
        model = cards.parse(name)[0]
        argv = ["--model", model, "--smoke", "--threads", "1", "--out", str(root / name)]
        trainer.main([*argv, "--checkpoint", str(root / f"{name}.pt"), *extra])
    (root / "sprites-vae.tmpab12").mkdir()  # a trainer's half-written folder is no model
    return root


@pytest.fixture
def sprites(sprites_root, monkeypatch):
    yield from point_registry_at(sprites_root, monkeypatch)


def run_page(timeout=TIMEOUT) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=timeout)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def charts(at: AppTest) -> list[dict]:
    return [json.loads(c.proto.spec) for c in at.get("plotly_chart")]


def images(at: AppTest) -> list[str]:
    return [img.url for element in at.get("image") for img in element.proto.imgs]


def captions(at: AppTest) -> str:
    return "\n".join(c.value for c in at.caption)


# ---------------------------------------------------------------------------------------------- the page


def test_the_page_draws_a_sprite_its_code_and_every_model(sprites):
    at = run_page()
    assert at.title[0].value == "Disentangling factors"
    assert "this project's rendering of the dSprites factor grid" in captions(at)
    assert "never published" in captions(at)
    picker = at.selectbox(key="sprites_model")
    assert picker.options == [cards.label(n) for n in ARTIFACTS]  # the objectives in order, each one's seeds after
    assert picker.value == "sprites-beta-tcvae"
    assert len(images(at)) == 3  # the sprite, its reconstruction, the sliders' decode
    figures = charts(at)
    assert len(figures) == 4  # the code, the traversal grid, the MI matrix, the trade-off
    code = figures[0]["data"]
    assert len(code) == 1 and len(code[0]["y"]) == 10  # one bar per latent, no "before" yet
    assert figures[1]["data"][0]["type"] == "image" and len(figures[1]["layout"]["yaxis"]["ticktext"]) == 10
    assert figures[2]["data"][0]["type"] == "heatmap" and figures[2]["data"][0]["x"] == list(render.FACTOR_NAMES)
    assert len(figures[3]["data"]) == len(ARTIFACTS)  # a point per model card
    table = at.dataframe[0].value
    assert len(table) == len(ARTIFACTS) + len(cards.PUBLISHED)
    assert {"MIG", "FactorVAE score", "reconstruction (nats)", "KL (nats)", "steps"} <= set(table.columns)
    assert "300,000" in set(table["steps"]) and "of order 0.1" in set(table["MIG"])
    assert "Move a factor" in captions(at)
    assert len([s for s in at.slider if s.key and s.key.startswith("sprites_z")]) == 10


def test_a_factor_moves_the_code_and_the_sliders_follow(sprites):
    at = run_page()
    sprite_before, bars_before = images(at)[0], charts(at)[0]["data"][0]["y"]
    at.slider(key="sprites_x").set_value(1.0).run()
    assert not at.exception
    assert images(at)[0] != sprite_before  # the sprite moved
    code = charts(at)[0]["data"]
    assert [t["name"] for t in code] == ["before the last change", "the sprite's code"]
    assert code[0]["y"] == bars_before and code[1]["y"] != bars_before
    assert "moved most" in captions(at)
    model = sprites_model.load("sprites-beta-tcvae", sprites)
    mean = model.encode(render.render_one("heart", 1.0, 0.0, 1.0, 0.5)[None])[0][0]
    for i, v in enumerate(mean):  # the latent sliders were set to the new sprite's code
        assert at.slider(key=f"sprites_z{i}").value == pytest.approx(np.clip(v, -3, 3), abs=0.006)
    at.segmented_control(key="sprites_shape").set_value("square").run()
    assert not at.exception and images(at)[0] not in (sprite_before,)
    at.select_slider(key="sprites_scale").set_value(0.5).run()
    at.slider(key="sprites_rotation").set_value(360).run()  # 2 pi: the renderer's top end
    assert not at.exception


def test_a_latent_slider_redraws_the_decoded_sprite(sprites):
    at = run_page()
    decoded = images(at)[2]
    at.slider(key="sprites_z0").set_value(3.0).run()
    assert not at.exception and images(at)[2] != decoded
    assert at.slider(key="sprites_z0").value == 3.0
    assert len(charts(at)[0]["data"]) == 1  # no factor moved: no "before" bars
    at.button(key="sprites_reset").click().run()
    assert not at.exception and at.slider(key="sprites_z0").value != 3.0


def test_another_model_resets_the_sliders_to_its_code(sprites):
    at = run_page()
    at.slider(key="sprites_z1").set_value(-3.0).run()
    for name in ("sprites-beta-vae", "sprites-vae-seed2"):  # 64 pixels, then 32
        at.selectbox(key="sprites_model").set_value(name).run()
        assert not at.exception, name
        assert at.slider(key="sprites_z1").value != -3.0
        assert len(charts(at)[0]["data"]) == 1  # the code before belonged to another model


def test_the_expanders_open(sprites):
    at = run_page()
    for key in ("sprites_how", "sprites_trained"):
        at.session_state[key] = True  # a lazy expander is built only while open
    at.run()
    assert not at.exception
    text = "\n".join(m.value for m in at.markdown)
    assert "density-ratio trick" in text and "total correlation" in text and "index-code MI" in text
    assert any("python -m trainers.sprites --model beta-tcvae --smoke" in c.value for c in at.code)


def test_no_sprites_model_breaks_only_this_page(tmp_path, monkeypatch):
    root = tmp_path / "pretrained"
    root.mkdir()
    for _ in point_registry_at(root, monkeypatch):
        at = AppTest.from_file(PAGE, default_timeout=TIMEOUT).run()
        assert not at.exception
        assert "unavailable" in at.error[0].value and "sprites-beta-tcvae" in at.error[0].value
        assert any("python -m trainers.sprites --model beta-tcvae" in c.value for c in at.code)
        home = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=TIMEOUT).run()
        assert not home.exception
        assert any(s.value == "Disentangling factors" for s in home.subheader)


def test_a_broken_model_explains_itself_and_the_others_still_work(sprites_root, tmp_path, monkeypatch):
    root = tmp_path / "pretrained"
    shutil.copytree(sprites_root, root)
    (root / "sprites-factor-vae" / "model.safetensors").write_bytes(b"not weights")
    for _ in point_registry_at(root, monkeypatch):
        at = run_page()
        assert [n for n in at.selectbox(key="sprites_model").options if n == "FactorVAE"]
        at.selectbox(key="sprites_model").set_value("sprites-factor-vae").run()
        assert not at.exception and "unavailable" in at.error[0].value
        assert any("python -m trainers.sprites --model factor-vae" in c.value for c in at.code)
        at.selectbox(key="sprites_model").set_value("sprites-vae").run()
        assert not at.exception and not at.error and len(images(at)) == 3


def test_the_face_explorer_links_here():
    from gallery.demos import url_path

    assert url_path("pages/13_Disentangling.py") == "Disentangling"
    assert "[Disentangling factors](Disentangling)" in (ROOT / "pages" / "vae_explorer" / "face.py").read_text()


# ---------------------------------------------------------------------------------------------- the cards


def test_what_the_page_reads_off_the_cards(sprites_root):
    names = ["names-gru", "sprites-beta-tcvae", "sprites-vae-seed2", "sprites-vae.tmp1", "sprites-vae", "sprites-x"]
    assert cards.sprites_artifacts(names) == ["sprites-vae", "sprites-vae-seed2", "sprites-beta-tcvae"]
    assert cards.label("sprites-vae-seed2") == "VAE (β = 1), seed 2" and cards.parse("sprites-gan") is None
    card = {
        "metrics": {
            "mi_matrix": {"nats": [[1.0, 0.0], [0.05, 0.5], [0.0, 0.01]]},
            "factor_entropy": [1.0, 1.0],
            "kl_per_latent": [0.5, 2.0, 0.0],
        }
    }
    assert cards.carriers(card, 3) == [("shape", 1.0), ("scale", 0.5), (None, 0.01)]
    assert cards.kl_order(card, 3) == [1, 0, 2]
    assert cards.carriers({}, 3) == [(None, 0.0)] * 3 and cards.kl_order({}, 2) == [0, 1]  # old or broken cards
    found = {n: json.loads((sprites_root / n / "card.json").read_text()) for n in ARTIFACTS}
    rows = cards.table_rows(found)
    assert [r["seed"] for r in rows[:2]] == ["0", "2"] and rows[0]["model"] == "VAE (β = 1) (smoke test)"
    assert all(isinstance(v, str) for r in rows for v in r.values())  # one type per column
    floor = cards.floors(found)
    assert floor["best"] in ("beta-vae", "factor-vae", "beta-tcvae") and 0 <= floor["vae_mig"] <= 1


# ---------------------------------------------------------------------------------------------- the command line


def run_main(argv, capsys) -> tuple[int, dict]:
    from gallery.__main__ import main

    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, json.loads(out.out)


def test_encode_reads_sprites_in_file_name_order(sprites, tmp_path, capsys):
    folder = tmp_path / "sprites"
    code, _ = run_main(["sprites", "sample", "-n", "12", "--seed", "3", "--out", str(folder)], capsys)
    assert code == 0
    code, body = run_main(["sprites", "encode", "--model", "vae", "--images", str(folder)], capsys)
    assert code == 0 and body["model"] == "sprites-vae" and body["n"] == 12 and body["latents"] == 10
    assert [r["file"] for r in body["files"]] == sorted(p.name for p in folder.glob("*.png"))
    assert body["skipped"] == ["factors.csv"] and "read as it is" in body["note"]
    assert not any("note" in r for r in body["files"])
    model = sprites_model.load("sprites-vae", sprites)
    first = np.asarray(Image.open(folder / body["files"][0]["file"])) // 255
    mean, logvar = model.encode(first[None])
    np.testing.assert_allclose(body["files"][0]["mean"], mean[0], atol=1e-4)
    np.testing.assert_allclose(body["files"][0]["logvar"], logvar[0], atol=1e-4)


def test_encode_resizes_thresholds_and_inverts_and_says_so(sprites, tmp_path, capsys):
    sprite = render.render_one("ellipse", 1.0, 0.5, 0.3, 0.6)  # (64, 64)
    big = Image.fromarray(sprite * 200 + 20).resize((128, 128), Image.Resampling.BILINEAR)  # grey, 2x
    big.save(tmp_path / "a_big.png")
    Image.fromarray(255 - sprite * 255).convert("RGB").save(tmp_path / "b_inverted.jpg", quality=95)
    (tmp_path / "c_cut.png").write_bytes((tmp_path / "a_big.png").read_bytes()[:100])
    (tmp_path / "notes.txt").write_text("not a picture")
    code, body = run_main(["sprites", "encode", "--model", "beta-vae", "--images", str(tmp_path)], capsys)
    assert code == 0 and body["n"] == 2, body
    big_row, inverted, cut = body["files"]
    assert "resized from 128x128 to 64x64" in big_row["note"] and "thresholded" in big_row["note"]
    assert "inverted" in inverted["note"] and "turned to grey" in inverted["note"]
    assert cut["file"] == "c_cut.png" and "error" in cut and "mean" not in cut
    assert "2 of 2 pictures" in body["note"] and body["skipped"] == ["notes.txt"]
    from gallery.sprites import images

    again, note = images.to_sprite(Image.open(tmp_path / "a_big.png"))
    assert np.mean(again != sprite) < 0.01  # the shape survives the round trip


@pytest.mark.parametrize(
    "folder, words",
    [
        ("missing", "no folder"),
        ("file.txt", "is a file, not a folder"),
        ("empty", "holds no pictures"),
        ("only-text", "holds no pictures"),
        ("broken", "none of the 1 pictures"),
        ("many", "the limit is 3 a call"),
    ],
)
def test_encode_refuses_bad_folders(sprites, folder, words, tmp_path, capsys, monkeypatch):
    from gallery.sprites import images

    monkeypatch.setattr(images, "MAX_IMAGES", 3)
    (tmp_path / "file.txt").write_text("x")
    for name in ("empty", "only-text", "broken", "many"):
        (tmp_path / name).mkdir()
    (tmp_path / "only-text" / "a.txt").write_text("x")
    (tmp_path / "broken" / "a.png").write_bytes(b"\x89PNG not really")
    for i in range(4):
        Image.fromarray(render.render_one("square", 1.0, 0.0, 0.5, 0.5) * 255).save(tmp_path / "many" / f"{i}.png")
    code, body = run_main(["sprites", "encode", "--model", "vae", "--images", str(tmp_path / folder)], capsys)
    assert code == 1 and words in body["error"], body


def test_traverse_writes_one_picture_per_value(sprites, tmp_path, capsys):
    out = tmp_path / "t"
    argv = ["sprites", "traverse", "--model", "factor-vae", "--latent", "3", "--steps", "5", "--out", str(out)]
    code, body = run_main([*argv, "--shape", "square", "--x", "0.2"], capsys)
    assert code == 0 and body["model"] == "sprites-factor-vae" and body["latent"] == 3
    assert body["values"] == [-2.5, -1.25, 0.0, 1.25, 2.5] and [f["value"] for f in body["files"]] == body["values"]
    assert body["sprite"]["shape"] == "square" and len(body["code"]) == 10 and body["size"] == 32
    pictures = [np.asarray(Image.open(f["path"])) for f in body["files"]]
    assert all(p.shape == (32, 32) and p.dtype == np.uint8 for p in pictures)
    code, body = run_main(argv, capsys)  # the same folder again: old pictures would mix with the new
    assert code == 1 and "already holds sprites" in body["error"]


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--latent", "10"], "--latent must be 0-9"),
        (["--latent", "-1"], "0 or more"),
        (["--steps", "30"], "--steps must be between 2 and 25"),
        (["--limit", "inf"], "--limit must be above 0"),
        (["--shape", "star"], "unknown shape"),
        (["--orientation", "7"], "orientation must be between 0 and 2*pi"),
        (["--model", "gan"], "unknown model 'gan'"),
        (["--model", "beta-tcvae-seed7"], "python -m trainers.sprites"),  # not there: how to make it
    ],
)
def test_traverse_errors(sprites, extra, words, tmp_path, capsys):
    argv = ["sprites", "traverse", "--model", "vae", "--latent", "0", "--out", str(tmp_path / "t"), *extra]
    code, body = run_main(argv, capsys)
    assert code == 1 and words in body["error"], body


def test_metrics_scores_fresh_sprites_and_says_with_what(sprites, capsys):
    argv = ["sprites", "metrics", "--model", "beta-tcvae", "--points", "300", "--votes", "20", "--seed", "5"]
    code, body = run_main(argv, capsys)
    assert code == 0 and body["model"] == "sprites-beta-tcvae" and body["seed"] == 5
    assert 0 <= body["mig"] <= 1 and 0 <= body["factorvae_score"] <= 1
    assert np.array(body["mi_matrix"]["nats"]).shape == (10, 5) and body["mi_matrix"]["columns"][0] == "shape"
    assert body["reconstruction_nll"] > 0 and body["kl_total"] >= 0 and len(body["kl_per_latent"]) == 10
    assert body["counts"]["mig_points"] == 300 and body["counts"]["factorvae_train_votes"] == 20
    assert body["counts"]["factorvae_eval_votes"] == 10 and "10,000" in body["counts"]["published"]
    assert body["card"]["mig_points"] == 300 and body["steps"] == 6  # the card's own figures, beside
    code, body = run_main(argv[:-2], capsys)
    assert code == 0 and body["seed"] == scores.EVAL_SEED  # by default the cards' held-out sprites


@pytest.mark.parametrize(
    "extra, words",
    [
        (["--points", "99"], "--points must be between 100 and 10,000"),
        (["--points", "10001"], "--points must be between"),
        (["--votes", "1"], "--votes must be between 2"),
        (["--seed", "-3"], "--seed must be 0 or more"),
        (["--model", "x" * 500], "unknown model"),
    ],
)
def test_metrics_errors(sprites, extra, words, capsys):
    code, body = run_main(["sprites", "metrics", "--model", "vae", *extra], capsys)
    assert code == 1 and words in body["error"] and len(body["error"]) < 300, body


def test_a_missing_model_names_its_rebuild_command(tmp_path, monkeypatch, capsys):
    from gallery import registry

    monkeypatch.setattr(registry, "PRETRAINED", tmp_path)
    for argv in (
        ["encode", "--images", str(ROOT / "docs")],
        ["traverse", "--latent", "0", "--out", str(tmp_path / "t")],
        ["metrics"],
    ):
        code, body = run_main(["sprites", *argv, "--model", "factor-vae"], capsys)
        assert code == 1 and "python -m trainers.sprites --model factor-vae" in body["error"], body
    assert not (tmp_path / "t").exists()  # nothing written for a model that is not there
