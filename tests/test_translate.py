"""Translation with attention: tokenisers, attention masks, overfitting, decoding, BLEU, merging, trainer (also
under torchrun), the command line, the page, and the committed artifacts against their cards."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from streamlit.testing.v1 import AppTest

from gallery import DATA_ROOT
from gallery.translate import decode, ladder, metrics, models, translator
from gallery.translate.tokenizer import BOS, EOS, PAD, SubwordTokenizer, WordTokenizer, normalise, word_groups
from tests.conftest import point_registry_at

ROOT = Path(__file__).resolve().parent.parent
SUBJECTS = [("ein mann", "a man"), ("eine frau", "a woman"), ("ein hund", "a dog"), ("zwei kinder", "two children")]
VERBS = [("läuft", "runs"), ("sitzt", "sits"), ("springt", "jumps"), ("schläft", "sleeps"), ("wartet", "waits")]
PLACES = [
    ("im park", "in the park"),
    ("am strand", "on the beach"),
    ("auf der straße", "on the street"),
    ("vor einem haus", "in front of a house"),
    ("im schnee", "in the snow"),
    ("neben einem auto", "next to a car"),
]
needs_multi30k = pytest.mark.skipif(
    not (DATA_ROOT / "multi30k").is_dir(), reason=f"Multi30k is not at {DATA_ROOT / 'multi30k'} (set GALLERY_DATA)"
)


def caption_pairs() -> list[tuple[str, str]]:
    """120 German-English caption pairs made from parts: every subject, verb and place."""
    return [
        (f"{s_de.capitalize()} {v_de} {p_de}.", f"{s_en.capitalize()} {v_en} {p_en}.")
        for s_de, s_en in SUBJECTS
        for v_de, v_en in VERBS
        for p_de, p_en in PLACES
    ]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    """A folder shaped like ../shared/data/multi30k: gzipped, line-aligned splits."""
    folder = tmp_path_factory.mktemp("multi30k")
    pairs = caption_pairs()
    for split, chunk in (("train", pairs[:100]), ("val", pairs[100:110]), ("test_2016_flickr", pairs[110:])):
        for side, lang in ((0, "de"), (1, "en")):
            with gzip.open(folder / f"{split}.{lang}.gz", "wt", encoding="utf-8") as f:
                f.write("\n".join(p[side] for p in chunk) + "\n")
    return folder


@pytest.fixture(scope="module")
def smoke_root(tmp_path_factory, data_dir):
    """Both translators trained by the real trainer in --smoke mode on the fixture captions."""
    from trainers import translate

    root, ckpt = tmp_path_factory.mktemp("pretrained"), tmp_path_factory.mktemp("checkpoints")
    for model in translator.MODELS:
        translate.main(
            ["--smoke", "--model", model, "--data-dir", str(data_dir), "--threads", "1"]
            + ["--out", str(root / f"translate-{model}"), "--checkpoint", str(ckpt / f"{model}.pt")]
        )
    return root


@pytest.fixture
def use_smoke(smoke_root, monkeypatch):
    yield from point_registry_at(smoke_root, monkeypatch)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Small models run fastest on one thread, and the suite shares two cores."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def tiny(kind: str, vocab: int = 12, **extra) -> torch.nn.Module:
    sizes = {
        "seq2seq": {"embed": 16, "hidden": 32},
        "context": {"embed": 16, "hidden": 32},
        "attention": {"embed": 16, "enc_hidden": 32, "dec_hidden": 32},
        "convs2s": {"embed": 16, "hidden": 32, "enc_layers": 2, "dec_layers": 2},
        "transformer": {"d_model": 32, "heads": 4},
    }
    torch.manual_seed(0)
    return models.build(kind, {"vocab": vocab, "dropout": 0.0, **sizes[kind], **extra}).eval()


# ---------------------------------------------------------------- tokenisers


def test_subword_tokeniser_round_trip():
    tok = SubwordTokenizer.train([s for pair in caption_pairs() for s in pair], vocab_size=120)
    for sentence in ["Ein Hund springt im Schnee.", "Zwei Kinder warten am Strand.", "Eine Frau läuft."]:
        ids = tok.encode(sentence)
        assert PAD not in ids and EOS not in ids
        assert tok.decode(ids) == normalise(sentence)
    again = SubwordTokenizer(tok.model_proto)  # as rebuilt from an artifact's bytes
    assert again.encode("Ein Mann sitzt.") == tok.encode("Ein Mann sitzt.")


def test_word_tokeniser_round_trip_and_unknown_words():
    tok = WordTokenizer.train([s for pair in caption_pairs() for s in pair], vocab_size=500, min_count=1)
    assert tok.decode(tok.encode("Ein Hund springt im Schnee.")) == "ein hund springt im schnee."
    assert tok.encode("Ein Zebra") == [tok.index["ein"], 1]


def test_normalise_removes_control_characters():
    assert normalise("Ein\x00 Mann\u200f  FÄHRT\n") == "ein mann fährt"


def test_word_groups_follow_the_word_boundaries():
    tok = SubwordTokenizer.train([s for pair in caption_pairs() for s in pair], vocab_size=60)
    ids = tok.encode("zwei kinder schlafen") + [EOS]
    groups = word_groups(tok, ids)
    assert [translator.group_text(tok, ids, g) for g in groups] == ["zwei", "kinder", "schlafen", "</s>"]
    assert sum(len(g) for g in groups) == len(ids)


# ---------------------------------------------------------------- attention


@pytest.mark.parametrize("kind", translator.MODELS)
def test_shapes_of_every_model(kind):
    model = tiny(kind, vocab=30)
    src, src_len = decode.pad_batch([[5, 6, 7, 8, EOS], [9, 10, EOS]])
    tgt_in, _ = decode.pad_batch([[BOS, 5, 6, 7], [BOS, 8, 9, 10]])
    assert model(src, src_len, tgt_in).shape == (2, 4, 30)
    memory = model.encode(src, src_len)
    assert all(t.size(0) == 2 for t in memory.values())  # batch first: beam search repeats rows
    log_probs, _ = model.step(memory, tgt_in[:, :1], model.initial_state(memory))
    assert log_probs.shape == (2, 30) and torch.allclose(log_probs.exp().sum(-1), torch.ones(2), atol=1e-5)
    if kind in ("seq2seq", "context"):
        vectors = model.context_vector(src, src_len)
        assert vectors.keys() == ({"h", "c"} if kind == "seq2seq" else {"context"})
        assert all(v.shape[0] == 2 and v.shape[-1] == 32 for v in vectors.values())
    else:
        assert model.attention(src, src_len, tgt_in)["cross"].shape[-2:] == (4, 5)


def test_context_model_feeds_the_same_context_to_every_step(monkeypatch):
    """Cho et al.: the decoder's input at every step ends with the one context vector, and so does what the
    output layer reads."""
    model = tiny("context", vocab=30)
    src, src_len = decode.pad_batch([[5, 6, 7, 8, EOS], [9, 10, EOS]])
    tgt_in, _ = decode.pad_batch([[BOS, 5, 6, 7, 11], [BOS, 8, 9, 10, 12]])
    seen = {}

    def keep(name):
        def hook(module, inputs, output):
            seen[name] = inputs[0]

        return hook

    model.decoder.register_forward_hook(keep("decoder"))
    model.pre_output.register_forward_hook(keep("output"))
    model(src, src_len, tgt_in)
    context = model.context_vector(src, src_len)["context"]  # (B, H)
    for name in ("decoder", "output"):
        steps = seen[name][:, :, -32:] if name == "decoder" else seen[name][:, :, 32:64]  # (B, T, H)
        assert torch.allclose(steps, context[:, None].expand_as(steps)), name


def test_seq2seq_reads_the_source_backwards_only_when_asked():
    src, src_len = decode.pad_batch([[5, 6, 7, EOS], [9, EOS]])
    assert ladder.reverse_padded(src, src_len).tolist() == [[EOS, 7, 6, 5], [EOS, 9, PAD, PAD]]
    forward, backward = tiny("seq2seq", vocab=30, reverse_source=False), tiny("seq2seq", vocab=30)
    backward.load_state_dict(forward.state_dict())
    flipped, _ = decode.pad_batch([[EOS, 7, 6, 5], [EOS, 9]])
    assert torch.allclose(backward.encode(src, src_len)["h"], forward.encode(flipped, src_len)["h"])


@pytest.mark.parametrize("kind", translator.ATTENDS)
def test_attention_rows_sum_to_one_and_padding_gets_nothing(kind):
    model = tiny(kind)
    src, src_len = decode.pad_batch([[5, 6, 7, 8, EOS], [9, 10, EOS]])  # the second row is padded
    tgt_in, _ = decode.pad_batch([[BOS, 5, 6], [BOS, 7, 8]])
    weights = model.attention(src, src_len, tgt_in)
    cross = weights["cross"]  # (B, L, h, T, S)
    assert torch.allclose(cross.sum(-1), torch.ones_like(cross.sum(-1)), atol=1e-5)
    assert torch.all(cross[1, ..., 3:] == 0)
    if kind == "transformer":
        decoder = weights["decoder"]  # (B, L, h, T, T): no weight on later positions
        assert torch.all(decoder.triu(diagonal=1) == 0)
        assert torch.all(weights["encoder"][1, ..., 3:] == 0)


@pytest.mark.parametrize("kind", translator.MODELS)
def test_each_model_learns_to_reverse_sequences(kind):
    """Overfit a tiny reverse-the-sequence task to near-zero loss: the whole training path works."""
    model = tiny(kind).train()
    gen = torch.Generator().manual_seed(0)
    src = torch.randint(4, 12, (16, 5), generator=gen)  # (B, S) without EOS
    tgt = torch.cat([torch.full((16, 1), BOS), src.flip(1), torch.full((16, 1), EOS)], dim=1)
    src = torch.cat([src, torch.full((16, 1), EOS)], dim=1)
    src_len = torch.full((16,), 6)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    for _ in range(300):
        loss = F.cross_entropy(model(src, src_len, tgt[:, :-1]).transpose(1, 2), tgt[:, 1:])
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05
    model.eval()
    assert decode.greedy(model, src, src_len) == tgt[:, 1:].tolist()


@pytest.mark.parametrize("kind", translator.MODELS)
def test_beam_of_one_is_greedy(kind):
    model = tiny(kind, vocab=30)
    src, src_len = decode.pad_batch([[5, 6, 7, 8, EOS], [9, 10, EOS], [11, 12, 13, EOS]])
    assert decode.beam_search(model, src, src_len, beam=1, max_len=12) == decode.greedy(model, src, src_len, 12)


def test_wider_beams_never_score_worse_than_greedy_at_equal_length_penalty():
    model = tiny("transformer", vocab=30)
    src, src_len = decode.pad_batch([[5, 6, 7, 8, EOS]])

    def log_prob(out):
        tgt = torch.tensor([[BOS, *out]])
        logp = model(src, src_len, tgt[:, :-1]).log_softmax(-1)
        return logp.gather(-1, tgt[:, 1:, None]).sum().item()

    greedy = decode.greedy(model, src, src_len, 10)[0]
    beam = decode.beam_search(model, src, src_len, beam=4, alpha=0.0, max_len=10)[0]
    if greedy[-1] == EOS and beam[-1] == EOS:
        assert log_prob(beam) >= log_prob(greedy) - 1e-4


@pytest.mark.parametrize("kind", translator.ATTENDS)
def test_attention_is_safe_for_many_threads_at_once(kind):
    """The app serves one cached model to every visitor: attention read in parallel threads is each thread's own."""
    from concurrent.futures import ThreadPoolExecutor

    model = tiny(kind, vocab=30)
    inputs = [([5 + i, 6, 7 + i, EOS], [BOS, 9 + i, 10]) for i in range(8)]

    def read(pair):
        src, src_len = decode.pad_batch([pair[0]])
        tgt, _ = decode.pad_batch([pair[1]])
        for _ in range(20):
            weights = model.attention(src, src_len, tgt)
            _ = decode.greedy(model, src, src_len, 6)  # other visitors decode meanwhile
        return weights["cross"]

    alone = [read(pair) for pair in inputs]
    with ThreadPoolExecutor(8) as pool:
        together = list(pool.map(read, inputs))
    assert all(torch.equal(a, b) for a, b in zip(alone, together))


