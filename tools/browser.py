"""The running app in headless Chromium: shared by tests/test_browser.py, tools/screenshot.py, the load and
start-up benchmarks.

Uses Debian's chromium (apt-get install chromium) through Playwright's Python package; never `playwright install`.

STEPS (at the end) has one row per page: its URL path and how a visitor operates it and what must then appear.
A new page is one more row there; PAGES (name -> URL path) follows from it.
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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


# ---------------------------------------------------------------------------------------------------------------
# Operating each page: one row per page, shared by tests/test_browser.py and tools/screenshot.py.
#
# A row is (URL path, act, check): `act(page)` drives the page's main control like a visitor and returns what the
# check needs (e.g. the output before the change); `check(page, before)` waits for the expected output and fails
# (AssertionError or Playwright's TimeoutError) if it does not appear. Waits are on specific elements, with TIMEOUT.

TIMEOUT = 30_000  # ms for one expected output; generous because the test machine is shared
APP = "[data-testid='stApp']"
MAIN = "[data-testid='stMain']"


@dataclass(frozen=True)
class Step:
    path: str  # URL path, as in PAGES
    act: Callable[[Any], Any]
    check: Callable[[Any, Any], None]


def open_page(page, url: str, timeout: int = 60_000) -> None:
    """Navigate and wait until the page's script has run to its end, its title heading shown."""
    page.goto(url)
    page.wait_for_selector(f"{APP}[data-test-script-state='notRunning']", timeout=timeout)
    page.wait_for_selector(f"{MAIN} h1", timeout=timeout)


# Two observers on the whole body (React may mount a new stApp node, seen once in CI). One counts ended runs: the
# script state turning notRunning, from running or rerunRequested. The other notes the time of the page's last
# change, because a run can end unseen: in CI, under load, the names and résumés pages showed their new output but
# the state never left notRunning in the DOM (React may render running and notRunning in one batch). A page that
# is notRunning and has not changed for QUIET_MS has ended its run too.
QUIET_MS = 2000
ARM = """() => {
  window.__runs = 0;
  window.__changed = Date.now();
  for (const w of window.__watch || []) w.disconnect();
  const runs = new MutationObserver(records => {
    for (const r of records)
      if (r.oldValue !== "notRunning" && r.target.getAttribute("data-test-script-state") === "notRunning")
        window.__runs += 1;
  });
  runs.observe(document.body, {
    subtree: true, attributes: true, attributeOldValue: true, attributeFilter: ["data-test-script-state"]});
  const changes = new MutationObserver(() => { window.__changed = Date.now(); });
  changes.observe(document.body, {subtree: true, childList: true, attributes: true, characterData: true});
  window.__watch = [runs, changes];
}"""
IDLE = f"""() => document.querySelector("[data-testid='stApp']").getAttribute("data-test-script-state") === "notRunning"
  && (window.__runs > 0 || Date.now() - window.__changed > {QUIET_MS})"""


def arm(page) -> None:
    """Start counting finished script runs, so that wait_until_idle can tell when the next rerun has ended."""
    page.evaluate(ARM)


def wait_until_idle(page, timeout: int = TIMEOUT) -> None:
    """After an action: wait until a rerun has ended since `arm` (or the page, not running, has been still for
    QUIET_MS) and the script is not running; then re-arm."""
    page.wait_for_function(IDLE, timeout=timeout, polling=50)
    arm(page)


def poll(read, wanted, timeout: int = TIMEOUT, what: str = "the expected output"):
    """Call ``read()`` until ``wanted(value)`` holds; return the value, or raise with the last one seen."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + timeout / 1000
    while True:
        value = read()
        if wanted(value):
            return value
        if time.monotonic() > deadline:
            raise PlaywrightTimeout(f"{what} did not appear; last seen: {str(value)[:2000]}")
        time.sleep(0.2)


def exception_shown(page) -> bool:
    return page.locator("[data-testid='stException']").count() > 0


def table_rows(frame) -> list[list[str]]:
    """The cells of an st.dataframe, read from the grid's accessible table (the drawing itself is a canvas)."""
    return frame.locator("table").first.evaluate(
        "t => [...t.querySelectorAll('tbody tr')].map(r => [...r.querySelectorAll('td')].map(c => c.innerText))"
    )


