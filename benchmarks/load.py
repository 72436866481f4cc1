"""Many users at once: what one interaction costs the server, and how long visitors wait, for 1 and N visitors.

    python -m benchmarks.load                                   # 1 and 8 visitors; names, skills, translate; 30 s each
    python -m benchmarks.load --visitors 8 --seconds 20 --pages names,skills,essays,translate

Needs Debian's chromium and the playwright package. One served gallery; first a single visitor opens every page
once and uses it (the models load). Then, page by page, 1 visitor and then N visitors at once open the page, use
it once (not measured), and use its main control again and again for ``--seconds`` (every visitor at least once).
An interaction is a page's main action (generate names from a prefix, query a skill, translate a sentence, write an
essay) timed until its output is shown, checked as the visitor's own, and the page's script run has finished.

One table, a row per page and crowd:

- **server CPU**: the server's CPU time in ms (user + system, all threads, and any children it started; from
  /proc/<pid>/stat) over the window, divided by the interactions in it. The browsers share the same cores, so
  wall-clock time moves with them and with whatever else runs; CPU time is what the server itself spent.
- **idle**: the part of that the server spends anyway (its idle rate, measured before the runs, times the window,
  per interaction): large where the browser takes long between interactions (typing a skill into a list of 8,500).
- **model**: the CPU time of the gallery call behind the page's main control alone (MODEL_CALLS), timed here, in
  this process, before the server starts, on the number of torch and BLAS threads the server uses.
- **page**: server CPU - idle - model: what the page itself costs around its model (Streamlit, the figures, the
  tables, the other tabs).
- **p50 / p95 s**: wall clock per interaction.
- **browser CPU**: what the visitors' side (Playwright's driver and Chromium's processes, on the same cores)
  spent per interaction, in ms: where the wall-clock time goes when the server's own share is small.

Also printed: the server's idle CPU, its resident memory (the Streamlit process and its children) after the first
visits and after all runs, and how often each ``st.cache_resource`` function ran (Streamlit's own counters): every
model should load once for all visitors. The machine's load average is printed too: on a shared 2-core machine the
wall-clock figures move with what else runs.

Memory note: each concurrent script run is a thread, and glibc gives threads their own malloc arenas, which it
keeps. Eight essays written at once grew the server by 21% (411 -> 497 MB) with the default, by 5% with
``MALLOC_ARENA_MAX=2`` in the server's environment (it inherits this process's); the run prints which applied.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from tools.browser import running_app
from tools.visitors import (
    SCENARIOS,
    Measured,
    cache_computes,
    cpu_seconds,
    german_sentence,
    measure_page,
    names_prefix,
    percentile,
    rss_mb,
    server_pid,
    skill_words,
    visitors_run,
)

# --- the model call behind each page's main control, alone ---------------------------------------------------------
# Each returns a list of zero-argument calls, one per input as the benchmark's visitors give them, with the page's
# default settings (the models loaded before: loading is not timed).


def names_calls() -> list[Callable]:
    """Names: sample 20 names from a visitor's prefix, then the next-letter steps of the first (the heatmap)."""
    from gallery.names import model as names

    model = names.load("names-gru")

    def call(j: int):
        rows = names.sample(model, n=20, gender="female", prefix=names_prefix(0, j), temperature=0.8, seed=j)
        names.next_char_steps(model, rows[0]["name"], rows[0]["gender"], top=len(names.VOCAB))

    return [lambda j=j: call(j) for j in range(10)]


def skills_calls() -> list[Callable]:
    """Skills: one query's vector and its ten nearest skills (GloVe, exact search), as the page's bars show."""
    from gallery.skills import model as skills

    model = skills.load("glove")
    index = model.backend("exact", False)

    def call(word: str):
        vector, found = model.vectors.combine([word], [])
        index.neighbors(vector, 10 + len(found))

    return [lambda w=w: call(w) for w in skill_words(0, 1)[:10]]


def translate_calls() -> list[Callable]:
    """Translate: the transformer's beam search (5 beams) and the attention maps behind the heatmaps."""
    from gallery.translate import translator

    tr = translator.load("transformer")

    def call(j: int):
        result = translator.translate(tr, german_sentence(j % 8, j)[0], beam=5)
        translator.attention(tr, result)

    return [lambda j=j: call(j) for j in range(10)]


def essays_calls() -> list[Callable]:
    """Essays: 500 characters streamed (the page's default length) and the 400-character greedy comparison."""
    from gallery.essays import model as essays

    model = essays.load()

    def call(j: int):
        opening = f"Visitor 0 asks question {j} about startups"
        for _ in essays.stream(model, opening, length=500, temperature=0.8, top_k=0, seed=j, top=10):
            pass
        essays.generate(model, opening, length=400, temperature=0)

    return [lambda j=j: call(j) for j in range(3)]


IDLE_SECONDS = 5  # how long the idle server is watched (its CPU clock ticks in steps of 10 ms)
MODEL_CALLS = {"names": names_calls, "skills": skills_calls, "translate": translate_calls, "essays": essays_calls}


