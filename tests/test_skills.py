"""Skill neighbours: corpus cleaning, GloVe, fastText subwords, search backends, Magnitude files, the trainer,
the command line and the page."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from gallery import DATA_ROOT, registry
from gallery.skills import corpus, evaluate, glove, magnitude, search
from gallery.skills import model as skills
from gallery.skills.vectors import SkillVectors, UnknownSkill, char_ngrams, ft_hash
from tests.conftest import point_registry_at
from tests.skills_fixtures import smoke_train, write_skills_csv

ROOT = Path(__file__).resolve().parent.parent
SKILLS_DATA = DATA_ROOT / "skills" / "skill2vec_50K.csv.gz"


@pytest.fixture(scope="module")
def skills_root(tmp_path_factory):
    data = tmp_path_factory.mktemp("skills_data")
    write_skills_csv(data / "skill2vec_50K.csv.gz")
    root = tmp_path_factory.mktemp("skills_pretrained")
    smoke_train(data, root)
    return root


@pytest.fixture
def smoke_skills(skills_root, monkeypatch, tmp_path):
    monkeypatch.setenv("GALLERY_CACHE", str(tmp_path / "cache"))
    yield from point_registry_at(skills_root, monkeypatch)


def clustered(n=600, dim=16, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((12, dim))
    x = centres[rng.integers(0, 12, n)] + 0.3 * rng.standard_normal((n, dim))
    return [f"s{i}" for i in range(n)], (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


# corpus ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cell,clean",
    [
        ("  Core   PHP ", "core php"),
        ("r&amp; d", "r& d"),
        ("Asp.Net MVC 4 &amp; 5", "asp.net mvc 4 & 5"),
        (".NET", ".net"),
        ("call nisha 8750023434", None),
        ("9599297239", None),
        ("ct - manju - 9551568847", None),
        ("write to hr@firm.com", None),
        ("NEED BE MECHANICAL 2016 PASSED OUT WITH ARREARS ALSO CONTACT SOMEONE AT THE OFFICE", None),
        ("2016", None),
        ("", None),
    ],
)
def test_clean_skill(cell, clean):
    assert corpus.clean_skill(cell) == clean


def test_read_postings_drops_contacts_and_repeats(tmp_path):
    path = tmp_path / "skills.csv.gz"
    write_skills_csv(path, postings=30)
    postings = corpus.read_postings(path)
    flat = [s for p in postings for s in p]
    assert not any(corpus.has_contact_details(s) for s in flat) and "p & l" in flat or "core php" in flat
    assert len({tuple(sorted(p)) for p in postings}) == len(postings)  # the reordered repeat is gone
    assert all(len(set(p)) == len(p) for p in postings)


def test_tokenisations():
    assert corpus.tokens_of("core php", "phrase") == ["core_php"]
    assert corpus.tokens_of("core php", "words") == ["core", "php"]
    assert corpus.tokens_of("core php", "both") == ["core_php", "core", "php"]
    assert corpus.tokens_of("php", "both") == ["php"]


# GloVe ----------------------------------------------------------------------------------------------------------


def test_glove_learns_a_corpus_with_a_known_answer():
    """Two fields that never share a posting: every skill's nearest neighbour is from its own field."""
    rng = np.random.default_rng(0)
    fields = [["php", "mysql", "laravel", "html"], ["seo", "sem", "smo", "ppc"]]
    sentences = [list(rng.choice(f, 3, replace=False)) for _ in range(300) for f in fields]
    words = sorted({w for f in fields for w in f})
    index = {w: i for i, w in enumerate(words)}
    rows, cols, counts = glove.cooccurrence(sentences, index)
    assert (counts > 0).all() and not (rows == cols).any()
    x = np.zeros((len(words), len(words)))
    x[rows, cols] = counts
    assert np.allclose(x, x.T) and x[index["php"], index["seo"]] == 0
    vectors, history = glove.train(rows, cols, counts, len(words), glove.GloveConfig(dim=8, epochs=200, batch=64))
    assert history[-1] < 0.1 * history[0]
    sv = SkillVectors(words, vectors)
    for field in fields:
        for w in field:
            scores = sv.vectors @ sv.vectors[index[w]]
            scores[index[w]] = -2
            assert words[int(np.argmax(scores))] in field


# fastText subwords ----------------------------------------------------------------------------------------------


def test_subword_hashing_matches_gensim():
    from gensim.models.fasttext_inner import compute_ngrams_bytes, ft_hash_bytes

    for word in ["php", "c++", "core_php", "naïve", "中文"]:
        assert sorted(char_ngrams(word, 3, 6)) == sorted(compute_ngrams_bytes(word, 3, 6))
        assert all(ft_hash(g) == ft_hash_bytes(g) for g in char_ngrams(word, 3, 6))


