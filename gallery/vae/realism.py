"""How real do generated faces look? Measures a sceptic can rerun, none of which needs a pretrained network.

- sharpness ratio: mean variance of the Laplacian (grey, pixels in [0, 1]) of generated over real faces;
- radially averaged power spectrum: how much energy each spatial frequency holds (blur starves the high ones,
  checkerboards and noise inflate them);
- a two-sample classifier test (Lopez-Paz and Oquab 2017): a small CNN learns real training faces against
  samples; its ROC AUC on held-out real faces against new samples is 0.5 when it cannot tell them apart;
- an attribute reader (a small CNN trained on the file-name labels: gender, age) that reads edited faces, so
  that a slider's effect and its side effects are numbers, not impressions.

Also here: sampling "where faces live", from a full-covariance Gaussian fitted to the encoder means of the
training faces (as the RAE paper, Ghosh et al. 2020, does ex post), instead of only from the prior N(0, I).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gallery.vae.images import sharpness, to_tensor, to_uint8

# ---------------------------------------------------------------- sampling where faces live


@dataclass
class FittedGaussian:
    """N(mean, L L^T) fitted to encoder means; ``temperature`` scales the spread around the mean."""

    mean: np.ndarray  # (D,)
    chol: np.ndarray  # (D, D) lower-triangular Cholesky factor of the covariance

    @classmethod
    def fit(cls, codes: np.ndarray) -> FittedGaussian:
        codes = np.asarray(codes, np.float64)
        cov = np.cov(codes, rowvar=False) + 1e-6 * np.eye(codes.shape[1])
        return cls(codes.mean(0).astype(np.float32), np.linalg.cholesky(cov).astype(np.float32))

    @property
    def covariance(self) -> np.ndarray:
        c = self.chol.astype(np.float64)
        return c @ c.T

    def sample(self, n: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
        eps = np.random.default_rng(seed).standard_normal((n, len(self.mean)))  # (n, D)
        return (self.mean + temperature * eps @ self.chol.T.astype(np.float64)).astype(np.float32)


def prior_sample(n: int, latent: int, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal((n, latent)) * temperature).astype(np.float32)


# ---------------------------------------------------------------- image statistics


def sharpness_ratio(generated: np.ndarray, real: np.ndarray) -> float:
    """Laplacian variance of generated over real faces: near 1 is right, far below is blur, far above noise."""
    return sharpness(generated) / sharpness(real)


def radial_spectrum(images: np.ndarray) -> np.ndarray:
    """Mean power at each integer spatial frequency 1..side/2 of the grey images (uint8 (N, H, W, 3)), (side/2,).

    The mean grey level of each image is removed first, so the DC term does not dominate.
    """
    g = images.astype(np.float64) / 255
    if g.ndim == 4:
        g = g @ np.array([0.299, 0.587, 0.114])
    g = g - g.mean(axis=(1, 2), keepdims=True)
    power = (np.abs(np.fft.fftshift(np.fft.fft2(g), axes=(1, 2))) ** 2).mean(0)  # (H, W)
    h, w = power.shape
    yy, xx = np.indices(power.shape)
    radius = np.hypot(yy - h // 2, xx - w // 2).round().astype(int)
    sums = np.bincount(radius.ravel(), power.ravel())
    counts = np.bincount(radius.ravel())
    return (sums / np.maximum(counts, 1))[1 : min(h, w) // 2 + 1]


def box_blur(images: np.ndarray) -> np.ndarray:
    """3x3 box blur of uint8 images (N, H, W, 3), edges replicated: the two-sample test's positive control."""
    x = np.pad(images.astype(np.float32), ((0, 0), (1, 1), (1, 1), (0, 0)), mode="edge")
    h, w = images.shape[1:3]
    out = sum(x[:, i : i + h, j : j + w] for i in range(3) for j in range(3)) / 9
    return out.round().astype(np.uint8)


