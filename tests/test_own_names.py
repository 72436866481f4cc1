"""Names from your own list: reading the list, training against the clock, the queue, the saved model through the
command line, scoring a whole list, and the page's "Train on your own list" tab (AppTest)."""

from __future__ import annotations

import contextlib
import io
import json
import math
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from gallery.names import jobs, own
from gallery.names import model as names_model
from tests.conftest import FEMALE_ENDINGS, MALE_ENDINGS, STEMS

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "1_Names.py")
TAB = "Train on your own list"


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def labelled_list() -> str:
    """210 made-up names: a stem, then an ending that depends on the label (what a bigram cannot see)."""
    return "\n".join(
        f"{stem}{end}\t{label}"
        for stem in STEMS
        for label, ends in (("f", FEMALE_ENDINGS), ("m", MALE_ENDINGS))
        for end in ends
    )


def plain_list() -> str:
    """60 items in several scripts, no labels."""
    latin = [f"{a}{b}" for a in ("Zoë", "José", "Ana", "Lukáš") for b in ("", "lia", "nka")]
    cyrillic = [f"{a}{b}" for a in ("Иван", "Мария", "Ольга") for b in ("", "ушка", "ова")]
    greek = [f"{a}{b}" for a in ("Νίκος", "Ελένη", "Άννα") for b in ("", "κη", "ούλα")]
    cjk = [f"{a}{b}" for a in ("王", "李", "張", "陳") for b in ("偉", "芳", "娜", "敏")]
    return "\n".join(latin + cyrillic + greek + cjk + ["Åsa", "Øystein", "Ægir", "Þór", "Đorđe", "Ðan"])


@pytest.fixture(scope="module")
def trained_gru():
    torch.set_num_threads(1)
    return own.train(own.read_list(labelled_list()), "gru", seconds=3, seed=0)


# ---------------------------------------------------------------------------------------------- reading


def test_read_list_keeps_labels_scripts_and_counts_what_it_skips():
    text = (
        "\ufeffAnna\tf\nBen\tm\nAnna\tf\n\n  Cara \tf\nDan\n"
        + "x" * 65
        + "\tm\n"
        + "\n".join(f"Name{i}\t{'f' if i % 2 else 'm'}" for i in range(10))
    )
    items = own.read_list(text.encode())
    assert items.labels == ("f", "m")
    assert ("Anna", "f") in items.pairs and ("Cara", "f") in items.pairs and items.pairs.count(("Anna", "f")) == 1
    assert items.skipped == {"longer than 64 characters": 1, "without a label (other lines have one)": 1}
    assert items.items == 13 and "13 different items" in items.summary()
    scripts = own.read_list(plain_list())
    assert scripts.labels == () and {label for _, label in scripts.pairs} == {own.NO_LABEL}
    assert ("Ελένηκη", "") in scripts.pairs and ("王偉", "") in scripts.pairs
    decomposed = own.read_list("Zoe\u0308\n" + "\n".join(f"n{i}" for i in range(10)))
    assert ("Zoë", "") in decomposed.pairs  # NFC: one character, as typed on most keyboards


@pytest.mark.parametrize(
    "data, message",
    [
        (b"", "empty"),
        (b"  \n\n\t\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary"),
        ("\n".join(f"n{i}" for i in range(12)).encode() + "\nJos\xe9\n".encode("latin-1"), "line 13"),
        (b"a" * (own.MAX_BYTES + 1), "over the limit of 5.0 MB"),
        (b"ab\n" * (own.MAX_LINES + 5), "200,000"),
        (("x" * 70 + "\n") * 20, "no usable line"),
        (b"Anna\n" * 30, "one item repeated"),
        (b"Anna\nBen\nCara\n", "only 3 different items"),
        ("\n".join(f"n{i}\tlabel{i}" for i in range(60)), "at most 50"),
        ("\n".join(chr(0x4E00 + i) * 2 for i in range(2100)), "2,100 different characters"),
    ],
    ids=[
        "empty",
        "blank",
        "binary",
        "latin-1",
        "over 5 MB",
        "too many lines",
        "only long lines",
        "one repeated",
        "few",
        "labels",
        "characters",
    ],
)
def test_read_list_refuses_bad_lists_with_a_reason(data, message):
    with pytest.raises(ValueError, match=message):
        own.read_list(data)


