"""The digits lab's autoencoder family: the autoencoder pretrained end to end, KMeans on its codes, then DEC or IDEC.

    python -m trainers.digits --model dec      # autoencoder 784-500-500-2000-10, KMeans, then DEC
    python -m trainers.digits --model idec     # IDEC on digits-dec's pretrained autoencoder (decoder kept)

DEC's card compares it with KMeans on raw pixels and on the autoencoder's codes, all on the same images; IDEC's
starts from DEC's stored autoencoder and compares with DEC on that encoder. trainers.digits is the command line.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from gallery import training
from gallery.digits import cluster
from gallery.registry import load_artifact
from trainers import digits_common as common
from trainers.digits_common import kmeans, rounded

MODELS = ("dec", "idec")
PRETRAINING = {"sgd": "SGD lr {lr} momentum 0.9, zero initial biases (DEC-keras)", "adam": "Adam lr {lr}"}
ADAM_LR = 1e-3  # --pretrain adam: the first digits-dec's recipe (AE + KMeans 78.7%, DEC 81.7%)


def resume_pretraining_from_artifact(out: Path, ae) -> list[dict] | None:
    """The committed artifact's autoencoder (float16 weights) and its per-epoch history, or None.

    It holds no optimiser state: SGD's momentum restarts, which costs a few batches, not the epochs already run.
    """
    try:
        art = load_artifact(out.name, out.parent)
    except Exception:  # noqa: BLE001 - no artifact (or a broken one): start afresh
        return None
    ae.load_state_dict({k[len("ae.") :]: v for k, v in art.tensors.items() if k.startswith("ae.")})
    print(f"resumed pretraining from the artifact {out} at epoch {len(art.card['history'])} (momentum restarted)")
    return art.card["history"]


def pretrain_autoencoder(args, x, y, device, ckpt_path, out):
    """End-to-end autoencoder pretraining (MSE) on all images; KMeans on the codes every 10 epochs.

    With --pretrain sgd (DEC-keras's recipe) the weights start uniform in +-1/sqrt(fan_in), as torch's default,
    and the biases at zero; SGD with lr 1 and momentum 0.9 then reaches codes that KMeans and DEC separate far
    better than Adam's (measured on the card).
    """
    dims = (784, 32, 32, 64, 10) if args.smoke else cluster.DIMS
    ae = cluster.AutoEncoder(dims).to(device)
    if args.pretrain == "sgd":
        for layer in ae.modules():
            if isinstance(layer, torch.nn.Linear):
                torch.nn.init.zeros_(layer.bias)
        opt = torch.optim.SGD(ae.parameters(), lr=args.lr, momentum=0.9)
    else:
        opt = torch.optim.Adam(ae.parameters(), lr=args.lr)
    deadline = time.time() + 60 * args.minutes if args.minutes else None
    epochs = 3 if args.smoke else args.epochs
    batch = 256
    gen = torch.Generator().manual_seed(args.seed)
    start_epoch, history = 0, []
    ckpt = training.load_checkpoint(ckpt_path) if args.resume else None
    if ckpt and ckpt.get("stage") == "pretrain":
        ae.load_state_dict(ckpt["model"])
        opt.load_state_dict(ckpt["optimizer"])
        gen.set_state(ckpt["generator"])
        start_epoch, history = ckpt["epoch"], ckpt["history"]
        print(f"resumed from {ckpt_path} at epoch {start_epoch}")
    elif args.resume and (history := resume_pretraining_from_artifact(out, ae) or []):
        start_epoch = len(history)
    for epoch in range(start_epoch, epochs):
        epoch_start = time.time()
        ae.train()
        order = torch.randperm(len(x), generator=gen)
        total = 0.0
        for i in tqdm(range(0, len(x), batch), desc=f"autoencoder {epoch + 1}/{epochs}", leave=False, mininterval=10):
            xb = x[order[i : i + batch]].to(device)
            loss = F.mse_loss(ae(xb), xb)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item() * len(xb)
        row = {
            "epoch": epoch + 1,
            "reconstruction_mse": round(total / len(x), 5),
            "seconds": round(time.time() - epoch_start, 1),
        }
        if (epoch + 1) % 10 == 0 or epoch + 1 == epochs:
            labels, _ = kmeans(cluster.encode(ae.cpu(), x).numpy(), args.seed, n_init=3)
            ae.to(device)
            row["kmeans_accuracy"] = round(cluster.cluster_accuracy(y, labels), 4)
        history.append(row)
        print(f"autoencoder epoch {epoch + 1}: {row}", flush=True)
        training.save_checkpoint(
            ckpt_path,
            stage="pretrain",
            model=ae.state_dict(),
            optimizer=opt.state_dict(),
            generator=gen.get_state(),
            epoch=epoch + 1,
            history=history,
        )
        if deadline and time.time() > deadline and epoch + 1 < epochs:
            print(f"--minutes spent after epoch {epoch + 1}/{epochs}: DEC on this encoder; --resume goes on")
            break
    return ae.cpu().eval(), history


def dec_finetune(args, ae, centres, x, y, device, reconstruction: bool = False):
    """DEC (or, with ``reconstruction``, IDEC): SGD on the clustering loss over the network and the centres.

    DEC trains the encoder on KL(P || Q), SGD lr 0.01 momentum 0.9; IDEC trains the whole autoencoder on
    MSE + gamma * KL(P || Q), SGD lr --lr (0.1) momentum 0.99 (Guo et al. 2017). P is refreshed every --dec-update
    batches; both stop when fewer than --dec-tol of the labels change between refreshes.
    Returns the trained autoencoder (for DEC, the pretrained decoder under the new encoder), centres and history.
    """
    import copy

    net = copy.deepcopy(ae).to(device)
    centres = torch.nn.Parameter(torch.as_tensor(centres, dtype=torch.float32, device=device))
    params = [*(net.parameters() if reconstruction else net.encoder.parameters()), centres]
    lr, momentum = (args.lr, 0.99) if reconstruction else (0.01, 0.9)
    opt = torch.optim.SGD(params, lr=lr, momentum=momentum)
    batch, gen = 256, torch.Generator().manual_seed(args.seed + 1)
    max_steps = int(args.dec_epochs * len(x) / batch) if not args.smoke else 30
    update = args.dec_update if not args.smoke else 10
    history, previous, step, start = [], None, 0, time.time()
    p = None
    while step < max_steps:
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), batch):
            if step % update == 0:
                with torch.no_grad():
                    net.eval()
                    z = torch.cat([net.encode(x[j : j + 4096].to(device)) for j in range(0, len(x), 4096)])
                    q = cluster.soft_assign(z, centres).cpu()
                p = cluster.target_distribution(q)
                labels = q.argmax(1).numpy()
                changed = 1.0 if previous is None else float((labels != previous).mean())
                history.append(
                    {
                        "step": step,
                        "accuracy": round(cluster.cluster_accuracy(y, labels), 4),
                        "changed": round(changed, 5),
                        "seconds": round(time.time() - start, 1),
                    }
                )
                print(f"{'IDEC' if reconstruction else 'DEC'} step {step}: {history[-1]}", flush=True)
                previous = labels
                if step > 0 and changed < args.dec_tol:
                    return net.cpu().eval(), centres.detach().cpu(), history
                net.train()
            idx = order[i : i + batch]
            xb = x[idx].flatten(1).to(device)  # (B, 784)
            z = net.encode(xb)  # (B, 10)
            x_rec = net.decoder(z) if reconstruction else None
            loss = cluster.clustering_loss(cluster.soft_assign(z, centres), p[idx].to(device), xb, x_rec, args.gamma)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            step += 1
            if step >= max_steps:
                break
    return net.cpu().eval(), centres.detach().cpu(), history


@torch.no_grad()
def reconstruction_mse(net, x, batch: int = 4096) -> float:
    net.eval()
    total = sum(
        F.mse_loss(net(x[i : i + batch]), x[i : i + batch], reduction="sum").item() for i in range(0, len(x), batch)
    )
    return total / x.numel()


def train_dec(args, images: common.ImageSet, device, out: Path, ckpt_path: Path) -> None:
    x, y, is_test = common.all_images(args, images)
    start = time.time()
    raw_labels, _ = kmeans(x.flatten(1).numpy(), args.seed, n_init=3 if args.smoke else 5)
    raw = cluster.scores(y, raw_labels)
    print("KMeans on raw pixels:", raw, flush=True)
    raw_seconds = time.time() - start
    ae, ae_history = pretrain_autoencoder(args, x, y, device, ckpt_path, out)
    start = time.time()
    ae.load_state_dict({k: rounded(v) for k, v in ae.state_dict().items()})  # as stored
    codes = cluster.encode(ae, x).numpy()
    ae_labels, centres = kmeans(codes, args.seed, n_init=20)
    ae_scores = cluster.scores(y, ae_labels)
    print("KMeans on autoencoder codes:", ae_scores, flush=True)
    encoder, centres, dec_history = dec_finetune(args, ae, centres, x, y, device)
    encoder = encoder.encoder
    encoder.load_state_dict({k: rounded(v) for k, v in encoder.state_dict().items()})
    centres = rounded(centres)
    dec_ae = cluster.AutoEncoder(ae.dims)
    dec_ae.encoder, dec_ae.decoder = encoder, ae.decoder
    q = cluster.soft_assign(cluster.encode(dec_ae, x), centres).numpy()
    dec_labels = q.argmax(1)
    dec_scores = cluster.scores(y, dec_labels)
    print("DEC:", dec_scores, flush=True)
    # per-epoch times, so autoencoder epochs run before a --resume count too
    seconds = raw_seconds + sum(h["seconds"] for h in ae_history) + time.time() - start
    test_scores = {
        "raw_kmeans": cluster.scores(y[is_test], raw_labels[is_test]),
        "autoencoder_kmeans": cluster.scores(y[is_test], ae_labels[is_test]),
        "dec": cluster.scores(y[is_test], dec_labels[is_test]),
    }
    mapping = cluster.cluster_to_label(y, dec_labels)
    embed = lambda rows: cluster.encode(dec_ae, x[rows]).numpy()  # noqa: E731
    tensors = {
        **{f"ae.{k}": v for k, v in ae.state_dict().items()},
        **{f"dec.{k}": v for k, v in encoder.state_dict().items()},
        "centres": centres,
        **common.sample_map(args, embed, y, is_test, q, {"cluster": dec_labels, "ae_cluster": ae_labels}),
    }
    config = {
        "dims": list(ae.dims),
        "alpha": 1.0,
        "cluster_to_label": mapping.tolist(),
        "map": f"t-SNE of DEC codes of a 3,000-image sample of the {images.data} test set (indices into x_test)",
    }
    metrics = {
        "raw_kmeans": raw,
        "autoencoder_kmeans": ae_scores,
        "dec": dec_scores,
        "test_only": test_scores,
        "images": int(len(y)),
        "cluster_sizes": np.bincount(dec_labels, minlength=10).tolist(),
    }
    card = {
        **common.card_head(
            args,
            out,
            f"unsupervised clustering of {images.data} {images.things} into 10 clusters (labels only score the result)",
            "autoencoder " + "-".join(map(str, ae.dims)) + " (ReLU), KMeans on codes, DEC fine-tuning",
            sum(v.numel() for k, v in tensors.items() if not k.startswith("map.")),
            device,
            seconds,
        ),
        "data": common.data_card(
            args, images, {"all": int(len(y))}, f"{images.everything}, as in the DEC paper; test-only scores too"
        ),
        "optimisation": {
            "autoencoder": f"end-to-end, {PRETRAINING[args.pretrain].format(lr=args.lr)}, batch 256, "
            f"{len(ae_history)} epochs, MSE",
            "kmeans": "k=10, 20 initialisations",
            "dec": f"SGD lr 0.01 momentum 0.9, batch 256, "
            f"target refreshed every {args.dec_update} batches, stop below {args.dec_tol:.1%} changed labels",
        },
        "metrics": metrics,
        "summary": {
            "quality": f"DEC accuracy {dec_scores['accuracy']:.1%}, "
            f"NMI {dec_scores['nmi']:.3f}, ARI {dec_scores['ari']:.3f}",
            "baseline": f"KMeans on pixels {raw['accuracy']:.1%}; on autoencoder codes {ae_scores['accuracy']:.1%}",
        },
        "headline": f"DEC clusters {dec_scores['accuracy']:.1%} of {images.things} correctly without labels "
        f"(KMeans on pixels {raw['accuracy']:.1%})",
        "history": ae_history,
        "dec_history": dec_history,
    }
    common.write(args, out, tensors, config, card)


def train_idec(args, images: common.ImageSet, device, out: Path) -> None:
    """IDEC on the pretrained autoencoder of --autoencoder (digits-dec): the same start as DEC, the decoder kept."""
    x, y, is_test = common.all_images(args, images)
    source = load_artifact(args.autoencoder.name, args.autoencoder.parent)
    ae = cluster.AutoEncoder(source.config["dims"])
    ae.load_state_dict({k[len("ae.") :]: v for k, v in source.tensors.items() if k.startswith("ae.")})
    start = time.time()
    ae_labels, centres = kmeans(cluster.encode(ae, x).numpy(), args.seed, n_init=3 if args.smoke else 20)
    ae_scores = cluster.scores(y, ae_labels)
    print("KMeans on autoencoder codes:", ae_scores, flush=True)
    net, centres, history = dec_finetune(args, ae, centres, x, y, device, reconstruction=True)
    net.load_state_dict({k: rounded(v) for k, v in net.state_dict().items()})
    centres = rounded(centres)
    q = cluster.soft_assign(cluster.encode(net, x), centres).numpy()
    labels = q.argmax(1)
    idec_scores = cluster.scores(y, labels)
    print("IDEC:", idec_scores, flush=True)
    embed = lambda rows: cluster.encode(net, x[rows]).numpy()  # noqa: E731
    tensors = {
        **{f"ae.{k}": v for k, v in net.state_dict().items()},
        **{f"dec.{k}": v for k, v in net.encoder.state_dict().items()},
        "centres": centres,
        **common.sample_map(args, embed, y, is_test, q, {"cluster": labels, "ae_cluster": ae_labels}),
    }
    config = {
        "dims": list(net.dims),
        "alpha": 1.0,
        "cluster_to_label": cluster.cluster_to_label(y, labels).tolist(),
        "map": f"t-SNE of IDEC codes of a 3,000-image sample of the {images.data} test set (indices into x_test)",
    }
    dec = source.card["metrics"]["dec"]
    metrics = {
        "autoencoder_kmeans": ae_scores,
        "idec": idec_scores,
        "dec_same_encoder": dec,
        "reconstruction_mse": {
            "pretrained": round(reconstruction_mse(ae, x), 5),
            "idec": round(reconstruction_mse(net, x), 5),
        },
        "test_only": {
            "autoencoder_kmeans": cluster.scores(y[is_test], ae_labels[is_test]),
            "idec": cluster.scores(y[is_test], labels[is_test]),
        },
        "images": int(len(y)),
        "cluster_sizes": np.bincount(labels, minlength=10).tolist(),
    }
    card = {
        **common.card_head(
            args,
            out,
            f"unsupervised clustering of {images.data} {images.things} into 10 clusters (labels only score the result)",
            "IDEC (Guo et al. 2017): the pretrained autoencoder "
            + "-".join(map(str, net.dims))
            + f" of {source.name}, KMeans on its codes, "
            "then the encoder, decoder and centres trained on MSE + gamma x KL(P || Q)",
            sum(v.numel() for k, v in tensors.items() if not k.startswith("map.")),
            device,
            time.time() - start,
        ),
        "data": common.data_card(
            args, images, {"all": int(len(y))}, f"{images.everything}, as in the IDEC paper; test-only scores too"
        ),
        "autoencoder": common.autoencoder_card(args, source),
        "optimisation": {
            "idec": f"SGD lr {args.lr} momentum 0.99, batch 256, gamma {args.gamma}, target refreshed every "
            f"{args.dec_update} batches, stop below {args.dec_tol:.1%} changed labels "
            f"(at most {args.dec_epochs} passes)",
            "kmeans": "k=10, 20 initialisations",
        },
        "metrics": metrics,
        "published": images.published.get("idec"),
        "summary": {
            "quality": f"IDEC accuracy {idec_scores['accuracy']:.1%}, NMI {idec_scores['nmi']:.3f}, "
            f"ARI {idec_scores['ari']:.3f}",
            "baseline": f"DEC on the same encoder {dec['accuracy']:.1%}; "
            f"KMeans on its codes {ae_scores['accuracy']:.1%}",
        },
        "headline": f"IDEC clusters {idec_scores['accuracy']:.1%} of {images.things} correctly without labels "
        f"(DEC on the same encoder {dec['accuracy']:.1%})",
        "idec_history": history,
    }
    common.write(args, out, tensors, config, card)


def train(args, images: common.ImageSet, device, out: Path, ckpt_path: Path) -> None:
    """--model dec or --model idec."""
    if args.model == "dec":
        train_dec(args, images, device, out, ckpt_path)
    else:
        train_idec(args, images, device, out)