def resized(images: np.ndarray, size: int) -> np.ndarray:
    """uint8 faces (N, H, W, 3) shrunk to size x size and enlarged back, bilinear. At 32 it is what a generator
    perfect at 32x32 would draw (a control for "all the detail of a 64x64 photo"); at 60, a resize no viewer sees;
    at 16, what is left of a face seen from afar (the critic on it judges coarse content, not pixel detail)."""
    x = torch.as_tensor(images).permute(0, 3, 1, 2).float()  # (N, 3, H, W)
    small = F.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    big = F.interpolate(small, size=images.shape[1:3], mode="bilinear", align_corners=False)
    return big.round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def jpeg_resaved(images: np.ndarray, quality: int = 90) -> np.ndarray:
    """uint8 faces saved again as JPEG (the data's own quality, 90): processing a viewer cannot see. The control
    that the critic does not catch any change at all."""
    from PIL import Image

    def resave(face):
        buffer = io.BytesIO()
        Image.fromarray(face).save(buffer, "JPEG", quality=quality)
        return np.asarray(Image.open(buffer).convert("RGB"))

    return np.stack([resave(face) for face in images])


# ---------------------------------------------------------------- small CNNs: the critic and the reader


class SmallCNN(nn.Module):
    """64x64 RGB -> ``outputs`` numbers: four stride-2 stages (32-64-128-256 channels, BatchNorm), global pooling.

    ``deep`` adds a stride-1 convolution to each stage (the attribute reader; the two-sample critic, trained six
    times per evaluation, does without).
    """

    def __init__(self, outputs: int, channels: tuple[int, ...] = (32, 64, 128, 256), deep: bool = False):
        super().__init__()
        layers, c_in = [], 3
        for c in channels:
            layers += [nn.Conv2d(c_in, c, 3, 2, 1), nn.BatchNorm2d(c), nn.ReLU()]
            if deep:
                layers += [nn.Conv2d(c, c, 3, 1, 1), nn.BatchNorm2d(c), nn.ReLU()]
            c_in = c
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head = nn.Linear(c_in, outputs)

    def forward(self, x):  # (B, 3, 64, 64) in [0, 1] -> (B, outputs)
        return self.head(self.features(x * 2 - 1))