def test_split_holds_out_whole_items():
    pairs = [(f"n{i % 40}", "f" if i % 3 else "m") for i in range(80)]
    pairs = list(dict.fromkeys(pairs))
    train, val = own.split(pairs, seed=0)
    assert not {p[0] for p in train} & {p[0] for p in val}
    assert len({p[0] for p in val}) == 4 and own.split(pairs, seed=0) == (train, val)
    assert len(own.split(pairs[:10], seed=1)[1]) >= 1


# ---------------------------------------------------------------------------------------------- training


def test_training_on_a_small_list_gets_below_its_bigram_in_seconds(trained_gru):
    card, m = trained_gru.card, trained_gru.card["metrics"]
    assert m["validation_nll_per_char"] < m["bigram_validation_nll_per_char"], m
    assert card["train_seconds"] < 15 and card["steps"] > 0
    assert card["data"]["list_sha256"] == own.read_list(labelled_list()).sha256
    assert card["data"]["split"] == {"train": 189, "validation": 21}
    history = trained_gru.history
    assert history and all(r["bigram_nll"] == history[0]["bigram_nll"] for r in history)
    assert min(r["val_nll"] for r in history) == pytest.approx(m["validation_nll_per_char"], abs=0.02)


def test_labels_condition_the_samples(trained_gru):
    model = trained_gru.model
    female = names_model.sample(model, n=200, gender="f", temperature=0.5, seed=1)
    ends = lambda rows, endings: sum(any(r["name"].endswith(e) for e in endings) for r in rows) / len(rows)  # noqa: E731
    assert {r["label"] for r in female} == {"f"} and ends(female, FEMALE_ENDINGS) > 0.8
    either = {r["label"] for r in names_model.sample(model, n=100, seed=2)}
    assert either == {"f", "m"}
    for r in names_model.sample(model, n=50, seed=3):
        assert r["novel"] == (r["name"] not in {n for n, _ in own.read_list(labelled_list()).pairs})


def test_stop_keeps_the_best_weights_so_far():
    items = own.read_list(plain_list())
    start = time.perf_counter()
    calls = []
    trained = own.train(items, "rnn", seconds=60, seed=0, stop=lambda: len(calls) > 5, progress=calls.append)
    assert time.perf_counter() - start < 20
    assert trained.card["steps"] > 0 and len(trained.history) >= 6
    rows = names_model.sample(trained.model, n=20, seed=0)
    assert all(r["label"] is None for r in rows)


@pytest.mark.parametrize("kind, seconds", [("lstm", 5), ("gru", 0), ("gru", math.nan)])
def test_train_refuses_bad_settings(kind, seconds):
    with pytest.raises(ValueError):
        own.train(own.read_list(plain_list()), kind, seconds)


# ---------------------------------------------------------------------------------------------- the queue


def test_the_queue_trains_one_at_a_time_and_tells_each_its_place():
    queue = jobs.TrainingQueue(threads=1)
    items = own.read_list(labelled_list())
    first, second, third = (jobs.Job(items, "gru", 1.5, seed) for seed in range(3))
    for job in (first, second, third):
        queue.submit(job)
    deadline = time.monotonic() + 10
    while first.state != jobs.RUNNING and time.monotonic() < deadline:
        time.sleep(0.02)
    assert (queue.position(first), queue.position(second), queue.position(third)) == (0, 2, 3)
    assert second.state == third.state == jobs.QUEUED
    queue.cancel(third)
    assert third.state == jobs.CANCELLED and queue.position(third) is None
    queue.join(timeout=60)
    assert first.state == second.state == jobs.DONE and third.result is None
    assert first.ended <= second.started  # never two at once
    assert first.archive and second.result.model.labelled and queue.completed == 2


