"""Precompute the default embedding maps: PCA, t-SNE and UMAP (2-D) of each data set, with faithfulness.

    python -m trainers.maps                          # every data set whose inputs exist -> pretrained/maps-*/
    python -m trainers.maps --model digits           # one: skills-word2vec | skills-fasttext | skills-glove |
                                                     #      digits | vae-digits | vae-faces | resumes
    python -m trainers.maps --smoke --data-dir D --source-root R --out O   # seconds, for tests (PCA, t-SNE)

Nothing is learned here: a map is a projection. What is measured is each map's faithfulness on the stored
(float16) features and coordinates: sklearn's trustworthiness (k = 10) and the fraction of each point's 10
nearest neighbours in the original space that are among its 10 nearest on the map, next to the same two
numbers for a random placement of the points (the floor any map must clear), measured in the same run.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from gallery import DATA_ROOT, registry, training
from gallery.maps import data as mdata
from gallery.maps.project import K_NEIGHBOURS, METHOD_NAMES, METHODS, faithfulness, kmeans, project

DEFAULT_K = 10
SIZES = {"skills": 3000, "digits": 5000, "vae-faces": 3000}
SMOKE_SIZES = {"skills": 150, "digits": 300, "vae-faces": 120}
LICENCES = {
    "skills": ("skill2vec 50K job postings (duyet/skill2vec-dataset; Skill2vec, arXiv 1707.09751)", "MIT"),
    "digits": ("MNIST test set (LeCun, Cortes, Burges)", "CC BY-SA 3.0"),
    "vae-digits": ("MNIST test set (LeCun, Cortes, Burges)", "CC BY-SA 3.0"),
    "vae-faces": ("UTKFace crop_part1, 64x64", "UTKFace: non-commercial research only"),
    "resumes": ("Resume Dataset (UpdatedResumeDataSet.csv, Kaggle; via zaid-ali753/Resume-Screening-101)", "none"),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_common_args(p, "maps", "all")
    g = p.add_argument_group("maps")
    g.add_argument(
        "--source-root", type=Path, default=None, help="where the skills/VAE artifacts are (default: pretrained/)"
    )
    g.add_argument("--methods", default=None, help="comma-separated (default: pca,tsne,umap; smoke: pca,tsne)")
    g.add_argument("--threads", type=int, default=1, help="torch threads (the machine is shared)")
    args = p.parse_args(argv)
    if args.model != "all" and args.model not in mdata.DATASETS:
        p.error(f"--model must be 'all' or one of {', '.join(mdata.DATASETS)}")
    args.methods = (args.methods or ("pca,tsne" if args.smoke else "pca,tsne,umap")).split(",")
    if not set(args.methods) <= set(METHODS):
        p.error(f"--methods must be among {', '.join(METHODS)}")
    args.command = training.command_line("maps", argv)
    return args


def family(dataset: str) -> str:
    return "skills" if dataset.startswith("skills") else dataset


def build_data(dataset: str, args, cache: dict) -> tuple[mdata.MapData, list[Path]]:
    """The data set's points, and the data files they came from."""
    data_root = Path(args.data_dir or DATA_ROOT)
    sizes = SMOKE_SIZES if args.smoke else SIZES
    source = args.source_root or registry.PRETRAINED
    if dataset.startswith("skills-"):
        return mdata.skills_data(dataset.removeprefix("skills-"), sizes["skills"], source), []
    if dataset in ("digits", "vae-digits"):
        path = data_root / "mnist" / "mnist.npz"
        if not path.is_file():
            raise training.missing_data(path)
        if "mnist" not in cache:
            from gallery.vae.data import load_mnist

            cache["mnist"] = load_mnist(path)
        rows = mdata.digit_sample(cache["mnist"], sizes["digits"], args.seed)
        if dataset == "digits":
            return mdata.digits_data(cache["mnist"], rows), [path]
        return mdata.vae_digits_data(cache["mnist"], rows, source), [path]
    if dataset == "vae-faces":
        from gallery.vae.data import FACES_ZIP, load_faces

        path = data_root / "faces" / FACES_ZIP
        if not path.is_file():
            raise training.missing_data(path)
        faces = load_faces(path, limit=400 if args.smoke else None)
        return mdata.vae_faces_data(faces, sizes["vae-faces"], args.seed, source), [path]
    from gallery.text.resumes import CSV_NAME

    path = data_root / "resumes" / CSV_NAME
    if not path.is_file():
        raise training.missing_data(path)
    return mdata.resumes_data(path.parent), [path]


def rounded(a: np.ndarray) -> np.ndarray:
    """What the artifact stores (float16), back as float32: metrics are measured on this."""
    return np.asarray(a, dtype=np.float16).astype(np.float32)


