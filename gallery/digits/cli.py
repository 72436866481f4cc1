"""``python -m gallery digits ...``: classify image files, evaluate the classifiers on MNIST's test set."""

from __future__ import annotations

from pathlib import Path

from gallery.digits import models


def cmd_predict(args):
    from gallery.digits import preprocess

    net, _ = models.load(args.model)
    rows = []
    for file in args.images:
        try:
            image = preprocess.mnist_style(preprocess.load_image(Path(file)))
        except FileNotFoundError:
            rows.append({"file": file, "error": "no such file"})
            continue
        except OSError as err:  # a folder, no permission, ...
            rows.append({"file": file, "error": f"cannot read it: {err.strerror}"})
            continue
        except ValueError as err:  # not an image, or no ink in it
            rows.append({"file": file, "error": str(err)})
            continue
        probs = models.predict_proba(net, image[None])[0]
        rows.append({"file": file, "label": int(probs.argmax()), "probs": [round(float(p), 4) for p in probs]})
    return rows


def cmd_evaluate(args):
    from gallery.digits import data

    try:
        mnist = data.load(args.data_dir)
    except FileNotFoundError as err:
        raise ValueError(f"{err.filename} not found: pass --data-dir with your copy of mnist.npz") from err
    x, y = data.to_tensor(mnist["x_test"]), mnist["y_test"]
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
    e = digits.add_parser("evaluate", help="each classifier's accuracy on the 10,000 MNIST test images")
    e.add_argument("--model", dest="models", action="append", choices=list(models.CLASSIFIERS), help="repeatable")
    e.add_argument("--data-dir", type=Path, default=None, help="folder holding mnist.npz")
    e.set_defaults(run=cmd_evaluate)
