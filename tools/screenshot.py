"""Screenshots of the running gallery in headless Chromium, for the README.

    pip install playwright==1.65.2 && apt-get install chromium   # never `playwright install`
    python -m tools.screenshot                                   # starts the app, writes docs/*.png

Exits 1 if a page shows a Streamlit exception box.
"""

from __future__ import annotations

import sys

from tools.browser import PAGES, ROOT, browser_page, running_app, visit


def main() -> int:
    failures = []
    with running_app() as url, browser_page() as page:
        for name, path in PAGES.items():
            if not visit(page, f"{url}/{path}"):
                failures.append(name)
            page.screenshot(path=str(ROOT / "docs" / f"{name}.png"))
            print(f"docs/{name}.png")
    if failures:
        print("exception shown on:", ", ".join(failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
