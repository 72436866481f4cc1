"""Take screenshots of the running gallery in headless Chromium (for the README; also a quick real-browser check).

    pip install playwright==1.65.2 && apt-get install chromium   # never `playwright install`
    python tools/screenshot.py                                   # starts the app, writes docs/*.png

Fails (exit 1) if a page shows a Streamlit exception box.
"""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
PORT = 8599
PAGES = {"home": "", "names": "Names", "essays": "Essays"}
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def wait_for_server(url: str, seconds: float = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            urllib.request.urlopen(url + "/_stcore/health", timeout=2)
            return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the app did not start at {url}")


def main() -> int:
    url = f"http://localhost:{PORT}"
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "Home.py", "--server.port", str(PORT)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    failures = []
    try:
        wait_for_server(url)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", headless=True, args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            for name, path in PAGES.items():
                page.goto(f"{url}/{path}")
                page.wait_for_selector("[data-testid='stApp']")
                page.wait_for_timeout(6000)  # let models load and charts draw
                if page.locator("[data-testid='stException']").count():
                    failures.append(name)
                page.screenshot(path=str(ROOT / "docs" / f"{name}.png"), full_page=False)
                print(f"docs/{name}.png")
            browser.close()
    finally:
        server.terminate()
    if failures:
        print("exception shown on:", ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