def test_fasttext_vector_for_a_misspelling_matches_gensim():
    from gensim.models import FastText

    sentences = [["python", "django", "flask"], ["php", "laravel", "mysql"]] * 50
    ft = FastText(sentences, vector_size=8, min_count=1, bucket=500, epochs=2, workers=1, seed=0)
    assert "pyhton" not in ft.wv.key_to_index  # `in ft.wv` is always true for fastText
    sv = SkillVectors(list(ft.wv.index_to_key), ft.wv.vectors, None, skills.Subwords(ft.wv.vectors_ngrams, 3, 6))
    found = sv.lookup("pyhton")
    expected = ft.wv["pyhton"] / np.linalg.norm(ft.wv["pyhton"])
    assert found.source == "subwords" and np.allclose(found.vector, expected, atol=1e-5)


def test_unknown_skill_suggests_close_spellings():
    words, vectors = clustered(5, 4)
    sv = SkillVectors(["laravel", "python", "php", "java", "javascript"], vectors)
    with pytest.raises(UnknownSkill) as err:
        sv.lookup("laravell")
    assert err.value.suggestions[0] == "laravel"
    assert sv.complete("jav") == ["java", "javascript"]
    for bad, message in [("", "Type a skill"), ("  ", "Type a skill"), ("x" * 5000, "at most 100 characters")]:
        with pytest.raises(ValueError, match=message):
            sv.lookup(bad)


# search backends ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,approximate,floor",
    [("exact", False, 1.0), ("faiss", False, 1.0), ("faiss", True, 0.9), ("annoy", False, 0.9)],
)
def test_backends_agree_with_exact_search(name, approximate, floor, tmp_path, monkeypatch):
    monkeypatch.setenv("GALLERY_CACHE", str(tmp_path))
    words, vectors = clustered()
    exact = search.ExactSearch(words, vectors)
    backend = search.make_backend(name, words, vectors, approximate)
    recall = np.mean(
        [
            len({w for w, _ in backend.neighbors(q, 10)} & {w for w, _ in exact.neighbors(q, 10)}) / 10
            for q in vectors[:50]
        ]
    )
    assert recall >= floor
    word, score = backend.neighbors(vectors[3], 1)[0]
    assert word == "s3" and score == pytest.approx(1.0, abs=1e-3)
    assert list(tmp_path.iterdir()) or name in ("exact", "faiss") and not approximate  # indexes cached on disk


@pytest.mark.parametrize("fmt", magnitude.FORMATS)
def test_magnitude_round_trip_keeps_the_neighbours(fmt, tmp_path, monkeypatch):
    monkeypatch.setenv("GALLERY_CACHE", str(tmp_path / "cache"))
    words, vectors = clustered(300)
    path = magnitude.write_file(words, vectors, tmp_path / f"v.{fmt}.magnitude", fmt)
    assert magnitude.format_of(path) == fmt
    read_words, read_vectors = magnitude.read_all(magnitude.open_file(path))
    assert read_words == words and np.allclose(read_vectors, vectors, atol=1e-4)
    exact = search.ExactSearch(words, vectors)
    for approximate in (False, True):
        backend = search.MagnitudeSearch(path, approximate)
        assert backend.annoy is None or backend.carried_index == (fmt == "heavy")
        for q in vectors[:20]:
            got = {w for w, _ in backend.neighbors(q, 10)}
            want = {w for w, _ in exact.neighbors(q, 10)}
            assert len(got & want) >= (10 if not approximate else 8)


def test_medium_magnitude_file_gives_a_vector_for_a_misspelling(tmp_path):
    words = ["python", "django", "laravel", "php", "mysql", "seo"]
    vectors = np.eye(6, 8, dtype=np.float32) + 0.01
    light = skills.load_magnitude(magnitude.write_file(words, vectors, tmp_path / "l.magnitude", "light"))
    medium = skills.load_magnitude(magnitude.write_file(words, vectors, tmp_path / "m.magnitude", "medium"))
    with pytest.raises(UnknownSkill):
        light.vectors.lookup("pyhton")
    found = medium.vectors.lookup("pyhton")
    assert found.source == "subwords" and np.isclose(np.linalg.norm(found.vector), 1)


def test_not_a_magnitude_file_is_refused(tmp_path):
    bad = tmp_path / "x.magnitude"
    bad.write_bytes(b"not sqlite at all")
    with pytest.raises(ValueError, match="not a .magnitude file"):
        magnitude.open_file(bad)