@pytest.mark.parametrize("kind", translator.MODELS)
def test_decoding_with_cached_states_matches_full_decoding(kind):
    """One piece at a time with each model's state (ConvS2S: every layer's last k-1 inputs; the Transformer:
    keys and values) gives the log-probabilities of a full teacher-forced pass, at every position."""
    model = tiny(kind, vocab=30)
    src, src_len = decode.pad_batch([[5, 6, 7, 8, EOS], [9, 10, EOS]])
    prefix = torch.tensor([[BOS, 9, 10, 11, 12], [BOS, 13, 14, 15, 16]])
    memory = model.encode(src, src_len)
    state, steps = model.initial_state(memory), []
    for t in range(1, prefix.size(1) + 1):
        log_probs, state = model.step(memory, prefix[:, :t], state)
        steps.append(log_probs)
    full = model(src, src_len, prefix).log_softmax(-1)  # (B, T, V)
    assert torch.allclose(torch.stack(steps, 1), full, atol=1e-5)


def test_merging_pieces_into_words():
    weights = torch.tensor([[0.5, 0.25, 0.25], [0.1, 0.1, 0.8], [0.2, 0.6, 0.2]])  # 3 target x 3 source pieces
    merged = decode.merge_to_words(weights, src_groups=[[0, 1], [2]], tgt_groups=[[0], [1, 2]])
    assert torch.allclose(merged, torch.tensor([[0.75, 0.25], [0.5, 0.5]]))
    assert torch.allclose(merged.sum(-1), torch.ones(2))


