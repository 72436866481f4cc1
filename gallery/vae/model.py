"""The two VAEs, their losses (that are right), and the latent-space tools the page uses.

Faces: a convolutional VAE, q(z|x) = N(mu, diag sigma^2), p(x|z) Gaussian with one shared, calibrated
standard deviation (the "sigma-VAE" of Rybkin et al. 2021: sigma^2 is the mean squared error, so the
reconstruction term is weighted as the data says rather than by a hand-picked beta). Scores are reported as
a *discretised* Gaussian over the 256 grey levels, a probability mass per pixel, so the negative ELBO in nats
per image is never negative.

Digits: a conditional VAE, q(z|x,y) and p(x|z,y) with y the one-hot class, Bernoulli likelihood on the pixel
intensities x/255 in [0, 1] (binary cross-entropy). The original notebook computed that cross-entropy on targets
in [-1, 1], which is why its loss went negative.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gallery.registry import build_from

LOG2 = math.log(2)


# ---------------------------------------------------------------- networks


@dataclass
class FaceConfig:
    latent: int = 64
    channels: tuple[int, ...] = (32, 64, 128, 256)
    size: int = 64
    res_blocks: int = 0  # residual 3x3 blocks after each (up)sampling layer at 16x16 pixels and below


class ResBlock(nn.Module):
    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(nn.SiLU(), nn.Conv2d(c, c, 3, 1, 1), nn.SiLU(), nn.Conv2d(c, c, 3, 1, 1))

    def forward(self, x):
        return x + self.body(x)


@dataclass
class DigitConfig:
    latent: int = 20
    hidden: tuple[int, ...] = (512, 256)
    classes: int = 10
    size: int = 28


class FaceVAE(nn.Module):
    """Conv encoder (stride-2 4x4 convs, 64 -> 4 pixels) and its mirror-image decoder."""

    kind = "faces"

    def __init__(self, cfg: FaceConfig):
        super().__init__()
        self.cfg = cfg
        ch = list(cfg.channels)
        self.bottom = cfg.size // 2 ** len(ch)  # 4
        enc, c_in, side = [], 3, cfg.size
        for c in ch:
            side //= 2
            enc += [nn.Conv2d(c_in, c, 4, 2, 1), nn.SiLU()]
            enc += [ResBlock(c) for _ in range(cfg.res_blocks if side <= 16 else 0)]
            c_in = c
        self.encoder = nn.Sequential(*enc, nn.Flatten())
        self.to_stats = nn.Linear(ch[-1] * self.bottom**2, 2 * cfg.latent)
        self.from_z = nn.Linear(cfg.latent, ch[-1] * self.bottom**2)
        dec, side = [], self.bottom
        for c_in, c_out in zip(ch[::-1], ch[::-1][1:]):
            side *= 2
            dec += [nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), nn.SiLU()]
            dec += [ResBlock(c_out) for _ in range(cfg.res_blocks if side <= 16 else 0)]
        self.decoder = nn.Sequential(*dec, nn.ConvTranspose2d(ch[0], 3, 4, 2, 1))
        # log of the shared likelihood sigma (calibrated during training, used for scoring)
        self.register_buffer("log_sigma", torch.tensor(math.log(0.1)))

    def encode(self, x, y=None):  # x (B, 3, 64, 64) in [0, 1]
        mu, logvar = self.to_stats(self.encoder(x * 2 - 1)).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 8)  # (B, L), (B, L)

    def decode(self, z, y=None):  # z (B, L) -> mean image (B, 3, 64, 64) in [0, 1]
        h = F.silu(self.from_z(z)).view(-1, self.cfg.channels[-1], self.bottom, self.bottom)
        return torch.sigmoid(self.decoder(h))


class DigitCVAE(nn.Module):
    """MLP encoder q(z|x,y) and decoder p(x|z,y); the class enters both as a one-hot vector."""

    kind = "digits"

    def __init__(self, cfg: DigitConfig):
        super().__init__()
        self.cfg = cfg
        d = cfg.size * cfg.size
        layers, n_in = [], d + cfg.classes
        for h in cfg.hidden:
            layers += [nn.Linear(n_in, h), nn.SiLU()]
            n_in = h
        self.encoder = nn.Sequential(*layers)
        self.to_stats = nn.Linear(n_in, 2 * cfg.latent)
        layers, n_in = [], cfg.latent + cfg.classes
        for h in cfg.hidden[::-1]:
            layers += [nn.Linear(n_in, h), nn.SiLU()]
            n_in = h
        self.decoder = nn.Sequential(*layers, nn.Linear(n_in, d))

    def one_hot(self, y):
        return F.one_hot(y.long(), self.cfg.classes).float()

    def encode(self, x, y):  # x (B, 1, 28, 28) in [0, 1], y (B,)
        h = self.encoder(torch.cat([x.flatten(1), self.one_hot(y)], dim=1))
        mu, logvar = self.to_stats(h).chunk(2, dim=1)
        return mu, logvar.clamp(-12, 8)

    def decode_logits(self, z, y):  # (B, 1, 28, 28) Bernoulli logits
        s = self.cfg.size
        return self.decoder(torch.cat([z, self.one_hot(y)], dim=1)).view(-1, 1, s, s)

    def decode(self, z, y):  # Bernoulli means in [0, 1]
        return torch.sigmoid(self.decode_logits(z, y))


def build(config: dict, tensors: dict | None = None) -> nn.Module:
    kind = config["kind"]
    if kind == "faces" and "decoder_channels" in config:
        from gallery.vae.sharp import build_sharp

        return build_sharp(config, tensors)
    if kind == "faces":
        net = FaceVAE(
            FaceConfig(config["latent"], tuple(config["channels"]), config["size"], config.get("res_blocks", 0))
        )
    elif kind == "digits":
        net = DigitCVAE(DigitConfig(config["latent"], tuple(config["hidden"]), config["classes"], config["size"]))
    else:
        raise ValueError(f"unknown VAE kind {kind!r}")
    if tensors is not None:
        net.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("extra.")})
    return net.eval()


def config_dict(net: nn.Module) -> dict:
    return {"kind": net.kind, **asdict(net.cfg)}


def num_parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())


# ---------------------------------------------------------------- losses


def kl_per_dim(mu, logvar):
    """KL( N(mu, e^logvar) || N(0, 1) ) per latent dimension, (B, L), in nats."""
    return 0.5 * (mu.pow(2) + logvar.exp() - 1 - logvar)


def reparameterise(mu, logvar, generator=None):
    eps = torch.randn(mu.shape, generator=generator, device=mu.device, dtype=mu.dtype)
    return mu + (0.5 * logvar).exp() * eps


def bernoulli_nll(logits, x):
    """Binary cross-entropy, summed over pixels, (B,); x are intensities in [0, 1] (never [-1, 1])."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)


