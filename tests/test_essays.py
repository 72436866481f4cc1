"""Essays demo: cleaning, prompt handling, generation, scoring, n-gram baseline, CLI."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from gallery import charmodel
from gallery.essays import data
from gallery.essays import model as essays
from gallery.essays.ngram import NGram, unigram_nats
from gallery.text import CharVocab
from tests.test_names import run_cli


def test_clean_text_keeps_case_paragraphs_and_markdown():
    raw = (
        "**Mods**\r\n\r\n\r\nIt\u2019s \u201cgood\u201d \u2014 see \\[1\\] _caf\u00e9_  \u00a0ok.  \nNext\u2026 \u4e2d"
    )
    assert data.clean_text(raw) == '**Mods**\n\nIt\'s "good" -- see [1] _cafe_ ok.\nNext...'
    assert set(data.clean_text(raw)) <= set(data.ALPHABET)


def test_split_holds_out_whole_essays(essays_dir):
    all_essays = data.load_essays(essays_dir)
    train, val = data.split_essays(all_essays, val_fraction=0.2, seed=0)
    assert len(val) == 4 and not {e["id"] for e in train} & {e["id"] for e in val}
    assert (train, val) == data.split_essays(all_essays, val_fraction=0.2, seed=0)


def test_vocabulary_round_trip():
    vocab = CharVocab(data.ALPHABET)
    text = data.clean_text("Hello, World!\n\nA (second) paragraph: 42 ~ {x}.")
    assert vocab.decode(vocab.encode(text)) == text


def test_prompt_handling():
    vocab = CharVocab(data.ALPHABET)
    empty = essays.prepare_prompt("   ", vocab)
    assert empty.text == essays.PARAGRAPH and "empty" in empty.note
    odd = essays.prepare_prompt("Caf\u00e9 \u4e2d\u6587 rules", vocab)
    assert odd.text == "Cafe rules" and "\u4e2d" in odd.note
    long = essays.prepare_prompt("word " * 1000, vocab)
    assert len(long.text) <= essays.MAX_PROMPT and "last" in long.note
    assert essays.prepare_prompt("How to start", vocab).note == ""


def test_ngram_baselines_beat_uniform_and_normalise():
    text = "the cat sat on the mat. " * 50
    alphabet = data.ALPHABET
    model = NGram(4, alphabet).fit(text)
    assert sum(model.prob("the ", c) for c in alphabet) == pytest.approx(1.0)
    assert sum(model.prob("zq", c) for c in alphabet) == pytest.approx(1.0)
    assert (
        model.nats("the mat sat on the cat. ") < unigram_nats(text, "the mat sat", alphabet) < math.log(len(alphabet))
    )


@pytest.fixture
def lstm(use_smoke_artifacts):
    return essays.load()


def test_generation_is_reproducible_and_honours_length(lstm):
    a = essays.generate(lstm, "How to", length=120, temperature=0.8, seed=1)
    assert len(a) == 120 and a == essays.generate(lstm, "How to", length=120, temperature=0.8, seed=1)
    assert a != essays.generate(lstm, "How to", length=120, temperature=0.8, seed=2)
    assert len(essays.generate(lstm, "How to", length=10**6)) == essays.MAX_LENGTH


def test_temperature_zero_is_greedy_and_temperature_changes_the_text(lstm):
    greedy = essays.generate(lstm, "The", length=60, temperature=0, seed=1)
    assert greedy == essays.generate(lstm, "The", length=60, temperature=0, seed=2)
    steps = list(essays.stream(lstm, "The", length=60, temperature=0, top=3))
    assert all(s.char == s.top[0][0] for s in steps)
    hot = essays.generate(lstm, "The", length=60, temperature=2.0, seed=1)
    cold = essays.generate(lstm, "The", length=60, temperature=0.2, seed=1)
    assert hot != cold


def test_score_agrees_with_training_loss(lstm, smoke_root, tmp_path):
    text = "Startups are companies designed to grow fast.\n\nGrowth is everything."
    path = tmp_path / "essay.txt"
    path.write_text(text, encoding="utf-8")
    code, result = run_cli("essays", "score", "--file", str(path), root=smoke_root)
    ids = torch.tensor(lstm.vocab.encode(text))
    with torch.no_grad():
        logits, _ = lstm.net(ids[None, :-1])
    loss = F.cross_entropy(logits[0], ids[1:]).item()
    assert code == 0 and result["chars"] == len(text) - 1
    assert result["nats_per_char"] == pytest.approx(loss, abs=1e-3)
    assert result["bits_per_char"] == pytest.approx(loss / math.log(2), abs=1e-3)


def test_cli_generate_and_errors(smoke_root, tmp_path):
    code, result = run_cli(
        "essays",
        "generate",
        "--prompt",
        "How to start",
        "--length",
        "50",
        "--temperature",
        "0.8",
        "--seed",
        "0",
        root=smoke_root,
    )
    assert code == 0 and len(result["text"]) == 50
    code, result = run_cli("essays", "score", "--file", str(tmp_path / "missing.txt"), root=smoke_root)
    assert code == 1 and "cannot read" in result["error"]
    code, result = run_cli("essays", "generate", "--temperature", "-1", root=smoke_root)
    assert code == 1 and "negative" in result["error"]
    code, result = run_cli("essays", "generate", "--length", "0", root=smoke_root)
    assert code == 1 and "--length" in result["error"]
    code, result = run_cli("essays", "generate", "--length", "99999", root=smoke_root)
    assert code == 0 and len(result["text"]) == essays.MAX_LENGTH and "capped" in result["note"]


def test_smoke_artifact_card(lstm):
    card = lstm.card
    assert set(card["baselines"]) == {"ngram3", "unigram"}
    assert set(card["samples"]) == {"0.5", "0.8", "1.0"}
    assert card["metrics"]["validation_bits_per_char"] == pytest.approx(
        card["metrics"]["validation_nats_per_char"] / math.log(2), abs=1e-3
    )


@pytest.mark.parametrize("dtype, tolerance", [(torch.float32, 1e-5), (torch.bfloat16, 0.05)])
def test_stepper_matches_the_full_forward_pass(dtype, tolerance):
    torch.manual_seed(0)
    net = charmodel.CharRNN(charmodel.CharRNNConfig(96, "lstm", 16, 128, 2)).eval()
    ids = torch.randint(0, 96, (3, 40))  # (B, T)
    stepper = charmodel.LSTMStepper(net, dtype)
    with torch.no_grad():
        full, _ = net(ids)  # (B, T, V)
        zeros = [torch.zeros(3, 128)] * 2
        state, steps = (zeros, zeros), []
        for t in range(ids.shape[1]):
            logits, state = stepper.step(ids[:, t], state)
            steps.append(logits)
    diff = (F.log_softmax(torch.stack(steps, 1), -1) - F.log_softmax(full, -1)).abs().max().item()
    assert diff < tolerance
