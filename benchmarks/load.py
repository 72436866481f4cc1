"""Many users at once: how long visitors wait and what an interaction costs the server, for crowds of visitors.

Two kinds of visitor (``--client``):

- ``protocol`` (the default): websocket clients that speak Streamlit's own protocol as Chromium's frontend does
  (tools/protocol.py says what they send), about 1-2 ms of CPU per interaction, so the figures are the server's.
  Run through ``python -m gallery serve`` (its ``Gallery``: the same environment, and nginx in front of two or more
  replicas) for each ``--replicas`` setting; pages names, skills, translate and the face explorer; crowds of
  ``--visitors`` (16 and 64) back to back, or with ``--pause`` seconds between a visitor's interactions. With
  ``--sizing`` it also finds, for each page, the largest crowd (doubling) whose p95 stays within ``--target`` (1 s),
  back to back and with a 5 s pause, and prints it per replica: the README's sizing table.

      python -m benchmarks.load                                      # 1 and 2 replicas, 16 and 64 visitors
      python -m benchmarks.load --sizing --json load.json            # ... and the sizing table (README)
      python -m benchmarks.load --replicas 2 --visitors 16 --pages names --seconds 10

- ``browser``: Chromium visitors driven by Playwright (one served app; 1 and N visitors), timed from the click
  until the visitor's own answer is shown; the browsers' CPU on the same cores dominates (0.4-3 s per interaction):

      python -m benchmarks.load --client browser                   # 1 and 8 visitors; names, skills, translate
      python -m benchmarks.load --client browser --visitors 8 --seconds 20 --pages names,skills,essays,translate

Browser client: needs Debian's chromium and the playwright package. One served gallery; first a single visitor
opens every page once and uses it (the models load). Then, page by page, 1 visitor and then N visitors at once open
the page, use it once (not measured), and use its main control again and again for ``--seconds`` (every visitor at
least once). An interaction is a page's main action (generate names from a prefix, query a skill, translate a
sentence, write an essay) timed until its output is shown, checked as the visitor's own, and the page's script run
has finished.

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
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import astuple, dataclass
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


def browser_main(args, parser) -> int:
    """The Chromium crowd on one served app: 1 visitor, then ``--visitors`` (one number)."""
    args.visitors = int(str(args.visitors or 8).split(",")[-1])
    args.seconds = 30 if args.seconds is None else args.seconds
    pages = [p.strip() for p in (args.pages or "names,skills,translate").split(",") if p.strip()]
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


# --- the protocol client: crowds of websocket visitors through `python -m gallery serve` ----------------------------

PROTOCOL_PAGES = "names,skills,translate,faces"
SIZING_PAUSES = (0.0, 5.0)  # back to back, and a pause as people use the pages
FLOORS = (  # issue 26, through `serve --replicas 2`, with 0 errors: (page, visitors, p95 at most)
    ("names", 16, 1.0),
    ("names", 64, 2.5),
    ("translate", 16, 2.0),
)
THROUGHPUT_FLOOR = 1.4  # 2 replicas over 1 on names


def machine_busy_s() -> float:
    """CPU seconds all processes have used on this machine so far (/proc/stat: user nice system irq softirq steal)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass
class Clocks:
    """CPU clocks read together: the replicas (each with its children), nginx, this process, the whole machine."""

    replicas: float
    nginx: float
    client: float
    machine: float
    wall: float

    @classmethod
    def read(cls, replica_pids: list[int], nginx_pid: int | None) -> Clocks:
        return cls(
            sum(cpu_seconds(p) for p in replica_pids),
            cpu_seconds(nginx_pid) if nginx_pid else 0.0,
            time.process_time(),
            machine_busy_s(),
            time.monotonic(),
        )

    def __sub__(self, other: Clocks) -> Clocks:
        return Clocks(*(a - b for a, b in zip(astuple(self), astuple(other))))


def crowd_row(crowd, replicas: int, pause: float, spent: Clocks) -> dict:
    """One measured crowd as a row of the table (times in seconds, CPU in ms per interaction)."""
    ok = [i.seconds for i in crowd.ok]
    n = max(1, len(crowd.interactions))
    others = spent.machine - spent.replicas - spent.nginx - spent.client
    return {
        "page": crowd.page,
        "replicas": replicas,
        "visitors": crowd.visitors,
        "pause_s": pause,
        "interactions": len(crowd.interactions),
        "errors": len(crowd.errors) + len(crowd.open_errors),
        "p50_s": round(percentile(ok, 50), 3) if ok else None,
        "p95_s": round(percentile(ok, 95), 3) if ok else None,
        "max_s": round(max(ok), 3) if ok else None,
        "throughput_per_s": round(len(crowd.interactions) / spent.wall, 2),
        "server_cpu_ms": round(1000 * spent.replicas / n, 1),
        "nginx_cpu_ms": round(1000 * spent.nginx / n, 2),
        "client_cpu_ms": round(1000 * spent.client / n, 2),
        "others_cores": round(max(0.0, others) / spent.wall, 2),  # what the rest of the machine ran meanwhile
        "window_s": round(spent.wall, 1),
        "per_replica": crowd.replicas,
        "error_examples": [i.error for i in crowd.errors[:3]] + crowd.open_errors[:3],
    }