def gaussian_nll(mean, x, log_sigma):
    """Continuous Gaussian negative log density summed over pixels, (B,) (a density: can be below zero)."""
    d = x[0].numel()
    sse = (x - mean).pow(2).flatten(1).sum(1)
    return 0.5 * sse * torch.exp(-2 * log_sigma) + d * (log_sigma + 0.5 * math.log(2 * math.pi))


def discretised_gaussian_nll(mean, x, log_sigma, levels: int = 256):
    """Negative log probability of 8-bit images under a Gaussian binned to the grey levels, (B,) nats, >= 0.

    Each pixel value k/255 owns the interval [k/255 - 1/510, k/255 + 1/510]; the ends own the tails.
    """
    half = 0.5 / (levels - 1)
    inv = torch.exp(-log_sigma) / math.sqrt(2)
    upper = 0.5 * (1 + torch.erf((x + half - mean) * inv))
    lower = 0.5 * (1 + torch.erf((x - half - mean) * inv))
    upper = torch.where(x >= 1 - half, torch.ones_like(upper), upper)
    lower = torch.where(x <= half, torch.zeros_like(lower), lower)
    prob = (upper - lower).clamp_min(1e-12)
    return -torch.log(prob).flatten(1).sum(1)


def sigma_vae_loss(net: FaceVAE, x, generator=None, beta: float = 1.0):
    """Training loss for faces, mean over the batch, and its parts (per image).

    sigma is the batch's optimal Gaussian sigma, sqrt(MSE) (detached: by the envelope theorem the gradient is
    the same); the buffer log_sigma tracks it for scoring.
    """
    mu, logvar = net.encode(x)
    z = reparameterise(mu, logvar, generator)
    mean = net.decode(z)
    mse = (x - mean).pow(2).mean()
    log_sigma = 0.5 * torch.log(mse.detach().clamp_min(1e-6))
    rec = gaussian_nll(mean, x, log_sigma)  # (B,)
    kl = kl_per_dim(mu, logvar).sum(1)  # (B,)
    with torch.no_grad():
        net.log_sigma.mul_(0.98).add_(0.02 * log_sigma)
    return (rec + beta * kl).mean(), {"mse": mse.item(), "kl": kl.mean().item(), "sigma": log_sigma.exp().item()}


