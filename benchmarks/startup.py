"""Start-up in a real browser: the landing page against a bare one-line app, then each demo page's first visit.

    python -m benchmarks.startup            # needs Debian's chromium and the playwright package

For each app, a fresh server and browser; the time runs from navigation until the page's script has finished and
its first heading is shown (Streamlit's "running" indicator gone). Median of three fresh starts.
Floors (issue 12): the landing page within 1.5x the bare app; every demo page's first visit, after the landing page
has been open a few seconds, shows its output within 3 s.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

from tools.browser import PAGES, browser_page, running_app

BARE_APP = 'import streamlit as st\n\nst.title("Hello")\n'


def time_to_render(page, url: str, timeout_ms: int = 60_000) -> float:
    """Seconds from navigation until a heading is shown and the script has stopped running."""
    start = time.perf_counter()
    page.goto(url)
    page.wait_for_selector("h1", timeout=timeout_ms)
    running = "() => !document.querySelector('[data-testid=stStatusWidget]')"
    page.wait_for_function(running, timeout=timeout_ms, polling=50)
    return time.perf_counter() - start


def fresh_start(script: str, cwd: Path) -> float:
    with running_app(script=script, cwd=cwd) as url, browser_page() as page:
        return time_to_render(page, url)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "bare.py").write_text(BARE_APP)
        bare = statistics.median(fresh_start("bare.py", Path(tmp)) for _ in range(3))
    gallery = statistics.median(fresh_start("Home.py", Path(__file__).resolve().parent.parent) for _ in range(3))
    ratio = gallery / bare
    print(f"{'app':<28}{'seconds':>9}")
    print(f"{'bare one-line app':<28}{bare:>9.2f}")
    print(f"{'gallery landing page':<28}{gallery:>9.2f}")
    print(f"ratio {ratio:.2f}x   floor 1.5x: {'PASS' if ratio <= 1.5 else 'FAIL'}")
    slow = []
    with running_app() as url, browser_page() as page:
        time_to_render(page, url)
        page.wait_for_timeout(3000)  # the landing page open a few seconds
        for name, path in PAGES.items():
            if path:
                seconds = time_to_render(page, f"{url}/{path}")
                slow += [name] if seconds > 3 else []
                print(f"first visit {name:<22}{seconds:>9.2f}")
    print(f"first visits within 3 s: {'PASS' if not slow else 'FAIL (' + ', '.join(slow) + ')'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
