"""The real app in a real browser (Playwright driving Debian's Chromium).

One server and one browser for the module. The landing page and every demo page are opened, each page's main control
is operated like a visitor would (tools.browser.STEPS: one row per page), the expected output is waited for, the tab
title and icon are checked, and a screenshot is saved. Over the whole run the server's log holds no traceback and no
warning.

A new page is one more row in tools.browser.STEPS (its URL path, act and check functions), next to its entry in
gallery.demos.DEMOS (title and icon, which its tab must show).
"""

from __future__ import annotations

import os
from types import SimpleNamespace
from urllib.parse import unquote

import pytest

from gallery.demos import DEMOS, SECTIONS, url_path
from tools.browser import CHROMIUM, PAGES, STEPS, browser_page, open_page, operate, running_app

pytest.importorskip("playwright", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)

HOME = ("Deep Learning Experiments Gallery", "🧪")  # Home.py's st.set_page_config
TABS = {"": HOME} | {url_path(d.page): (d.title, d.emoji) for d in DEMOS if d.page}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    log = folder / "server.log"
    with running_app(log=log) as url, browser_page() as page:
        yield SimpleNamespace(url=url, page=page, log=log, shots=folder, operated=set())


def test_every_page_has_a_row():
    """Every built demo page is opened and operated here: adding a page without its row fails."""
    assert set(TABS) == set(PAGES.values()), "tools.browser.STEPS and the pages in gallery.demos.DEMOS differ"


def test_deep_link_first_after_a_restart_shows_the_sections(app):
    """Runs first, on the module's fresh server: a visitor's first request is a demo page, not the landing page.

    Streamlit runs a deep link in its old pages/ mode until st.navigation has run once; gallery.ui.page_config
    switches the server over and reruns the visit through Home.py.
    """
    open_page(app.page, f"{app.url}/NLP_Basics")  # a light page: no torch
    nav = app.page.locator("[data-testid='stSidebarNav']")
    assert nav.get_by_text("NLP basics", exact=True).count() == 1, nav.inner_text()
    assert nav.locator("[data-testid='stNavSectionHeader']").count() == len(SECTIONS), nav.inner_text()
    assert app.page.title() == "NLP basics"


def favicon(page) -> str:
    return page.locator("link[rel='shortcut icon']").first.get_attribute("href") or ""


@pytest.mark.parametrize("name", list(STEPS))
def test_page_works_in_chromium(app, name):
    """Open the page, operate its main control, wait for the expected output; then its tab, then a screenshot."""
    page, step = app.page, STEPS[name]
    operate(page, app.url, name)
    app.operated.add(name)
    if name == "names":  # for test_names_look_inside_shows_a_new_name
        app.look_inside = (
            page.locator("[data-testid='stMain'] [data-testid='stSelectbox']")
            .filter(has_text="Look inside one name")
            .get_by_role("combobox")
            .input_value()
        )
    title, icon = TABS[step.path]
    assert page.title() == title
    # An emoji icon becomes an inline SVG favicon (nothing fetched); a Material one would be an address at Google.
    assert favicon(page).startswith("data:image/svg+xml") and icon in unquote(favicon(page)), favicon(page)
    page.mouse.move(700, 40)
    page.screenshot(path=str(app.shots / f"{name}.png"))


def test_names_look_inside_shows_a_new_name(app):
    """After generating names starting with "ra" (the names row above), the selectbox shows one of them."""
    if not hasattr(app, "look_inside"):  # run on its own
        test_page_works_in_chromium(app, "names")
    assert app.look_inside.split(". ", 1)[-1].startswith("ra"), app.look_inside


def test_maps_your_own_vectors_in_chromium(app):
    """The maps page's source "Your own vectors": upload vectors and metadata, the map appears, search a point."""
    from tools.browser import operate_own_vectors

    operate_own_vectors(app.page, app.url)
    app.page.mouse.move(700, 40)
    app.page.screenshot(path=str(app.shots / "maps_own.png"))


def test_essays_inside_the_lstm_and_your_text_in_chromium(app):
    """The essay page: one cell over the essay just written; a text scored by the LSTM and the 5-gram."""
    from tools.browser import operate_essays_inside

    operate_essays_inside(app.page, app.url)
    app.page.mouse.move(700, 40)
    app.page.screenshot(path=str(app.shots / "essays_inside.png"))


def test_names_your_own_list_in_chromium(app):
    """The names page's tab "Train on your own list": upload a list, train with a live curve, stop, generate."""
    from tools.browser import operate_own_list

    operate_own_list(app.page, app.url)
    app.page.mouse.move(700, 40)
    app.page.screenshot(path=str(app.shots / "names_own.png"))


def test_server_log_is_clean(app):
    """Over the whole run (every page opened and operated), no traceback and no warning in the server's log."""
    for name in set(STEPS) - app.operated:  # when run on its own
        open_page(app.page, f"{app.url}/{STEPS[name].path}")
    app.page.wait_for_timeout(500)
    server_log = app.log.read_text()
    assert "Traceback" not in server_log and "WARNING" not in server_log.upper(), server_log[-3000:]
