"""The running app in headless Chromium: shared by tools/screenshot.py and tests/test_browser.py.

Uses Debian's chromium (apt-get install chromium) through Playwright's Python package;
never `playwright install`.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = {
    "home": "",
    "names": "Names",
    "essays": "Essays",
    "skills": "Skill_Neighbors",
    "vae": "VAE_Explorer",
    "digits": "Digit_Recognizer",
    "clustering": "Clustering",
    "gradient_descent": "Gradient_Descent",
    "resumes": "Resume_Classifier",
    "nlp_basics": "NLP_Basics",
    "maps": "Embedding_Maps",
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("localhost", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(seconds: float = 60, script: str = "Home.py", cwd: Path = ROOT, log: Path | None = None):
    """Start `streamlit run <script>` (the gallery by default) on a free port; yield its URL; stop it afterwards.

    With ``log``, the server's stdout and stderr go to that file (for asserting it stays clean).
    """
    port = free_port()
    url = f"http://localhost:{port}"
    sink = open(log, "w") if log else subprocess.DEVNULL  # closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port)],
        cwd=cwd,
        stdout=sink,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + seconds
        while True:
            try:
                urllib.request.urlopen(url + "/_stcore/health", timeout=2)
                break
            except OSError:
                if time.time() > deadline or server.poll() is not None:
                    raise RuntimeError(f"the app did not start at {url}") from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)
        if log:
            sink.close()


@contextlib.contextmanager
def browser_page(width: int = 1400, height: int = 1000):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page(viewport={"width": width, "height": height})
        finally:
            browser.close()


def visit(page, url: str, settle_ms: int = 6000) -> bool:
    """Open a page, let models load and charts draw; True if Streamlit shows no exception box."""
    page.goto(url)
    page.wait_for_selector("[data-testid='stApp']")
    page.wait_for_timeout(settle_ms)
    return page.locator("[data-testid='stException']").count() == 0