# evaluation -----------------------------------------------------------------------------------------------------


def test_related_pairs_fixture_is_broad_enough():
    pairs = evaluate.load_pairs()
    assert len(pairs) >= 80 and len({f for f, _, _ in pairs}) >= 10
    assert len({(a, b) for _, a, b in pairs}) == len(pairs)


def test_rank_of_a_planted_neighbour():
    sv = SkillVectors(["a", "b", "c", "d"], np.array([[1, 0], [0.9, 0.1], [0, 1], [-1, 0]], dtype=np.float32))
    assert evaluate.rank_of(sv, "a", "b") == 1 and evaluate.rank_of(sv, "a", "d") == 3
    assert evaluate.rank_of(sv, "a", "zzz") is None
    result = evaluate.evaluate(sv, [("x", "a", "b"), ("x", "a", "zzz")], ks=(1,))
    assert result["hit@1"] == 0.5 and result["in_vocabulary"] == 0.5


# trainer, command line, page ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", skills.MODELS)
def test_smoke_trainer_writes_loadable_artifacts(smoke_skills, kind):
    model = skills.load(kind)
    card = model.card
    assert card["smoke"] is True and card["data"]["licence"] == "MIT" and "1707.09751" in card["data"]["citation"]
    assert {"hit@10", "hit@50", "in_vocabulary"} <= set(card["metrics"])
    assert card["corpus"]["tokenisation"] in corpus.TOKENISATIONS and card["corpus"]["tokenisation_measured"]
    assert "php" in model.vectors and model.vectors.lookup("php").source == "vocabulary"
    misspelt = "laravell"
    if kind == "fasttext":
        assert model.vectors.lookup(misspelt).source == "subwords"
    else:
        with pytest.raises(UnknownSkill):
            model.vectors.lookup(misspelt)


def run_cli(*args, root, cache):
    env = {"GALLERY_PRETRAINED": str(root), "GALLERY_CACHE": str(cache), "PATH": "", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "gallery", "skills", *args], capture_output=True, text=True, env=env)
    assert "Traceback" not in out.stderr, out.stderr
    return out.returncode, json.loads(out.stdout)


def test_cli_neighbors_similarity_batch_and_errors(skills_root, tmp_path):
    cache = tmp_path / "cache"
    code, rows = run_cli("neighbors", "php", "--topn", "5", root=skills_root, cache=cache)
    assert code == 0 and len(rows) == 5 and set(rows[0]) == {"word", "score"} and rows[0]["word"] != "php"
    code, approx = run_cli(
        "neighbors", "php", "--backend", "magnitude", "--approx", "--topn", "5", root=skills_root, cache=cache
    )
    assert code == 0 and {r["word"] for r in approx} == {r["word"] for r in rows}
    code, rows = run_cli("neighbors", "core php", "seo", "--negative", "sem", root=skills_root, cache=cache)
    assert code == 0 and not {"core_php", "seo", "sem"} & {r["word"] for r in rows}
    code, err = run_cli("neighbors", "laravell", root=skills_root, cache=cache)
    assert code == 1 and "laravel" in err["suggestions"] and "error" in err
    code, rows = run_cli("neighbors", "laravell", "--model", "fasttext", root=skills_root, cache=cache)
    assert code == 0 and rows
    code, sim = run_cli("similarity", "seo", "sem", "--model", "glove", root=skills_root, cache=cache)
    assert code == 0 and -1 <= sim["similarity"] <= 1
    queries = tmp_path / "queries.txt"
    queries.write_text("php\nseo, sem\nlaravell\n", encoding="utf-8")
    code, out = run_cli("neighbors", "--batch", str(queries), "--topn", "3", root=skills_root, cache=cache)
    assert code == 0 and len(out["php"]) == 3 and len(out["seo, sem"]) == 3 and "suggestions" in out["laravell"]
    code, err = run_cli("neighbors", "php", "--topn", "0", root=skills_root, cache=cache)
    assert code == 1 and "topn" in err["error"]


def test_cli_reads_a_magnitude_file(skills_root, tmp_path):
    model = skills.load("word2vec", skills_root)
    path = magnitude.write_file(model.vectors.words, model.vectors.vectors, tmp_path / "w.magnitude", "heavy")
    for backend in search.BACKENDS:
        code, rows = run_cli(
            "neighbors", "php", "--vectors", str(path), "--backend", backend, root=skills_root, cache=tmp_path
        )
        assert code == 0 and len(rows) == 10, backend
    code, err = run_cli(
        "neighbors", "php", "--vectors", str(tmp_path / "none.magnitude"), root=skills_root, cache=tmp_path
    )
    assert code == 1 and "No such file" in err["error"]