def widget(page, testid: str, label: str):
    """A Streamlit widget of one kind, found by its exact label."""
    return page.locator(f"{MAIN} [data-testid='{testid}']").filter(
        has=page.locator("[data-testid='stWidgetLabel']").get_by_text(label, exact=True)
    )


def segment(page, label: str):
    """A segmented-control option (st.segmented_control) by its text."""
    return page.locator(f"{MAIN} [data-testid='stButtonGroup'] button").filter(has=page.get_by_text(label, exact=True))


def chart_texts(chart) -> list[str]:
    """Every text drawn in a Plotly chart's SVG: tick labels, axis and legend titles."""
    return chart.locator("svg text").evaluate_all("els => els.map(e => e.textContent)")


def expect_chart_text(chart, wanted, timeout: int = TIMEOUT) -> list[str]:
    """Wait until some text in the chart satisfies ``wanted`` (a predicate); return the chart's texts."""
    return poll(
        lambda: chart_texts(chart) if chart.count() else [],
        lambda texts: any(t and wanted(t) for t in texts),
        timeout,
        "the chart's expected text",
    )


# ---- landing page: one card per built demo, each linking to its page; following a card's link opens it


def act_home(page):
    from playwright.sync_api import expect

    from gallery.demos import DEMOS

    links = page.locator(f"{MAIN} [data-testid='stPageLink'] a")
    expect(links).to_have_count(sum(1 for d in DEMOS if d.page), timeout=TIMEOUT)
    hrefs = [links.nth(i).get_attribute("href") for i in range(links.count())]
    links.and_(page.locator("[href='Names'], [href$='/Names']")).click()  # the name generator's card
    page.wait_for_selector(f"{MAIN} h1:has-text('Indian name generator')", timeout=TIMEOUT)
    landed = page.url
    page.go_back()
    page.wait_for_selector(f"{MAIN} h1:has-text('Deep Learning Experiments Gallery')", timeout=TIMEOUT)
    wait_until_idle(page)
    return hrefs, landed


def check_home(page, before):
    from gallery.demos import DEMOS, SECTIONS, url_path

    hrefs, landed = before
    wanted = [url_path(d.page) for d in DEMOS if d.page]
    assert sorted(h.rstrip("/").rsplit("/", 1)[-1] for h in hrefs) == sorted(wanted), hrefs
    assert landed.rstrip("/").endswith("/Names"), landed
    nav = page.locator("[data-testid='stSidebarNav']")
    for title in [d.title for d in DEMOS if d.page]:
        assert nav.get_by_text(title, exact=True).count() == 1, f"{title} missing from the sidebar"
    headers = nav.locator("[data-testid='stNavSectionHeader']").all_inner_texts()
    assert [h.strip() for h in headers] == list(SECTIONS), headers


# ---- names: generate names starting with "ra"; the table and the look-inside chart show them


def act_names(page):
    before = [row[0] for row in table_rows(page.locator(f"{MAIN} [data-testid='stDataFrame']").first)]
    widget(page, "stTextInput", "Starts with").locator("input").fill("ra")
    widget(page, "stNumberInput", "Seed").locator("input").fill("7")
    page.locator(f"{MAIN} [data-testid='stFormSubmitButton'] button").click()
    return before


def check_names(page, before):
    chart = page.locator(f"{MAIN} [data-testid='stPlotlyChart']").first
    expect_chart_text(chart, lambda t: t.startswith("Next-letter probabilities while writing \u201cra"))
    frame = page.locator(f"{MAIN} [data-testid='stDataFrame']").first
    names = poll(
        lambda: [row[0] for row in table_rows(frame)],
        lambda names: len(names) >= 10 and all(n.startswith("ra") for n in names),
        what="a table of names starting with 'ra'",
    )
    assert names != before
    wait_until_idle(page)


# ---- names, your own list: open the tab, upload a list, train a GRU on a 10 s budget, stop it once the live curve
# shows, then generate names starting with "ka". Not a row of STEPS (the page's row is "names"): tests/test_browser.py
# runs it on its own, with operate_own_list.

OWN_LIST = "".join(f"{a}{b}{c}\n" for a in ("ka", "mi", "to", "re", "su", "la") for b in ("ra", "lo", "ne", "vi", "so")
                   for c in ("", "n", "a"))  # fmt: skip


