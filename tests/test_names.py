"""Names demo: cleaning, vocabulary, sampling, scoring, trainer, CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from gallery.names import data
from gallery.names import model as names
from gallery.text import CharVocab


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("shivani", "shivani"),
        ("  Smt. Shyani Devi ", "shyani"),
        ("smt shyani devi", "shyani"),
        ("kumari pooja", "pooja"),
        ("ramdin verma", "ramdin"),
        ("roop chand @ mamu", "roop"),
        ("mohd. rafiq", "rafiq"),
        ("राम", None),
        ("\ufffd\ufffdta", None),
        ("", None),
        (None, None),
        ("a", None),
        ("r4hul", None),
    ],
)
def test_clean_name(raw, expected):
    assert data.clean_name(raw) == expected


def test_load_pairs_dedupes_and_keeps_majority_gender(tmp_path):
    rows = "name,gender,race\nkiran,f,indian\nKiran,f,indian\nkiran,m,indian\nravi,m,indian\nsmt ravi,m,indian\n"
    (tmp_path / "Indian-Female-Names.csv").write_text(rows, encoding="utf-8")
    (tmp_path / "Indian-Male-Names.csv").write_text("name,gender,race\nasha,f,indian\nasha,m,indian\n")
    assert data.load_pairs(tmp_path) == [("asha", "female"), ("asha", "male"), ("kiran", "female"), ("ravi", "male")]


def test_split_is_by_distinct_name_and_deterministic(names_dir):
    pairs = data.load_pairs(names_dir)
    splits = data.split_pairs(pairs, seed=0)
    assert splits == data.split_pairs(pairs, seed=0)
    seen = [{n for n, _ in splits[k]} for k in ("train", "val", "test")]
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])
    assert sum(len(v) for v in splits.values()) == len(pairs)


def test_vocabulary_round_trip():
    text = "priyanka."
    assert names.VOCAB.decode(names.VOCAB.encode(text)) == text
    vocab = CharVocab("ab\n")
    assert vocab.unknown("abcz\n") == ["c", "z"]
    with pytest.raises(ValueError):
        CharVocab("aa")


@pytest.fixture
def gru(use_smoke_artifacts):
    return names.load("names-gru")


def test_sampling_honours_prefix_gender_and_max_length(gru):
    rows = names.sample(gru, n=50, gender="male", prefix="Ra", temperature=1.5, max_len=6, seed=1)
    assert len(rows) == 50
    assert all(r["name"].startswith("ra") and len(r["name"]) <= 6 for r in rows)
    assert {r["gender"] for r in rows} == {"male"}
    either = {r["gender"] for r in names.sample(gru, n=60, gender="either", seed=0)}
    assert either == {"female", "male"}


def test_top_k_one_is_greedy(gru):
    rows = names.sample(gru, n=5, gender="female", top_k=1, seed=3)
    again = names.sample(gru, n=5, gender="female", top_k=1, seed=99)
    assert len({r["name"] for r in rows}) == 1 and rows == again
    # Greedy by hand: always the likeliest next letter.
    name, idx, state = "", torch.tensor([[names.END]]), None
    cls = names.gender_ids(["female"])
    for _ in range(20):
        logits, state = gru.net(idx, cls, state)
        nxt = int(logits[0, -1].argmax())
        if nxt == names.END:
            break
        name += names.VOCAB.chars[nxt]
        idx = torch.tensor([[nxt]])
    assert rows[0]["name"] == name


def test_sampling_is_reproducible_and_marks_novelty(gru):
    a = names.sample(gru, n=20, seed=7)
    assert a == names.sample(gru, n=20, seed=7)
    for r in a:
        assert r["novel"] == (r["name"] not in gru.train_names)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"prefix": "r4"}, "a-z"),
        ({"prefix": "x" * 25}, "shorter"),
        ({"n": 0}, "between"),
        ({"gender": "other"}, "Gender"),
        ({"temperature": 0}, "Temperature"),
    ],
)
def test_sampling_rejects_bad_input(gru, kwargs, message):
    with pytest.raises(ValueError, match=message):
        names.sample(gru, **kwargs)


def test_score_agrees_with_step_by_step_loss(gru):
    """score() must equal the mean cross-entropy of feeding the name one letter at a time, end step included."""
    name = "ramesh"
    [score] = names.score(gru, [name], ["male"])
    ids = [names.END] + names.VOCAB.encode(name) + [names.END]
    state, total = None, 0.0
    cls = names.gender_ids(["male"])
    with torch.no_grad():
        for a, b in zip(ids, ids[1:]):
            logits, state = gru.net(torch.tensor([[a]]), cls, state)
            total += F.cross_entropy(logits[0], torch.tensor([b])).item()
    assert score == pytest.approx(total / (len(name) + 1), rel=1e-5)


def test_next_char_steps_cover_the_name_and_end(gru):
    steps = names.next_char_steps(gru, "asha", "female", top=3)
    assert [s["next"] for s in steps] == ["a", "s", "h", "a", "end"]
    assert all(len(s["top"]) == 3 and s["top"][0][1] >= s["top"][-1][1] for s in steps)


@pytest.mark.parametrize("kind", names.MODELS)
def test_smoke_trainer_writes_loadable_artifacts(use_smoke_artifacts, kind):
    model = names.load(f"names-{kind}")
    card = model.card
    assert card["weights_sha256"] and card["smoke"] is True
    for key in ("test_nll_per_char", "bigram_test_nll_per_char", "gender_accuracy", "novel_fraction"):
        assert key in card["metrics"]
    assert names.sample(model, n=3, seed=0)


def run_cli(*args, root):
    env = {"GALLERY_PRETRAINED": str(root), "PATH": "", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "gallery", *args], capture_output=True, text=True, env=env, check=False)
    return out.returncode, json.loads(out.stdout)


def test_cli_sample_and_score(smoke_root):
    code, rows = run_cli(
        "names",
        "sample",
        "--gender",
        "female",
        "--prefix",
        "ra",
        "-n",
        "5",
        "--temperature",
        "0.8",
        "--seed",
        "0",
        root=smoke_root,
    )
    assert code == 0 and len(rows) == 5
    assert set(rows[0]) == {"name", "gender", "nll_per_char", "novel"} and rows[0]["name"].startswith("ra")
    code, rows = run_cli("names", "score", "--gender", "male", "Ramesh", "smt. ravi", "राम", root=smoke_root)
    assert code == 0
    assert rows[0]["nll_per_char"] > 0 and rows[1]["cleaned"] == "ravi"
    assert "error" in rows[2] and "nll_per_char" not in rows[2]
    code, body = run_cli("names", "sample", "--prefix", "r2", root=smoke_root)
    assert code == 1 and "a-z" in body["error"]


def test_sampled_likelihoods_match_score(gru):
    rows = names.sample(gru, n=30, gender="either", prefix="s", temperature=1.3, max_len=5, seed=4)
    scored = names.score(gru, [r["name"] for r in rows], [r["gender"] for r in rows])
    assert [r["nll_per_char"] for r in rows] == pytest.approx(scored, abs=1e-3)
