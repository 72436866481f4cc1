"""A fresh server whose first visitor follows a deep link (/Names) still shows the app's sections, not a file list."""

from __future__ import annotations

import os

import pytest

from tools.browser import CHROMIUM, browser_page, running_app

pytest.importorskip("playwright", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)


def test_deep_link_first_visit_gets_the_sections(tmp_path):
    log = tmp_path / "server.log"
    with running_app(log=log) as url, browser_page() as page:
        page.goto(f"{url}/Gradient_Descent")  # the first page this server runs; it needs no model
        page.wait_for_selector("h1:has-text('Gradient descent')", timeout=60_000)
        nav = page.locator("[data-testid='stSidebarNav']")
        nav.get_by_text("Classic lab").wait_for(timeout=30_000)
        assert nav.get_by_text("Attention heatmaps").count() == 1  # the st.Page titles, not file names
        assert page.title() == "Gradient descent"
    assert "Traceback" not in log.read_text()