async def measure_crowd(base, scenario, visitors, seconds, pause, replicas, pids, nginx_pid) -> dict:
    """``visitors`` open the page (not measured), then interact for ``seconds`` while the clocks run."""
    from tools import protocol

    scenario.prepare(visitors)
    crowd, open_errors = await protocol.open_crowd(base, scenario, visitors)
    try:
        before = Clocks.read(pids, nginx_pid)
        done, _ = await protocol.keep_interacting(scenario, crowd, seconds, pause)
        spent = Clocks.read(pids, nginx_pid) - before
    finally:
        await protocol.close_all(crowd)
    per_visitor = max((sum(1 for i in done if i.visitor == v.index) for v in crowd), default=0)
    scenario.offset += visitors * (per_visitor + 2)  # the next crowd asks new questions (pages cache answers)
    result = protocol.Crowd(scenario.name, visitors, done, spent.wall, protocol.replicas_of(crowd), open_errors)
    return crowd_row(result, replicas, pause, spent)


async def warm(base: str, scenarios: dict, replicas: int) -> None:
    """Every replica opens every page and uses it once: its models are loaded before anything is timed."""
    from tools import protocol

    for scenario in scenarios.values():
        scenario.prepare(1)
        seen: set[str] = set()
        for k in range(4 * replicas):
            v = protocol.Visitor(base, k)
            try:
                run = await v.open(scenario.path)
                problem = "; ".join(run.exceptions) or scenario.ready(run)
                if not problem:
                    run, problem = await scenario.act(v, 0)
                if problem:
                    raise protocol.ProtocolError(f"warming /{scenario.path}: {problem} (drawn: {run.describe()})")
                seen.add(v.replica)
            finally:
                await v.close()
            if len(seen) >= replicas:
                break


def sizing(base, scenario, replicas, pids, nginx_pid, args, rows) -> dict:
    """The largest crowd whose p95 stays within --target with no error, back to back and with a pause.

    Crowds double from --sizing-start (with a pause: from the back-to-back answer, which a pause only relieves) up
    to --sizing-max; between the last that held and the first that did not, one more crowd halfway."""
    out: dict[float, dict] = {}

    def holds(row: dict) -> bool:
        return not row["errors"] and row["p95_s"] is not None and row["p95_s"] <= args.target

    def measure(crowd: int, pause: float) -> dict:
        seconds = max(args.seconds, 4 * pause)  # with a pause, each visitor still interacts a few times
        row = asyncio.run(measure_crowd(base, scenario, crowd, seconds, pause, replicas, pids, nginx_pid))
        row["sizing"] = True
        rows.append(row)
        print(table_row(row), flush=True)
        return row

    for pause in SIZING_PAUSES:
        start = args.sizing_start
        if pause and out.get(0.0, {}).get("visitors"):
            start = max(start, out[0.0]["visitors"])
        best, over, crowd = None, None, start
        while crowd <= args.sizing_max:
            row = measure(crowd, pause)
            if not holds(row):
                over = row
                break
            best, crowd = row, 2 * crowd
        while best is None and over is not None and over["visitors"] > replicas:  # the first was too many: halve
            row = measure(max(replicas, replicas * round(over["visitors"] / 2 / replicas)), pause)
            best, over = (row, over) if holds(row) else (None, row)
        if best and over and over["visitors"] - best["visitors"] > replicas:
            middle = replicas * round((best["visitors"] + over["visitors"]) / 2 / replicas)
            row = measure(middle, pause)
            best, over = (row, over) if holds(row) else (best, row)
        out[pause] = {
            "visitors": best["visitors"] if best else 0,
            "per_replica": best["visitors"] / replicas if best else 0,
            "p95_s": best["p95_s"] if best else None,
            "capped": best is not None and over is None,  # never failed up to --sizing-max: at least this
            "first_over": {k: over[k] for k in ("visitors", "p95_s", "errors")} if over else None,
        }
    return out