def test_stopping_a_running_job_keeps_its_model():
    queue = jobs.TrainingQueue(threads=1)
    job = queue.submit(jobs.Job(own.read_list(plain_list()), "gru", 60, 0))
    deadline = time.monotonic() + 20
    while len(job.history) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    queue.cancel(job)  # the running job: asked to stop
    queue.join(timeout=30)
    assert job.state == jobs.STOPPED and job.result is not None and job.elapsed() < 30


def test_queue_full():
    queue = jobs.TrainingQueue(threads=1, max_waiting=0)
    with pytest.raises(jobs.QueueFull):
        queue.submit(jobs.Job(own.read_list(plain_list()), "bigram", 10, 0))


# ---------------------------------------------------------------------------------------------- saved models


def run_cli(*args, process: bool = False):
    """``python -m gallery ...`` in a new process (``process``), or its ``main`` here (the same code, faster)."""
    if process:
        env = {"PATH": "", "OMP_NUM_THREADS": "1"}
        out = subprocess.run(
            [sys.executable, "-m", "gallery", *map(str, args)], capture_output=True, text=True, env=env, cwd=ROOT
        )
        assert "Traceback" not in out.stderr, out.stderr
        return out.returncode, json.loads(out.stdout)
    from gallery.__main__ import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main([str(a) for a in args])
    return code, json.loads(buf.getvalue())


def test_a_downloaded_model_samples_the_same_names_through_the_cli(trained_gru, tmp_path):
    archive = trained_gru.zip_bytes()
    with zipfile.ZipFile(io.BytesIO(archive)) as z:
        assert sorted(Path(n).name for n in z.namelist()) == [
            "README.md",
            "card.json",
            "config.json",
            "model.safetensors",
        ]
        z.extractall(tmp_path)
    (tmp_path / "model.zip").write_bytes(archive)
    folder = tmp_path / own.ARCHIVE_FOLDER
    in_page = names_model.sample(trained_gru.model, n=12, gender="m", prefix="ra", temperature=0.9, seed=5)
    for where, process in ((folder, True), (tmp_path / "model.zip", False)):
        code, rows = run_cli(
            "names", "sample", "--model", where, "-n", 12, "--label", "m", "--prefix", "ra", "--temperature", 0.9,
            "--seed", 5, process=process,
        )  # fmt: skip
        assert code == 0 and rows == in_page
    code, rows = run_cli("names", "score", "--model", folder, "--label", "f", "ramita", "ra☃")
    assert code == 0
    [expected] = names_model.score(trained_gru.model, ["ramita"], ["f"])
    assert rows[0]["nll_per_char"] == pytest.approx(expected, abs=1e-4) and "never saw" in rows[1]["error"]
    code, body = run_cli("names", "score", "--model", folder, "ramita")
    assert code == 1 and "--label" in body["error"]


def test_cli_train_then_score_a_whole_list(tmp_path):
    words = tmp_path / "list.txt"
    words.write_text(plain_list(), encoding="utf-8")
    code, result = run_cli("names", "train", "--words", words, "--out", tmp_path / "m", "--model", "bigram")
    assert code == 0
    keys = {"model_dir", "items", "train_items", "validation_items", "validation_nats_per_char"}
    assert keys | {"bigram_nats_per_char", "steps", "seconds"} <= set(result)
    assert result["items"] == 52 and result["train_items"] + result["validation_items"] == 52
    assert result["validation_nats_per_char"] == result["bigram_nats_per_char"]  # the bigram is its own baseline
    card = json.loads((tmp_path / "m" / "card.json").read_text())
    assert card["data"]["list_sha256"] == own.read_list(plain_list()).sha256
    test = tmp_path / "test.txt"
    test.write_text("Zoëlia\nИванова\nKeira\n王芳\n\n", encoding="utf-8")  # K is new to the model
    code, scored = run_cli("names", "score", "--model", tmp_path / "m", "--words", test)
    assert code == 0 and scored["scored"] == 3 and scored["unscorable"] == 1
    model = own.load_dir(tmp_path / "m")
    known = ["Zoëlia", "Иванова", "王芳"]
    nll, steps = names_model.nll_per_name(model.net, known, ["", "", ""], model.vocab, model.labels)
    assert scored["nats_per_char"] == pytest.approx((nll.sum() / steps.sum()).item(), abs=1e-4)
    assert int(steps.sum()) == sum(map(len, known)) + 3  # one end mark per item


