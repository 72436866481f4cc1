"""Embedding maps: projections, sampling, neighbours, faithfulness, the résumé loader, smoke maps, CLI, page, benchmark,
and the committed map artifacts."""

from __future__ import annotations

import csv
import io
import json
import re
import time
import zipfile
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from PIL import Image
from streamlit.testing.v1 import AppTest

from gallery import DATA_ROOT, registry
from gallery.maps import costs as mcosts
from gallery.maps import data as mdata
from gallery.maps import own
from gallery.maps.project import (
    faithfulness,
    kmeans,
    knn_indices,
    label_agreement,
    neighbours,
    pre_reduce,
    project,
    stratified_sample,
    trustworthiness_sampled,
)
from tests.conftest import point_registry_at
from tests.skills_fixtures import smoke_train, write_skills_csv
from tests.test_vae import synthetic_digits, synthetic_face

ROOT = Path(__file__).resolve().parent.parent
PAGE = str(ROOT / "pages" / "10_Embedding_Maps.py")
needs_map_data = pytest.mark.skipif(
    not (DATA_ROOT / "mnist" / "mnist.npz").is_file() or not (DATA_ROOT / "resumes").is_dir(),
    reason=f"the MNIST and résumé data are not at {DATA_ROOT} (set GALLERY_DATA to their folder)",
)

# ---------------------------------------------------------------- fixtures the tests make themselves

CATEGORIES = {
    "Data Science": "python pandas machine learning statistics regression model numpy",
    "HR": "recruitment payroll onboarding employee relations appraisal hiring",
    "Civil Engineer": "site supervision concrete autocad estimation billing structure",
    "Java Developer": "java spring hibernate rest microservices maven junit",
    "Testing": "selenium test cases regression manual automation defects jira",
}