def act_names_own(page):
    from playwright.sync_api import expect

    page.get_by_role("tab", name="Train on your own list").click()
    uploader = widget(page, "stFileUploader", "... or a text file (UTF-8, up to 5 MB and 200,000 lines)")
    expect(uploader).to_be_visible(timeout=TIMEOUT)
    uploader.locator("input[type='file']").set_input_files(
        files=[{"name": "syllables.txt", "mimeType": "text/plain", "buffer": OWN_LIST.encode()}]
    )
    expect(page.get_by_text(re.compile(r"From the file syllables\.txt: 90 lines"))).to_be_visible(timeout=TIMEOUT)
    budget = widget(page, "stSlider", "Time budget (seconds)").get_by_role("slider")
    budget.focus()
    budget.press("Home")  # 10 s, the shortest
    expect(budget).to_have_value("10", timeout=TIMEOUT)
    wait_until_idle(page)
    page.locator(MAIN).get_by_role("button", name="Train", exact=True).click()
    chart = page.locator(f"{MAIN} [data-testid='stPlotlyChart']").first
    expect_chart_text(chart, lambda t: t == "validation")  # the live curve, drawn while it trains
    page.locator(MAIN).get_by_role("button", name="Stop", exact=True).first.click()
    expect(page.get_by_text("Training stopped early by you", exact=False)).to_be_visible(timeout=TIMEOUT)
    widget(page, "stTextInput", "Starts with").locator("input").fill("ka")
    page.locator(f"{MAIN} [data-testid='stFormSubmitButton'] button").click()


def check_names_own(page, _):
    from playwright.sync_api import expect

    frame = page.locator(f"{MAIN} [data-testid='stDataFrame']").first
    poll(
        lambda: table_rows(frame),
        lambda rows: len(rows) >= 10 and all(r[0].startswith("ka") for r in rows),  # the grid draws what fits
        what="a table of names starting with 'ka'",
    )
    expect(page.get_by_role("button", name="Download the model (.zip)")).to_be_visible(timeout=TIMEOUT)


def operate_own_list(page, url: str) -> None:
    """The names page's "Train on your own list" tab, operated like the pages in STEPS."""
    open_page(page, f"{url}/{STEPS['names'].path}")
    arm(page)
    act_names_own(page)
    check_names_own(page, None)
    page.wait_for_selector(f"{APP}[data-test-script-state='notRunning']", timeout=TIMEOUT)
    assert not exception_shown(page), "exception shown on the names page's own-list tab"


# ---- essays: a new opening; the continuation streams in, growing over several updates


OPENING = "The best way to learn programming is"
GROWTH = """() => {
  // Record the length of the streamed text box after every change the browser draws.
  window.__lengths = [];
  const record = () => {
    const e = [...document.querySelectorAll("[data-testid='stMain'] em")]
      .find(e => e.innerText.startsWith("The best way to learn programming"));
    const block = e && e.closest("[data-testid='stVerticalBlock']");
    if (block) window.__lengths.push(block.innerText.length);
  };
  window.__growth = new MutationObserver(record);
  window.__growth.observe(document.querySelector("[data-testid='stMain']"),
                          {childList: true, subtree: true, characterData: true});
}"""


def act_essays(page):
    widget(page, "stTextArea", "Opening").locator("textarea").fill(OPENING)
    length = widget(page, "stSlider", "Length (characters)").get_by_role("slider")
    length.focus()
    length.press("End")  # the longest essay: a second or more of streaming, long enough to see it grow
    page.evaluate(GROWTH)
    page.locator(f"{MAIN} [data-testid='stFormSubmitButton'] button").click()


def check_essays(page, _):
    from playwright.sync_api import expect

    poll(
        lambda: page.evaluate("() => window.__lengths"),
        lambda lengths: lengths and max(lengths) >= len(OPENING) + 1000,
        2 * TIMEOUT,
        "1,000 streamed characters after the opening",
    )
    wait_until_idle(page, 2 * TIMEOUT)
    grew = sorted(set(page.evaluate("() => { window.__growth.disconnect(); return window.__lengths }")))
    assert len(grew) >= 3, f"the text did not stream in steps: lengths seen {grew}"
    expect(page.get_by_role("tab", name="Greedy vs sampled")).to_be_visible()


