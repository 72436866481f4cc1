"""AppTest runs of every page: main controls changed, no exception, the right things shown."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

TIMEOUT = 60
ROOT = Path(__file__).resolve().parent.parent


def run_page(path):
    at = AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def test_landing_page_lists_every_demo_without_torch(use_smoke_artifacts):
    import subprocess
    import sys

    at = run_page("Home.py")
    titles = [s.value for s in at.subheader]
    assert "Indian name generator" in titles and "Attention heatmaps" in titles
    heavy = "{'torch', 'gensim', 'faiss', 'umap'}"
    code = f"import sys, runpy; runpy.run_path('Home.py'); print(sorted({heavy} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip().endswith("[]")


def test_names_page_generates_and_reacts_to_controls(use_smoke_artifacts):
    at = run_page("pages/1_Names.py")
    assert len(at.dataframe) == 1 and len(at.dataframe[0].value) == 20
    at.selectbox(key="gender").select("male")
    at.text_input(key="prefix").input("ra")
    at.slider(key="count").set_value(7)
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    frame = at.dataframe[0].value
    assert len(frame) == 7 and set(frame["gender"]) == {"male"} and frame["name"].str.startswith("ra").all()
    at.selectbox(key="pick").select_index(3)
    at.run()
    assert not at.exception and at.selectbox(key="pick").value.startswith("4. ra")
    for kind in ("rnn", "bigram"):
        at.selectbox(key="model").select(kind)
        at.button[0].click()
        at.run()
        assert not at.exception, at.exception
        assert len(at.dataframe[0].value) == 7


def test_names_page_explains_a_bad_prefix(use_smoke_artifacts):
    at = run_page("pages/1_Names.py")
    at.text_input(key="prefix").input("r@")
    at.button[0].click()
    at.run()
    assert not at.exception
    assert "a-z" in at.warning[0].value


def test_essays_page_streams_and_handles_odd_prompts(use_smoke_artifacts):
    at = AppTest.from_file(str(ROOT / "pages/2_Essays.py"), default_timeout=TIMEOUT)
    at.session_state["essays_tab"] = "Greedy vs sampled"  # only the open tab is built
    at.run()
    assert not at.exception, at.exception
    at.selectbox(key="opening").select("Most people who want to get rich")
    at.run()
    assert at.text_area(key="prompt").value == "Most people who want to get rich" and not at.warning
    at.text_area(key="prompt").input("Caf\u00e9 \u4e2d how to")
    at.slider(key="length").set_value(100)
    at.button[0].click()
    at.run()
    assert not at.exception, at.exception
    assert "\u4e2d" in at.info[0].value
    greedy, sampled = at.text[0].value, at.text[1].value
    assert len(greedy) == len(sampled) == 100 and greedy != sampled
    at.text_area(key="prompt").input("")
    at.button[0].click()
    at.run()
    assert not at.exception and "empty" in at.info[0].value


@pytest.mark.parametrize("page, artifact", [("pages/1_Names.py", "names-gru"), ("pages/2_Essays.py", "essays-lstm")])
def test_a_missing_artifact_breaks_only_its_page(use_smoke_artifacts, tmp_path, monkeypatch, page, artifact):
    from gallery import registry

    root = tmp_path / "pretrained"
    shutil.copytree(use_smoke_artifacts, root)
    shutil.rmtree(root / artifact)
    monkeypatch.setattr(registry, "PRETRAINED", root)
    at = run_page(page)
    assert "unavailable" in at.error[0].value
    assert any(f"python -m trainers.{artifact.split('-')[0]}" in c.value for c in at.code)
    run_page("Home.py")


def test_every_page_file_is_in_the_navigation_and_on_the_landing_page():
    from gallery.demos import DEMOS, SECTIONS, url_path

    files = {f"pages/{p.name}" for p in (ROOT / "pages").glob("*.py")}
    listed = [p for pages in SECTIONS.values() for p in pages]
    assert set(listed) == files and len(listed) == len(files)
    assert {d.page for d in DEMOS if d.page} == files
    assert url_path("pages/3_Skill_Neighbors.py") == "Skill_Neighbors"