# ---------------------------------------------------------------- scores


def test_bleu_wrapper_on_known_strings():
    perfect = metrics.bleu_chrf(["A man runs."], ["a man runs."])
    assert perfect["bleu"] == 100.0 and perfect["chrf"] == 100.0 and "case:lc" in perfect["bleu_signature"]
    partial = metrics.bleu_chrf(["the cat sat on the mat"], ["the cat sat on a mat"])
    assert partial["bleu"] == pytest.approx(53.73, abs=0.01)  # sacreBLEU's exp-smoothed BLEU on these two strings
    assert metrics.bleu_chrf(["x y z"], ["a b c"])["bleu"] == 0.0
    with pytest.raises(ValueError):
        metrics.bleu_chrf(["a"], ["a", "b"])


def test_length_buckets_cover_every_sentence_once():
    sentences = ["", "eins", *(" ".join(["wort"] * n) for n in range(1, 40))]
    buckets = [metrics.length_bucket(s) for s in sentences]
    names = [metrics.bucket_name(lo, hi) for lo, hi in metrics.LENGTH_BUCKETS]
    assert set(buckets) == set(names)
    assert [metrics.length_bucket(" ".join(["w"] * n)) for n in (8, 9, 12, 13, 16, 17, 20, 21)] == [
        "1-8", "9-12", "9-12", "13-16", "13-16", "17-20", "17-20", "21+"
    ]  # fmt: skip
    scores = metrics.by_length(sentences, sentences, sentences)
    assert sum(b["n"] for b in scores.values()) == len(sentences) and list(scores) == names


