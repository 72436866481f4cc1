"""``python -m gallery digits ...``: classify or cluster image files, evaluate the classifiers on MNIST's test set."""

from __future__ import annotations

from pathlib import Path

from gallery.digits import models

CLUSTERERS = ("dec", "idec", "n2d")  # artifacts digits-<kind>
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


def read_digits(files):
    """Yield (file, mnist-style image or None, error or None) for each file, through the pages' preprocessing."""
    from gallery.digits import preprocess

    for file in files:
        try:
            yield file, preprocess.mnist_style(preprocess.load_image(Path(file))), None
        except FileNotFoundError:
            yield file, None, "no such file"
        except OSError as err:  # a folder, no permission, ...
            yield file, None, f"cannot read it: {err.strerror}"
        except ValueError as err:  # not an image, or no ink in it
            yield file, None, str(err)


def cmd_predict(args):
    net, _ = models.load(args.model)
    rows = []
    for file, image, error in read_digits(args.images):
        if error:
            rows.append({"file": file, "error": error})
            continue
        probs = models.predict_proba(net, image[None])[0]
        rows.append({"file": file, "label": int(probs.argmax()), "probs": [round(float(p), 4) for p in probs]})
    return rows


def load_clusterer(kind: str):
    """The clusterer of artifact ``digits-<kind>``: N2D's, or DEC's and IDEC's (one tensor layout, one loader)."""
    if kind not in CLUSTERERS:
        raise ValueError(f"unknown clusterer {kind!r}: choose one of {', '.join(CLUSTERERS)}")
    if kind == "n2d":
        from gallery.digits import n2d

        return n2d.load("digits-n2d")
    from gallery.digits import cluster

    return cluster.load(f"digits-{kind}")


def image_files(args) -> list[str]:
    files = list(args.files)
    if args.images is not None:
        if not args.images.is_dir():
            raise ValueError(f"--images {args.images}: no such folder")
        files += sorted(str(p) for p in args.images.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise ValueError("give image files, or --images DIR with at least one image in it")
    return files


def cmd_cluster(args):
    """Which cluster each image falls in, and how sure the clusterer is (its soft assignment)."""
    import numpy as np

    files = image_files(args)
    clusterer = load_clusterer(args.model)
    read = list(read_digits(files))
    good = [image for _, image, error in read if not error]
    q = clusterer.assign(np.stack(good)) if good else np.zeros((0, 10))
    rows, i = [], 0
    for file, _, error in read:
        if error:
            rows.append({"file": file, "error": error})
            continue
        c = int(q[i].argmax())
        rows.append(
            {"file": file, "cluster": c, "confidence": round(float(q[i, c]), 4), "digit": int(clusterer.mapping[c])}
        )
        i += 1
    return rows


def read_test_set(data_dir):
    """MNIST's test images (N, 28, 28) and labels (N,) from ``data_dir``; a missing, broken or misshapen archive is a
    ValueError that says so."""
    import zipfile

    from gallery.digits import data

    path = data.npz_path(data_dir)
    try:
        mnist = data.load(data_dir)
    except FileNotFoundError as err:
        raise ValueError(f"{err.filename} not found: pass --data-dir with your copy of mnist.npz") from err
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as err:  # not an archive, or a key missing
        raise ValueError(f"{path} is not a readable MNIST archive ({err})") from None
    x, y = mnist["x_test"], mnist["y_test"]
    if not (
        x.ndim == 3
        and x.shape[1:] == (28, 28)
        and len(x) > 0
        and y.shape == (len(x),)
        and x.dtype.kind in "biuf"
        and y.dtype.kind in "biu"
    ):
        raise ValueError(
            f"{path}: x_test must hold N images of 28x28 and y_test N integer labels "
            f"(found {x.dtype} {x.shape} and {y.dtype} {y.shape})"
        )
    return data.to_tensor(x), y


def cmd_evaluate(args):
    x, y = read_test_set(args.data_dir)
    rows = []
    for kind in args.models or models.CLASSIFIERS:
        net, card = models.load(kind)
        acc = float((models.predict_proba(net, x).argmax(1) == y).mean())
        rows.append(
            {
                "model": kind,
                "test_accuracy": round(acc, 4),
                "card_test_accuracy": card["metrics"]["test_accuracy"],
                "test_images": int(len(y)),
            }
        )
    return rows


def register(demos) -> None:
    """Add the ``digits`` verbs to the dispatcher's subparsers."""
    digits = demos.add_parser("digits", help="digit recognizer").add_subparsers(dest="verb", required=True)
    p = digits.add_parser("predict", help="classify pictures of single digits (any size, either polarity)")
    p.add_argument("--model", choices=list(models.CLASSIFIERS), default="cnn")
    p.add_argument("images", nargs="+", metavar="IMAGE")
    p.set_defaults(run=cmd_predict)
    c = digits.add_parser(
        "cluster",
        help="which unsupervised cluster each picture of a digit falls in, and how sure (no labels were learned; "
        "'digit' is the digit the cluster was matched to when it was scored)",
    )
    c.add_argument(
        "--model",
        choices=CLUSTERERS,
        default="n2d",
        help="n2d (UMAP + mixture on the autoencoder's codes), dec, or idec (DEC that keeps its decoder)",
    )
    c.add_argument("--images", type=Path, default=None, metavar="DIR", help="every image in this folder")
    c.add_argument("files", nargs="*", metavar="IMAGE")
    c.set_defaults(run=cmd_cluster)
    e = digits.add_parser("evaluate", help="each classifier's accuracy on the 10,000 MNIST test images")
    e.add_argument("--model", dest="models", action="append", choices=list(models.CLASSIFIERS), help="repeatable")
    e.add_argument("--data-dir", type=Path, default=None, help="folder holding mnist.npz")
    e.set_defaults(run=cmd_evaluate)