def _fit(net: nn.Module, images: np.ndarray, loss_fn, epochs: int, seed: int, batch: int = 64, lr: float = 2e-3):
    """Adam with a cosine schedule; images are mirrored at random. ``loss_fn(outputs, index) -> loss``."""
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    opt = torch.optim.Adam(net.parameters(), lr=lr)
    steps = epochs * (len(images) // batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=max(1, steps), pct_start=0.1)
    net.train()
    for _ in range(epochs):
        order = torch.randperm(len(images), generator=gen)
        for i in range(len(images) // batch):
            idx = order[i * batch : (i + 1) * batch]
            x = to_tensor(images[idx.numpy()])
            flip = torch.rand(len(x), generator=gen) < 0.5
            x = torch.where(flip[:, None, None, None], x.flip(3), x)
            loss = loss_fn(net(x), idx)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            sched.step()
    return net.eval()


@torch.no_grad()
def _predict(net: nn.Module, images: np.ndarray, batch: int = 256) -> np.ndarray:
    net.eval()
    return torch.cat([net(to_tensor(images[i : i + batch])) for i in range(0, len(images), batch)]).numpy()


def roc_auc(scores_pos: np.ndarray, scores_neg: np.ndarray) -> float:
    """P(score of a positive > score of a negative), ties counting half (the Mann-Whitney statistic)."""
    scores = np.concatenate([scores_pos, scores_neg])
    ranks = np.empty(len(scores))
    order = np.argsort(scores, kind="mergesort")
    ranks[order] = np.arange(1, len(scores) + 1)
    for value in np.unique(scores[np.diff(np.sort(scores), prepend=np.nan) == 0]):  # average ranks of ties
        ranks[scores == value] = ranks[scores == value].mean()
    n_pos, n_neg = len(scores_pos), len(scores_neg)
    return float((ranks[:n_pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def two_sample_test(
    real_train: np.ndarray,
    fake_train: np.ndarray,
    real_test: np.ndarray,
    fake_test: np.ndarray,
    epochs: int = 4,
    seed: int = 0,
    seen_at: int | None = None,
) -> dict:
    """A SmallCNN trained on real (1) vs generated (0) faces, scored on held-out real vs new generated faces.
    With ``seen_at``, every face is first shrunk to seen_at x seen_at and enlarged back (``resized``): the critic
    then judges the coarse picture only.

    Returns its ROC AUC (0.5 when it cannot tell them apart) and its held-out log loss in nats, the mean of the
    two classes' (ln 2 = 0.693 at chance): the loss keeps falling after the AUC reaches 1, so it still ranks
    decoders that are all told apart every time.
    """
    if seen_at is not None:
        real_train, fake_train, real_test, fake_test = (
            resized(x, seen_at) for x in (real_train, fake_train, real_test, fake_test)
        )
    images = np.concatenate([real_train, fake_train])
    labels = torch.cat([torch.ones(len(real_train)), torch.zeros(len(fake_train))])
    net = _fit(
        SmallCNN(1),
        images,
        lambda out, idx: F.binary_cross_entropy_with_logits(out[:, 0], labels[idx]),
        epochs,
        seed,
    )
    real, fake = _predict(net, real_test)[:, 0], _predict(net, fake_test)[:, 0]
    log_loss = (np.logaddexp(0, -real).mean() + np.logaddexp(0, fake).mean()) / 2
    return {"auc": roc_auc(real, fake), "log_loss": float(log_loss)}


def two_sample_auc(real_train, fake_train, real_test, fake_test, epochs: int = 4, seed: int = 0) -> float:
    """The ROC AUC of ``two_sample_test``."""
    return two_sample_test(real_train, fake_train, real_test, fake_test, epochs, seed)["auc"]


# ---------------------------------------------------------------- the attribute reader


AGE_SCALE = 30.0  # the reader predicts age / 30, so both outputs are of order 1


class AttributeReader(SmallCNN):
    """Reads a face: output 0 is the logit of P(female), output 1 is the age in units of 30 years."""

    def __init__(self):
        super().__init__(2, deep=True)

    def read(self, images: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """uint8 faces (N, 64, 64, 3) -> (P(female), age in years), each (N,)."""
        out = _predict(self, images)
        return 1 / (1 + np.exp(-out[:, 0])), out[:, 1] * AGE_SCALE


def train_reader(images: np.ndarray, gender: np.ndarray, age: np.ndarray, epochs: int = 8, seed: int = 0):
    g = torch.as_tensor(gender, dtype=torch.float32)
    a = torch.as_tensor(age, dtype=torch.float32) / AGE_SCALE

    def loss(out, idx):
        return F.binary_cross_entropy_with_logits(out[:, 0], g[idx]) + F.smooth_l1_loss(out[:, 1], a[idx], beta=0.1)

    return _fit(AttributeReader(), images, loss, epochs, seed)


# ---------------------------------------------------------------- attribute directions from the labels


def regression_directions(codes: np.ndarray, gender: np.ndarray, age: np.ndarray) -> dict[str, np.ndarray]:
    """Unit directions "female" and "older", each blind to the other attribute's regression.

    "female" comes from the normal of a logistic regression of gender on the codes (the direction that best
    separates the two, rather than the difference of the means, which also carries age and race); "older" from
    the coefficient vector of a ridge regression of log(age) on the codes. Each then has the other's regression
    vector projected out, so that a gender edit leaves the predicted age where it was and an age edit leaves the
    predicted gender: moving along ``d`` changes a linear prediction ``w . z`` by ``w . d``, which is zero once
    ``d`` is orthogonal to ``w``. (Before, only "older" was made blind to gender, and gender edits aged faces by
    9.6 years.)
    """
    from sklearn.linear_model import LogisticRegression, Ridge

    x = (codes - codes.mean(0)) / codes.std(0)  # standardised, so the penalties treat dimensions alike
    scale = 1 / codes.std(0)  # d(standardised)/d(code): turns a weight on x into a direction in code space
    w_gender = LogisticRegression(C=1.0, max_iter=2000).fit(x, gender).coef_[0] * scale
    w_age = Ridge(alpha=1.0).fit(x, np.log(age)).coef_ * scale

    def blind(d, w):  # d with its component along w removed, unit length
        d = d - (d @ w) / (w @ w) * w
        return (d / np.linalg.norm(d)).astype(np.float32)

    return {"female": blind(w_gender, w_age), "older": blind(w_age, w_gender)}


# ---------------------------------------------------------------- measuring the attribute sliders


@torch.no_grad()
def decode_all(net, codes: np.ndarray, batch: int = 256) -> np.ndarray:
    """Codes (N, L) -> uint8 faces (N, 64, 64, 3), decoded in batches."""
    out = [to_uint8(net.decode(torch.as_tensor(codes[i : i + batch]))) for i in range(0, len(codes), batch)]
    return np.concatenate(out)


PUSH_LENGTHS = np.arange(0.5, 8.01, 0.5)  # the full pushes tried, in code units (a prior standard deviation is 1)


def choose_push(read, decode, codes: np.ndarray, direction: np.ndarray, goal, lengths=PUSH_LENGTHS) -> float:
    """The shortest push along ``direction`` whose decoded faces meet ``goal(read(faces)) -> bool``.

    ``read`` maps faces to a number per face, ``decode`` maps codes to faces. The longest length is returned
    when none meets the goal (the card then shows how far it falls short).
    """
    for length in lengths:
        if goal(read(decode(codes + length * direction))):
            return float(length)
    return float(lengths[-1])


def choose_keep(read_other, decode, codes: np.ndarray, push: np.ndarray, along: np.ndarray, reach=3.0) -> float:
    """How far to move along ``along`` at a full push (``codes + push``) so that ``read_other`` (one number per
    face: the other attribute) changes least, as the mean absolute change over ``codes``' faces.

    Coarse to fine (every code unit within ``reach``, then half and quarter steps around the best): 11 decodes
    rather than 25, to a quarter of a unit.
    """
    before = read_other(decode(codes))
    drift: dict[float, float] = {}

    def measure(moves):
        for m in moves:
            if m not in drift and abs(m) <= reach:
                drift[m] = float(np.abs(read_other(decode(codes + push + m * along)) - before).mean())
        return min(drift, key=lambda m: (drift[m], abs(m)))

    best = measure(np.arange(-reach, reach + 0.01, 1.0).round(2))
    for step in (0.5, 0.25):
        best = measure([round(best - step, 2), round(best + step, 2)])
    return float(best)


def attribute_edits(reader: AttributeReader, decode, codes, gender, offset) -> dict:
    """What each full push does on labelled faces, read by the attribute reader.

    ``offset(name, amount)`` is the code's move at slider ``amount`` (latent.attribute_offset, as on the page);
    +1 is "more female" or "older". Returns the share of men that read female at +1 on "female" and of women that
    read male at -1; the years the reader adds at +1 on "older" (and removes at -1); and each edit's drift of the
    *other* attribute (mean absolute change against the plain reconstruction, in years or in P(female)).
    """
    p0, age0 = reader.read(decode(codes))
    out = {}
    p_f, age_f = reader.read(decode(codes + offset("female", 1.0)))
    p_m, age_m = reader.read(decode(codes + offset("female", -1.0)))
    men, women = gender == 0, gender == 1
    out["female"] = {
        "men_read_female_at_plus1": round(float((p_f[men] > 0.5).mean()), 3),
        "women_read_male_at_minus1": round(float((p_m[women] < 0.5).mean()), 3),
        "men_read_female_unedited": round(float((p0[men] > 0.5).mean()), 3),
        "women_read_male_unedited": round(float((p0[women] < 0.5).mean()), 3),
        "age_drift_years": round(float(max(np.abs(age_f - age0).mean(), np.abs(age_m - age0).mean())), 2),
    }
    p_o, age_o = reader.read(decode(codes + offset("older", 1.0)))
    p_y, age_y = reader.read(decode(codes + offset("older", -1.0)))
    out["older"] = {
        "years_added_at_plus1": round(float((age_o - age0).mean()), 2),
        "years_removed_at_minus1": round(float((age0 - age_y).mean()), 2),
        "gender_drift": round(float(max(np.abs(p_o - p0).mean(), np.abs(p_y - p0).mean())), 3),
    }
    return out
