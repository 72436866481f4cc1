"""The sprites VAE: disentanglement_lib's architecture (Locatello et al. 2019), one network for all four objectives.

Encoder: four 4x4 stride-2 convolutions of 32, 32, 64 and 64 channels (64 -> 32 -> 16 -> 8 -> 4 pixels), ReLU, a
fully connected layer of 256, then the mean and log-variance of 10 Gaussian latents. Decoder: the mirror (FC 256,
FC 1024 = 64 x 4 x 4, transposed convolutions of 64, 32, 32 and 1 channel) giving one Bernoulli logit per pixel.
At ``size=32`` the first convolution (and the decoder's last) is dropped: 32, 64, 64 channels, 32 -> 4 pixels; the
64x64 sprites are then average-pooled 2x2 (each input pixel is the share of its four that are on).

The objectives that train it live in gallery.sprites.objectives; this module builds, loads and runs it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from gallery.registry import build_from
from gallery.sprites.render import SIZE

DISCRIMINATOR_PREFIX = "discriminator."  # FactorVAE's discriminator rides in the same safetensors file


@dataclass(frozen=True)
class SpritesConfig:
    size: int = 64  # input pixels a side: 64 (dSprites') or 32 (pooled, one convolution fewer)
    latents: int = 10
    hidden: int = 256  # the fully connected layer

    @property
    def channels(self) -> tuple[int, ...]:
        return {64: (32, 32, 64, 64), 32: (32, 64, 64)}[self.size]


def describe(cfg: SpritesConfig) -> str:
    convs = "-".join(map(str, cfg.channels))
    return (
        f"conv {convs} (4x4, stride 2) + FC {cfg.hidden} -> {cfg.latents} Gaussian latents; mirrored deconv decoder, "
        f"Bernoulli likelihood; {cfg.size}x{cfg.size} input"
    )


class SpritesVAE(nn.Module):
    def __init__(self, cfg: SpritesConfig):
        super().__init__()
        if cfg.size not in (32, 64):
            raise ValueError(f"size must be 64 or 32; got {cfg.size}")
        self.cfg = cfg
        ch = cfg.channels
        convs, c_in = [], 1
        for c in ch:
            convs += [nn.Conv2d(c_in, c, 4, stride=2, padding=1), nn.ReLU()]
            c_in = c
        flat = ch[-1] * 4 * 4
        self.encoder = nn.Sequential(
            *convs, nn.Flatten(), nn.Linear(flat, cfg.hidden), nn.ReLU(), nn.Linear(cfg.hidden, 2 * cfg.latents)
        )
        deconvs = []
        outs = (*reversed(ch[:-1]), 1)  # 64: 64, 32, 32, 1
        for c_in, c in zip(reversed(ch), outs):
            deconvs += [nn.ConvTranspose2d(c_in, c, 4, stride=2, padding=1), nn.ReLU()]
        self.decoder = nn.Sequential(
            nn.Linear(cfg.latents, cfg.hidden),
            nn.ReLU(),
            nn.Linear(cfg.hidden, flat),
            nn.ReLU(),
            nn.Unflatten(1, (ch[-1], 4, 4)),
            *deconvs[:-1],  # no ReLU after the logits
        )

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(B, 1, S, S) in [0, 1] -> mean (B, L), logvar (B, L)."""
        mean, logvar = self.encoder(x).chunk(2, dim=1)
        return mean, logvar

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, L) -> logits (B, 1, S, S)."""
        return self.decoder(z)

    def forward(self, x: torch.Tensor) -> Forward:
        mean, logvar = self.encode(x)  # (B, L) each
        z = mean + torch.randn_like(mean) * torch.exp(0.5 * logvar)  # (B, L) reparameterised sample
        return Forward(mean, logvar, z, self.decode(z))

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


@dataclass
class Forward:
    mean: torch.Tensor  # (B, L)
    logvar: torch.Tensor  # (B, L)
    z: torch.Tensor  # (B, L) one sample of q(z | x)
    logits: torch.Tensor  # (B, 1, S, S) Bernoulli logits of p(x | z)


class Discriminator(nn.Module):
    """FactorVAE's: codes (B, L) -> logits (B, 2), column 0 "drawn from q(z)", column 1 "dimension-wise permuted".

    Kim & Mnih (2018) and disentanglement_lib use 6 hidden layers of 1000 units with leaky ReLU (0.2)."""

    def __init__(self, latents: int = 10, layers: int = 6, hidden: int = 1000):
        super().__init__()
        self.latents, self.layers, self.hidden = latents, layers, hidden
        mods, width = [], latents
        for _ in range(layers):
            mods += [nn.Linear(width, hidden), nn.LeakyReLU(0.2)]
            width = hidden
        self.net = nn.Sequential(*mods, nn.Linear(width, 2))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


# ---------------------------------------------------------------------------------------------- inputs


def to_input(images, size: int = SIZE) -> torch.Tensor:
    """Sprites (N, 64, 64) uint8 0/1 (or floats in [0, 1]) -> the network's input (N, 1, size, size) float32."""
    x = torch.as_tensor(np.asarray(images), dtype=torch.float32)[:, None]  # (N, 1, 64, 64)
    if x.shape[-1] != size:
        x = F.adaptive_avg_pool2d(x, size)  # 64 -> 32: each pixel the share of its 2x2 that is on
    return x