def cvae_loss(net: DigitCVAE, x, y, generator=None, beta: float = 1.0):
    """Negative ELBO of the conditional VAE, mean over the batch (nats per image), and its parts."""
    mu, logvar = net.encode(x, y)
    z = reparameterise(mu, logvar, generator)
    rec = bernoulli_nll(net.decode_logits(z, y), x)
    kl = kl_per_dim(mu, logvar).sum(1)
    return (rec + beta * kl).mean(), {"rec": rec.mean().item(), "kl": kl.mean().item()}


# ---------------------------------------------------------------- scoring


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """uint8 (N, H, W, 3) or (N, H, W) -> float (N, C, H, W) in [0, 1]."""
    t = torch.from_numpy(np.array(images, dtype=np.float32)) / 255  # a copy: inputs may be read-only
    return t.permute(0, 3, 1, 2) if t.dim() == 4 else t.unsqueeze(1)


def to_uint8(images: torch.Tensor) -> np.ndarray:
    """float (N, C, H, W) in [0, 1] -> uint8 (N, H, W, 3) or (N, H, W)."""
    arr = (images.clamp(0, 1) * 255).round().byte().cpu().numpy()
    return arr.transpose(0, 2, 3, 1) if arr.shape[1] == 3 else arr[:, 0]


@dataclass
class Scores:
    n: int
    mse_per_pixel: float  # reconstruction from the encoder mean
    mse_per_pixel_sampled: float  # reconstruction from a sampled latent
    neg_elbo_nats: float  # per image, sampled latent
    kl_nats: float  # per image
    kl_per_dim: list[float] = field(default_factory=list)  # per latent dimension, mean over images

    def as_dict(self) -> dict:
        return asdict(self)


@torch.no_grad()
def score(net, images: np.ndarray, labels: np.ndarray | None = None, batch: int = 256, seed: int = 0) -> Scores:
    """Held-out metrics: negative ELBO (one sampled latent per image) and reconstruction MSE per pixel."""
    net.eval()
    gen = torch.Generator().manual_seed(seed)
    tot = {"mse": 0.0, "mse_s": 0.0, "elbo": 0.0, "kl": 0.0}
    kl_dims = torch.zeros(net.cfg.latent, dtype=torch.float64)
    n = len(images)
    for i in range(0, n, batch):
        x = to_tensor(images[i : i + batch])
        y = None if labels is None else torch.as_tensor(labels[i : i + batch])
        mu, logvar = net.encode(x, y)
        z = reparameterise(mu, logvar, gen)
        kl = kl_per_dim(mu, logvar)
        mean_z = net.decode(z, y)
        if net.kind == "faces":
            x8 = (x * 255).round() / 255  # the 8-bit values the likelihood is defined on
            rec = discretised_gaussian_nll(mean_z, x8, net.log_sigma)
        else:
            rec = bernoulli_nll(net.decode_logits(z, y), x)
        tot["elbo"] += (rec + kl.sum(1)).sum().item()
        tot["kl"] += kl.sum().item()
        tot["mse_s"] += (mean_z - x).pow(2).flatten(1).mean(1).sum().item()
        tot["mse"] += (net.decode(mu, y) - x).pow(2).flatten(1).mean(1).sum().item()
        kl_dims += kl.double().sum(0)
    return Scores(
        n,
        tot["mse"] / n,
        tot["mse_s"] / n,
        tot["elbo"] / n,
        tot["kl"] / n,
        (kl_dims / n).tolist(),
    )


