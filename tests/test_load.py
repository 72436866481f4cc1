"""Many users at once: eight simultaneous browser visitors on one served app (issue 12, "concurrency").

Each visitor is its own Chromium context (its own Streamlit session), all at once through Playwright's async API.
Every visitor uses inputs of its own and checks that the page answers *them* (tools/visitors.py says how per
page), so any state leaking between sessions fails. Models must load once for all visitors (Streamlit's own
``st.cache_resource`` counters), the server's memory must stay within 20% of its memory after the first visit of
each page, and its log must hold no traceback and no warning. ``python -m benchmarks.load`` runs the same
visitors longer and prints latencies.
"""

from __future__ import annotations

import importlib.util
import os
from itertools import product

import pytest

from tools.browser import CHROMIUM, running_app
from tools.visitors import (
    CONSONANTS,
    SCENARIOS,
    cache_computes,
    expected_neighbours,
    german_sentence,
    measure_page,
    names_prefix,
    percentile,
    rss_mb,
    server_pid,
    skill_words,
    visitors_run,
)

needs_browser = pytest.mark.skipif(
    importlib.util.find_spec("playwright") is None or not os.path.exists(CHROMIUM),
    reason=f"needs the playwright package and Chromium at {CHROMIUM} (apt-get install chromium)",
)

VISITORS = 8
# One row per page the crowd goes through; a page is added with its scenario in tools.visitors.SCENARIOS.
# Pages with per-visitor checkable output that fit a 2-core CI run with 8 Chromium pages (translate: the model is
# shared by all visitors, and reading attention once crashed under them).
CROWD_PAGES = ("names", "skills", "translate")


def test_no_two_visitors_ask_the_same_question():
    """The checks can only catch a leak if every visitor's inputs (and so answers) differ from all others'."""
    most = len(CONSONANTS)
    prefixes = [names_prefix(v, j) for v, j in product(range(most), range(70))]
    assert len(set(prefixes)) == len(prefixes)
    assert not any(a != b and b.startswith(a) for a, b in product(prefixes, prefixes))  # no prefix inside another
    for visitors in range(1, most + 1):
        shares = [skill_words(v, visitors) for v in range(visitors)]
        assert all(len(set(w)) >= 2 for w in shares)  # a visitor's next query always changes the answer
        assert len({w for share in shares for w in share}) == sum(len(share) for share in shares)
    answers = expected_neighbours()  # the skills page's answers differ from word to word, and from php's
    assert len({tuple(a) for a in answers.values()} | {tuple(expected_neighbours(("php",))["php"])}) == len(answers) + 1


def test_percentile_is_nearest_rank():
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile(list(range(1, 21)), 95) == 19
    assert percentile([5.0], 95) == 5.0


@needs_browser
def test_eight_visitors_at_once_each_get_their_own_answers(tmp_path):
    assert set(CROWD_PAGES) <= set(SCENARIOS)
    log = tmp_path / "server.log"
    with running_app(log=log) as url:
        pid = server_pid(url)
        visitors_run(url, 1, CROWD_PAGES, per_page=1)  # the first visit of each page: its models load
        first_memory, first_computes = rss_mb(pid), cache_computes(url)
        crowd = visitors_run(url, VISITORS, CROWD_PAGES, per_page=1)  # raises on any visitor's error or wrong answer
        memory, computes = rss_mb(pid), cache_computes(url)
    done = {v.index: sorted(i.page for i in v.interactions) for v in crowd}
    assert done == {i: sorted(CROWD_PAGES) for i in range(VISITORS)}, done  # each checked its own answer per page

    # Every page's model loader is a st.cache_resource function that ran on the first visits ...
    assert first_computes.get("__main__.load", 0) >= len(CROWD_PAGES), first_computes
    # ... and never again for eight more visitors: each model loaded once for all of them.
    assert computes == first_computes, (first_computes, computes)
    assert memory <= 1.2 * first_memory, f"server: {first_memory:.0f} MB after first visits, {memory:.0f} MB now"
    server_log = log.read_text()
    assert "Traceback" not in server_log and "WARNING" not in server_log.upper(), server_log[-3000:]


def test_translate_sentences_differ_for_a_long_run():
    """The translate page caches its answers: a visitor's sentences must not repeat within a benchmark's run."""
    for visitor in range(len(CONSONANTS)):
        sentences = [german_sentence(visitor, j)[0] for j in range(132)]
        assert len(set(sentences)) == 132


@needs_browser
def test_server_cpu_per_interaction_is_read_and_below_wall_clock():
    """The server's CPU time per interaction (from /proc) is measured: more than nothing, less than the wait."""
    with running_app() as url:
        pid = server_pid(url)
        measured = measure_page(url, pid, "names", 1, seconds=3)
    assert len(measured.seconds) >= 2, measured
    wall_ms = 1000 * sum(measured.seconds) / len(measured.seconds)
    assert 0 < measured.server_cpu_ms < wall_ms, (measured.server_cpu_ms, wall_ms)