def test_page_queries_switches_and_explains(smoke_skills):
    at = AppTest.from_file(str(ROOT / "pages" / "3_Skill_Neighbors.py"), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert at.metric[0].label == "Query time" and at.metric[0].value.endswith("ms")
    for kind, backend, approximate in [
        ("fasttext", "faiss", True),
        ("glove", "annoy", False),
        ("word2vec", "magnitude", True),
    ]:
        at.selectbox(key="model").select(kind)
        at.selectbox(key="backend").select(backend)
        at.toggle(key="approx").set_value(approximate)
        at.run()
        assert not at.exception, at.exception
        assert any(backend in c.value for c in at.caption)
    at.selectbox(key="skill").select("seo")
    at.run()
    assert not at.exception, at.exception
    warnings = []
    for tab, inputs in [
        ("Analogies", {"positive": "seo, php", "negative": "sem"}),
        ("Similarity", {"sim_a": "laravell"}),
        ("Odd one out", {"odd": "php, mysql"}),
    ]:  # only the open tab is built: open each, then type into it
        at.session_state["skills_tab"] = tab
        at.run()
        for key, value in inputs.items():
            at.text_input(key=key).input(value)
        at.run()
        assert not at.exception, at.exception
        warnings += [w.value for w in at.warning]
    warnings = " ".join(warnings)
    assert "laravell" in warnings and "laravel" in warnings and "at least three" in warnings
    at.session_state["skills_tab"] = "Analogies"  # what was typed in a tab stays while another is open
    at.run()
    assert at.text_input(key="positive").value == "seo, php" and at.text_input(key="negative").value == "sem"


def test_page_explains_a_skill_too_long(smoke_skills):
    at = AppTest.from_file(str(ROOT / "pages" / "3_Skill_Neighbors.py"), default_timeout=60)
    at.session_state["skills_tab"] = "Analogies"
    at.run()
    at.text_input(key="positive").input("y" * 150)
    at.run()
    assert not at.exception and any("at most 100 characters" in w.value for w in at.warning)


def test_page_unknown_skill_from_a_link(smoke_skills):
    at = AppTest.from_file(str(ROOT / "pages" / "3_Skill_Neighbors.py"), default_timeout=60)
    at.query_params["skill"] = "laravell"
    at.run()
    assert not at.exception and "Did you mean" in at.warning[0].value
    at.selectbox(key="model").select("fasttext")
    at.run()
    assert not at.exception and "character n-grams" in at.info[0].value


# committed artifacts --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", skills.MODELS)
def test_committed_skill_artifact_loads(kind):
    model = skills.load(kind)
    assert not model.card["smoke"] and len(model.vectors.words) > 3000
    assert (registry.PRETRAINED / f"skills-{kind}" / "model.safetensors").stat().st_size < 25e6


def test_committed_cards_measure_against_the_same_run_baselines():
    for kind in skills.MODELS:
        card = skills.load(kind).card
        assert {"cooccurrence_counts", "ppmi_rows"} <= set(card["baselines"])
        assert card["corpus"]["tokenisation"] == "both" and card["metrics"]["pairs"] >= 80


def test_best_committed_model_meets_the_hit_at_10_floor():
    best = max(skills.load(k).card["metrics"]["hit@10"] for k in skills.MODELS)
    assert best >= 0.6


@pytest.mark.skipif(not SKILLS_DATA.is_file(), reason=f"the skills data is not at {SKILLS_DATA}")
@pytest.mark.parametrize("kind", skills.MODELS)
def test_committed_card_is_reproduced(kind):
    model = skills.load(kind)
    assert evaluate.evaluate(model.vectors) == model.card["metrics"]
    assert model.card["data"]["files"][0]["sha256"] == registry.sha256_file(SKILLS_DATA)


def test_ann_benchmark_runs_on_a_small_clustered_set(tmp_path, monkeypatch):
    from benchmarks import ann

    monkeypatch.setenv("GALLERY_CACHE", str(tmp_path))
    data, queries = ann.clustered(5000, 32, 40)
    assert data.shape == (5000, 32) and np.allclose(np.linalg.norm(queries, axis=1), 1, atol=1e-5)
    rows = ann.run(data, queries, "test", magnitude=True, hnsw=True)
    assert len(rows) == 7 and [r["approximate"] for r in rows] == [False, False, True, True, True, False, True]
    assert all(r["recall@10"] == 1.0 for r in rows if not r["approximate"])
    assert all(r["recall@10"] >= 0.8 and r["qps"] > 0 for r in rows)