# ---------------------------------------------------------------- trainer, artifacts, command line


def test_smoke_artifacts_load_and_translate(smoke_root):
    for model in translator.MODELS:
        tr = translator.load(model, root=smoke_root)
        card = tr.card
        assert card["smoke"] and card["data"]["pairs"] == {"train": 100, "val": 10, "test_2016_flickr": 10}
        result = translator.translate(tr, "Ein Hund läuft im Park.", beam=3)
        if model in translator.ATTENDS:
            cross = translator.attention(tr, result)["cross"]
            assert cross.shape[-2:] == (len(result.out_ids), len(result.src_ids))
        else:
            with pytest.raises(ValueError, match="no attention"):
                translator.attention(tr, result)
            assert all(v.shape[-1] == 32 for v in translator.context_vector(tr, result).values())
        assert set(card["metrics"]["test_2016_flickr"]["beam2"]["by_length"]) <= {"1-8", "9-12"}
        assert translator.translate_many(tr, ["Ein Hund läuft.", ""], beam=2)[1] == ""


def test_torchrun_ranks_end_with_identical_weights(data_dir, tmp_path):
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    command += ["-m", "trainers.translate", "--smoke", "--model", "transformer", "--device", "cpu", "--threads", "1"]
    command += ["--data-dir", str(data_dir), "--out", str(tmp_path / "out"), "--checkpoint", str(tmp_path / "ck/t.pt")]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    digests = [(tmp_path / "ck" / f"t-rank{r}.sha256").read_text() for r in (0, 1)]
    assert digests[0] == digests[1]
    assert json.loads((tmp_path / "out" / "card.json").read_text())["smoke"]


