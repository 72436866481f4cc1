"""The digits lab's N2D: UMAP of a pretrained autoencoder's codes and a mixture of Gaussians, and the UMAP reference.

    python -m trainers.digits --model n2d                    # N2D on digits-dec's encoder
    python -m trainers.digits --umap-reference               # only KMeans on a 10-d UMAP of the pixels; prints JSON

UMAP's n_neighbors and seed are chosen by the mixture's BIC (no labels); the card reports every run, KMeans on the
same codes and UMAP of the pixels with the same mixture. trainers.digits is the command line.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch

from gallery.digits import cluster, n2d
from trainers import digits_common as common
from trainers.digits_common import kmeans, rounded

MODELS = ("n2d",)


def umap_mixture_runs(codes: np.ndarray, y: np.ndarray, neighbours, seeds, cache: Path) -> list[dict]:
    """Every (n_neighbors, seed): a 10-d UMAP and a 10-component mixture, its scale-free BIC and (to report only)
    its scores. Each run keeps its embedding and mixture under private keys.

    Embeddings are kept in ``cache`` (named by a hash of the input), so a run stopped part-way loses at most one.
    """
    import hashlib

    digest = hashlib.sha256(np.ascontiguousarray(codes, dtype=np.float32).tobytes()).hexdigest()[:16]
    cache.mkdir(parents=True, exist_ok=True)
    runs = []
    for nn in neighbours:
        for seed in seeds:
            start = time.time()
            path = cache / f"umap-{digest}-{nn}-{seed}.npy"
            if path.exists():  # with the seconds it took when it was made, so the card counts them
                z, earlier = np.load(path), float(path.with_suffix(".seconds").read_text())
            else:
                z, earlier = n2d.umap_embedding(codes, nn, seed), 0.0
                np.save(path, z)
                path.with_suffix(".seconds").write_text(f"{time.time() - start:.1f}")
            mixture, bic = n2d.Mixture.fit(z, 10, seed)
            labels = mixture.predict_proba(z).argmax(1)
            row = {"n_neighbors": nn, "seed": seed, "bic": round(bic, 1), **cluster.scores(y, labels)}
            row["seconds"] = round(time.time() - start + earlier, 1)
            print("UMAP + mixture:", row, flush=True)
            runs.append({**row, "_z": z, "_mixture": mixture, "_labels": labels, "_earlier": earlier})
    return runs


def public(run: dict) -> dict:
    return {k: v for k, v in run.items() if not k.startswith("_")}


def train(args, images: common.ImageSet, device, out: Path, ckpt_path: Path) -> None:
    """N2D on the encoder of --autoencoder: choose UMAP's n_neighbors and seed by BIC, measure every rung.

    UMAP and the mixture run on the CPU whatever ``device`` says; the card names the CPU.
    """
    x, y, is_test = common.all_images(args, images)
    source = cluster.load(args.autoencoder.name, args.autoencoder.parent)
    codes = cluster.encode(source.ae, x).numpy()  # (N,10), the stored (float16-rounded) encoder
    start = time.time()
    neighbours = [5] if args.smoke else [int(v) for v in args.neighbours.split(",")]
    seeds = [0] if args.smoke else [int(v) for v in args.seeds.split(",")]
    cache = ckpt_path.with_suffix(".umap")
    runs = umap_mixture_runs(codes, y, neighbours, seeds, cache)
    chosen = min(runs, key=lambda r: r["bic"])
    same_k = [r for r in runs if r["n_neighbors"] == chosen["n_neighbors"]]
    spread = {m: [min(r[m] for r in same_k), max(r[m] for r in same_k)] for m in ("accuracy", "nmi", "ari")}
    labels, z = chosen["_labels"], chosen["_z"]
    print("chosen by BIC:", public(chosen), flush=True)
    ae_labels, _ = kmeans(codes, args.seed, n_init=20)
    pixels = umap_mixture_runs(x.flatten(1).numpy(), y, [chosen["n_neighbors"]], [chosen["seed"]], cache)[0]
    # What the artifact will do with a training image: fp16 codes and embedding, the neighbour transform.
    codes16, z16 = rounded(torch.as_tensor(codes)), rounded(torch.as_tensor(z))
    placer = n2d.NeighbourEmbedding(codes16, z16, chosen["n_neighbors"])
    mixture = chosen["_mixture"]
    q = placer.mean_of(codes16, mixture.predict_proba(z16.numpy()))  # (N,10), as the artifact assigns new images
    agreement = float((q.argmax(1) == labels).mean())
    by_position = float((mixture.predict_proba(placer.transform(codes16)).argmax(1) == labels).mean())
    print(f"new-image path agrees with the training clusters on {agreement:.2%} of training images", flush=True)
    seconds = time.time() - start + sum(r["_earlier"] for r in [*runs, pixels])  # cached UMAPs count too
    mapping = cluster.cluster_to_label(y, labels)
    tensors = {
        **{f"encoder.{k}": v for k, v in source.ae.encoder.state_dict().items()},
        "train.codes": codes16,
        "train.embedding": z16,
        "train.cluster": torch.as_tensor(labels, dtype=torch.int64),
        **common.sample_map(args, lambda rows: z[rows], y, is_test, q, {"cluster": labels}),
    }
    config = {
        "dims": list(source.ae.dims),
        "n_neighbors": chosen["n_neighbors"],
        "mixture": chosen["_mixture"].to_config(),
        "cluster_to_label": mapping.tolist(),
        "map": f"t-SNE of the N2D embedding of a 3,000-image sample of the {images.data} test set (indices into "
        "x_test)",
    }
    n2d_scores = cluster.scores(y, labels)
    metrics = {
        "n2d": n2d_scores,
        "autoencoder_kmeans": cluster.scores(y, ae_labels),
        "umap_pixels_mixture": {k: pixels[k] for k in ("accuracy", "nmi", "ari")},
        "test_only": {"n2d": cluster.scores(y[is_test], labels[is_test])},
        "seed_spread": {"n_neighbors": chosen["n_neighbors"], "seeds": seeds, **spread},
        "runs": [public(r) for r in runs],
        "new_image_agreement": round(agreement, 4),
        "new_image_agreement_by_mean_position": round(by_position, 4),
        "images": int(len(y)),
        "cluster_sizes": np.bincount(labels, minlength=10).tolist(),
    }
    card = {
        **common.card_head(
            args,
            out,
            f"unsupervised clustering of {images.data} {images.things} into 10 clusters (labels only score the result)",
            f"N2D: the encoder of {args.autoencoder.name} ({'-'.join(map(str, source.ae.dims))}), UMAP of its codes "
            f"to 10-d (n_neighbors {chosen['n_neighbors']}, min_dist 0), a full-covariance mixture of 10 Gaussians",
            sum(v.numel() for k, v in tensors.items() if k.startswith("encoder.")),
            torch.device("cpu"),
            seconds,
        ),
        "autoencoder": common.autoencoder_card(args, source),
        "data": common.data_card(
            args,
            images,
            {"all": int(len(y))},
            f"{images.everything}, as in the N2D and DEC papers; test-only scores too",
        ),
        "selection": f"n_neighbors of {neighbours} and seed of {seeds} chosen by the lowest BIC of the mixture on a "
        "whitened embedding (no labels); labels only score every run",
        "new_images": f"the {chosen['n_neighbors']} nearest training codes, weighted by UMAP's fuzzy membership, "
        f"average their mixture posteriors (agrees with the training clusters on {agreement:.2%} of training "
        "images) and their embeddings (the place on the map, where UMAP's transform starts; the mixture's cluster "
        f"at that place agrees on {by_position:.2%})",
        "metrics": metrics,
        "summary": {
            "quality": f"N2D accuracy {n2d_scores['accuracy']:.1%}, NMI {n2d_scores['nmi']:.3f}, "
            f"ARI {n2d_scores['ari']:.3f} (seeds {spread['accuracy'][0]:.1%}-{spread['accuracy'][1]:.1%})",
            "baseline": f"KMeans on the same codes {metrics['autoencoder_kmeans']['accuracy']:.1%}; UMAP on pixels "
            f"+ mixture {pixels['accuracy']:.1%}",
        },
        "headline": f"N2D clusters {n2d_scores['accuracy']:.1%} of {images.things} correctly without labels "
        f"(KMeans on the same codes {metrics['autoencoder_kmeans']['accuracy']:.1%})",
    }
    common.write(args, out, tensors, config, card)


def umap_reference(args, images: common.ImageSet) -> dict:
    """KMeans on a 10-d UMAP embedding of the raw pixels (McInnes et al.): a strong clustering reference, no network."""
    import json

    import umap

    arrays = common.load(args, images)
    x = np.concatenate([arrays["x_train"], arrays["x_test"]]).reshape(-1, 784).astype(np.float32) / 255.0
    y = np.concatenate([arrays["y_train"], arrays["y_test"]]).astype(np.int64)
    start = time.time()
    codes = umap.UMAP(n_components=10, n_neighbors=15, min_dist=0.0, random_state=args.seed).fit_transform(x)
    labels, _ = kmeans(codes, args.seed, n_init=20)
    result = {"umap_kmeans": cluster.scores(y, labels), "images": int(len(y)), "seconds": round(time.time() - start)}
    print(json.dumps(result))
    return result