def blobs(n=240, dim=12, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    centres = 4 * rng.standard_normal((classes, dim))
    y = np.arange(n) % classes
    return (centres[y] + rng.standard_normal((n, dim))).astype(np.float32), y


def write_resumes_csv(path: Path) -> None:
    """Damaged UTF-8 like the real file: bullets whose middle byte became '?', plus exact duplicate rows."""
    rows = []
    for cat, words in CATEGORIES.items():
        vocab = words.split()
        for j in range(6):
            body = f"{cat} profile {j}. \xe2?\xa2 " + " ".join(vocab[(j + i) % len(vocab)] for i in range(12))
            rows.append((cat, body.encode("latin-1")))
    rows += rows[:7]  # duplicates
    out = io.BytesIO()
    out.write(b"Category,Resume\r\n")
    for cat, body in rows:
        out.write(cat.encode() + b',"' + body + b'"\r\n')
    path.write_bytes(out.getvalue())


@pytest.fixture(scope="session")
def maps_sources(tmp_path_factory):
    """../shared/data-shaped folder (mnist, faces, résumés, skills) and a pretrained/ with smoke skills + VAEs."""
    from trainers import vae as vae_trainer

    data = tmp_path_factory.mktemp("maps_data")
    (data / "mnist").mkdir()
    x, y = synthetic_digits(600, 0)
    xt, yt = synthetic_digits(400, 1)
    np.savez(data / "mnist" / "mnist.npz", x_train=x, y_train=y, x_test=xt, y_test=yt)
    (data / "faces").mkdir()
    rng = np.random.default_rng(0)
    with zipfile.ZipFile(data / "faces" / "utkface_64.zip", "w") as z:
        for i in range(160):
            gender, age = i % 2, (8, 25, 40, 70)[(i // 2) % 4]
            buf = io.BytesIO()
            Image.fromarray(synthetic_face(rng, gender, age)).save(buf, "JPEG", quality=90)
            z.writestr(f"utkface_64/{age}_{gender}_{i % 5}_2017010{i:04d}.jpg", buf.getvalue())
    (data / "resumes").mkdir()
    write_resumes_csv(data / "resumes" / "UpdatedResumeDataSet.csv")
    (data / "skills").mkdir()
    write_skills_csv(data / "skills" / "skill2vec_50K.csv.gz")
    source = tmp_path_factory.mktemp("maps_sources")
    smoke_train(data / "skills", source / "skills-word2vec", "word2vec")
    ckpt = tmp_path_factory.mktemp("maps_ckpt")
    for kind in ("digits", "faces"):
        vae_trainer.main(
            ["--smoke", "--model", kind, "--data-dir", str(data / ("mnist" if kind == "digits" else "faces"))]
            + ["--out", str(source / f"vae-{kind}"), "--checkpoint", str(ckpt / f"{kind}.pt")]
        )
    return data, source


@pytest.fixture(scope="session")
def maps_root(maps_sources, tmp_path_factory):
    """Smoke map artifacts written by the real trainer (PCA and t-SNE; fastText and GloVe skills left missing)."""
    from trainers import maps as trainer

    data, source = maps_sources
    out = tmp_path_factory.mktemp("maps_pretrained")
    with redirect_stdout(io.StringIO()):
        trainer.main(["--smoke", "--data-dir", str(data), "--source-root", str(source), "--out", str(out)])
    return out


@pytest.fixture
def smoke_maps(maps_root, monkeypatch):
    yield from point_registry_at(maps_root, monkeypatch)


# ---------------------------------------------------------------- projections


@pytest.mark.parametrize("method", ["pca", "tsne"])
@pytest.mark.parametrize("dims", [2, 3])
def test_projection_shapes_and_determinism(method, dims):
    X, _ = blobs(150)
    kw = {"iterations": 250, "perplexity": 10} if method == "tsne" else {}
    a = project(X, method, dims, seed=3, **kw)
    b = project(X, method, dims, seed=3, **kw)
    assert a.coords.shape == (150, dims) and a.coords.dtype == np.float32
    np.testing.assert_array_equal(a.coords, b.coords)
    if method == "pca":
        assert len(a.explained_variance) == dims and 0 < sum(a.explained_variance) <= 1 + 1e-6
    else:
        assert a.params == {"perplexity": 10.0, "iterations": 250}


def test_projection_rejects_bad_settings():
    X, _ = blobs(60)
    for kwargs, words in [
        (dict(method="mds"), "method"),
        (dict(dims=4), "dims"),
        (dict(method="tsne", perplexity=80), "perplexity"),
        (dict(method="tsne", iterations=10), "iterations"),
        (dict(method="umap", n_neighbors=1), "neighbours"),
    ]:
        with pytest.raises(ValueError, match=words):
            project(X, **kwargs)
    with pytest.raises(ValueError, match="capped"):
        project(np.zeros((10_001, 2), np.float32), "tsne")


def test_wide_inputs_are_reduced_to_50_components():
    X = np.random.default_rng(0).standard_normal((80, 120)).astype(np.float32)
    assert pre_reduce(X).shape == (80, 50)
    assert pre_reduce(X[:, :30]).shape == (80, 30)


# ---------------------------------------------------------------- sampling and neighbours


def test_stratified_sample_keeps_every_class_and_its_share():
    labels = np.array(["a"] * 900 + ["b"] * 90 + ["c"] * 9 + ["d"])
    rows = stratified_sample(labels, 100, seed=0)
    assert len(rows) == 100 and len(set(rows)) == 100 and (np.diff(rows) > 0).all()
    picked = labels[rows]
    assert set(picked) == {"a", "b", "c", "d"}
    assert abs((picked == "a").sum() - 90) <= 2 and abs((picked == "b").sum() - 9) <= 2
    np.testing.assert_array_equal(rows, stratified_sample(labels, 100, seed=0))
    assert not np.array_equal(rows, stratified_sample(labels, 100, seed=1))
    assert len(stratified_sample(labels, 5000)) == 1000
    with pytest.raises(ValueError, match="cannot keep all 4 classes"):
        stratified_sample(labels, 3)


def test_neighbours_in_the_original_space_match_exact_search():
    from sklearn.neighbors import NearestNeighbors

    X, _ = blobs(300, dim=20, seed=1)
    nn = NearestNeighbors(n_neighbors=11, algorithm="brute").fit(X)
    dist, idx = nn.kneighbors(X[[7, 123]])
    got, d = neighbours(X, 7, 10)
    np.testing.assert_array_equal(got, idx[0, 1:])
    np.testing.assert_allclose(d, dist[0, 1:], rtol=1e-4)
    np.testing.assert_array_equal(knn_indices(X, np.array([7, 123]), 10), idx[:, 1:])
    with pytest.raises(ValueError, match="out of range"):
        neighbours(X, 300)


# ---------------------------------------------------------------- faithfulness


def test_a_2d_data_set_projected_to_2d_by_pca_is_perfectly_faithful():
    X = np.random.default_rng(0).standard_normal((200, 2)).astype(np.float32) * [3.0, 1.0]
    f = faithfulness(X, project(X, "pca", 2).coords)
    assert f["trustworthiness"] == pytest.approx(1.0) and f["knn_overlap"] == pytest.approx(1.0)


def test_a_random_placement_scores_low_and_a_good_map_scores_high():
    X, _ = blobs(200, dim=10)
    rand = faithfulness(X, np.random.default_rng(1).standard_normal((200, 2)))
    tsne = faithfulness(X, project(X, "tsne", 2, iterations=400).coords)
    assert 0.4 < rand["trustworthiness"] < 0.6 and rand["knn_overlap"] < 0.1
    assert tsne["trustworthiness"] > 0.9 and tsne["knn_overlap"] > 3 * rand["knn_overlap"]


def test_3d_tsne_of_a_small_data_set_does_not_blow_apart():
    X, _ = blobs(100, dim=30, classes=5, seed=3)
    f = faithfulness(X, project(X, "tsne", 3, iterations=500).coords)
    assert f["trustworthiness"] > 0.9, f


def test_sampled_trustworthiness_equals_sklearn_on_all_rows_and_estimates_it_on_a_sample():
    from sklearn.manifold import trustworthiness

    X, _ = blobs(400, dim=8, seed=2)
    Y = project(X, "pca", 2).coords
    exact = trustworthiness(X, Y, n_neighbors=10)
    assert trustworthiness_sampled(X, Y, 10, np.arange(400)) == pytest.approx(exact, abs=1e-9)
    rows = np.sort(np.random.default_rng(0).choice(400, 200, replace=False))
    assert trustworthiness_sampled(X, Y, 10, rows) == pytest.approx(exact, abs=0.02)
    big = faithfulness(X, Y, sample=200)
    assert big["points_measured"] == 200 and big["trustworthiness"] == pytest.approx(exact, abs=0.02)


def test_kmeans_numbers_clusters_by_size():
    X, y = blobs(200, classes=3)
    labels = kmeans(X, 3)
    assert set(labels) == {0, 1, 2} and np.bincount(labels)[0] >= np.bincount(labels)[2]
    with pytest.raises(ValueError, match="k must be"):
        kmeans(X, 1)


def test_cost_estimates_grow_with_points_and_iterations():
    table = {"rows": [{"n": 1000, "tsne": 5.0, "umap": 2.0}, {"n": 5000, "tsne": 40.0, "umap": 6.0}]}
    table["umap_compile_seconds"] = 30.0
    assert mcosts.estimate_seconds(table, "tsne", 1000) == pytest.approx(5.0)
    assert 5 < mcosts.estimate_seconds(table, "tsne", 2000) < 40 < mcosts.estimate_seconds(table, "tsne", 8000)
    assert mcosts.estimate_seconds(table, "tsne", 1000, iterations=2000) == pytest.approx(10.0)
    assert mcosts.estimate_seconds(table, "umap", 1000, first_umap=True) == pytest.approx(32.0)
    assert mcosts.estimate_seconds(None, "pca", 10) is None


# ---------------------------------------------------------------- data sets


def test_resume_map_data_is_repaired_and_deduplicated(maps_sources):
    data, _ = maps_sources
    d = mdata.resumes_data(data / "resumes")
    assert len(d) == 30 and len(set(d.ids)) == 30  # 37 rows, 30 distinct
    assert sorted(set(d.labels["category"])) == sorted(CATEGORIES)
    assert all("?" not in t for t in d.texts) and any("\u2022" in t for t in d.texts)
    np.testing.assert_allclose(np.linalg.norm(d.features, axis=1), 1.0, rtol=1e-5)


def test_map_data_search_and_sampling():
    d = mdata.MapData("skills-x", ["php", "core_php", "phpmyadmin", "java"], np.eye(4, dtype=np.float32))
    assert d.find("PHP") == [0, 2, 1] and d.find("core php") == [1] and d.find("  ") == []
    np.testing.assert_array_equal(d.sample_rows(2), [0, 1])  # no labels: the first (most frequent)
    with pytest.raises(ValueError, match="one entry per point"):
        mdata.MapData("x", ["a"], np.zeros((2, 2)))


# ---------------------------------------------------------------- trainer, CLI, page


def test_smoke_maps_load_with_labels_metrics_and_cards(smoke_maps):
    status = mdata.available()
    assert status["skills-fasttext"] and "python -m trainers.maps --model skills-fasttext" in status["skills-fasttext"]
    for dataset in ("skills-word2vec", "digits", "vae-digits", "vae-faces", "resumes"):
        assert status[dataset] is None, status[dataset]
        art = mdata.load_map(dataset)
        n = len(art.data)
        assert set(art.coords) == {"pca", "tsne"} and all(c.shape == (n, 2) for c in art.coords.values())
        assert art.card["smoke"] and len(art.config["clusters"]["labels"]) == n
        for m in art.card["metrics"].values():
            assert 0 <= m["knn_overlap"] <= 1 and 0 <= m["trustworthiness"] <= 1
        assert art.card["headline"] and art.card["summary"]["baseline"].startswith("random placement")
    digits = mdata.load_map("digits")
    assert digits.data.images.shape == (300, 28, 28) and set(digits.data.labels["digit"]) == set("0123456789")
    assert digits.card["metrics"]["tsne"]["knn_overlap"] > digits.card["baseline"]["random placement"]["knn_overlap"]
    faces = mdata.load_map("vae-faces")
    assert set(faces.data.labels) == {"gender", "age band", "ethnicity"} and faces.data.images.shape[1:] == (32, 32, 3)
    assert mdata.load_map("vae-digits").data.features.shape[1] == 4  # the smoke VAE's latent size


def run_cli(*args, root):
    from gallery.__main__ import main

    buf = io.StringIO()
    with redirect_stdout(buf):
        code = main(["maps", "project", *args])
    return code, json.loads(buf.getvalue())


def test_cli_writes_coordinates_as_csv(smoke_maps, tmp_path):
    out = tmp_path / "digits.csv"
    code, res = run_cli("--data", "digits", "--method", "pca", "--dims", "3", "--n", "100", "--out", str(out), root=1)
    assert code == 0 and res["n"] == 100 and set(res) >= {"n", "trustworthiness", "seconds"}
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert len(rows) == 100 and list(rows[0]) == ["id", "label", "x", "y", "z"]
    assert len({r["label"] for r in rows}) == 10  # stratified: every digit kept
    code, res = run_cli("--data", "skills-word2vec", "--method", "tsne", "--n", "20", "--out", str(out), root=1)
    header = next(csv.reader(open(out, encoding="utf-8")))
    assert code == 0 and res["n"] == 20 and header == ["id", "label", "x", "y"]
    code, res = run_cli("--data", "skills-glove", "--out", str(out), root=1)
    assert code == 1 and "python -m trainers.maps --model skills-glove" in res["error"]
    code, res = run_cli("--data", "digits", "--out", str(tmp_path / "no" / "x.csv"), root=1)
    assert code == 1 and "does not exist" in res["error"]


def test_page_switches_searches_computes_and_names_missing_maps(smoke_maps):
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    assert [m.label for m in at.metric][:2] == ["Trustworthiness", "10-NN kept"]
    assert any("trainers.maps --model skills-glove" in m.value for m in at.markdown)  # in the missing-maps list
    at.selectbox(key="dataset").set_value("digits").run()
    assert not at.exception, at.exception
    at.text_input(key="find_digits").set_value("test #").run()
    assert not at.exception, at.exception
    assert any(df.value.columns.tolist() == ["point", "distance", "near on map"] for df in at.dataframe)
    at.text_input(key="find_digits").set_value("no such point").run()
    assert any("No point" in w.value for w in at.warning)
    at.selectbox(key="colour_digits").set_value("KMeans cluster").run()
    at.slider[0].set_value(4).run()
    assert not at.exception, at.exception
    at.selectbox(key="dataset").set_value("resumes").run()
    at.button_group[0].set_value("pca").run()
    assert not at.exception, at.exception
    assert any("PCA keeps" in c.value for c in at.caption)
    at.radio[0].set_value(3)
    at.number_input[0].set_value(20).run()
    assert any(c.value.startswith("Estimated cost: about") for c in at.caption)  # said before it runs
    at.button[0].click().run()  # a 3-D PCA of 20 résumés, computed on demand
    assert not at.exception, at.exception
    assert any("computed on demand: 3-D, 20 points" in c.value for c in at.caption)


def test_page_says_how_to_build_the_maps_when_none_exist(monkeypatch, tmp_path):
    monkeypatch.setattr(registry, "PRETRAINED", tmp_path)
    st.cache_resource.clear()
    at = AppTest.from_file(PAGE, default_timeout=30).run()
    st.cache_resource.clear()
    assert not at.exception and "No map has been built yet" in at.error[0].value
    assert at.code[0].value == "python -m trainers.maps"


def test_benchmark_runs_and_its_table_reads():
    from benchmarks import maps as bench

    result = bench.measure([300], methods=("pca", "tsne"), tsne_iterations=250)
    row = result["rows"][0]
    assert row["n"] == 300 and row["pca"] < row["tsne"] and row["faithfulness"] >= 0
    assert "| 300 |" in bench.table(result)


# ---------------------------------------------------------------- your own vectors


def vector_files(X: np.ndarray, words=None) -> dict[str, bytes]:
    """The same vectors as a Projector TSV, word2vec text, a .npy array and numpy.savetxt's spaces."""
    words = words or [f"w{i}" for i in range(len(X))]
    rows = [[repr(float(v)) for v in r] for r in X]
    npy, txt = io.BytesIO(), io.BytesIO()
    np.save(npy, X)
    np.savetxt(txt, X)
    return {
        "vectors.tsv": "".join("\t".join(r) + "\n" for r in rows).encode(),
        "vectors.txt": (
            f"{len(X)} {X.shape[1]}\n" + "".join(f"{w} {' '.join(r)}\n" for w, r in zip(words, rows))
        ).encode(),
        "vectors.npy": npy.getvalue(),
        "savetxt.txt": txt.getvalue(),
    }


def own_metadata(y) -> bytes:
    return ("name\tgroup\tx\n" + "".join(f"p{i}\tg{c}\t{i % 3}\n" for i, c in enumerate(y))).encode()


def test_tsv_word2vec_and_npy_give_the_same_map(tmp_path):
    X, y = blobs(120, dim=16)
    files = vector_files(X)
    parsed = {name: own.parse(raw, name) for name, raw in files.items()}
    assert {d.format for d in parsed.values()} == {"tsv", "word2vec", "npy"}
    for d in parsed.values():
        np.testing.assert_array_equal(d.features, X)  # float32 in, the same float32 out
    assert parsed["vectors.txt"].columns["word"][:2] == ["w0", "w1"] and not parsed["vectors.npy"].columns
    maps = {}
    for name, raw in files.items():
        (tmp_path / name).write_bytes(raw)
        out = tmp_path / f"{name}.csv"
        code, res = run_cli("--vectors", str(tmp_path / name), "--dims", "3", "--out", str(out), root=1)
        assert code == 0 and res["points"] == 120 and res["dims_in"] == 16, res
        maps[name] = (
            res["trustworthiness"],
            [(r["x"], r["y"], r["z"]) for r in csv.DictReader(open(out, encoding="utf-8"))],
        )
    assert len({str(m) for m in maps.values()}) == 1  # the same map and the same faithfulness, whatever the format
    tsne = [project(d.features, "tsne", 2, iterations=250).coords for d in parsed.values()]
    assert all(np.array_equal(tsne[0], t) for t in tsne[1:])


def test_own_metadata_names_colours_and_csv():
    X, y = blobs(30, dim=5)
    one = own.parse(vector_files(X)["vectors.tsv"], "v.tsv", "".join(f"g{c}\n" for c in y).encode(), "m.tsv")
    assert list(one.columns) == ["label"] and one.ids()[0] == "g0 (row 1)"  # repeated names carry their row
    many = own.parse(vector_files(X)["vectors.txt"], "v.txt", own_metadata(y), "m.tsv")
    assert list(many.columns) == ["word", "name", "group", "x"] and many.ids("name")[:2] == ["p0", "p1"]
    shown = many.map_data("name", np.array([3, 7]))
    assert shown.ids == ["p3", "p7"] and shown.find("p7") == [1] and shown.labels["group"] == ["g3", "g3"]
    coords = np.arange(60, dtype=np.float32).reshape(30, 2)
    text = own.to_csv(many, coords, np.arange(30), "group")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == ["word", "name", "label", "x (metadata)", "x", "y"] and rows[4]["label"] == f"g{y[4]}"
    sample = list(csv.DictReader(io.StringIO(own.to_csv(many, coords[:2], np.array([5, 9])))))
    assert [r["index"] for r in sample] == ["5", "9"] and sample[1]["name"] == "p9" and sample[1]["y"] == "3"
    with pytest.raises(own.BadInput, match="no column 'colour'; the columns are: word, name, group, x"):
        many.check_label("colour")


@pytest.mark.parametrize(
    "name, raw, words",
    [
        ("ragged.tsv", b"1\t2\t3\n4\t5\t6\n7\t8\n" + b"1\t1\t1\n" * 3, "line 3 has 2 numbers, line 1 has 3"),
        ("text.tsv", b"1\t2\n3\t4\n5\tfive\n6\t7\n8\t9\n", "line 3, column 2: 'five' is not a number"),
        ("header.tsv", b"a\tb\n1\t2\n3\t4\n5\t6\n7\t8\n9\t0\n", "no header row"),
        ("nan.tsv", b"1\t2\n3\t4\n5\t6\n7\tnan\n8\t9\n", "line 4, column 2 is NaN"),
        ("inf.tsv", b"1\t2\n3\t4\n5\t6\n7\t8\n-inf\t9\n", "line 5, column 1 is infinity"),
        ("big.tsv", b"1\t2\n3\t4\n5\t6\n7\t8\n1e39\t9\n", "line 5: a number beyond float32"),
        ("gap.tsv", b"1\t2\n\n3\t4\n5\t6\n7\t8\n8\t9\n", "line 2 is empty"),
        ("one.tsv", b"1\t2\t3\n", "a single point"),
        ("same.tsv", b"1\t2\n" * 6, "the same vector"),
        ("wide.tsv", ("\t".join(["1"] * 2049) + "\n").encode() * 5, "2,049 dimensions; the limit is 2,048"),
        ("many.tsv", b"1\n2\n" * 10_001, "20,002 points; the limit is 20,000"),
        ("latin.tsv", "1\t2\n3\t4\nGr\xfc\xdfe\n".encode("latin-1"), "not UTF-8 text: line 3"),
        ("nul.tsv", b"1\t2\n\x00\x00", "nul.tsv does not look like text (it has binary bytes)"),
        ("w2v.txt", b"6 2\na 1 2\nb 3 4\nc 5\nd 7 8\ne 9 0\nf 1 1\n", "line 4 has 1 numbers after its word"),
        ("w2v-count.txt", b"7 2\na 1 2\nb 3 4\nc 5 6\nd 7 8\ne 9 0\nf 1 1\n", "says 7 words, but 6 lines"),
        ("w2v.bin", b"6 2\nthe " + np.ones(2, np.float32).tobytes() * 6, "binary word2vec file"),
        ("obj.npy", None, "Python objects"),
        ("nan.npy", None, "row 3 (counting from 1) holds NaN"),
        ("flat.npy", None, "shape (10,)"),
        ("cut.npy", None, "truncated"),
        ("fake.npy", b"1\t2\n", "not a .npy file"),
    ],
)
def test_bad_vectors_say_what_and_where(name, raw, words):
    def npy(a, **kw):
        buf = io.BytesIO()
        np.save(buf, a, **kw)
        return buf.getvalue()

    if raw is None:
        X = np.arange(24, dtype=np.float64).reshape(6, 4)
        X[2, 1] = np.nan
        raw = {
            "obj.npy": lambda: npy(np.array([{"a": 1}] * 6, dtype=object), allow_pickle=True),
            "nan.npy": lambda: npy(X),
            "flat.npy": lambda: npy(np.arange(10.0)),
            "cut.npy": lambda: npy(np.ones((50, 8)))[:400],
        }[name]()
    with pytest.raises(own.BadInput, match=re.escape(words)):
        own.read_vectors(raw, name)


def test_bad_metadata_says_what_and_where():
    vectors = own.parse(b"1\t2\n3\t4\n5\t6\n7\t8\n9\t1\n", "v.tsv")
    for meta, words in [
        (b"a\nb\nc\n", "3 rows, but the vectors have 5 points"),
        (b"label\na\nb\nc\nd\ne\n", "drop the first line"),
        (b"k\tv\na\t1\nb\t2\nc\nd\t4\ne\t5\n", "line 4 has 1 cells, its header 2"),
        (b"\xff\xfe", "not UTF-8"),
        (b"\n\n", "is empty"),
    ]:
        with pytest.raises(own.BadInput, match=re.escape(words)):
            own.parse(b"1\t2\n3\t4\n5\t6\n7\t8\n9\t1\n", "v.tsv", meta, "m.tsv")
    assert len(vectors) == 5


def test_cosine_neighbours_and_label_agreement():
    from sklearn.neighbors import NearestNeighbors

    X, y = blobs(200, dim=12, seed=4)
    nn = NearestNeighbors(n_neighbors=11, metric="cosine", algorithm="brute").fit(X)
    dist, idx = nn.kneighbors(X[[5]])
    got, d = neighbours(X, 5, 10, metric="cosine")
    np.testing.assert_array_equal(got, idx[0, 1:])
    np.testing.assert_allclose(d, dist[0, 1:], atol=1e-6)
    with pytest.raises(ValueError, match="metric"):
        neighbours(X, 5, metric="manhattan")
    Y = project(X, "pca", 2).coords
    f = faithfulness(X, Y, labels=y, keep_neighbours=True)
    assert f["label_agreement_original"] > 0.95 and f["label_agreement_chance"] == pytest.approx(0.25)
    assert f["trustworthiness"] == faithfulness(X, Y)["trustworthiness"]  # labels change nothing else
    again = label_agreement(y, *f["neighbours"])
    assert again["label_agreement"] == f["label_agreement"]
    rows, high, low = f["neighbours"]
    assert np.mean(y[low] == y[rows][:, None]) == pytest.approx(f["label_agreement"])


def test_cli_maps_your_own_vectors(tmp_path):
    X, y = blobs(150, dim=20)
    (tmp_path / "v.tsv").write_bytes(vector_files(X)["vectors.tsv"])
    (tmp_path / "m.tsv").write_bytes(own_metadata(y))
    out = tmp_path / "map.csv"
    args = ["--vectors", str(tmp_path / "v.tsv"), "--metadata", str(tmp_path / "m.tsv"), "--out", str(out)]
    code, res = run_cli(*args, "--label", "group", "--method", "pca", "--dims", "3", root=1)
    assert code == 0 and {"points", "dims_in", "trustworthiness", "knn_overlap", "label_agreement"} <= set(res)
    assert res["points"] == 150 and res["dims_in"] == 20 and res["label_agreement"] > 0.9
    coords = project(X, "pca", 3).coords
    f = faithfulness(X, coords, labels=y)  # the numbers the built-in sources get for the same points
    assert res["trustworthiness"] == round(f["trustworthiness"], 4) and res["knn_overlap"] == round(f["knn_overlap"], 4)
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert list(rows[0]) == ["name", "label", "x (metadata)", "x", "y", "z"] and [r["name"] for r in rows[:2]] == [
        "p0",
        "p1",
    ]
    code, res = run_cli(*args, "--n", "40", "--seed", "3", root=1)
    rows = list(csv.DictReader(open(out, encoding="utf-8")))
    assert code == 0 and res["points"] == 40 and "label_agreement" not in res and len(rows) == 40
    assert list(rows[0])[:2] == ["index", "name"] and all(r["name"] == f"p{r['index']}" for r in rows)
    assert [int(r["index"]) for r in rows] == sorted(int(r["index"]) for r in rows)  # the file's order
    for extra, words in [
        (["--label", "colour"], "no column 'colour'"),
        (["--method", "tsne", "--n", "0"], "at least 1"),
    ]:
        code, res = run_cli(*args, *extra, root=1)
        assert code == 1 and words in res["error"], res
    code, res = run_cli("--data", "digits", "--label", "x", "--out", str(out), root=1)
    assert code == 1 and "go with --vectors" in res["error"]


def test_page_maps_your_own_vectors(monkeypatch, tmp_path):
    """Upload vectors and metadata, map them (PCA at once, t-SNE on the button), search a name, colour, download;
    a bad file is explained. No built-in map exists here: the own source works without them."""
    monkeypatch.setattr(registry, "PRETRAINED", tmp_path)
    st.cache_resource.clear()
    X, y = blobs(120, dim=16)
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    at.selectbox(key="dataset").set_value("own").run()
    assert not at.exception and "Upload your vectors" in at.info[0].value
    at.file_uploader(key="own_vectors").set_value(("v.txt", vector_files(X)["vectors.txt"], "text/plain")).run()
    assert not at.exception, at.exception
    assert [m.label for m in at.metric] == ["Trustworthiness", "10-NN kept"]  # PCA, right away
    assert any("120 points x 16 dimensions (word2vec text)" in c.value for c in at.caption)
    at.file_uploader(key="own_metadata").set_value(("m.tsv", own_metadata(y), "text/plain")).run()
    assert not at.exception, at.exception
    assert "10-NN same group" in [m.label for m in at.metric]  # coloured by its first few-valued column
    next(s for s in at.selectbox if s.label == "Names from").set_value("name").run()
    at.text_input(key="find_own").set_value("p17").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    assert table.columns.tolist() == ["point", "distance", "near on map"] and len(table) == 10
    assert all(int(p[1:]) % 4 == 17 % 4 for p in table["point"])  # its nearest are in its own blob
    assert any("Nearest to p17" in m.value for m in at.markdown)
    at.radio(key="own_distance").set_value("euclidean").run()
    assert at.dataframe[0].value["point"].tolist() == [f"p{i}" for i in neighbours(X, 17)[0]]
    assert len(at.get("download_button")) == 1
    at.button_group(key="own_method").set_value("tsne").run()
    assert any("Press **Map these vectors**" in i.value for i in at.info)
    at.slider(key="own_iterations").set_value(250).run()
    at.button(key="own_compute").click().run()
    assert not at.exception, at.exception
    assert any("t-SNE map: 2-D, 120 of 120 points" in c.value for c in at.caption)
    at.file_uploader(key="own_vectors").set_value(("v.tsv", b"1\t2\n3\tx\n" * 3, "text/plain")).run()
    assert not at.exception and "v.tsv, line 2, column 2: 'x' is not a number" in at.error[-1].value
    st.cache_resource.clear()


# ---------------------------------------------------------------- committed artifacts

COMMITTED = [d for d in mdata.DATASETS if (registry.PRETRAINED / mdata.artifact_name(d)).is_dir()]


@pytest.mark.parametrize("dataset", COMMITTED)
def test_committed_map_is_intact_and_beats_a_random_placement(dataset):
    art = mdata.load_map(dataset)
    assert not art.card["smoke"] and set(art.coords) == {"pca", "tsne", "umap"}
    rand = art.card["baseline"]["random placement"]
    for method, m in art.card["metrics"].items():
        assert m["knn_overlap"] > 2 * rand["knn_overlap"] and m["trustworthiness"] > rand["trustworthiness"], method
    m = art.card["metrics"]
    assert max(m["tsne"]["trustworthiness"], m["umap"]["trustworthiness"]) > m["pca"]["trustworthiness"]
    assert max(m["tsne"]["knn_overlap"], m["umap"]["knn_overlap"]) > m["pca"]["knn_overlap"]


@pytest.mark.parametrize("dataset", [d for d in COMMITTED if d in mdata.SOURCE_ARTIFACT])
def test_committed_map_was_made_from_the_committed_model(dataset):
    art = mdata.load_map(dataset)
    source = art.config["source"]["artifact"]
    card = registry.read_json(registry.PRETRAINED / source / "card.json")
    assert art.config["source"]["weights_sha256"] == card["weights_sha256"], (
        f"{source} changed after maps-{dataset} was made: rebuild with python -m trainers.maps --model {dataset}"
    )


@needs_map_data
@pytest.mark.parametrize("dataset", [d for d in COMMITTED if d in ("digits", "resumes")])
def test_committed_map_metrics_are_reproduced_from_the_stored_coordinates(dataset):
    art = mdata.load_map(dataset)
    for method, coords in art.coords.items():
        f = faithfulness(art.data.features, coords, seed=art.config["seed"])
        assert f["knn_overlap"] == pytest.approx(art.card["metrics"][method]["knn_overlap"], abs=1e-3)
        assert f["trustworthiness"] == pytest.approx(art.card["metrics"][method]["trustworthiness"], abs=1e-3)


@pytest.mark.skipif(not COMMITTED, reason="no committed map artifact yet")
def test_page_draws_a_committed_default_map_within_two_seconds_warm(monkeypatch):
    """The page's own run (AppTest's harness overhead left out), for a new visitor once the server is warm."""
    import streamlit.runtime.scriptrunner.script_runner as runner

    seconds = []
    inner = runner.exec_func_with_error_handling

    def timed(func, ctx):
        start = time.perf_counter()
        try:
            return inner(func, ctx)
        finally:
            seconds.append(time.perf_counter() - start)

    monkeypatch.setattr(runner, "exec_func_with_error_handling", timed)
    st.cache_resource.clear()
    at = AppTest.from_file(PAGE, default_timeout=60).run()  # cold: loads the default artifact into the cache
    assert not at.exception, at.exception
    at = AppTest.from_file(PAGE, default_timeout=60).run()  # a new visitor, warm server
    assert not at.exception, at.exception
    assert len(at.get("plotly_chart")) == 1 and seconds[-1] < 2.0, seconds
