"""What the digits lab's trainer families share: the image sets, loading them, and writing the artifact and its card.

`trainers.digits` (the command line) picks a family by ``--model`` and hands it one ``ImageSet``:
`trainers.digits_classifiers` (logistic regression, MLP, CNN), `trainers.digits_dec` (the autoencoder, DEC and
IDEC) and `trainers.digits_n2d` (N2D and the UMAP reference) all import this module; it imports none of them.
A new set of 28x28 grey images in 10 classes (Fashion-MNIST's products next) is one more entry of ``IMAGE_SETS``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from gallery import training
from gallery.digits import data
from gallery.registry import save_artifact


@dataclass(frozen=True)
class ImageSet:
    """28x28 grey images in 10 classes, as the trainers read them and as their cards name them."""

    name: str  # the artifacts' prefix (pretrained/<name>-<model>) and the trainer's module (trainers.<name>)
    data: str  # what the cards call the data set: "MNIST"
    thing: str  # one image, in a card's words: "digit"
    things: str  # "digits"
    licence: dict  # "data", "licence" (and "citation"): copied into every card
    load: Callable[[Path | None], dict[str, np.ndarray]]  # data dir -> x_train, y_train, x_test, y_test (uint8)
    files: Callable[[Path | None], list[Path]]  # data dir -> the files read, for the card's sha256
    split: Callable[[dict], dict]  # the loaded arrays -> train / val / test (images, int64 labels)
    split_rule: str  # how ``split`` chose them, for the classifier cards
    everything: str  # what the clustering models see, in a card's words
    published: dict = field(default_factory=dict)  # method -> a published figure on this data set, with its source


IMAGE_SETS = {
    "digits": ImageSet(
        name="digits",
        data="MNIST",
        thing="digit",
        things="digits",
        licence=data.LICENCE,
        load=data.load,
        files=lambda data_dir: [data.npz_path(data_dir)],
        split=data.split,
        split_rule="validation = the last 5,000 training images (chooses the epoch); test = the 10,000 test images",
        everything="all 70,000 images",
        published={"idec": {"accuracy": 0.881, "nmi": 0.867, "source": "Guo et al. 2017 (IDEC), table 2, MNIST"}},
    ),
}

# ---------------------------------------------------------------------------------------------- loading


def load(args, images: ImageSet) -> dict[str, np.ndarray]:
    """The image set's four arrays; with --smoke a few hundred images of each split."""
    try:
        arrays = images.load(args.data_dir)
    except FileNotFoundError as err:
        raise training.missing_data(err.filename) from err
    if args.smoke:
        arrays = {
            "x_train": arrays["x_train"][:1200],
            "y_train": arrays["y_train"][:1200],
            "x_test": arrays["x_test"][:300],
            "y_test": arrays["y_test"][:300],
        }
    return arrays


def all_images(args, images: ImageSet) -> tuple[torch.Tensor, np.ndarray, np.ndarray]:
    """Every image (N,28,28) in [0,1], its label (N,), and whether it is a test image (N,): what clustering sees."""
    arrays = load(args, images)
    x = np.concatenate([arrays["x_train"], arrays["x_test"]])
    y = np.concatenate([arrays["y_train"], arrays["y_test"]]).astype(np.int64)
    is_test = np.arange(len(y)) >= len(arrays["y_train"])
    print(f"{len(y)} images (all of {images.data}, labels used only to score)")
    return data.to_tensor(x)[:, 0], y, is_test


# ---------------------------------------------------------------------------------------------- what clustering shares


def kmeans(codes: np.ndarray, seed: int, n_init: int):
    from sklearn.cluster import KMeans

    km = KMeans(10, n_init=n_init, random_state=seed).fit(codes)
    return km.labels_, km.cluster_centers_


def most_typical(q: np.ndarray, n: int = 12) -> list[list[int]]:
    """Per cluster, the n images (row indices of q, (N,K) soft assignments) it claims most surely; -1 pads."""
    typical = []
    for c in range(q.shape[1]):
        members = np.flatnonzero(q.argmax(1) == c)
        typical.append(members[np.argsort(-q[members, c])][:n].tolist() + [-1] * max(0, n - len(members)))
    return typical


def sample_map(args, embed, y, is_test, q, clusters: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """A 2-D t-SNE map of a 3,000-image sample of the test images and each cluster's most typical images.

    ``embed(rows)`` gives the points to map for those image rows; ``clusters`` names labellings of every image
    (``cluster``, and any other to compare on the map), stored for the sample as ``map.<name>``.
    """
    from sklearn.manifold import TSNE

    test_index = np.flatnonzero(is_test)
    rng = np.random.default_rng(args.seed)
    sample = np.sort(rng.choice(len(test_index), size=min(3000, len(test_index)), replace=False))
    xy = TSNE(
        2, perplexity=min(30, len(sample) - 1) if not args.smoke else 10, random_state=args.seed, init="pca"
    ).fit_transform(embed(test_index[sample]))
    return {
        "map.xy": torch.as_tensor(xy, dtype=torch.float32),
        "map.test_index": torch.as_tensor(sample, dtype=torch.int64),
        "map.label": torch.as_tensor(y[test_index[sample]], dtype=torch.int64),
        **{f"map.{k}": torch.as_tensor(v[test_index[sample]], dtype=torch.int64) for k, v in clusters.items()},
        "map.typical": torch.as_tensor(most_typical(q[test_index]), dtype=torch.int64),
    }


# ---------------------------------------------------------------------------------------------- the card


def rounded(t: torch.Tensor) -> torch.Tensor:
    """A tensor as it will be stored: float16, read back as float32."""
    return t.half().float() if t.is_floating_point() else t


def card_head(args, out: Path, task: str, model: str, parameters: int, device, seconds: float) -> dict:
    """The fields every card opens with: what it is, how big, the command that made it, where and how long."""
    return {
        "artifact": out.name,
        "task": task,
        "model": model,
        "parameters": parameters,
        "train_command": args.command,
        "hardware": training.hardware(device),
        "train_seconds": round(seconds, 1),
    }


def data_card(args, images: ImageSet, split: dict, split_rule: str) -> dict:
    """The card's "data": the set's licence, the files read (sha256), the split and how it was made."""
    files = training.data_files(images.files(args.data_dir))
    return {**images.licence, "files": files, "split": split, "split_rule": split_rule}


def autoencoder_card(args, source) -> dict:
    """Where a model built on a pretrained autoencoder (IDEC, N2D) got it: the artifact, its weights, its recipe."""
    return {
        "artifact": args.autoencoder.name,
        "weights_sha256": source.card.get("weights_sha256"),
        "pretraining": source.card["optimisation"]["autoencoder"],
    }


def write(args, out: Path, tensors, config: dict, card: dict, said: str | None = None) -> None:
    """The artifact, atomically, with its card and README; ``said`` (default: the card's summary) is printed."""
    card = {**card, "smoke": args.smoke}
    save_artifact(out, tensors, config, card, readme=training.card_readme(card))
    print(f"wrote {out}: {said or card['summary']}")
