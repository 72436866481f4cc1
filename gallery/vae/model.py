"""The loaded VAEs as the page and the command line use them: build a network from an artifact, decode, encode,
sample and edit codes.

This is the top of the VAE rooms: the images helpers, the networks (gallery.vae.networks, gallery.vae.sharp) and
the measures (gallery.vae.realism) sit below it and never import it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from gallery.registry import build_from
from gallery.vae import latent
from gallery.vae.images import to_tensor, to_uint8
from gallery.vae.networks import DigitConfig, DigitCVAE, FaceConfig, FaceVAE
from gallery.vae.realism import FittedGaussian
from gallery.vae.sharp import build_sharp

# ---------------------------------------------------------------- building a network from an artifact


def build(config: dict, tensors: dict | None = None) -> nn.Module:
    """The network an artifact's config describes (the sharp decoder where it names decoder channels), eval mode."""
    kind = config["kind"]
    if kind == "faces" and "decoder_channels" in config:
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

        Models with measured push lengths scale each side by its own length (and keep the other attribute where
        the card measured how: latent.attribute_offset); older ones by the distance between the two groups' mean
        codes.
        """
        pushes = self.config.get("attribute_pushes", {})
        if name in pushes:
            directions = {k[len("dir_") :]: v for k, v in self.extra.items() if k.startswith("dir_")}
            return latent.attribute_offset(directions, pushes, name, amount)
        length = self.card.get("attributes", {}).get(name, {}).get("gap", 1.0)
        return (float(amount) * length * self.extra[f"dir_{name}"]).astype(np.float32)


def load(name: str, root=None) -> VAEModel:
    def make(art):
        net = build(art.config["model"], art.tensors)
        extra = {k[len("extra.") :]: v.numpy() for k, v in art.tensors.items() if k.startswith("extra.")}
        if "kl_per_dim" not in extra:
            raise KeyError("extra.kl_per_dim")
        return VAEModel(net, art.config, art.card, extra)

    return build_from(name, make, root)