def model_ms(page: str) -> float:
    """Median CPU milliseconds of the page's model call, in this process (after one untimed warm-up call)."""
    import numpy  # noqa: F401  (loaded, so that its BLAS is limited too)
    import torch  # noqa: F401

    from gallery import ui

    ui.limit_threads(force=True)  # the server's setting (GALLERY_TORCH_THREADS, default 1, for torch and BLAS)
    calls = MODEL_CALLS[page]()
    calls[0]()
    times = []
    for call in calls:
        start = time.process_time()
        call()
        times.append(1000 * (time.process_time() - start))
    return statistics.median(times)


# --- the table --------------------------------------------------------------------------------------------------


def row(m: Measured, model: float | None, idle_ms_per_s: float) -> str:
    values = m.seconds
    idle = idle_ms_per_s * m.window_s / max(1, len(values))  # what the idle server spends anyway, per interaction
    model_text = f"{model:>7.0f}" if model is not None else f"{'—':>7}"
    page = m.server_cpu_ms - idle - (model or 0)
    return (
        f"  {m.page:<10}{m.visitors:>5}{len(values):>8}{m.server_cpu_ms:>12.0f}{idle:>7.0f}{model_text}{page:>7.0f}"
        f"{percentile(values, 50):>7.2f}{percentile(values, 95):>7.2f}{m.browser_cpu_ms:>13.0f}"
    )


HEADER = (
    f"  {'page':<10}{'crowd':>5}{'actions':>8}{'server CPU':>12}{'idle':>7}{'model':>7}{'page':>7}"
    f"{'p50 s':>7}{'p95 s':>7}{'browser CPU':>13}"
)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--visitors", type=int, default=8, help="simultaneous visitors in the crowded run")
    parser.add_argument("--seconds", type=float, default=30, help="how long each page's run keeps interacting")
    parser.add_argument("--pages", default="names,skills,translate", help=f"comma-separated, of {', '.join(SCENARIOS)}")
    args = parser.parse_args(argv)
    pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    unknown = [p for p in pages if p not in SCENARIOS]
    if unknown or not pages:
        parser.error(f"unknown pages {unknown}; choose from {', '.join(SCENARIOS)}")
    if args.visitors < 1:
        parser.error("--visitors must be at least 1")

    models = {page: model_ms(page) if page in MODEL_CALLS else None for page in pages}
    with tempfile.TemporaryDirectory() as tmp, running_app(log=Path(tmp) / "server.log") as url:
        pid = server_pid(url)
        visitors_run(url, 1, pages, per_page=1)
        first, computes_first = rss_mb(pid), cache_computes(url)
        idle = cpu_seconds(pid)
        time.sleep(IDLE_SECONDS)
        idle = (cpu_seconds(pid) - idle) / IDLE_SECONDS * 1000  # ms per second
        print(f"{os.cpu_count()} CPUs, load average before the runs: {os.getloadavg()[0]:.1f}")
        print(f"server's MALLOC_ARENA_MAX: {os.environ.get('MALLOC_ARENA_MAX', 'unset (glibc default)')}")
        print(f"server's GALLERY_TORCH_THREADS: {os.environ.get('GALLERY_TORCH_THREADS', 'unset (1)')}")
        print(f"server memory after the first visit of each page: {first:.0f} MB; idle CPU {idle:.0f} ms per second")
        print(
            f"{args.seconds:.0f} s per page and crowd; milliseconds of CPU per interaction (actions): the server's "
            "(its idle share: what it spends anyway over the same time), the model call's alone, the page's "
            "(server - idle - model), the browsers'; seconds of wall clock per interaction:"
        )
        print(HEADER)
        start = dict.fromkeys(pages, 1)  # the first visits asked question 0: each run asks new ones (pages cache)
        for n in dict.fromkeys((1, args.visitors)):
            for page in pages:
                measured = measure_page(url, pid, page, n, args.seconds, start[page])
                start[page] = measured.next_start
                print(row(measured, models[page], idle), flush=True)
            print(f"  (load average after {n} visitor{'s' * (n > 1)}: {os.getloadavg()[0]:.1f})")
        memory = rss_mb(pid)
        print(f"server memory after: {memory:.0f} MB ({memory / first - 1:+.0%} on the first visits)")
        computes = cache_computes(url)
        log = (Path(tmp) / "server.log").read_text()
    print("cached functions run (after first visits -> after all runs):")
    for name in sorted(computes):
        print(f"  {name:<24}{computes_first.get(name, 0):>4} ->{computes[name]:>4}")
    loaded_once = computes == computes_first
    within = memory <= 1.2 * first
    clean = "Traceback" not in log and "WARNING" not in log.upper()
    print(f"models loaded once for all visitors: {'PASS' if loaded_once else 'FAIL'}")
    print(f"memory within 20% of the first visits: {'PASS' if within else 'FAIL'}")
    print(f"server log without traceback or warning: {'PASS' if clean else 'FAIL'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
