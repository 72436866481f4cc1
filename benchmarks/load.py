"""Many users at once: interaction latency per page for 1 and for N simultaneous browser visitors, on one server.

    python -m benchmarks.load                                   # 1 and 8 visitors, names and skills, 60 s each
    python -m benchmarks.load --visitors 8 --seconds 30 --pages names,skills,essays

Needs Debian's chromium and the playwright package. One served gallery; first a single visitor opens every page
once and uses it (the models load), then 1 visitor, then N visitors at once, each for ``--seconds`` (every visitor
finishes the round of pages it is in). An interaction is a page's main action (generate names from a prefix,
query a skill, write an essay) timed until its output is shown, checked as the visitor's own, and the page's script
run has finished. Also printed: the server's resident memory (the Streamlit process and its children) after the
first visits and after each run, and how often each ``st.cache_resource`` function ran (Streamlit's own counters):
every model should load once for all visitors. The machine's load average is printed too: on a shared 2-core
machine the figures move with what else runs.

Memory note: each concurrent script run is a thread, and glibc gives threads their own malloc arenas, which it
keeps. Eight essays written at once grew the server by 21% (411 -> 497 MB) with the default, by 5% with
``MALLOC_ARENA_MAX=2`` in the server's environment (it inherits this process's); the run prints which applied.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from tools.browser import running_app
from tools.visitors import SCENARIOS, cache_computes, latencies, percentile, rss_mb, server_pid, visitors_run


def table(title: str, crowd) -> None:
    print(title)
    print(f"  {'page':<10}{'interactions':>13}{'p50 s':>9}{'p95 s':>9}")
    for page, values in latencies(crowd).items():
        print(f"  {page:<10}{len(values):>13}{percentile(values, 50):>9.2f}{percentile(values, 95):>9.2f}")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=8, help="simultaneous visitors in the crowded run")
    parser.add_argument("--seconds", type=float, default=60, help="how long each run keeps starting rounds")
    parser.add_argument("--pages", default="names,skills", help=f"comma-separated, of {', '.join(SCENARIOS)}")
    parser.add_argument("--per-page", type=int, default=2, help="interactions on a page before the next page")
    args = parser.parse_args(argv)
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = [p for p in pages if p not in SCENARIOS]
    if unknown or not pages:
        parser.error(f"unknown pages {unknown}; choose from {', '.join(SCENARIOS)}")
    if args.visitors < 1:
        parser.error("--visitors must be at least 1")

    with tempfile.TemporaryDirectory() as tmp, running_app(log=Path(tmp) / "server.log") as url:
        pid = server_pid(url)
        visitors_run(url, 1, pages, per_page=1)
        first, computes_first = rss_mb(pid), cache_computes(url)
        print(f"{os.cpu_count()} CPUs, load average before the runs: {os.getloadavg()[0]:.1f}")
        print(f"server's MALLOC_ARENA_MAX: {os.environ.get('MALLOC_ARENA_MAX', 'unset (glibc default)')}")
        print(f"server memory after the first visit of each page: {first:.0f} MB")
        memory = {}
        for n in (1, args.visitors):
            crowd = visitors_run(url, n, pages, per_page=args.per_page, seconds=args.seconds)
            memory[n] = rss_mb(pid)
            load = os.getloadavg()[0]
            table(f"{n} visitor{'s' * (n > 1)} for {args.seconds:.0f} s (load average after: {load:.1f}):", crowd)
            print(f"  server memory after: {memory[n]:.0f} MB ({memory[n] / first - 1:+.0%} on the first visits)")
        computes = cache_computes(url)
        log = (Path(tmp) / "server.log").read_text()
    print("cached functions run (after first visits -> after all runs):")
    for name in sorted(computes):
        print(f"  {name:<24}{computes_first.get(name, 0):>4} ->{computes[name]:>4}")
    loaded_once = computes == computes_first
    within = memory[args.visitors] <= 1.2 * first
    clean = "Traceback" not in log and "WARNING" not in log.upper()
    print(f"models loaded once for all visitors: {'PASS' if loaded_once else 'FAIL'}")
    print(f"memory within 20% of the first visits: {'PASS' if within else 'FAIL'}")
    print(f"server log without traceback or warning: {'PASS' if clean else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
