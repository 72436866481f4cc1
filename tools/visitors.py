"""Many simultaneous browser visitors against one served gallery: shared by tests/test_load.py and benchmarks/load.py.

Each visitor is its own Chromium browser context (own cookies, own Streamlit session) in ONE headless browser,
driven by Playwright's async API; ``asyncio.gather`` runs them at once. Every interaction uses inputs unique to
its visitor and checks that the page shows the answer to *those* inputs, so a result leaking between sessions
fails the check:

- names: a prefix unique to (visitor, interaction) and a seed; the sampled name shown must start with that prefix.
- skills: a skill word unique to the visitor; the bar chart must list exactly the ten neighbours that the same
  vectors give when searched here, in the test process.
- essays: an opening sentence naming the visitor; the generated essay must start from that opening.

The server side is read honestly: memory is the resident set (VmRSS in /proc) of the Streamlit process and its
descendants, "each model loaded once" is read from Streamlit's own cache counters on ``/_stcore/metrics``
(``cache_compute_duration_seconds_count``: how many times each ``st.cache_resource`` function actually ran), and
what an interaction costs the server is its CPU time (user + system, from /proc/<pid>/stat, all threads, the
process and its children) over a window of interactions, divided by their number: the browsers' own CPU on the same
cores neither hides nor inflates it, as it does wall-clock time (``measure_page``).
"""

from __future__ import annotations

import asyncio
import os
import re
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from tools.browser import CHROMIUM, CHROMIUM_FLAGS, PAGES

TIMEOUT_MS = 90_000  # one step may wait this long on a crowded 2-core machine
CONSONANTS = "bdgkmnprstvhjl"  # a visitor's names prefixes start with its own letter
VOWELS = "aeiou"
ENDINGS = "nrlmstdkvpgbhj"
SKILL_WORDS = tuple(  # in the skill vocabulary, not the page's default (php); visitor i asks SKILL_WORDS[i::n]
    "python java seo tally sql android html excel photoshop accounting marketing linux recruitment autocad sales "
    "networking testing oracle hadoop javascript selenium sap payroll ios angularjs mysql logistics banking".split()
)
POLL_MS = 100  # check for the answer 10 times a second, not every animation frame: 8 pages share 2 cores
# 8 pages at once: none may be throttled as a hidden tab would be
CROWD_FLAGS = [
    *CHROMIUM_FLAGS,
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
    "--disable-backgrounding-occluded-windows",
]
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"  # the frontend's own run state
EXCEPTION = "[data-testid='stException']"


class VisitorError(AssertionError):
    """A visitor saw something wrong: an exception box, a timeout, or an answer that is not its own."""


@dataclass
class Interaction:
    page: str
    visitor: int
    seconds: float  # from the action until its checked output is shown and the script run has finished


@dataclass
class Visitor:
    index: int
    visitors: int
    interactions: list[Interaction] = field(default_factory=list)
    count: int = 0  # interactions so far, over all pages
    on_page: dict[str, int] = field(default_factory=dict)  # interactions so far, per page


# --- the server process -------------------------------------------------------------------------------------------


def server_pid(url: str) -> int:
    """The pid of this process's child ``streamlit run ... --server.port <port>`` (started by running_app)."""
    port = url.rsplit(":", 1)[1].split("/")[0]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:
            continue
        if ppid == os.getpid() and b"streamlit" in argv and port.encode() in argv:
            return int(entry.name)
    raise RuntimeError(f"no streamlit child of this process serves port {port}")


def descendants(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            try:
                todo += [int(c) for c in task.read_text().split()]
            except OSError:
                pass
    return out


def rss_mb(pid: int) -> float:
    """Resident memory of the server and everything it started, in MB (VmRSS from /proc)."""
    total = 0
    for p in descendants(pid):
        try:
            status = Path(f"/proc/{p}/status").read_text()
        except OSError:
            continue
        match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
        total += int(match.group(1)) if match else 0
    return total / 1024


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")  # the unit of the CPU times in /proc/<pid>/stat


def cpu_seconds(pid: int) -> float:
    """CPU time the server and everything it started have used so far, in seconds (user + system, all threads).

    From /proc/<pid>/stat of every live process in the tree: utime + stime, plus cutime + cstime (children that have
    ended and been waited for). Resolution: one clock tick (10 ms); read it over many interactions.
    """
    total = 0
    for p in descendants(pid):
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime (fields 14-17 of proc(5))
    return total / CLOCK_TICKS


def browser_cpu_seconds(server: int) -> float:
    """CPU time of everything this process started except the server: Playwright's driver and the browsers."""
    mine = set(descendants(os.getpid())) - set(descendants(server)) - {os.getpid()}
    total = 0
    for p in mine:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15])
    return total / CLOCK_TICKS