COLUMNS = (
    ("page", "page", "{}"),
    ("replicas", "replicas", "{}"),
    ("visitors", "visitors", "{}"),
    ("pause_s", "pause s", "{:g}"),
    ("interactions", "interactions", "{}"),
    ("errors", "errors", "{}"),
    ("p50_s", "p50 s", "{:.2f}"),
    ("p95_s", "p95 s", "{:.2f}"),
    ("max_s", "max s", "{:.2f}"),
    ("throughput_per_s", "per s", "{:.1f}"),
    ("server_cpu_ms", "server CPU ms", "{:.1f}"),
    ("nginx_cpu_ms", "nginx CPU ms", "{:.2f}"),
    ("client_cpu_ms", "client CPU ms", "{:.2f}"),
    ("others_cores", "others, cores", "{:.2f}"),
    ("per_replica", "visitors per replica", "{}"),
)


def cell(row: dict, key: str, fmt: str) -> str:
    value = row.get(key)
    if value is None:
        return "-"
    if key == "per_replica":
        return "/".join(str(n) for n in value.values())
    return fmt.format(value)


def table_row(row: dict) -> str:
    return "| " + " | ".join(cell(row, key, fmt) for key, _, fmt in COLUMNS) + " |"


def table_header() -> str:
    return "| " + " | ".join(title for _, title, _ in COLUMNS) + " |\n|" + "---|" * len(COLUMNS)


def sizing_table(found: dict, replicas: int, target: float) -> str:
    def text(entry) -> str:
        if entry["p95_s"] is None:
            over = entry["first_over"]
            p95 = f"{over['p95_s']:.2f} s" if over and over["p95_s"] is not None else "-"
            return f"< {over['visitors'] / replicas:g} (p95 {p95})" if over else "-"
        more = "≥ " if entry["capped"] else ""
        return f"{more}{entry['per_replica']:g} (p95 {entry['p95_s']:.2f} s)"

    lines = [
        f"| page | back to back: visitors per replica (p95 at that crowd) | with a {SIZING_PAUSES[1]:g} s pause |",
        "|---|---|---|",
    ]
    for page, by_pause in found.items():
        lines.append(f"| {page} | " + " | ".join(text(by_pause[p]) for p in SIZING_PAUSES) + " |")
    lines.append(f"(the largest crowd, doubling, whose p95 stayed within {target:g} s with no error, over {replicas} "
                 "replicas, divided by them)")  # fmt: skip
    return "\n".join(lines)


def floors(rows: list[dict]) -> list[str]:
    """The issue's floors, where this run measured them (not sizing rows)."""
    main = [r for r in rows if not r.get("sizing") and not r["pause_s"]]
    out = []
    for page, visitors, most in FLOORS:
        row = next((r for r in main if (r["page"], r["replicas"], r["visitors"]) == (page, 2, visitors)), None)
        if row:
            ok = row["errors"] == 0 and row["p95_s"] is not None and row["p95_s"] <= most
            out.append(f"{page}, {visitors} visitors, 2 replicas: p95 {row['p95_s']} s <= {most} s, "
                       f"{row['errors']} errors: {'PASS' if ok else 'FAIL'}")  # fmt: skip
    for visitors in sorted({r["visitors"] for r in main if r["page"] == "names"}):
        one = next((r for r in main if (r["page"], r["replicas"], r["visitors"]) == ("names", 1, visitors)), None)
        two = next((r for r in main if (r["page"], r["replicas"], r["visitors"]) == ("names", 2, visitors)), None)
        if one and two:
            ratio = two["throughput_per_s"] / max(one["throughput_per_s"], 1e-9)
            verdict = "PASS" if ratio >= THROUGHPUT_FLOOR else "FAIL"
            out.append(f"names, {visitors} visitors: 2 replicas / 1 replica throughput {ratio:.2f}x "
                       f">= {THROUGHPUT_FLOOR}x: {verdict}")  # fmt: skip
    return out