def run_cli(*argv):
    done = subprocess.run([sys.executable, "-m", "gallery", *argv], cwd=ROOT, capture_output=True, text=True)
    return done.returncode, done.stdout, done.stderr


def test_cli_verbs(use_smoke, data_dir, capsys, tmp_path):
    from gallery.__main__ import main

    assert main(["translate", "sentence", "--model", "attention", "--beam", "2", "Ein Mann sitzt am Strand."]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"translation", "src_tokens", "tgt_tokens", "attention"}
    assert len(out["attention"]) == len(out["tgt_tokens"]) and len(out["attention"][0]) == len(out["src_tokens"])
    assert main(["translate", "file", "--src", str(data_dir / "test_2016_flickr.de.gz")]) == 0
    assert len(json.loads(capsys.readouterr().out)) == 10
    src, ref = data_dir / "test_2016_flickr.de.gz", data_dir / "test_2016_flickr.en.gz"
    assert main(["translate", "bleu", "--src", str(src), "--ref", str(ref), "--beam", "3"]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["n"] == 10 and 0 <= scores["bleu"] <= 100
    assert main(["translate", "bleu", "--model", "convs2s", "--by-length", "--src", str(src), "--ref", str(ref)]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert sum(b["n"] for b in scores["by_length"].values()) == 10 and set(scores["by_length"]) <= {"1-8", "9-12"}
    assert main(["translate", "sentence", "--model", "seq2seq", "Ein Mann sitzt."]) == 0
    vectors = json.loads(capsys.readouterr().out)["context_vector"]
    assert set(vectors) == {"h", "c"} and len(vectors["h"]) == 2 and len(vectors["h"][0]) == 32  # (layers, H)
    assert main(["translate", "sentence", "--model", "context", "Ein Mann sitzt."]) == 0
    assert len(json.loads(capsys.readouterr().out)["context_vector"]["context"]) == 32
    (tmp_path / "three.txt").write_text("a\nb\nc\n")
    for argv in (
        ["translate", "sentence", "   "],
        ["translate", "sentence", "--beam", "0", "Ein Mann."],
        ["translate", "file", "--src", str(tmp_path / "missing.txt")],
        ["translate", "bleu", "--src", str(src), "--ref", str(tmp_path / "three.txt")],
    ):
        assert main(argv) == 1
        assert "error" in json.loads(capsys.readouterr().out)


def test_cli_error_is_json_with_exit_status_1(tmp_path):
    (tmp_path / "broken.gz").write_bytes(gzip.compress(b"Ein Mann\n" * 50)[:30])
    code, out, err = run_cli("translate", "file", "--src", str(tmp_path / "broken.gz"))
    assert code == 1 and "error" in json.loads(out) and "Traceback" not in err


# ---------------------------------------------------------------- page


def test_page_translates_and_switches_model_layer_and_head(use_smoke):
    at = AppTest.from_file(str(ROOT / "pages/11_Translate.py"), default_timeout=60).run()
    assert not at.exception, at.exception
    assert at.subheader[0].value  # a translation
    at.selectbox(key="layer").set_value(1).run()
    at.selectbox(key="head").set_value(2).run()
    assert not at.exception and len(at.tabs) == 5
    at.toggle(key="pieces").set_value(True).run()
    at.radio(key="model").set_value("attention").run()
    assert not at.exception and len(at.tabs) == 2
    for bad in ("", "😀😀", "x" * 5000, "A man is riding a horse on the beach."):
        at.text_area(key="source").set_value(bad).run()
        assert not at.exception, bad
        assert at.warning or at.info or at.subheader
    at.text_area(key="source").set_value("Ein Hund springt.").run()
    assert not at.exception and at.subheader[0].value


def test_heatmap_page_shows_every_convs2s_layer_and_follows_a_link(use_smoke):
    at = AppTest.from_file(str(ROOT / "pages/11_Translate.py"), default_timeout=60)
    at.query_params["model"] = "convs2s"
    at.query_params["text"] = "Zwei Hunde spielen im Schnee."
    at.run()
    assert not at.exception, at.exception
    assert at.radio(key="model").value == "convs2s" and len(at.tabs) == 3
    assert at.text_area(key="source").value == "Zwei Hunde spielen im Schnee."
    at.selectbox(key="conv_layer").set_value(1).run()
    at.tabs[2].open = True  # "Every decoder layer"
    assert not at.exception and at.subheader[0].value


def test_why_attention_page_puts_five_models_side_by_side(use_smoke):
    at = AppTest.from_file(str(ROOT / "pages/12_Why_Attention.py"), default_timeout=120).run()
    assert not at.exception, at.exception
    assert len(at.dataframe[0].value) == len(translator.MODELS)  # the ladder table
    timed = [c.value for c in at.caption if c.value.endswith("ms on this server")]
    assert len(timed) == len(translator.MODELS)
    charts = at.get("plotly_chart")
    assert len(charts) == 3  # the curve by length and the two models' vectors
    curve = json.loads(charts[0].proto.spec)["data"]
    assert len(curve) == len(translator.MODELS) and all(trace["x"] for trace in curve)
    at.radio(key="why_score").set_value("chrf").run()
    at.slider(key="why_beam").set_value(1).run()
    assert not at.exception
    for bad in ("", "😀😀", "x" * 5000, "A man is riding a horse on the beach."):
        at.text_area(key="why_source").set_value(bad).run()
        assert not at.exception, bad
        assert at.warning or at.info or len([c for c in at.caption if c.value.endswith("ms on this server")]) == 5


def test_why_attention_page_survives_a_missing_model(smoke_root, tmp_path, monkeypatch):
    import shutil

    root = tmp_path / "pretrained"
    shutil.copytree(smoke_root, root, ignore=shutil.ignore_patterns("translate-context"))
    for _ in point_registry_at(root, monkeypatch):
        at = AppTest.from_file(str(ROOT / "pages/12_Why_Attention.py"), default_timeout=120).run()
        assert not at.exception, at.exception
        assert any("trainers.translate --model context" in e.value for e in at.error)
        assert len([c for c in at.caption if c.value.endswith("ms on this server")]) == len(translator.MODELS) - 1


# ---------------------------------------------------------------- committed artifacts


FLOORS = {"seq2seq": 18.0, "context": 22.0, "attention": 28.0, "convs2s": 33.0, "transformer": 35.0}  # beam 5, test


@pytest.mark.parametrize("model", translator.MODELS)
def test_committed_card_meets_the_bleu_floor(model):
    card = translator.load(model).card
    test = card["metrics"]["test_2016_flickr"]
    assert not card["smoke"]
    assert test["beam5"]["bleu"] >= FLOORS[model]
    assert test["greedy"]["bleu"] > card["baselines"]["retrieval"]["bleu"]


def test_committed_convs2s_trained_on_reaches_36_bleu():
    """Issue 25: ConvS2S trained on from its 11-epoch card (a second learning-rate cycle) until validation BLEU
    flattened, scored every epoch, the weights chosen on validation."""
    card = translator.load("convs2s").card
    assert card["metrics"]["test_2016_flickr"]["beam5"]["bleu"] >= 36.0
    later = card["history"][card["training"]["this_cycle"]["from_epoch"] :]
    assert later and all("val_bleu" in row for row in later)
    assert card["training"]["best_validation_epoch"]["val_bleu"] == max(row["val_bleu"] for row in later)


def test_committed_ladder_holds_and_every_card_has_the_length_curve():
    """seq2seq < context < attention on the test set; each card scores all 1,000 test sentences by length."""
    cards = {model: translator.load(model).card["metrics"]["test_2016_flickr"] for model in translator.MODELS}
    beam = [cards[model]["beam5"]["bleu"] for model in ("seq2seq", "context", "attention")]
    assert beam == sorted(beam) and len(set(beam)) == 3, beam
    for model, test in cards.items():
        buckets = test["beam5"]["by_length"]
        assert list(buckets) == ["1-8", "9-12", "13-16", "17-20", "21+"], model
        assert sum(b["n"] for b in buckets.values()) == test["beam5"]["n"] == 1000, model


@needs_multi30k
@pytest.mark.parametrize("model", translator.MODELS)
def test_committed_card_is_reproduced_on_the_test_set(model):
    """Greedy BLEU on test_2016_flickr, recomputed here from the stored (float16) weights."""
    from gallery.translate.data import load_split

    tr = translator.load(model)
    test = load_split(None, "test_2016_flickr")
    scores = metrics.bleu_chrf(translator.translate_many(tr, [de for de, _ in test]), [en for _, en in test])
    assert scores["bleu"] == pytest.approx(tr.card["metrics"]["test_2016_flickr"]["greedy"]["bleu"], abs=0.3)


def test_benchmark_batching_is_faster(use_smoke):
    from benchmarks.translate import measure

    greedy = measure(translator.load("transformer"), n=16)[1]
    assert greedy["batched_per_s"] > greedy["one_per_s"]


def test_trainer_resumes_from_its_checkpoint(data_dir, tmp_path, capsys):
    from trainers import translate

    argv = ["--smoke", "--model", "transformer", "--data-dir", str(data_dir), "--threads", "1"]
    argv += ["--out", str(tmp_path / "out"), "--checkpoint", str(tmp_path / "t.pt")]
    translate.main(argv)
    first = json.loads((tmp_path / "out" / "card.json").read_text())["history"]
    translate.main([*argv, "--resume"])
    assert f"resumed from {tmp_path / 't.pt'} after epoch 2" in capsys.readouterr().out
    assert json.loads((tmp_path / "out" / "card.json").read_text())["history"] == first


def test_trainer_resumes_from_the_artifact_alone(data_dir, tmp_path, capsys):
    """A new machine has no checkpoints/: --resume starts a new cycle from the committed artifact's weights,
    tokeniser and history, and keeps the earlier command on the card."""
    from trainers import translate

    argv = ["--smoke", "--model", "convs2s", "--data-dir", str(data_dir), "--threads", "1"]
    argv += ["--out", str(tmp_path / "out"), "--checkpoint", str(tmp_path / "c.pt")]
    translate.main(argv)
    card_path = tmp_path / "out" / "card.json"
    card = json.loads(card_path.read_text())
    assert all("val_bleu" in row for row in card["history"])
    card["history"] = card["history"][:1]  # as if the artifact had stopped after its first epoch
    card_path.write_text(json.dumps(card))
    (tmp_path / "c.pt").unlink()
    translate.main([*argv, "--resume", "--lr", "5e-4"])
    assert f"resumed from the artifact {tmp_path / 'out'} after epoch 1" in capsys.readouterr().out
    resumed = json.loads(card_path.read_text())
    assert [row["epoch"] for row in resumed["history"]] == [1, 2]
    assert resumed["history"][0] == card["history"][0]
    assert resumed["training"]["earlier_commands"] == [card["train_command"]]
    assert resumed["training"]["this_cycle"]["from_epoch"] == 1
    assert resumed["training"]["this_cycle"]["peak_lr"] == 5e-4
    assert resumed["train_seconds"] >= card["train_seconds"]