def cache_computes(url: str) -> dict[str, int]:
    """How many times each ``st.cache_resource`` function has run in the server, from Streamlit's metrics.

    Labels are ``<module>.<function>``; page scripts run as ``__main__``, so every page's ``load`` shares the label
    ``__main__.load`` and the count is the sum over pages and over distinct arguments (one per model loaded).
    """
    text = urllib.request.urlopen(f"{url}/_stcore/metrics", timeout=30).read().decode()
    counts = {}
    pattern = (
        r'^cache_compute_duration_seconds_count\{cache="([^"]+)",cache_type="st_cache_resource",trigger="miss"\} (\S+)'
    )
    for name, value in re.findall(pattern, text, re.M):
        counts[name] = counts.get(name, 0) + int(float(value))
    return counts


# --- the pages a visitor goes through ----------------------------------------------------------------------------


def expected_neighbours(words=SKILL_WORDS, topn: int = 10) -> dict[str, list[str]]:
    """The skills page's default answer (GloVe, exact search, top 10), computed here from the same artifact."""
    from gallery.skills.cli import query
    from gallery.skills.model import load

    model = load("glove")
    backend = model.backend("exact", False)
    return {w: [r["word"] for r in query(model, backend, [w], [], topn)] for w in words}


async def idle(page) -> None:
    """Wait until the page's script run has finished (the app's script state, as Streamlit's own e2e tests read it)."""
    await page.wait_for_function(f"() => document.querySelector(`{IDLE}`)", timeout=TIMEOUT_MS, polling=POLL_MS)


async def no_exception(page, where: str) -> None:
    if await page.locator(EXCEPTION).count():
        text = await page.locator(EXCEPTION).first.inner_text()
        raise VisitorError(f"{where}: exception shown: {text[:500]}")


async def open_page(page, url: str, name: str, ready) -> None:
    """Open a page as a visitor does: typed in the first time, then by its link in the sidebar (same session)."""
    link = page.locator(f"[data-testid='stSidebarNav'] a[href$='/{PAGES[name]}']")
    if page.url.startswith(url) and await link.count():
        await link.first.click()
        await page.wait_for_url(f"{url}/{PAGES[name]}", timeout=TIMEOUT_MS)
    else:
        await page.goto(f"{url}/{PAGES[name]}", timeout=TIMEOUT_MS)
    await page.wait_for_selector("[data-testid='stApp']", timeout=TIMEOUT_MS)
    await ready.first.wait_for(timeout=TIMEOUT_MS)
    await idle(page)
    await no_exception(page, f"/{PAGES[name]}")


async def wait_for_own(page, is_own_js: str, arg, shown_js: str, where: str) -> None:
    """Wait until the JS predicate ``is_own_js(arg)`` holds: the visitor's own answer is on its page.

    On a timeout, the message says what the page showed instead (another session's answer, a stale one, nothing).
    """
    try:
        await page.wait_for_function(is_own_js, arg=arg, timeout=TIMEOUT_MS, polling=POLL_MS)
    except Exception as err:  # Playwright's TimeoutError
        shown = await page.evaluate(shown_js)
        raise VisitorError(f"{where}: {type(err).__name__} after {TIMEOUT_MS / 1000:.0f} s; shown: {shown!r}") from None


NAMES_TITLE = 'Array.from(document.querySelectorAll(".gtitle")).find(t => t.textContent.startsWith("Next-letter"))'
NAMES_SHOWN = f"""() => {{ const e = {NAMES_TITLE};
    const m = e && e.textContent.match(/writing “(.*)”/); return m && m[1]; }}"""


