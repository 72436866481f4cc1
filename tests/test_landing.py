"""The landing page: its pictures (rendered by tools.thumbnails), its emoji icons, and what it imports."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from gallery import registry
from gallery.demos import DEMOS
from tests.conftest import point_registry_at
from tools import thumbnails

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "pretrained"
LEADERBOARD = [
    {"model": "tfidf-sgd", "accuracy": 0.88, "accuracy_naive": 0.99},
    {"model": "tfidf-nb", "accuracy": 0.71, "accuracy_naive": 0.98},
    {"model": "majority", "accuracy": 0.05, "accuracy_naive": 0.05},
]


def tiny_classifiers(root: Path) -> Path:
    """A text-classifiers artifact of a few bytes whose card holds a leaderboard: all its picture needs."""
    import torch

    card = {"task": "test", "leaderboard": LEADERBOARD, "metrics": {}}
    return registry.save_artifact(root / "text-classifiers", {"w": torch.zeros(2)}, {"classes": ["a", "b"]}, card)


def read_png(path: Path) -> Image.Image:
    img = Image.open(path)
    img.load()
    return img


# ---------------------------------------------------------------------------------------------- the tool


def test_the_tool_renders_a_small_reproducible_thumbnail(tmp_path, capsys):
    folder = tiny_classifiers(tmp_path)
    assert thumbnails.main(["--only", "text-classifiers", "--root", str(tmp_path)]) == 0
    path = folder / registry.THUMBNAIL_FILE
    assert str(path) in capsys.readouterr().out
    first = path.read_bytes()
    img = read_png(path)
    assert img.format == "PNG" and img.size == (thumbnails.WIDTH, thumbnails.HEIGHT) == (240, 160)
    assert len(first) <= thumbnails.MAX_BYTES
    assert np.asarray(img.convert("RGB")).std() > 10  # a picture, not a blank
    assert registry.check_artifact("text-classifiers", tmp_path) == folder  # verification ignores the picture
    assert thumbnails.main(["--only", "text-classifiers", "--root", str(tmp_path)]) == 0
    assert path.read_bytes() == first  # fixed seeds, no timestamps: the same file again
    assert sorted(p.name for p in folder.iterdir()) == ["card.json", "config.json", "model.safetensors", path.name]


@pytest.mark.skipif(not (COMMITTED / "digits-cnn").is_dir(), reason="the committed digits-cnn is missing")
def test_the_tool_draws_with_a_model(tmp_path):
    """The committed CNN (under 1 MB), copied: the picture is the page's example digit and the CNN's answer."""
    shutil.copytree(COMMITTED / "digits-cnn", tmp_path / "digits-cnn", ignore=shutil.ignore_patterns("thumbnail*"))
    path = thumbnails.render("digits-cnn", tmp_path)
    img = np.asarray(read_png(path).convert("RGB")).astype(int)
    assert img.shape == (160, 240, 3) and img.std() > 10
    theme = np.abs(img - np.array(thumbnails.THEME)).sum(-1) < 30
    assert theme.sum() > 100  # the winning bar, in the theme's colour


def test_a_missing_artifact_is_reported_not_drawn(tmp_path, capsys):
    assert thumbnails.main(["--only", "digits-cnn", "--root", str(tmp_path)]) == 1
    assert "python -m trainers.digits --model cnn" in capsys.readouterr().err
    assert not list(tmp_path.rglob("*.png"))


def test_every_picture_has_a_renderer_and_the_committed_ones_are_small():
    assert {d.artifact for d in DEMOS if d.picture} == set(thumbnails.RENDERERS)
    for path in COMMITTED.glob(f"*/{registry.THUMBNAIL_FILE}"):
        assert read_png(path).size == (240, 160), path
        assert path.stat().st_size <= thumbnails.MAX_BYTES, path


# ---------------------------------------------------------------------------------------------- the landing page


@pytest.fixture
def pictured(smoke_root, tmp_path, monkeypatch):
    """The smoke artifacts, plus a tiny text-classifiers with its picture, plus a picture whose model is missing."""
    root = tmp_path / "pretrained"
    shutil.copytree(smoke_root, root)
    tiny_classifiers(root)
    picture = thumbnails.render("text-classifiers", root)
    (root / "vae-faces-sharp").mkdir()
    shutil.copy(picture, root / "vae-faces-sharp" / registry.THUMBNAIL_FILE)  # a picture left without its model
    yield from point_registry_at(root, monkeypatch)


def shown_images(at: AppTest) -> list:
    return [img for element in at.get("image") for img in element.proto.imgs]


def test_landing_page_shows_the_pictures_and_copes_without_them(pictured):
    at = AppTest.from_file(str(ROOT / "Home.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert len(at.subheader) == len(DEMOS)
    (classifier,) = (d for d in DEMOS if d.artifact == "text-classifiers")
    assert [img.alt for img in shown_images(at)] == [classifier.picture]  # none for the model that is missing
    (pictured / "text-classifiers" / registry.THUMBNAIL_FILE).unlink()
    at.run()
    assert not at.exception, at.exception
    assert not shown_images(at) and len(at.subheader) == len(DEMOS)  # the card shows, without a picture


def test_landing_page_itself_imports_no_torch(tmp_path):
    """Drawn by AppTest in a fresh process, with a picture on it: only the deliberate warm-up thread (started after
    the page is drawn) imports the heavy modules."""
    tiny_classifiers(tmp_path)
    thumbnails.render("text-classifiers", tmp_path)
    code = textwrap.dedent(
        """
        import sys, threading
        from streamlit.testing.v1 import AppTest

        HEAVY = {"torch", "gensim", "faiss", "umap"}
        importers = set()

        class Watch:
            def find_spec(self, name, path=None, target=None):
                if name in HEAVY:
                    importers.add(threading.current_thread().name)

        sys.meta_path.insert(0, Watch())
        at = AppTest.from_file("Home.py", default_timeout=60)
        at.run()
        assert not at.exception, at.exception
        for thread in threading.enumerate():
            if thread.name == "gallery-warm-up":
                thread.join(120)
        print(len(at.get("image")), ",".join(sorted(importers)))
        """
    )
    env = {**os.environ, "GALLERY_PRETRAINED": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    images, _, importers = out.stdout.strip().splitlines()[-1].partition(" ")
    assert images == "1"
    assert set(filter(None, importers.split(","))) <= {"gallery-warm-up"}, importers


# ---------------------------------------------------------------------------------------------- icons


def app_files() -> list[Path]:
    return [ROOT / "Home.py", *sorted((ROOT / "gallery").rglob("*.py")), *sorted((ROOT / "pages").rglob("*.py"))]


def test_no_material_tab_icons():
    """A Material page icon makes the browser fetch the tab's icon from fonts.gstatic.com: a gallery served without
    internet shows none. Emoji favicons are drawn inline (an SVG data address). Material icons in the sidebar and on
    links are drawn with a font Streamlit ships, so they stay."""
    found = [
        f"{path.relative_to(ROOT)}:{n}"
        for path in app_files()
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r'(page_icon=|page_config\(\s*"[^"]*",\s*)":material/', line)
    ]
    assert not found, found


def test_every_page_shows_its_demos_emoji():
    from streamlit.string_util import is_emoji

    for demo in DEMOS:
        assert is_emoji(demo.emoji) and demo.icon.startswith(":material/"), demo
        if demo.page:
            text = (ROOT / demo.page).read_text(encoding="utf-8")
            found = re.search(r'page_config\(\s*"([^"]+)",\s*"([^"]+)"', text)
            assert found and found.groups() == (demo.title, demo.emoji), (demo.page, found and found.groups())