@torch.no_grad()
def most_likely_class(net: DigitCVAE, images: np.ndarray, seed: int = 0) -> np.ndarray:
    """For unlabelled digits: the class whose conditional ELBO is highest (encoder mean, deterministic)."""
    x = to_tensor(images)
    best = []
    for c in range(net.cfg.classes):
        y = torch.full((len(x),), c)
        mu, logvar = net.encode(x, y)
        rec = bernoulli_nll(net.decode_logits(mu, y), x)
        best.append(rec + kl_per_dim(mu, logvar).sum(1))
    return torch.stack(best, 1).argmin(1).numpy()


def sharpness(images: np.ndarray) -> float:
    """Mean variance of the Laplacian of the grey image (higher is sharper), images uint8 (N, H, W[, 3])."""
    g = images.astype(np.float64) / 255
    if g.ndim == 4:
        g = g @ np.array([0.299, 0.587, 0.114])
    lap = -4 * g[:, 1:-1, 1:-1] + g[:, :-2, 1:-1] + g[:, 2:, 1:-1] + g[:, 1:-1, :-2] + g[:, 1:-1, 2:]
    return float(lap.reshape(len(g), -1).var(axis=1).mean())


# ---------------------------------------------------------------- latent-space tools


def lerp(a, b, t: float):
    return (1 - t) * a + t * b


def slerp(a, b, t: float):
    """Spherical interpolation (Shoemake); falls back to linear when a and b are (anti)parallel."""
    a, b = torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)
    na, nb = a.norm(), b.norm()
    if na < 1e-8 or nb < 1e-8:
        return lerp(a, b, t)
    cos = torch.clamp((a / na) @ (b / nb), -1.0, 1.0)
    omega = torch.arccos(cos)
    if omega.abs() < 1e-4 or (math.pi - omega).abs() < 1e-4:
        return lerp(a, b, t)
    so = torch.sin(omega)
    return torch.sin((1 - t) * omega) / so * a + torch.sin(t * omega) / so * b


def interpolate(a, b, steps: int, spherical: bool = False) -> torch.Tensor:
    """(steps, L) codes from a to b, endpoints included: (1 - t) a + t b (not a + t b as in the notebook)."""
    f = slerp if spherical else lerp
    a, b = torch.as_tensor(a, dtype=torch.float32), torch.as_tensor(b, dtype=torch.float32)
    return torch.stack([f(a, b, t) for t in torch.linspace(0, 1, steps).tolist()])


def attribute_directions(groups: dict[str, tuple[np.ndarray, np.ndarray]]) -> dict[str, np.ndarray]:
    """Unit directions in latent space from mean differences, made orthogonal to each other in the given order.

    ``groups`` maps a name to (codes of the group the direction points towards, codes of the other group).
    Gram-Schmidt keeps the first direction as it is and removes from each later one its component along the
    earlier ones, so that moving along "older" does not also move along "female".
    """
    out: dict[str, np.ndarray] = {}
    for name, (towards, away) in groups.items():
        d = np.asarray(towards, np.float64).mean(0) - np.asarray(away, np.float64).mean(0)
        for prev in out.values():
            d = d - (d @ prev) * prev
        out[name] = (d / max(np.linalg.norm(d), 1e-12)).astype(np.float32)
    return out