def test_cli_train_refuses_a_folder_that_is_not_a_name_model(tmp_path):
    words = tmp_path / "list.txt"
    words.write_text(plain_list(), encoding="utf-8")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.tex").write_text("precious")
    code, body = run_cli("names", "train", "--words", words, "--out", tmp_path / "mine", "--model", "bigram")
    assert code == 1 and "not a name model" in body["error"]
    assert (tmp_path / "mine" / "thesis.tex").read_text() == "precious"
    code, body = run_cli("names", "train", "--words", words, "--out", tmp_path / "m", "--seconds", "0")
    assert code == 1 and "--seconds" in body["error"]


# ---------------------------------------------------------------------------------------------- the page


def own_tab(at: AppTest) -> AppTest:
    at.session_state["names_tab"] = TAB
    return at.run()


def wait_for(at: AppTest, done, seconds: float = 40) -> AppTest:
    deadline = time.monotonic() + seconds
    while not done(at) and time.monotonic() < deadline:
        time.sleep(0.3)
        at.run()
    assert not at.exception, at.exception
    return at


def test_page_trains_in_the_background_queues_a_second_visitor_and_generates(use_smoke_artifacts):
    first = own_tab(AppTest.from_file(PAGE, default_timeout=60))
    assert not first.exception and "Paste a list" in first.info[0].value
    first.text_area(key="names_own_text").input(labelled_list()).run()
    assert any("210 different items" in c.value for c in first.caption)
    first.slider(key="names_own_seconds").set_value(20)
    first.button(key="names_own_train").click().run()
    wait_for(first, lambda at: any(b.key == "names_own_stop" for b in at.button))
    assert first.button(key="names_own_train").disabled  # one training per visitor at a time

    second = own_tab(AppTest.from_file(PAGE, default_timeout=60))  # another visitor, same server process
    assert any("Another visitor" in c.value for c in second.caption)
    upload = ("greek.txt", plain_list().encode(), "text/plain")
    second.file_uploader(key="names_own_upload").set_value(upload).run()
    assert any("From the file greek.txt: 52 lines" in c.value for c in second.caption)
    second.selectbox(key="names_own_model").select("bigram").run()
    second.button(key="names_own_train").click().run()
    assert "1 training ahead of yours" in second.info[0].value

    wait_for(first, lambda at: len(at.get("plotly_chart")) > 0 and len(at.session_state["names_own_job"].history) > 2)
    first.button(key="names_own_stop").click().run()
    wait_for(first, lambda at: len(at.success) > 0)
    assert "stopped early by you" in first.success[0].value
    frame = first.dataframe[0].value
    assert (
        len(frame) == 20 and set(frame["label"]) <= {"f", "m"} and set(frame["in your list"]) <= {"new", "in your list"}
    )
    assert {b.label for b in first.get("download_button")} == {
        "Download the model (.zip)",
        "Download these samples (.csv)",
    }

    first.selectbox(key="names_own_label").select("m")
    first.text_input(key="names_own_prefix").input("ra")
    first.slider(key="names_own_count").set_value(7)
    next(b for b in first.button if b.form_id).click().run()
    frame = first.dataframe[0].value
    assert len(frame) == 7 and set(frame["label"]) == {"m"} and frame["name"].str.startswith("ra").all()
    first.text_input(key="names_own_prefix").input("Ж")
    next(b for b in first.button if b.form_id).click().run()
    assert not first.exception and "never saw" in first.warning[0].value

    wait_for(second, lambda at: len(at.success) > 0)
    assert "Training done" in second.success[0].value and "label" not in second.dataframe[0].value


def test_the_benchmark_runs_on_a_small_list():
    from benchmarks import own_names

    words = [line.split("\t")[0] for line in labelled_list().splitlines()]
    r = own_names.measure(words, seconds=1, seed=0)
    assert r["test_items"] == 21 and r["unscorable"] == 0 and 0 < r["ratio"] < 1.5 and r["novel_fraction"] >= 0