# ---------------------------------------------------------------------------------------------- loaded models


@dataclass
class SpritesModel:
    """A trained model as the page, the command line and the metrics use it: numpy in, numpy out."""

    net: SpritesVAE
    config: dict
    card: dict

    @property
    def latents(self) -> int:
        return self.net.cfg.latents

    @property
    def device(self) -> torch.device:
        return next(self.net.parameters()).device

    @torch.no_grad()
    def encode(self, images, batch: int = 1024) -> tuple[np.ndarray, np.ndarray]:
        """Sprites (N, 64, 64) -> mean (N, L), logvar (N, L) float32."""
        images = np.asarray(images)
        means, logvars = [], []
        for start in range(0, len(images), batch):
            x = to_input(images[start : start + batch], self.net.cfg.size).to(self.device)  # (B, 1, S, S)
            mean, logvar = self.net.encode(x)  # (B, L) each
            means.append(mean.cpu().numpy())
            logvars.append(logvar.cpu().numpy())
        empty = np.zeros((0, self.latents), dtype=np.float32)
        return (np.concatenate(means), np.concatenate(logvars)) if means else (empty, empty)

    @torch.no_grad()
    def decode(self, codes) -> np.ndarray:
        """Codes (N, L) -> pixel probabilities (N, S, S) float32 in [0, 1]."""
        z = torch.as_tensor(np.asarray(codes), dtype=torch.float32).reshape(-1, self.latents).to(self.device)
        return torch.sigmoid(self.net.decode(z))[:, 0].cpu().numpy()  # (N, S, S)


def config_dict(cfg: SpritesConfig) -> dict:
    return {"kind": "sprites-vae", **asdict(cfg)}


def build(config: dict, tensors: dict | None = None) -> SpritesVAE:
    """The network an artifact's config describes, in eval mode (the discriminator's tensors are left out)."""
    if config.get("kind") != "sprites-vae":
        raise ValueError(f"not a sprites VAE config (kind {config.get('kind')!r})")
    net = SpritesVAE(SpritesConfig(config["size"], config["latents"], config["hidden"]))
    if tensors is not None:
        net.load_state_dict({k: v for k, v in tensors.items() if not k.startswith(DISCRIMINATOR_PREFIX)})
    return net.eval()


def build_discriminator(config: dict, tensors: dict) -> Discriminator | None:
    """FactorVAE's discriminator from an artifact, or None where the artifact has none."""
    spec = config.get("discriminator")
    if not spec:
        return None
    disc = Discriminator(config["latents"], spec["layers"], spec["hidden"])
    n = len(DISCRIMINATOR_PREFIX)
    disc.load_state_dict({k[n:]: v for k, v in tensors.items() if k.startswith(DISCRIMINATOR_PREFIX)})
    return disc


def load(name: str, root=None) -> SpritesModel:
    """``load("sprites-beta-vae")``: the artifact verified, built and ready; ArtifactError names what is wrong."""
    return build_from(name, lambda art: SpritesModel(build(art.config, art.tensors), art.config, art.card), root)
