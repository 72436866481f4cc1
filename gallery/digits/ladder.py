"""The clustering ladder: each rung measured here (read from the artifacts' cards) beside its published figure."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rung:
    title: str
    artifact: str  # whose card holds the figure measured here
    key: str  # that card's metrics key
    change: str  # one line: what this rung changes
    published: float | None  # accuracy on all 70,000 MNIST images
    source: str
    notebook: float | None = None  # the learning notebook this gallery grew from
    published_nmi: float | None = None  # where the source reports it


RUNGS = (
    Rung(
        "KMeans on pixels",
        "digits-dec",
        "raw_kmeans",
        "ten centres in the space of 784 pixel values",
        0.5349,
        "Xie et al. 2016 (DEC), table 2",
        0.535,
    ),
    Rung(
        "Autoencoder + KMeans",
        "digits-dec",
        "autoencoder_kmeans",
        "the same KMeans on a 10-number code learned by an autoencoder",
        None,
        "no single figure: it moves with how the autoencoder was pretrained",
        0.823,
    ),
    Rung(
        "DEC",
        "digits-dec",
        "dec",
        "trains the encoder and the centres again to sharpen the clusters (KL to a squared target)",
        0.8430,
        "Xie et al. 2016; 91% on average over 10 runs with DEC-keras's pretraining",
        0.874,
    ),
    Rung(
        "IDEC",
        "digits-idec",
        "idec",
        "keeps the decoder and its reconstruction loss while it sharpens the clusters, so the codes keep their "
        "local structure",
        0.881,
        "Guo et al. 2017 (IDEC), table 2",
        published_nmi=0.867,
    ),
    Rung(
        "UMAP on pixels + mixture",
        "digits-n2d",
        "umap_pixels_mixture",
        "no network: UMAP keeps each image's nearest neighbours close, a Gaussian mixture finds the groups",
        None,
        "no published figure for this exact setting",
    ),
    Rung(
        "N2D",
        "digits-n2d",
        "n2d",
        "UMAP on the autoencoder's codes instead of the pixels, then the mixture",
        0.979,
        "McConville et al. 2020 (N2D)",
        published_nmi=0.942,
    ),
)


def rows(cards: dict[str, dict | None]) -> list[dict]:
    """One row per rung whose artifact's card is present: the figures measured here and the published one."""
    out = []
    for rung in RUNGS:
        card = cards.get(rung.artifact)
        measured = (card or {}).get("metrics", {}).get(rung.key)
        if measured is None:
            continue
        out.append(
            {
                "method": rung.title,
                "what changes": rung.change,
                "accuracy": measured["accuracy"],
                "NMI": measured["nmi"],
                "ARI": measured["ari"],
                "published accuracy": rung.published,
                "published NMI": rung.published_nmi,
                "notebook": rung.notebook,
                "published in": rung.source,
            }
        )
    return out