def operate_essays_inside(page, url: str) -> None:
    """The essay page's "Inside the LSTM" tab over the essay just written, and "Your own text, scored" with the
    recipe example: a cell colours the essay, and both models' nats per character appear."""
    from playwright.sync_api import expect

    open_page(page, f"{url}/{STEPS['essays'].path}")
    arm(page)
    page.get_by_role("tab", name="Inside the LSTM").click()
    wait_until_idle(page, 2 * TIMEOUT)
    coloured = page.locator(f"{MAIN} span[title]").filter(has_text=re.compile(r"^.$"))
    poll(
        lambda: coloured.first.get_attribute("title", timeout=TIMEOUT),
        lambda t: re.fullmatch(r"[+-]\d\.\d{3}", t),
        2 * TIMEOUT,
        "a character coloured by a cell's activation (its value on hover)",
    )
    page.get_by_text("Another voice: a cake recipe").click()
    wait_until_idle(page, 2 * TIMEOUT)
    expect(page.get_by_text("5-gram, nats per character")).to_be_visible(timeout=TIMEOUT)
    expect(page.locator(MAIN).get_by_text("Most surprising words")).to_be_visible(timeout=TIMEOUT)
    assert not exception_shown(page), "exception shown on the essay page's new sections"


# ---- skills: query "python"; the neighbour bars show a known neighbour


def act_skills(page):
    widget(page, "stSelectbox", "Skill").locator("input").click()
    page.keyboard.type("python")
    page.get_by_role("option", name="python", exact=True).click()


def check_skills(page, _):
    from playwright.sync_api import expect

    expect(widget(page, "stSelectbox", "Skill").get_by_role("combobox")).to_have_value("python", timeout=TIMEOUT)
    chart = page.locator(f"{MAIN} [data-testid='stPlotlyChart']").first
    texts = expect_chart_text(chart, lambda t: t in {"perl", "ruby", "django"})
    assert "php" not in texts, texts  # the previous query's own neighbours are gone
    expect(page.locator(f"{MAIN} [data-testid='stMetric']").filter(has_text="Query time")).to_be_visible()


# ---- VAE: move a latent slider to its end; the decoded picture changes


def first_image_src(page) -> str:
    return page.locator(f"{MAIN} [data-testid='stImage'] img").first.get_attribute("src")


def latent_slider(page):
    """The first latent slider (label "z<i> (<kl> nats)")."""
    return (
        page.locator(f"{MAIN} [data-testid='stSlider']")
        .filter(has=page.locator("[data-testid='stWidgetLabel']").get_by_text(re.compile(r"^z\d+ ")))
        .first.get_by_role("slider")
    )


def act_vae(page):
    before = first_image_src(page)
    thumb = latent_slider(page)
    thumb.focus()
    thumb.press("End")  # to +3 standard deviations
    return before


def check_vae(page, before):
    from playwright.sync_api import expect

    image = page.locator(f"{MAIN} [data-testid='stImage'] img").first
    expect(image).not_to_have_attribute("src", before, timeout=TIMEOUT)
    wait_until_idle(page)
    expect(latent_slider(page)).to_have_value("3")


# ---- digits: draw a "7" on the canvas with the mouse; the three models' predictions appear


def act_digits(page):
    segment(page, "Draw").click()
    canvas = page.locator(f"{MAIN} canvas.upper-canvas")  # streamlit-drawable-canvas's Fabric.js drawing layer
    canvas.wait_for(timeout=TIMEOUT)
    box = canvas.bounding_box()
    x, y = box["x"], box["y"]  # a 7: the bar left to right, then the stem down and left
    page.mouse.move(x + 75, y + 60)
    page.mouse.down()
    page.mouse.move(x + 205, y + 60, steps=10)
    page.mouse.move(x + 120, y + 235, steps=14)
    page.mouse.up()


def check_digits(page, _):
    from playwright.sync_api import expect

    metrics = page.locator(f"{MAIN} [data-testid='stMetric']")
    expect(metrics).to_have_count(3, timeout=TIMEOUT)
    wait_until_idle(page)
    cnn = metrics.filter(has=page.get_by_text("CNN", exact=True)).locator("[data-testid='stMetricValue']")
    expect(cnn).to_have_text("7")


# ---- clustering: colour the map by the true digit; the legend follows


