"""A crowd arriving at once: how long a new visitor waits for a page, on one replica and behind nginx on several.

    python -m benchmarks.replicas                         # 8 visitors, 4 rounds, 1 replica then 2
    python -m benchmarks.replicas --visitors 8 --rounds 6 --replicas 1,2,4

For each setting, ``python -m gallery serve``'s own ``Gallery`` starts the replicas (and nginx in front of two or
more); first, one visitor per replica opens every demo page (round robin sends each to the next replica), so every
replica has loaded its models: the server is warm. Then, in each round, ``--visitors`` new browser contexts (new
sessions, no cookie) open a page at the same moment, each its own page (visitor i in round r opens page i + r). A
page is ready when its title is drawn and its script has finished (the frontend's own run state), with no exception
shown. Printed: p50 and p95 of the wait per setting, and the ratio of each p95 to one replica's. On a shared 2-core
machine the figures move with what else runs: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from gallery.demos import DEMOS, url_path
from gallery.serve import Gallery, free_port
from tools.browser import CHROMIUM
from tools.visitors import CROWD_FLAGS, EXCEPTION, IDLE, percentile

PAGES = [url_path(d.page) for d in DEMOS if d.page]
TIMEOUT_MS = 120_000


async def open_page(browser, url: str) -> float:
    """Seconds from navigation to a drawn, finished page, in a fresh context (a new session)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = await context.new_page()
        start = time.monotonic()
        await page.goto(url)
        await page.wait_for_selector("[data-testid='stMain'] h1")
        await page.wait_for_selector(IDLE)
        seconds = time.monotonic() - start
        if await page.locator(EXCEPTION).count():
            raise AssertionError(f"{url} shows an exception")
        return seconds
    finally:
        await context.close()


async def crowd(url: str, visitors: int, rounds: int, replicas: int) -> list[float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CROWD_FLAGS)
        try:
            for _ in range(replicas):  # warm: every replica loads every page's models once
                for path in PAGES:
                    await open_page(browser, f"{url}/{path}")
            waits = []
            for r in range(rounds):
                paths = [PAGES[(i + r) % len(PAGES)] for i in range(visitors)]
                waits += await asyncio.gather(*(open_page(browser, f"{url}/{path}") for path in paths))
            return waits
        finally:
            await browser.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=8, help="new visitors arriving at once in each round")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--replicas", default="1,2", help="comma-separated settings to compare")
    args = parser.parse_args(argv)
    settings = [int(v) for v in args.replicas.split(",")]
    results = {}
    for n in settings:
        with Gallery(n, free_port(), echo=lambda *_: None) as gallery:
            waits = asyncio.run(crowd(gallery.url, args.visitors, args.rounds, n))
        results[n] = (percentile(waits, 50), percentile(waits, 95), len(waits), os.getloadavg()[0])
    print(f"{os.cpu_count()} CPUs; {args.visitors} new visitors at once, {args.rounds} rounds over {len(PAGES)} pages")
    print(f"  {'replicas':<10}{'pages':>7}{'p50 s':>8}{'p95 s':>8}{'p95 / 1 replica':>17}{'load after':>12}")
    base = results[settings[0]][1]
    for n, (p50, p95, count, load) in results.items():
        print(f"  {n:<10}{count:>7}{p50:>8.2f}{p95:>8.2f}{p95 / base:>17.2f}{load:>12.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
