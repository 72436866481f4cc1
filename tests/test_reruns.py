"""Cheap reruns: a control inside a page's fragment reruns that fragment, not the page; every cache is bounded.

AppTest reruns a whole script on every ``run()``. The browser instead sends a fragment's id when a widget inside
the fragment changes, and Streamlit then runs that fragment alone. ``fragment_run`` does the same here: it asks the
script runner for a rerun of one fragment (found by its ``key``), with the widget values set on the AppTest as
usual. Counting calls then tells whether the page's own top (``ui.page_config``, the first thing every page runs)
was run again, and whether the fragment's model call was.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path
from unittest import mock

import pytest
from streamlit.testing.v1 import AppTest

from gallery import ui

ROOT = Path(__file__).resolve().parent.parent
TIMEOUT = 60


def fragment_ids(at: AppTest, key: str) -> list[str]:
    """The ids of the fragments registered under ``key`` (``@st.fragment(key=...)``) in the AppTest's last runs."""
    storage = at._fragment_storage  # AppTest keeps one store across runs, as a browser session does
    return list(storage._ids_by_target_key.get(key, {}))


def fragment_run(at: AppTest, key: str) -> AppTest:
    """Rerun only the fragment ``key``, as the browser asks when a widget inside it changes."""
    import streamlit.testing.v1.local_script_runner as runner
    from streamlit.runtime.scriptrunner import RerunData

    ids = fragment_ids(at, key)
    assert len(ids) == 1, f"expected one fragment with key {key!r}, found {ids}"
    with mock.patch.object(runner, "RerunData", functools.partial(RerunData, fragment_id_queue=ids)):
        at.run()
    assert not at.exception, at.exception
    return at


class Counter:
    calls = 0


@pytest.fixture
def counted(monkeypatch):
    """Count calls of ``owner.name`` (a module's function, where the pages look it up, or a class's method)."""

    def count(owner, name: str) -> Counter:
        counter, func = Counter(), getattr(owner, name)

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            counter.calls += 1
            return func(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)
        return counter

    return count


def test_fragment_run_can_tell_a_page_rerun_from_a_fragment_rerun(tmp_path, counted):
    """The harness itself: a control outside any fragment reruns the page; one inside reruns only its fragment."""
    script = tmp_path / "page.py"
    script.write_text(
        "import streamlit as st\n"
        "from gallery import ui\n"
        "ui.page_config('t', '🧪')\n"
        "@st.fragment(key='part')\n"
        "def part():\n"
        "    st.markdown(f\"twice {2 * st.slider('n', 1, 10, 3, key='n')}\")\n"
        "part()\n"
    )
    top = counted(ui, "page_config")
    at = AppTest.from_file(str(script), default_timeout=TIMEOUT).run()
    at.slider(key="n").set_value(7)
    at.run()
    assert top.calls == 2 and at.markdown[0].value == "twice 14"  # a plain run: the whole page again
    at.slider(key="n").set_value(9)
    fragment_run(at, "part")
    assert top.calls == 2 and at.markdown[0].value == "twice 18"  # the fragment alone


def test_names_generate_reruns_the_generator_not_the_page(use_smoke_artifacts, counted):
    from gallery.names import model as names

    top, sample = counted(ui, "page_config"), counted(names, "sample")
    at = AppTest.from_file(str(ROOT / "pages/1_Names.py"), default_timeout=TIMEOUT).run()
    assert (top.calls, sample.calls) == (1, 1)
    at.text_input(key="prefix").input("ra")
    at.slider(key="count").set_value(7)
    at.button[0].click()
    fragment_run(at, "names")
    assert top.calls == 1 and sample.calls == 2  # the names were drawn again; the page's top did not run
    assert at.slider(key="count").value == 7  # the controls are the fragment's own (the tree holds its elements)
    frame = at.dataframe[0].value
    assert len(frame) == 7 and frame["name"].str.startswith("ra").all()


RESUME = (
    "Site engineer with six years on residential and highway construction projects. Skills: AutoCAD, STAAD Pro, "
    "structural design of RCC buildings, quantity surveying, estimation and costing, site supervision."
)


def submit_form(at: AppTest) -> None:
    at.button[0].click()  # the page's one form button