def act_clustering(page):
    segment(page, "true digit").click()


def check_clustering(page, _):
    chart = page.locator(f"{MAIN} [data-testid='stPlotlyChart']").filter(has_text="t-SNE").first
    expect_chart_text(chart, lambda t: t == "true digit")


# ---- gradient descent: a learning rate above the limit; the methods diverge and the page says so


def act_gradient_descent(page):
    box = widget(page, "stNumberInput", "Learning rate").locator("input")
    box.fill("5")
    box.press("Enter")


def check_gradient_descent(page, _):
    from playwright.sync_api import expect

    expect(page.locator(f"{MAIN} [data-testid='stAlert']").filter(has_text="diverge")).to_be_visible(timeout=TIMEOUT)
    frame = page.locator(f"{MAIN} [data-testid='stDataFrame']").first
    poll(
        lambda: [row[-1] for row in table_rows(frame)],
        lambda outcomes: "diverged" in outcomes and "closed form" in outcomes,
        what="'diverged' in the results table",
    )
    wait_until_idle(page)


# ---- résumés: paste a civil engineer's résumé; the best model's first guess is Civil Engineer


RESUME = (
    "Site engineer with six years on residential and highway construction projects. Skills: AutoCAD, "
    "STAAD Pro, structural design of RCC buildings, quantity surveying, estimation and costing, site "
    "supervision, concrete quality tests, surveying with total station, bridge and road works."
)


def act_resumes(page):
    box = widget(page, "stTextArea", "Résumé text").locator("textarea")
    box.fill(RESUME)
    box.press("Control+Enter")


def check_resumes(page, _):
    from playwright.sync_api import expect

    chart = page.locator(f"{MAIN} [data-testid='stPlotlyChart']").first
    expect_chart_text(chart, lambda t: t.endswith("for Civil Engineer"))
    frame = page.locator(f"{MAIN} [data-testid='stDataFrame']").first
    poll(
        lambda: table_rows(frame),
        lambda rows: rows and rows[0][1] == "Civil Engineer",  # the best model's first guess
        what="Civil Engineer as the best model's first guess",
    )
    wait_until_idle(page)
    highlighted = page.locator(f"{MAIN} mark").filter(has_text=re.compile("^(AutoCAD|RCC|construction)$"))
    expect(highlighted.first).to_be_visible()  # the words that pushed the model, marked in the text


# ---- NLP basics: type sentences; the bag-of-words matrix has their terms


SENTENCES = "A zebra grazes on the savanna\nThe zebra runs from a lion\nLions sleep in the shade"


def act_nlp_basics(page):
    box = widget(page, "stTextArea", "Sentences, one per line").locator("textarea")
    if box.input_value() != SENTENCES:  # the page keeps what a visitor typed: the same text again runs nothing
        box.fill(SENTENCES)
        box.press("Control+Enter")
        wait_until_idle(page)
    page.get_by_role("tab", name="Bag of words").click()


def check_nlp_basics(page, _):
    panel = page.get_by_role("tabpanel").filter(has=page.locator("[data-testid='stPlotlyChart']")).first
    texts = expect_chart_text(panel.locator("[data-testid='stPlotlyChart']"), lambda t: t == "zebra")
    assert {"savanna", "lion", "S3"} <= set(texts) and "the" not in texts, texts  # stop words are dropped


# ---- maps: switch the method to PCA; the map is redrawn with PCA's axes


def act_maps(page):
    segment(page, "PCA").click()


def check_maps(page, _):
    from playwright.sync_api import expect

    chart = page.locator(f"{MAIN} [data-testid='stPlotlyChart']").first
    expect_chart_text(chart, lambda t: t.startswith("PC1 ("))
    expect(page.get_by_text(re.compile(r"PCA map, precomputed"))).to_be_visible(timeout=TIMEOUT)


# ---- maps, your own vectors: upload a Projector TSV and its metadata, the PCA map appears coloured by group;
# search a point and its nearest neighbours (original space) are listed. Not a row of STEPS (the page's row is
# "maps"): tests/test_browser.py runs it on its own, with operate_own_vectors.

OWN_VECTORS_LABEL = "Vectors: a Projector TSV, word2vec text or a .npy array"
OWN_METADATA_LABEL = "Metadata (optional): a TSV with one row per point"


