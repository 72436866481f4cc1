"""Screenshots of the running gallery in headless Chromium, for the README.

    pip install playwright==1.65.2 && apt-get install chromium   # never `playwright install`
    python -m tools.screenshot                                   # starts the app, writes docs/*.png
    python -m tools.screenshot --out /tmp/shots names digits     # some pages, elsewhere

Each page is shown after its main control has been operated (tools.browser.STEPS: names starting with "ra", a
drawn digit, a skill query, ...), the same steps the browser test checks. Exits 1 if a step fails or a page shows
a Streamlit exception box.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.browser import ROOT, STEPS, browser_page, open_page, operate, running_app


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("pages", nargs="*", choices=[[], *STEPS], help="default: every page")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for <page>.png (default: docs)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    failures = []
    with running_app() as url, browser_page() as page:
        open_page(page, url)  # the landing page first, as a visitor would (and the sidebar has its sections)
        for name in args.pages or STEPS:
            try:
                operate(page, url, name)
            except Exception as err:  # noqa: BLE001 - report every page, then fail
                failures.append(f"{name}: {type(err).__name__}: {str(err).splitlines()[0]}")
            page.mouse.move(700, 40)  # over the empty header: no hover toolbar over a chart
            page.wait_for_timeout(1500)  # charts finish drawing
            page.screenshot(path=str(args.out / f"{name}.png"))
            print(args.out / f"{name}.png")
    for failure in failures:
        print("FAILED", failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
