"""Essays, second round (issue 34): cells, features, per-character scores, top-p, the n-gram artifact,
resuming from the artifact alone, the recipe benchmark and the page's new sections."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from gallery import charmodel
from gallery.essays import cells, features, yours
from gallery.essays import model as essays
from gallery.essays.ngram import NGram
from gallery.text import CharVocab
from tests.test_names import run_cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def lstm(use_smoke_artifacts):
    return essays.load()


# ------------------------------------------------------------------------------------------ the features


def test_features_on_a_sentence():
    text = 'He said "hi (there)" at 10.5 pm.\nNext *one* www.x.org ok'
    f = features.compute(text)
    inside_quote = text.index("hi")
    assert f["quotes"][inside_quote] and not f["quotes"][text.index("at")]
    assert f["parentheses"][text.index("there")] and not f["parentheses"][text.index(" at")]
    assert f["word_position"][text.index("said") + 2] == 3 and f["word_position"][text.index(" at")] == 0
    assert f["line_position"][text.index("Next")] == 1
    assert f["after_full_stop"][text.index("\nNext")] and not f["after_full_stop"][text.index("10.5") + 2]
    assert f["emphasis"][text.index("one")] and not f["emphasis"][text.index(" www")]
    assert f["number_or_url"][text.index("10.5") + 3] and f["number_or_url"][text.index("x.org")]


def test_auc_from_ranks_matches_the_pairwise_definition():
    rng = np.random.default_rng(0)
    acts = rng.integers(0, 5, size=(60, 3)).astype(np.float32)  # many ties
    label = rng.random(60) < 0.4
    got = features.auc_per_cell(features.ranks(acts), label)
    pos, neg = acts[label], acts[~label]
    want = [
        ((pos[:, None, c] > neg[None, :, c]).mean() + 0.5 * (pos[:, None, c] == neg[None, :, c]).mean())
        for c in range(3)
    ]
    assert got == pytest.approx(want)


def bracket_text(rng: random.Random, n: int) -> str:
    """A toy language: x and y inside brackets, a and b outside, so predicting a letter needs the bracket state."""
    out, inside = [], False
    while len(out) < n:
        if rng.random() < 0.12:
            out.append(")" if inside else "(")
            inside = not inside
        else:
            out.append(rng.choice("xy" if inside else "ab"))
    return "".join(out)


def test_the_finder_finds_a_planted_bracket_cell():
    torch.manual_seed(0)
    rng = random.Random(0)
    vocab = CharVocab("ab()xy")
    net = charmodel.CharRNN(charmodel.CharRNNConfig(len(vocab), "lstm", 8, 16, 1, 0.0))
    opt = torch.optim.Adam(net.parameters(), lr=1e-2)
    ids = torch.tensor(vocab.encode(bracket_text(rng, 20_000)))
    for _ in range(150):
        starts = torch.randint(0, len(ids) - 65, (32,))
        x = torch.stack([ids[s : s + 64] for s in starts])
        y = torch.stack([ids[s + 1 : s + 65] for s in starts])
        logits, _ = net(x)
        loss = F.cross_entropy(logits.reshape(-1, len(vocab)), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    test = bracket_text(rng, 3000)
    found = features.best_cells(cells.trace(net, vocab.encode(test)).cells, test, top=2, names=["parentheses"])
    best = found["parentheses"][0]
    assert best["auc"] > 0.95, found
    held_out = bracket_text(rng, 3000)
    again = cells.trace(net, vocab.encode(held_out)).cells
    assert features.score_of(again, held_out, "parentheses", best["layer"], best["cell"]) > 0.95


def test_trace_matches_stepping_and_streams_match_one_pass(lstm):
    text = 'The (quick) brown fox said "jump".\n\n' * 40
    ids = lstm.vocab.encode(text)
    one = cells.trace(lstm.net, ids)
    assert one.cells.shape == (lstm.net.cfg.layers, len(ids), lstm.net.cfg.hidden)
    stepper = charmodel.LSTMStepper(lstm.net, torch.float32)
    state = charmodel.LSTMStepper.from_torch_state(lstm.net(torch.tensor([ids[:1]]))[1])
    for i in ids[1:50]:
        _, state = stepper.step(torch.tensor([i]), state)
    top_c = torch.tanh(state[1][-1][0]).numpy()
    assert np.abs(top_c - one.cells[-1, 49].astype(np.float32)).max() < 2e-3
    pieces = cells.trace(lstm.net, ids, streams=4, warmup=64)
    assert pieces.cells.shape == one.cells.shape
    assert np.abs(pieces.cells[:, :64].astype(float) - one.cells[:, :64].astype(float)).max() < 2e-3
    for share in one.saturation.values():
        assert share.shape == (lstm.net.cfg.layers, lstm.net.cfg.hidden, 2) and (share.sum(-1) <= 1 + 1e-6).all()


# --------------------------------------------------------------------------- activations, scores, top-p


def test_activations_have_one_value_per_character(smoke_root, tmp_path):
    text = "Caf\u00e9 \u201cquoted\u201d \u2014 \u4e2d and (more)\r\n"
    path = tmp_path / "t.txt"
    path.write_text(text, encoding="utf-8")
    code, out = run_cli("essays", "activations", "--file", str(path), "--layer", "1", "--cell", "3", root=smoke_root)
    assert code == 0 and len(out["values"]) == len(text)
    assert "\u4e2d" in out["note"] and "\u201c" in out["note"]
    assert all(-1 <= v <= 1 for v in out["values"])
    code, out = run_cli("essays", "activations", "--file", str(path), "--layer", "9", "--cell", "0", root=smoke_root)
    assert code == 1 and "layers are 1 to" in out["error"]


def test_cells_verb_names_a_cell_per_feature(smoke_root, tmp_path):
    path = tmp_path / "t.txt"
    path.write_text('She wrote "yes (really)" and 42 more. ' * 30, encoding="utf-8")
    code, out = run_cli("essays", "cells", "--file", str(path), root=smoke_root)
    assert code == 0 and set(out["features"]) == set(features.FEATURES)
    assert {"layer", "cell", "auc"} <= out["features"]["quotes"].keys()
    assert {"layer", "cell", "corr"} <= out["features"]["line_position"].keys()
    code, out = run_cli("essays", "cells", "--file", str(path), "--feature", "quotes", "--top", "3", root=smoke_root)
    assert code == 0 and list(out["features"]) == ["quotes"] and len(out["features"]["quotes"]) == 3
    aucs = [r["auc"] for r in out["features"]["quotes"]]
    assert aucs == sorted(aucs, reverse=True)


def test_per_char_scores_sum_to_the_total(smoke_root, tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("Startups grow fast.\n\nGrowth is \u201ceverything\u201d.", encoding="utf-8")
    code, out = run_cli("essays", "score", "--file", str(path), "--per-char", root=smoke_root)
    assert code == 0 and len(out["per_char"]) == out["chars"]
    assert sum(r["nats"] for r in out["per_char"]) == pytest.approx(out["total_nats"], abs=1e-3)
    assert out["total_nats"] == pytest.approx(out["nats_per_char"] * out["chars"], abs=1e-2)
    assert all(1 <= r["rank"] <= 96 for r in out["per_char"])


def test_ranks_agree_with_the_probabilities(lstm):
    ids = torch.tensor(lstm.vocab.encode("How to start a startup"))
    nats, ranks = essays.char_nats_and_ranks(lstm.net, ids)
    with torch.no_grad():
        logp = F.log_softmax(lstm.net(ids[None, :-1])[0][0], -1)
    for t in range(len(ids) - 1):
        assert nats[t] == pytest.approx(-logp[t, ids[t + 1]].item(), abs=1e-4)
        assert ranks[t] == 1 + int((logp[t] > logp[t, ids[t + 1]]).sum())


def test_nucleus_keeps_the_smallest_set_reaching_p():
    probs = torch.tensor([0.5, 0.3, 0.15, 0.05])
    assert essays.nucleus(probs, 0.7).tolist() == pytest.approx([0.5, 0.3, 0.0, 0.0])
    assert essays.nucleus(probs, 0.8).tolist() == pytest.approx([0.5, 0.3, 0.0, 0.0])
    assert essays.nucleus(probs, 0.81).tolist() == pytest.approx([0.5, 0.3, 0.15, 0.0])
    assert essays.nucleus(probs, 0.1).tolist() == pytest.approx([0.5, 0.0, 0.0, 0.0])


def test_tiny_top_p_is_greedy(lstm):
    greedy = essays.generate(lstm, "The", length=40, temperature=0)
    assert essays.generate(lstm, "The", length=40, temperature=1.0, top_p=1e-6, seed=3) == greedy
    with pytest.raises(ValueError, match="Top-p"):
        essays.generate(lstm, "The", length=5, top_p=0)


def test_ngram_survives_its_tensors():
    text = "the cat sat on the mat. " * 30
    a = NGram(4, "abcdefghijklmnopqrstuvwxyz .").fit(text)
    b = NGram.from_tensors(a.to_tensors(), a.alphabet)
    assert b.nats("the mat sat.") == pytest.approx(a.nats("the mat sat."))
    assert sum(a.nats_each("the hat")) / 7 == pytest.approx(a.nats("the hat"))


def test_your_text_scored_by_both_models(lstm):
    scored = yours.score(lstm, "How to start a \u201cstartup\u201d \u4e2d: grow fast.", yours.load_ngram())
    assert len(scored.nats) == len(scored.ranks) == len(scored.ngram_nats) == len(scored.text) - 1
    assert "\u4e2d" in scored.note and sum(scored.bucket_shares().values()) == pytest.approx(1)
    assert scored.surprising_words(3) and all(w["nats"] > 0 for w in scored.surprising_words(3))
    for bad, message in (("", "empty"), ("   ", "empty"), ("x" * (yours.MAX_CHARS + 1), "at most")):
        with pytest.raises(ValueError, match=message):
            yours.score(lstm, bad)


# --------------------------------------------------------------------- training: resume, recipe, card


def test_resume_from_the_artifact_alone(essays_dir, tmp_path):
    from trainers import essays as trainer

    out, common = tmp_path / "essays-lstm", ["--smoke", "--data-dir", str(essays_dir)]
    trainer.main([*common, "--out", str(out), "--checkpoint", str(tmp_path / "a.pt")])
    first = json.loads((out / "card.json").read_text())
    trainer.main(
        [*common, "--out", str(out), "--checkpoint", str(tmp_path / "new.pt"), "--resume", "--schedule", "plateau"]
        + ["--minutes", "0.02"]
    )  # a new machine: no checkpoint, only the committed artifact
    card = json.loads((out / "card.json").read_text())
    assert card["steps"] > first["steps"] and len(card["commands_run"]) == 2
    assert card["history"][: len(first["history"])] == first["history"]
    assert card["ladder"]["first_lstm"]["nats_per_char"] == first["metrics"]["validation_nats_per_char"]
    assert card["history"][len(first["history"])].get("start")  # the artifact's score before this run trained


def test_the_smoke_card_has_words_cells_and_ladder(lstm):
    card = lstm.card
    assert 0 <= card["metrics"]["known_word_share"]["share"] <= 1
    assert set(card["ladder"]) == {"unigram", "ngram3", "first_lstm", "lstm_now"}
    assert set(card["cells"]["features"]) == set(features.FEATURES)
    assert {g for g in card["cells"]["gate_saturation"]} == set(cells.GATES)


def test_the_recipe_benchmark_in_smoke_mode(essays_dir, capsys):
    from benchmarks import essays_recipe

    rows = essays_recipe.main(["--smoke", "--data-dir", str(essays_dir)])
    assert set(rows) == {"plain", "regular"} and all(r["steps"] > 0 for r in rows.values())
    assert "slope/10min" in capsys.readouterr().out


# --------------------------------------------------------------------------------------------- the page


def test_the_page_scores_your_text_and_shows_a_cell(use_smoke_artifacts):
    at = AppTest.from_file(str(ROOT / "pages/2_Essays.py"), default_timeout=60)
    at.session_state["essays_tab"] = "Inside the LSTM"
    at.session_state["yours_source"] = "Paste your own"
    at.run()
    assert not at.exception, at.exception
    assert any(n.key.startswith("essay_cell_") for n in at.number_input)  # the essay's cell picker
    assert at.selectbox(key="essay_preset").value != "(choose a cell yourself)"  # a cell the card found, first
    at.text_area(key="yours_text").input('She said "yes (really)" and left.')
    at.run()
    assert not at.exception, at.exception
    assert any("nats per character" in m.label for m in at.metric)
    at.toggle(key="essay_find").set_value(True)
    at.run()
    assert not at.exception, at.exception
    at.text_area(key="yours_text").input("   ")
    at.run()
    assert not at.exception and any("empty" in w.value for w in at.warning)


def test_the_page_says_when_the_ngram_is_missing(use_smoke_artifacts, tmp_path, monkeypatch):
    from gallery import registry

    root = tmp_path / "pretrained"
    shutil.copytree(use_smoke_artifacts, root)
    shutil.rmtree(root / "essays-ngram5")
    monkeypatch.setattr(registry, "PRETRAINED", root)
    at = AppTest.from_file(str(ROOT / "pages/2_Essays.py"), default_timeout=60)
    at.session_state["yours_source"] = "Another voice: a cake recipe"
    at.run()
    assert not at.exception, at.exception
    assert any("python -m trainers.essays --model ngram5" in i.value for i in at.info)


def test_a_resumed_plateau_schedule_goes_on_where_the_card_left_it():
    from trainers.essays import plateau_state

    history = [
        {"step": 100, "val_nats": 1.30},  # written by the cosine schedule: no rate recorded
        {"step": 150, "lr": 1e-3, "val_nats": 1.28},  # the best
        {"step": 200, "lr": 1e-3, "val_nats": 1.29},  # not better: halved
        {"step": 250, "lr": 5e-4, "val_nats": 1.30},  # not better: halved again
    ]
    assert plateau_state(history, 150, 1e-3) == (0.25, 2)
    assert plateau_state(history[:2], 150, 1e-3) == (1.0, 0)
    assert plateau_state(history[:1], 100, 1e-3) == (1.0, 0)