def group_gap(towards: np.ndarray, away: np.ndarray, direction: np.ndarray) -> float:
    """Distance along a direction between the means of two groups (how far to push to swap groups)."""
    return float((np.asarray(towards).mean(0) - np.asarray(away).mean(0)) @ direction)


# ---------------------------------------------------------------- loaded model for the page and the CLI


@dataclass
class VAEModel:
    net: nn.Module
    config: dict
    card: dict
    extra: dict  # name -> np.ndarray: latent statistics, attribute directions, example codes

    @property
    def kind(self) -> str:
        return self.net.kind

    @property
    def latent(self) -> int:
        return self.net.cfg.latent

    def ranked_dims(self) -> list[int]:
        """Latent dimensions by their average KL on held-out images, most informative first."""
        return [int(i) for i in np.argsort(-self.extra["kl_per_dim"], kind="stable")]

    def active_dims(self, threshold: float = 0.01) -> int:
        """How many dimensions carry information (average KL above ``threshold`` nats)."""
        return int((self.extra["kl_per_dim"] > threshold).sum())

    @torch.no_grad()
    def decode(self, z, digit: int | None = None) -> np.ndarray:
        """(L,) or (N, L) codes -> uint8 images."""
        z = torch.tensor(np.asarray(z), dtype=torch.float32)
        if z.dim() == 1:
            z = z[None]
        y = None if self.kind == "faces" else torch.full((len(z),), int(digit or 0))
        return to_uint8(self.net.decode(z, y))

    @torch.no_grad()
    def encode(self, images: np.ndarray, digits=None) -> np.ndarray:
        """uint8 images -> encoder means (N, L)."""
        y = None if digits is None else torch.as_tensor(np.asarray(digits))
        return self.net.encode(to_tensor(images), y)[0].numpy()

    def density(self):
        """The Gaussian fitted to the training faces' codes, when the artifact holds one (else None)."""
        from gallery.vae.realism import FittedGaussian

        if "density_mean" not in self.extra:
            return None
        return FittedGaussian(self.extra["density_mean"], self.extra["density_chol"])

    def sample_codes(self, n: int, seed: int = 0, temperature: float = 1.0, fitted: bool = False) -> np.ndarray:
        """Codes from the prior N(0, I), or with ``fitted`` from the density fitted to training codes.

        ``temperature`` scales the spread (around the density's mean for ``fitted``).
        """
        density = self.density() if fitted else None
        if density is not None:
            return density.sample(n, seed, temperature)
        rng = np.random.default_rng(seed)
        return (rng.standard_normal((n, self.latent)) * temperature).astype(np.float32)

    def attribute_range(self) -> float:
        """The attribute sliders' reach: +-1 full push where the card chose push lengths, else +-1.5 group gaps."""
        return 1.0 if "attribute_pushes" in self.config else 1.5

    def attribute_offset(self, name: str, amount: float) -> np.ndarray:
        """The code's move for an attribute slider at ``amount`` (+1: the full push toward female or older).

        Models with measured push lengths scale each side by its own length; older ones by the distance
        between the two groups' mean codes.
        """
        direction = self.extra[f"dir_{name}"]
        pushes = self.config.get("attribute_pushes", {}).get(name)
        if pushes:
            length = pushes["plus"] if amount >= 0 else pushes["minus"]
        else:
            length = self.card.get("attributes", {}).get(name, {}).get("gap", 1.0)
        return (float(amount) * length * direction).astype(np.float32)


def load(name: str, root=None) -> VAEModel:
    def make(art):
        net = build(art.config["model"], art.tensors)
        extra = {k[len("extra.") :]: v.numpy() for k, v in art.tensors.items() if k.startswith("extra.")}
        if "kl_per_dim" not in extra:
            raise KeyError("extra.kl_per_dim")
        return VAEModel(net, art.config, art.card, extra)

    return build_from(name, make, root)