def make_map(dataset: str, args, cache: dict) -> Path:
    start = time.time()
    data, files = build_data(dataset, args, cache)
    stores_pixels = dataset == "digits"
    X = data.features if stores_pixels else rounded(data.features)  # pixels are stored exactly (uint8)
    n = len(X)
    coords, maps = {}, {}
    for method in tqdm(args.methods, desc=f"maps-{dataset} ({n} points)", leave=False):
        params = {"iterations": 250 if args.smoke else 1000} if method == "tsne" else {}
        proj = project(X, method, 2, args.seed, **params)
        c = rounded(proj.coords)
        coords[method] = c
        maps[method] = {
            "params": proj.params,
            "seconds": round(proj.seconds, 2),
            "explained_variance": [round(v, 4) for v in proj.explained_variance],
            **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in faithfulness(X, c, seed=args.seed).items()},
        }
        tqdm.write(
            f"maps-{dataset} {METHOD_NAMES[method]}: trustworthiness {maps[method]['trustworthiness']:.3f}, "
            f"10-NN kept {maps[method]['knn_overlap']:.3f} ({proj.seconds:.1f} s)"
        )
    rng = np.random.default_rng(args.seed)
    random_map = faithfulness(X, rng.standard_normal((n, 2)).astype(np.float32), seed=args.seed)
    clusters = kmeans(X, min(DEFAULT_K, n - 1), args.seed)
    seconds = time.time() - start

    tensors = {f"coords.{m}": torch.from_numpy(c) for m, c in coords.items()}
    if data.images is not None:
        tensors["images"] = torch.from_numpy(np.ascontiguousarray(data.images))
    if not stores_pixels:
        tensors["features"] = torch.from_numpy(np.ascontiguousarray(X))
    config = {
        "dataset": dataset,
        "description": data.description,
        "ids": data.ids,
        "labels": data.labels,
        "texts": data.texts,
        "weights": data.weights,
        "source": data.source,
        "features": "pixels / 255 (from images)" if stores_pixels else f"{X.shape[1]}-d float16",
        "distance": "Euclidean in the original space (unit-length rows: the order of cosine similarity)",
        "clusters": {"k": int(clusters.max()) + 1, "labels": [int(c) for c in clusters], "space": "original"},
        "maps": maps,
        "seed": args.seed,
    }
    best = max(maps, key=lambda m: maps[m]["knn_overlap"])
    b = maps[best]
    summary_of = "; ".join(
        f"{METHOD_NAMES[m]} T {v['trustworthiness']:.3f}, 10-NN kept {v['knn_overlap']:.3f}" for m, v in maps.items()
    )
    name, licence = LICENCES[family(dataset)]
    card = {
        "artifact": f"maps-{dataset}",
        "task": "2-D maps of an embedding that keep neighbourhoods",
        "model": f"{', '.join(METHOD_NAMES[m] for m in maps)} maps of {n:,} points",
        "parameters": 0,
        "points": n,
        "train_command": args.command,
        "hardware": training.hardware(torch.device("cpu")),
        "train_seconds": round(seconds, 1),
        "data": {
            "data": name,
            "licence": licence,
            "files": training.data_files(files),
            "description": data.description,
            "source_artifact": data.source,
        },
        "metrics": {m: {k: v for k, v in maps[m].items() if k != "params"} for m in maps},
        "baseline": {
            "random placement": {k: round(v, 4) if isinstance(v, float) else v for k, v in random_map.items()}
        },
        "evaluation": f"faithfulness on the stored float16 features and coordinates, k = {K_NEIGHBOURS}; "
        f"trustworthiness is sklearn.manifold.trustworthiness up to 3,000 points and beyond that the same sum over "
        "3,000 random points ranked against all N; the baseline is a random Gaussian placement of the same points",
        "summary": {
            "quality": f"{n:,} points: {summary_of}",
            "baseline": f"random placement: T {random_map['trustworthiness']:.3f}, "
            f"10-NN kept {random_map['knn_overlap']:.3f}",
        },
        "headline": f"{METHOD_NAMES[best]} keeps {b['knn_overlap']:.0%} of each point's 10 nearest neighbours "
        f"(random placement {random_map['knn_overlap']:.1%})",
        "smoke": args.smoke,
    }
    out_root = Path(args.out or registry.PRETRAINED)
    return registry.save_artifact(out_root / f"maps-{dataset}", tensors, config, card, readme=readme(card))


def readme(card: dict) -> str:
    lines = [
        f"# {card['artifact']}",
        "",
        card["data"]["description"] + ".",
        "",
        "| map | trustworthiness | 10-NN kept |",
    ]
    lines.append("|---|---|---|")
    for m, v in card["metrics"].items():
        lines.append(f"| {METHOD_NAMES[m]} | {v['trustworthiness']:.3f} | {v['knn_overlap']:.3f} |")
    r = card["baseline"]["random placement"]
    lines += [f"| random placement | {r['trustworthiness']:.3f} | {r['knn_overlap']:.3f} |", ""]
    lines += [f"Rebuild: `{card['train_command']}` ({card['train_seconds']:.0f} s on {card['hardware']}).", ""]
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    training.seed_everything(args.seed)
    wanted = list(mdata.DATASETS) if args.model == "all" else [args.model]
    source = args.source_root or registry.PRETRAINED
    cache: dict = {}
    for dataset in wanted:
        needs = mdata.SOURCE_ARTIFACT.get(dataset)
        if needs and args.model == "all":
            try:
                registry.check_artifact(needs, source)
            except registry.ArtifactError as err:
                print(f"skipping maps-{dataset}: {err}")
                continue
        try:
            out = make_map(dataset, args, cache)
        except SystemExit as err:
            if args.model != "all":
                raise
            print(f"skipping maps-{dataset}: {err}")
            continue
        print(f"wrote {out}")


if __name__ == "__main__":
    main()