def own_vector_files(n: int = 80, dims: int = 8) -> tuple[bytes, bytes]:
    """A Projector TSV of ``n`` points in four groups, and its metadata TSV (name, group)."""
    import numpy as np

    rng = np.random.default_rng(0)
    X = 4 * rng.standard_normal((4, dims))[np.arange(n) % 4] + rng.standard_normal((n, dims))
    vectors = "".join("\t".join(f"{v:.4f}" for v in row) + "\n" for row in X).encode()
    metadata = ("name\tgroup\n" + "".join(f"p{i}\tg{i % 4}\n" for i in range(n))).encode()
    return vectors, metadata


def act_maps_own(page):
    from playwright.sync_api import expect

    widget(page, "stSelectbox", "Data set").locator("input").click()
    page.get_by_role("option", name="Your own vectors", exact=True).click()
    # the uploaders appearing is the sign that the source changed (a rerun count can miss it when the page's state
    # from an earlier visit already ran)
    expect(page.get_by_text(OWN_VECTORS_LABEL, exact=False).first).to_be_visible(timeout=TIMEOUT)
    page.wait_for_selector(f"{APP}[data-test-script-state='notRunning']", timeout=TIMEOUT)
    arm(page)
    vectors, metadata = own_vector_files()
    for label, name, content in (
        (OWN_VECTORS_LABEL, "vectors.tsv", vectors),
        (OWN_METADATA_LABEL, "meta.tsv", metadata),
    ):
        uploader = widget(page, "stFileUploader", label)
        expect(uploader).to_be_visible(timeout=TIMEOUT)
        uploader.locator("input[type='file']").set_input_files(
            files=[{"name": name, "mimeType": "text/tab-separated-values", "buffer": content}]
        )
        expect(uploader.get_by_text(name)).to_be_visible(timeout=TIMEOUT)
        wait_until_idle(page)
    expect(page.locator(f"{MAIN} [data-testid='stMetric']").filter(has_text="10-NN same group")).to_be_visible(
        timeout=TIMEOUT
    )
    box = widget(page, "stTextInput", "Find a point").locator("input")
    box.fill("p7")
    box.press("Enter")


def check_maps_own(page, _):
    from playwright.sync_api import expect

    expect(page.get_by_text("Nearest to p7", exact=False)).to_be_visible(timeout=TIMEOUT)
    frame = page.locator(f"{MAIN} [data-testid='stDataFrame']").first
    rows = poll(lambda: table_rows(frame), lambda rows: len(rows) == 10, what="the 10 nearest neighbours of p7")
    assert all(int(r[0][1:]) % 4 == 3 for r in rows), rows  # p7's neighbours are in its own group (g3)
    chart = page.locator(f"{MAIN} [data-testid='stPlotlyChart']").first
    texts = expect_chart_text(chart, lambda t: t.startswith("PC1 ("))
    assert {"g0", "g3", "p7"} <= set(texts), texts  # the legend: the groups, and the searched point


def operate_own_vectors(page, url: str) -> None:
    """The maps page's own-vectors source, operated like the pages in STEPS."""
    open_page(page, f"{url}/{STEPS['maps'].path}")
    arm(page)
    act_maps_own(page)
    check_maps_own(page, None)
    page.wait_for_selector(f"{APP}[data-test-script-state='notRunning']", timeout=TIMEOUT)
    assert not exception_shown(page), "exception shown on the maps page with your own vectors"


# ---- attention heatmaps: translate a German sentence; the English appears and the heatmap links its words


def act_translate(page):
    box = widget(page, "stTextArea", "German sentence").locator("textarea")
    box.fill("Ein kleiner Hund spielt mit einem Ball im Garten.")
    box.press("Control+Enter")


def check_translate(page, _):
    from playwright.sync_api import expect

    english = page.locator(f"{MAIN} h3").filter(has_text=re.compile(r"\bdog\b", re.IGNORECASE))
    expect(english).to_be_visible(timeout=TIMEOUT)
    chart = page.locator(f"{MAIN} [data-testid='stPlotlyChart']").first
    texts = expect_chart_text(chart, lambda t: t == "hund")  # the German words across the top, lowercased
    assert {"kleiner", "spielt", "ball"} <= set(texts) and "English (written)" in texts, texts


