"""Train the digits lab's models on MNIST.

    python -m trainers.digits --model cnn      # the default: 2 conv blocks, shifted/rotated inputs
    python -m trainers.digits --model mlp      # 784-800-800-10 with dropout
    python -m trainers.digits --model logreg   # multinomial logistic regression on pixels
    python -m trainers.digits --model dec      # autoencoder 784-500-500-2000-10, KMeans, then DEC
    python -m trainers.digits --model dec --resume --epochs 300 --minutes 100   # go on from checkpoint or artifact
    python -m trainers.digits --model idec     # IDEC on digits-dec's pretrained autoencoder (decoder kept)
    python -m trainers.digits --model n2d      # N2D on digits-dec's autoencoder: UMAP of its codes, a mixture
    python -m trainers.digits --smoke          # seconds, for tests

Each artifact is ``pretrained/digits-<model>/``. Classifier cards compare with a nearest-class-mean
classifier measured in the same run; the clustering card compares DEC with KMeans on raw pixels and on
the autoencoder's codes, all on the same 70,000 images.
"""

# This file is the command line only: its flags, and --model handed to the family that trains it, with the image
# set. trainers.digits_classifiers, trainers.digits_dec (the autoencoder, DEC, IDEC) and trainers.digits_n2d (N2D,
# the UMAP reference) share trainers.digits_common (the image sets, loading, the card). Another image set's trainer
# (trainers.products, for pretrained/products-<model>/) is ``main(argv, "products")`` once IMAGE_SETS holds it.

from __future__ import annotations

import argparse
from pathlib import Path

import torch

from gallery import training
from trainers import digits_classifiers, digits_dec, digits_n2d
from trainers.digits_common import IMAGE_SETS

FAMILIES = (digits_classifiers, digits_dec, digits_n2d)  # each: MODELS, and train(args, images, device, out, ckpt)
MODELS = tuple(m for family in FAMILIES for m in family.MODELS)
DEFAULTS = {  # epochs, learning rate, augment
    "logreg": dict(epochs=15, lr=2e-3, augment=False),
    "mlp": dict(epochs=20, lr=1e-3, augment=True),
    "cnn": dict(epochs=12, lr=3e-3, augment=True),
    "dec": dict(epochs=300, lr=1.0, augment=False),  # DEC-keras: SGD lr 1, momentum 0.9, 300 epochs
    "idec": dict(epochs=0, lr=0.1, augment=False),  # IDEC: SGD lr 0.1, momentum 0.99 on DEC's pretrained autoencoder
    "n2d": dict(epochs=0, lr=0.0, augment=False),  # nothing to optimise by gradient: UMAP and a mixture
}


def family(model: str):
    """The module that trains ``model``."""
    return next(f for f in FAMILIES if model in f.MODELS)


def parse_args(argv=None, dataset: str = "digits"):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    training.add_common_args(p, dataset, "cnn")
    g = p.add_argument_group("optimisation")
    g.add_argument("--epochs", type=int, default=None, help="default per model: " + str(DEFAULTS))
    g.add_argument("--batch", type=int, default=128)
    g.add_argument("--lr", type=float, default=None)
    g.add_argument("--no-augment", action="store_true", help="no random shifts/rotations of training images")
    g.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    g = p.add_argument_group("clustering (--model dec)")
    g.add_argument(
        "--pretrain",
        choices=("sgd", "adam"),
        default="sgd",
        help="autoencoder pretraining: SGD lr 1 momentum 0.9 with zero biases (DEC-keras), or Adam lr 0.001",
    )
    g.add_argument("--minutes", type=float, default=None, help="stop pretraining after this long; --resume goes on")
    g.add_argument("--dec-epochs", type=float, default=8, help="passes over the data in DEC fine-tuning (at most)")
    g.add_argument("--dec-update", type=int, default=140, help="batches between target-distribution updates")
    g.add_argument("--dec-tol", type=float, default=0.001, help="stop when fewer labels than this change")
    g.add_argument("--gamma", type=float, default=0.1, help="IDEC: weight of the clustering loss beside the MSE")
    g = p.add_argument_group("N2D (--model n2d)")
    g.add_argument("--autoencoder", type=Path, default=Path(f"pretrained/{dataset}-dec"), help="artifact whose encoder")
    g.add_argument("--neighbours", default="10,15,20", help="UMAP n_neighbors to try (chosen by the mixture's BIC)")
    g.add_argument("--seeds", default="0,1,2", help="UMAP and mixture seeds to try")
    g.add_argument(
        "--umap-reference",
        action="store_true",
        help="only measure an independent reference (UMAP to 10-d, then KMeans) on the same images; print JSON",
    )
    args = p.parse_args(argv)
    if args.model not in MODELS:
        p.error(f"--model must be one of {', '.join(MODELS)}")
    d = DEFAULTS[args.model]
    args.epochs = args.epochs if args.epochs is not None else d["epochs"]
    if args.lr is None:
        args.lr = digits_dec.ADAM_LR if args.model == "dec" and args.pretrain == "adam" else d["lr"]
    args.augment = d["augment"] and not args.no_augment
    args.command = training.command_line(dataset, argv)
    return args


def main(argv=None, dataset: str = "digits"):
    images = IMAGE_SETS[dataset]
    args = parse_args(argv, dataset)
    if args.umap_reference:
        return digits_n2d.umap_reference(args, images)
    torch.set_num_threads(args.threads)
    training.seed_everything(args.seed)
    device = training.resolve_device(args.device)
    out, ckpt_path = training.artifact_paths(args, dataset)
    family(args.model).train(args, images, device, out, ckpt_path)


if __name__ == "__main__":
    main()