def protocol_main(args, parser) -> int:
    from gallery.serve import Gallery, ServeError
    from gallery.serve import free_port as serve_port
    from tools.protocol import SCENARIOS as PROTOCOL

    pages = [p.strip() for p in (args.pages or PROTOCOL_PAGES).split(",") if p.strip()]
    if not pages or any(p not in PROTOCOL for p in pages):
        parser.error(f"--pages: choose from {', '.join(PROTOCOL)}")
    try:
        replicas = [int(r) for r in args.replicas.split(",")]
        crowds = [int(v) for v in str(args.visitors or "16,64").split(",")]
    except ValueError:
        parser.error("--replicas and --visitors are comma-separated numbers")
    if min(replicas) < 1 or min(crowds) < 1:
        parser.error("--replicas and --visitors must be at least 1")
    seconds = 20.0 if args.seconds is None else args.seconds
    args.seconds = seconds
    scenarios = {p: PROTOCOL[p]() for p in pages}
    started = time.monotonic()
    print(f"{os.cpu_count()} CPUs; load average before: {os.getloadavg()[0]:.1f}; {seconds:g} s per crowd, "
          f"pause {args.pause:g} s; pages {', '.join(pages)}", flush=True)  # fmt: skip
    print("Wall clock per interaction (p50, p95, max) from the visitor's rerun request until its run finished (and "
          "its picture loaded); CPU in ms per interaction: all replicas (each with its children), nginx, these "
          "visitors (this process); 'others': cores the rest of the machine used meanwhile.\n", flush=True)  # fmt: skip
    print(table_header(), flush=True)
    rows, found, logs_clean = [], {}, True
    for n in replicas:
        port = serve_port()
        try:
            gallery = Gallery(n, port, echo=lambda *_: None)
            with gallery:
                base = f"http://127.0.0.1:{port}"
                pids = [r.pid for r in gallery.replicas]
                nginx_pid = gallery.nginx.pid if gallery.nginx else None
                asyncio.run(warm(base, scenarios, n))
                for scenario in scenarios.values():
                    for visitors in crowds:
                        row = asyncio.run(
                            measure_crowd(base, scenario, visitors, seconds, args.pause, n, pids, nginx_pid)
                        )
                        rows.append(row)
                        print(table_row(row), flush=True)
                if args.sizing and n == max(replicas):
                    for page, scenario in scenarios.items():
                        found[page] = sizing(base, scenario, n, pids, nginx_pid, args, rows)
                logs = "".join(gallery.log_of(r).read_text(errors="replace") for r in gallery.replicas)
                if "Traceback" in logs:
                    logs_clean = False
                    print(f"replica logs hold a traceback:\n{logs[logs.index('Traceback') :][:2000]}")
        except ServeError as err:
            print(f"{n} replicas could not be served: {err}")
            return 1
    minutes = (time.monotonic() - started) / 60
    print(f"\nload average after: {os.getloadavg()[0]:.1f}; the whole run took {minutes:.1f} minutes")
    if found:
        print(f"\nSizing: visitors per replica at p95 <= {args.target:g} s ({max(replicas)} replicas)\n")
        print(sizing_table(found, max(replicas), args.target))
    checks = floors(rows) + [f"replica logs without traceback: {'PASS' if logs_clean else 'FAIL'}"]
    print("\n" + "\n".join(checks))
    report = {
        "cpus": os.cpu_count(),
        "seconds": seconds,
        "pause_s": args.pause,
        "target_p95_s": args.target,
        "minutes": round(minutes, 1),
        "rows": rows,
        "sizing": {page: {f"pause_{p:g}s": v for p, v in d.items()} for page, d in found.items()},
        "checks": checks,
    }
    text = json.dumps(report, indent=1)
    if args.json:
        Path(args.json).write_text(text)
    print("\n" + text)
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--client", choices=("protocol", "browser"), default="protocol", help="kind of visitor")
    parser.add_argument("--visitors", default=None, help="crowds, comma-separated (protocol: 16,64; browser: 8)")
    parser.add_argument("--seconds", type=float, default=None, help="each crowd's window (protocol 20, browser 30)")
    parser.add_argument("--pages", default=None, help=f"comma-separated (protocol: {PROTOCOL_PAGES})")
    group = parser.add_argument_group("protocol client")
    group.add_argument("--replicas", default="1,2", help="`gallery serve --replicas` settings, comma-separated")
    group.add_argument("--pause", type=float, default=0.0, help="seconds between a visitor's interactions")
    group.add_argument("--sizing", action="store_true", help="also find visitors per replica at p95 <= --target")
    group.add_argument("--target", type=float, default=1.0, help="the p95 the sizing holds (seconds)")
    group.add_argument("--sizing-start", type=int, default=8, help="the sizing's first crowd (then doubled)")
    group.add_argument("--sizing-max", type=int, default=512, help="the sizing's largest crowd")
    group.add_argument("--json", default=None, help="also write the JSON report to this file")
    args = parser.parse_args(argv)
    if args.client == "browser":
        return browser_main(args, parser)
    return protocol_main(args, parser)


if __name__ == "__main__":
    sys.exit(main())