# ---- why attention: one sentence through all five translators; each column shows its time, the curve its models


def act_why_attention(page):
    box = widget(page, "stTextArea", "German sentence").locator("textarea")
    box.fill("Ein kleiner Hund spielt mit einem Ball im Garten.")
    box.press("Control+Enter")


def check_why_attention(page, _):
    from playwright.sync_api import expect

    timings = page.locator(MAIN).get_by_text(re.compile(r"^\d+ ms on this server$"))
    expect(timings).to_have_count(5, timeout=TIMEOUT)
    expect(page.locator(MAIN).get_by_text(re.compile(r"\bdog\b", re.IGNORECASE)).first).to_be_visible(timeout=TIMEOUT)
    chart = page.locator(f"{MAIN} [data-testid='stPlotlyChart']").first
    texts = expect_chart_text(chart, lambda t: t == "Transformer")  # the curve's legend
    assert {"LSTM encoder-decoder", "ConvS2S", "21+"} <= set(texts), texts


# ---- disentangling: move the sprite to the right; the sprite is redrawn and the page names the latent that moved


def act_disentangling(page):
    from playwright.sync_api import expect

    assert not page.get_by_text("This demo's model is unavailable").count(), "no sprites model: the rebuild message"
    expect(page.locator(MAIN).get_by_text("Move a factor and watch which bar answers")).to_be_visible(timeout=TIMEOUT)
    before = first_image_src(page)
    thumb = widget(page, "stSlider", "x position").get_by_role("slider")
    thumb.focus()
    thumb.press("End")  # x = 1: the right edge
    return before


def check_disentangling(page, before):
    from playwright.sync_api import expect

    image = page.locator(f"{MAIN} [data-testid='stImage'] img").first
    expect(image).not_to_have_attribute("src", before, timeout=TIMEOUT)  # the sprite, drawn at its new place
    moved = page.locator(MAIN).get_by_text(re.compile(r"^Since the last change of a factor, z\d+ moved most"))
    expect(moved).to_be_visible(timeout=TIMEOUT)  # the code's bars were recomputed, the old ones kept in grey
    wait_until_idle(page)
    chart = page.locator(f"{MAIN} [data-testid='stPlotlyChart']").first
    expect_chart_text(chart, lambda t: t == "before the last change")  # the grey bars' legend


STEPS = {
    "home": Step("", act_home, check_home),
    "names": Step("Names", act_names, check_names),
    "essays": Step("Essays", act_essays, check_essays),
    "skills": Step("Skill_Neighbors", act_skills, check_skills),
    "vae": Step("VAE_Explorer", act_vae, check_vae),
    "digits": Step("Digit_Recognizer", act_digits, check_digits),
    "clustering": Step("Clustering", act_clustering, check_clustering),
    "gradient_descent": Step("Gradient_Descent", act_gradient_descent, check_gradient_descent),
    "resumes": Step("Resume_Classifier", act_resumes, check_resumes),
    "nlp_basics": Step("NLP_Basics", act_nlp_basics, check_nlp_basics),
    "maps": Step("Embedding_Maps", act_maps, check_maps),
    "translate": Step("Translate", act_translate, check_translate),
    "why_attention": Step("Why_Attention", act_why_attention, check_why_attention),
    "disentangling": Step("Disentangling", act_disentangling, check_disentangling),
}
PAGES = {name: step.path for name, step in STEPS.items()}  # every page's URL path, "" for the landing page


def operate(page, url: str, name: str) -> None:
    """Open one page, operate its main control, and wait for the expected output (raises if it does not come)."""
    step = STEPS[name]
    start = time.monotonic()
    open_page(page, f"{url}/{step.path}")
    assert not exception_shown(page), f"exception shown on /{step.path}"
    opened = time.monotonic()
    arm(page)
    before = step.act(page)
    acted = time.monotonic()
    step.check(page, before)
    page.wait_for_selector(f"{APP}[data-test-script-state='notRunning']", timeout=TIMEOUT)
    if os.environ.get("BROWSER_TIMINGS"):
        done = time.monotonic()
        print(f"{name}: open {opened - start:.1f} s, act {acted - opened:.1f} s, check {done - acted:.1f} s")
    assert not exception_shown(page), f"exception shown on /{step.path} after operating it"
