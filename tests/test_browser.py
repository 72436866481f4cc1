"""The real app in a real browser: every page renders, with its demo working, and no exception box."""

from __future__ import annotations

import os

import pytest

from tools.browser import CHROMIUM, PAGES, browser_page, running_app, visit

pytest.importorskip("playwright", reason="playwright is not installed")
pytestmark = pytest.mark.skipif(
    not os.path.exists(CHROMIUM), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
)


def test_every_page_renders_in_chromium(tmp_path):
    log = tmp_path / "server.log"
    with running_app(log=log) as url, browser_page() as page:
        for path in PAGES.values():
            assert visit(page, f"{url}/{path}"), f"exception shown on /{path}"
            if path == "Names":
                assert page.get_by_text("Next-letter probabilities").count() >= 1
                page.get_by_role("textbox", name="Starts with").fill("ra")
                page.get_by_role("button", name="Generate").click()
                page.wait_for_timeout(3000)
                assert page.locator("[data-testid='stException']").count() == 0
            if path == "Essays":
                assert page.get_by_text("Greedy vs sampled").count() >= 1
            if path == "Skill_Neighbors":
                assert page.get_by_text("Query time").count() >= 1
    server_log = log.read_text()
    assert "Traceback" not in server_log and "WARNING" not in server_log.upper(), server_log[-3000:]