# Each page's main control, on the committed artifacts: (page, fragment key, the change, the control changed,
# which the fragment must draw itself, the call inside the fragment that the change must run again, and what must
# then be shown).
CASES = {
    "skills": (
        "pages/3_Skill_Neighbors.py",
        "skills",
        lambda at: at.selectbox(key="skill").select("python"),
        ("selectbox", "skill"),
        ("gallery.skills.search", "ExactSearch.neighbors"),
        lambda at: at.metric[0].label == "Query time",
    ),
    "translate": (
        "pages/11_Translate.py",
        "translate",
        lambda at: at.text_area(key="source").input("Ein Hund läuft im Park."),
        ("text_area", "source"),
        ("gallery.translate.translator", "translate"),
        lambda at: "dog" in at.subheader[0].value.lower(),
    ),
    "why": (
        "pages/12_Why_Attention.py",
        "why",
        lambda at: at.text_area(key="why_source").input("Ein Hund läuft im Park."),
        ("text_area", "why_source"),
        ("gallery.translate.translator", "translate"),
        lambda at: any("dog" in m.value.lower() for m in at.markdown),
    ),
    "essays": (
        "pages/2_Essays.py",
        "essays",
        lambda at: (at.text_area(key="prompt").input("How to"), at.slider(key="length").set_value(50), submit_form(at)),
        ("text_area", "prompt"),
        ("gallery.essays.model", "stream"),
        lambda at: any(m.value == "*How to*" for m in at.markdown),
    ),
    "resumes": (
        "pages/8_Resume_Classifier.py",
        "resumes",
        lambda at: at.text_area(key="resume").input(RESUME),
        ("text_area", "resume"),
        ("gallery.text.resumes", "check_text"),
        lambda at: len(at.dataframe[0].value) == 8,
    ),
    "basics": (
        "pages/9_NLP_Basics.py",
        "basics",
        lambda at: at.text_area(key="sentences").input("A zebra grazes\nThe zebra runs from a lion"),
        ("text_area", "sentences"),
        ("gallery.text.basics", "matrices"),
        lambda at: any("**S2**" in m.value for m in at.markdown),
    ),
    "descent": (
        "pages/7_Gradient_Descent.py",
        "descent",
        lambda at: at.slider(key="gd_epochs").set_value(50),
        ("slider", "gd_epochs"),
        ("gallery.digits.lesson", "fit"),
        lambda at: (at.dataframe[0].value["steps"] <= 50).all(),
    ),
    "digits": (
        "pages/5_Digit_Recognizer.py",
        "digits",
        lambda at: at.selectbox(key="example_digit").select(3),
        ("selectbox", "example_digit"),
        ("gallery.digits.preprocess", "mnist_style"),
        lambda at: len(at.metric) == 3,
    ),
    "vae": (
        "pages/4_VAE_Explorer.py",
        "vae",
        lambda at: at.slider(key="faces_temperature").set_value(0.5),
        ("slider", "faces_temperature"),
        ("gallery.ui", "lazy_expander"),
        lambda at: len(at.image) >= 2,
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_page_control_reruns_its_fragment_not_the_page(case, counted):
    import importlib

    path, key, change, (kind, control), (module, name), shown = CASES[case]
    owner = importlib.import_module(module)
    if "." in name:  # a method: Class.method
        cls, name = name.split(".")
        owner = getattr(owner, cls)
    top, inside = counted(ui, "page_config"), counted(owner, name)
    at = AppTest.from_file(str(ROOT / path), default_timeout=TIMEOUT).run()
    assert not at.exception, at.exception
    before = inside.calls
    assert top.calls == 1 and before >= 1
    change(at)
    fragment_run(at, key)
    assert top.calls == 1, "the page's top ran again"
    assert inside.calls > before and shown(at)
    assert getattr(at, kind)(key=control), "the control is not the fragment's own: it would rerun the page"


# ---------------------------------------------------------------------------------------------- bounded caches

CACHES = {"cache_resource", "cache_data"}
SOURCES = sorted([ROOT / "Home.py", *(ROOT / "pages").rglob("*.py"), *(ROOT / "gallery").rglob("*.py")])


def unbounded_caches(source: str, name: str = "<source>") -> list[str]:
    """Every ``st.cache_resource`` / ``st.cache_data`` use without ``max_entries`` or ``ttl`` (or with None)."""
    tree = ast.parse(source)
    called = {id(node.func) for node in ast.walk(tree) if isinstance(node, ast.Call)}
    methods = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}  # st.cache_data.clear
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in CACHES:
            bounds = [k for k in node.keywords if k.arg in ("max_entries", "ttl")]
            if not any(not (isinstance(k.value, ast.Constant) and k.value.value is None) for k in bounds):
                bad.append(f"{name}:{node.lineno} {node.func.attr}(...) without max_entries or ttl")
        elif isinstance(node, ast.Attribute) and node.attr in CACHES and id(node) not in called | methods:
            bad.append(f"{name}:{node.lineno} bare {node.attr}")  # @st.cache_resource without arguments
    return bad


def test_the_cache_check_can_fail():
    source = (
        "import streamlit as st\n"
        "@st.cache_resource\ndef a(): pass\n"
        "@st.cache_data(show_spinner=False)\ndef b(): pass\n"
        "@st.cache_data(max_entries=None)\ndef c(): pass\n"
        "@st.cache_resource(max_entries=3)\ndef d(): pass\n"
        "@st.cache_data(ttl=60)\ndef e(): pass\n"
        "st.cache_data.clear()\n"
    )
    assert [line.split()[0] for line in unbounded_caches(source)] == ["<source>:2", "<source>:4", "<source>:6"]


def test_every_cache_in_the_app_is_bounded():
    bad = [b for path in SOURCES for b in unbounded_caches(path.read_text(), str(path.relative_to(ROOT)))]
    assert not bad, "\n".join(bad)