def names_prefix(visitor: int, j: int) -> str:
    """The prefix of a visitor's j-th interaction (three letters; its own first letter, so no two visitors share
    one; the same prefix again only after 70 interactions)."""
    return CONSONANTS[visitor] + VOWELS[j % 5] + ENDINGS[(j // 5) % len(ENDINGS)]


async def names(page, url: str, visitor: Visitor, first: bool) -> None:
    """Generate names from a prefix of this visitor's own; the name shown must start with it."""
    if first:
        await open_page(page, url, "names", page.locator(".gtitle", has_text="Next-letter probabilities"))
    prefix = names_prefix(visitor.index, visitor.count)
    await page.get_by_role("textbox", name="Starts with").fill(prefix)
    await page.get_by_role("spinbutton", name="Seed").fill(str(1000 * visitor.index + visitor.count))
    start = time.perf_counter()
    await page.get_by_role("button", name="Generate").click()
    where = f"visitor {visitor.index} asked for names starting {prefix!r}"
    await wait_for_own(page, f"(p) => {{ const n = ({NAMES_SHOWN})(); return n && n.startsWith(p); }}", prefix,
                       NAMES_SHOWN, where)  # fmt: skip
    await idle(page)
    seconds = time.perf_counter() - start
    await no_exception(page, where)
    visitor.interactions.append(Interaction("names", visitor.index, seconds))


SKILL_BARS = """() => { const c = document.querySelector("[data-testid='stPlotlyChart']");
    return c ? Array.from(c.querySelectorAll(".ytick text")).map(t => t.textContent).sort() : null; }"""


def skill_words(visitor: int, visitors: int) -> tuple[str, ...]:
    """The skills a visitor asks about, in turn: its own share of SKILL_WORDS (at least two for 14 visitors)."""
    return SKILL_WORDS[visitor::visitors]


async def skills(page, url: str, visitor: Visitor, first: bool, expected: dict[str, list[str]]) -> None:
    """Query a skill of this visitor's own; the bars must list exactly that skill's neighbours."""
    if first:
        await open_page(page, url, "skills", page.get_by_text("Query time"))
    words = skill_words(visitor.index, visitor.visitors)
    word = words[visitor.on_page.get("skills", 0) % len(words)]  # never the word on show: the answer must change
    await page.get_by_role("combobox", name="Skill").fill(word)
    option = page.get_by_role("option", name=word, exact=True).first
    await option.wait_for(timeout=TIMEOUT_MS)
    start = time.perf_counter()
    await option.click()
    where = f"visitor {visitor.index} asked for the neighbours of {word!r}, {expected[word]}"
    want = sorted(expected[word], key=lambda w: w.encode("utf-16-be"))  # JavaScript's sort order
    await wait_for_own(page, f"(want) => JSON.stringify(({SKILL_BARS})()) === JSON.stringify(want)", want,
                       SKILL_BARS, where)  # fmt: skip
    await idle(page)
    seconds = time.perf_counter() - start
    await no_exception(page, where)
    visitor.interactions.append(Interaction("skills", visitor.index, seconds))


ESSAY_SHOWN = "() => { const e = document.querySelector(\"[data-testid='stMain'] em\"); return e && e.textContent; }"


async def essays(page, url: str, visitor: Visitor, first: bool) -> None:
    """Write an essay from an opening naming this visitor and interaction; the essay must start from it."""
    if first:
        await open_page(page, url, "essays", page.get_by_text("Greedy vs sampled"))
    opening = f"Visitor {visitor.index} asks question {visitor.count} about startups"
    await page.get_by_role("textbox", name="Opening").fill(opening)
    await page.get_by_role("spinbutton", name="Seed").fill(str(1000 * visitor.index + visitor.count))
    start = time.perf_counter()
    await page.get_by_role("button", name="Generate").click()
    where = f"visitor {visitor.index} wrote from {opening!r}"
    # the opening, in italics, heads the essay; the essay is streamed after it until the script run ends
    await wait_for_own(page, f"(o) => {{ const t = ({ESSAY_SHOWN})(); return t && t.trim() === o; }}", opening,
                       ESSAY_SHOWN, where)  # fmt: skip
    await idle(page)
    seconds = time.perf_counter() - start
    await no_exception(page, where)
    visitor.interactions.append(Interaction("essays", visitor.index, seconds))


TRANSLATION_SHOWN = (
    "() => { const e = document.querySelector(\"[data-testid='stMain'] h3\"); return e && e.textContent; }"
)
# One subject per visitor (its English word checked), one place per interaction: each checked on this transformer.
SUBJECTS = (("Ein Hund", "dog"), ("Eine Katze", "cat"), ("Ein Pferd", "horse"), ("Ein Vogel", "bird"),
            ("Ein Junge", "boy"), ("Ein Mädchen", "girl"), ("Eine Frau", "woman"), ("Ein Mann", "man"),
            ("Ein Kind", "child"), ("Eine Kuh", "cow"), ("Ein Polizist", "police"), ("Ein Fußballspieler", "soccer"),
            ("Eine Ente", "duck"), ("Ein Baby", "baby"))  # fmt: skip
PLACES = (("im Park", "park"), ("am Strand", "beach"), ("im Schnee", "snow"), ("auf der Straße", "street"),
          ("im Wasser", "water"), ("im Wald", "woods"), ("auf dem Feld", "field"), ("in der Stadt", "city"),
          ("auf dem Rasen", "grass"), ("im Sand", "sand"), ("auf dem Berg", "mountain"))  # fmt: skip
# A verb per round of places: a visitor repeats a sentence (which the page caches) only after 132 interactions.
# Every subject x verb x place was translated by the committed transformer with the subject's noun and the place in
# English (but "Ein Polizist", visitor 10, sometimes becomes "policeman", which the word check does not take).
VERBS = (
    "läuft",
    "spielt",
    "steht",
    "sitzt",
    "springt",
    "schläft",
    "wartet",
    "liegt",
    "rennt",
    "geht",
    "schaut",
    "ruht",
)


def german_sentence(visitor: int, j: int) -> tuple[str, list[str]]:
    """The German sentence of a visitor's j-th interaction, and the English words its translation must hold."""
    (subject, noun), (place, where_en) = SUBJECTS[visitor % len(SUBJECTS)], PLACES[j % len(PLACES)]
    verb = VERBS[(j // len(PLACES)) % len(VERBS)]
    return f"{subject} {verb} {place}.", [noun, where_en]


async def translate(page, url: str, visitor: Visitor, first: bool) -> None:
    """Translate a sentence about this visitor's own subject; the English must name that subject and the place."""
    if first:
        await open_page(page, url, "translate", page.locator("[data-testid='stMain'] h3"))
    german, words = german_sentence(visitor.index, visitor.count)
    box = page.get_by_role("textbox", name="German sentence")
    await box.fill(german)
    start = time.perf_counter()
    await box.press("Control+Enter")
    where = f"visitor {visitor.index} translated {german!r}"
    has_words = "(t, words) => !!t && words.every(w => new RegExp('\\\\b' + w + '\\\\b', 'i').test(t))"
    own = f"(words) => ({has_words})(({TRANSLATION_SHOWN})(), words)"
    await wait_for_own(page, own, words, TRANSLATION_SHOWN, where)
    await idle(page)
    seconds = time.perf_counter() - start
    await no_exception(page, where)
    visitor.interactions.append(Interaction("translate", visitor.index, seconds))


SCENARIOS = {"names": names, "skills": skills, "essays": essays, "translate": translate}


# --- running visitors at once ------------------------------------------------------------------------------------


async def visit(browser, url: str, visitor: Visitor, pages, per_page: int, deadline: float, expected) -> None:
    """One visitor: its own context; pages in turn (starting at its own), ``per_page`` interactions on each,
    again and again until ``deadline`` (at least one round)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = await context.new_page()
        order = [pages[(visitor.index + k) % len(pages)] for k in range(len(pages))]
        while True:
            for name in order:
                for k in range(per_page):
                    await interact(page, url, visitor, name, k == 0, expected)
            if time.monotonic() >= deadline:
                return
    finally:
        await context.close()


async def interact(page, url: str, visitor: Visitor, name: str, first: bool, expected) -> None:
    """One interaction of scenario ``name`` (opening its page first when ``first``), counted on the visitor."""
    extra = (expected,) if name == "skills" else ()
    await SCENARIOS[name](page, url, visitor, first, *extra)
    visitor.count += 1
    visitor.on_page[name] = visitor.on_page.get(name, 0) + 1


async def run_visitors(url: str, visitors: int, pages, per_page: int = 2, seconds: float = 0) -> list[Visitor]:
    """``visitors`` simultaneous visitors; returns them with their timed interactions; raises the first error."""
    from playwright.async_api import async_playwright

    if visitors > len(CONSONANTS):
        raise ValueError(f"at most {len(CONSONANTS)} visitors (one names prefix letter each)")
    expected = expected_neighbours() if "skills" in pages else {}
    crowd = [Visitor(i, visitors) for i in range(visitors)]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CROWD_FLAGS)
        try:
            deadline = time.monotonic() + seconds
            results = await asyncio.gather(
                *(visit(browser, url, v, pages, per_page, deadline, expected) for v in crowd), return_exceptions=True
            )
        finally:
            await browser.close()
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        details = "\n".join(f"- {str(e).splitlines()[0] if str(e) else repr(e)}" for e in errors)
        raise VisitorError(f"{len(errors)} of {visitors} visitors failed:\n{details}") from errors[0]
    return crowd


def visitors_run(url: str, visitors: int, pages, per_page: int = 2, seconds: float = 0) -> list[Visitor]:
    return asyncio.run(run_visitors(url, visitors, pages, per_page, seconds))


# --- what an interaction costs the server -------------------------------------------------------------------------


@dataclass
class Measured:
    """One page's main interaction, ``visitors`` at once, over a window in which they did nothing else."""

    page: str
    visitors: int
    seconds: list[float]  # wall clock of each interaction in the window
    server_cpu_s: float  # the server's CPU time over the window (all threads, and its children)
    window_s: float
    next_start: int = 0  # the interaction number after the last any visitor made (``start`` of a later run)
    browser_cpu_s: float = 0.0  # the visitors' side over the window: Playwright's driver and Chromium's processes

    @property
    def browser_cpu_ms(self) -> float:
        """The browsers' CPU milliseconds per interaction (on the same cores as the server, here)."""
        return 1000 * self.browser_cpu_s / max(1, len(self.seconds))

    @property
    def server_cpu_ms(self) -> float:
        """The server's CPU milliseconds per interaction."""
        return 1000 * self.server_cpu_s / max(1, len(self.seconds))


async def measure_visitors(url: str, pid: int, page: str, visitors: int, seconds: float, start: int = 0) -> Measured:
    """``visitors`` visitors on one page: each in turn opens it and interacts once (not measured: page opens and
    first loads stay out), then all at once interact again and again for ``seconds`` (each at least once) while
    the server's CPU time is read before and after. Raises like run_visitors on any visitor's error or wrong answer.

    ``start``: the visitors' first interaction number (their inputs follow it), so that a later run on the same
    server asks new questions rather than ones an earlier run left in the page's cache."""
    from playwright.async_api import async_playwright

    if visitors > len(CONSONANTS):
        raise ValueError(f"at most {len(CONSONANTS)} visitors (one names prefix letter each)")
    expected = expected_neighbours() if page == "skills" else {}
    crowd = [Visitor(i, visitors, count=start) for i in range(visitors)]
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CROWD_FLAGS)
        try:
            contexts = [await browser.new_context(viewport={"width": 1400, "height": 1000}) for _ in crowd]
            tabs = []
            for context in contexts:
                context.set_default_timeout(TIMEOUT_MS)
                tabs.append(await context.new_page())
            for tab, visitor in zip(tabs, crowd):  # one after the other: eight page opens at once can time out
                await interact(tab, url, visitor, page, True, expected)
            for v in crowd:
                v.interactions.clear()
            cpu, start = cpu_seconds(pid), time.monotonic()
            browsers = browser_cpu_seconds(pid)
            deadline = start + seconds

            async def keep_going(tab, visitor):
                while True:
                    await interact(tab, url, visitor, page, False, expected)
                    if time.monotonic() >= deadline:
                        return

            await gather_or_raise([keep_going(t, v) for t, v in zip(tabs, crowd)])
            cpu, window = cpu_seconds(pid) - cpu, time.monotonic() - start
            browsers = browser_cpu_seconds(pid) - browsers
        finally:
            await browser.close()
    seconds_each = [i.seconds for v in crowd for i in v.interactions]
    return Measured(page, visitors, seconds_each, cpu, window, max(v.count for v in crowd), browsers)


async def gather_or_raise(tasks) -> None:
    results = await asyncio.gather(*tasks, return_exceptions=True)
    errors = [r for r in results if isinstance(r, BaseException)]
    if errors:
        details = "\n".join(f"- {str(e).splitlines()[0] if str(e) else repr(e)}" for e in errors)
        raise VisitorError(f"{len(errors)} of {len(results)} visitors failed:\n{details}") from errors[0]


def measure_page(url: str, pid: int, page: str, visitors: int, seconds: float, start: int = 0) -> Measured:
    return asyncio.run(measure_visitors(url, pid, page, visitors, seconds, start))


def latencies(crowd: list[Visitor]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for v in crowd:
        for i in v.interactions:
            out.setdefault(i.page, []).append(i.seconds)
    return out


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, min(len(ordered) - 1, int(-(-q * len(ordered) // 100)) - 1))]
