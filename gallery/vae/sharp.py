"""The sharp face decoder: a decoder trained for realism as well as reconstruction, on the sigma-VAE's codes.

The encoder is the converged `vae-faces` encoder, frozen, so both decoders read the same latent code: the page
can draw one code with the faithful and the sharp decoder side by side, and the attribute directions and the
fitted sampling density serve both. The KL term and the posterior are the sigma-VAE's, untouched; the decoder
is trained on posterior samples z ~ q(z|x), so it learns each code's whole neighbourhood, not only its mean.

Two families of terms can be added to its L1 reconstruction loss (the trainer's flags weigh them):

- adversarial (the VAE-GAN / VQGAN recipe): feature matching on a PatchGAN discriminator's features (a learned
  similarity that needs no pretrained network), a hinge loss whose weight is set adaptively from the ratio of
  gradient norms at the decoder's last layer, differentiable augmentation of what the discriminator sees, a
  lazy R1 penalty, and spectral norm as an option;
- spectral: the log power per radial frequency band of each 16x16 patch of a decoded face against the same
  patch of its real face. It asks for the right amount of fine detail at every frequency without asking for
  its exact phase, which a code that does not pin the detail down could never give.

The decoder kept is an exponential moving average of its weights. Upsampling is nearest-neighbour followed by a
3x3 convolution: transposed convolutions leave checkerboard patterns (Odena et al. 2016) that would read as
fake sharpness.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from gallery.vae.networks import FaceConfig, FaceVAE, ResBlock


@dataclass
class SharpConfig(FaceConfig):
    decoder_channels: tuple[int, ...] = (256, 192, 128, 64, 32)  # at 4, 8, 16, 32 and 64 pixels
    decoder_res_blocks: tuple[int, ...] = (1, 1, 1, 1, 0)  # residual blocks at each of those sizes


class UpsampleDecoder(nn.Module):
    """z (B, L) -> image (B, 3, 64, 64) in [0, 1]: linear to 4x4, then (nearest x2, conv3x3, res blocks) per level."""

    def __init__(self, latent: int, channels: tuple[int, ...], res_blocks: tuple[int, ...]):
        super().__init__()
        self.c0 = channels[0]
        self.from_z = nn.Linear(latent, channels[0] * 16)
        layers: list[nn.Module] = [ResBlock(channels[0]) for _ in range(res_blocks[0])]
        for c_in, c_out, n_res in zip(channels, channels[1:], res_blocks[1:]):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(c_in, c_out, 3, 1, 1), nn.SiLU()]
            layers += [ResBlock(c_out) for _ in range(n_res)]
        self.body = nn.Sequential(*layers, nn.SiLU())
        self.to_rgb = nn.Conv2d(channels[-1], 3, 3, 1, 1)  # the "last layer" of the adaptive weight

    def forward(self, z):
        h = F.silu(self.from_z(z)).view(-1, self.c0, 4, 4)  # (B, C0, 4, 4)
        return torch.sigmoid(self.to_rgb(self.body(h)))  # (B, 3, 64, 64)


class SharpFaceVAE(FaceVAE):
    """The sigma-VAE's encoder with the upsampling decoder in place of the transposed-convolution one."""

    def __init__(self, cfg: SharpConfig):
        super().__init__(cfg)
        del self.from_z, self.decoder
        self.sharp = UpsampleDecoder(cfg.latent, tuple(cfg.decoder_channels), tuple(cfg.decoder_res_blocks))

    def decode(self, z, y=None):  # (B, L) -> (B, 3, 64, 64) in [0, 1]
        return self.sharp(z)


class PatchDiscriminator(nn.Module):
    """PatchGAN: 64x64 image -> (B, 1, 8, 8) real/fake logits, plus its features for matching.

    ``spectral`` puts spectral norm on every convolution. Measured here, it kept this small discriminator from
    learning at all (after 500 steps its mean logits on real and decoded faces differed by 0.0004), so the
    committed run uses plain convolutions, kept stable by the R1 penalty (as StyleGAN2 does).
    """

    def __init__(self, channels: tuple[int, ...] = (64, 128, 256), spectral: bool = False):
        super().__init__()
        norm = spectral_norm if spectral else (lambda m: m)
        blocks, c_in = [], 3
        for c in channels:
            blocks.append(nn.Sequential(norm(nn.Conv2d(c_in, c, 4, 2, 1)), nn.LeakyReLU(0.2)))
            c_in = c
        self.blocks = nn.ModuleList(blocks)
        self.head = norm(nn.Conv2d(c_in, 1, 3, 1, 1))

    def forward(self, x):  # x (B, 3, 64, 64) in [0, 1]
        h, feats = x * 2 - 1, []
        for block in self.blocks:
            h = block(h)
            feats.append(h)  # (B, 64, 32, 32), (B, 128, 16, 16), (B, 256, 8, 8)
        return self.head(h), feats  # (B, 1, 8, 8)


# ---------------------------------------------------------------- differentiable augmentation


def diff_augment(x, generator=None, cutout: bool = False):
    """Colour and translation (up to 1/8 of the side, edges replicated), per image, differentiable in x.

    Real and generated batches get the same kind of augmentation, so the discriminator cannot learn the
    augmentations instead of the faces (DiffAugment, Zhao et al. 2020). Measured here, DiffAugment's cutout (a
    zeroed square of half the side) and zero-padded shifts slowed a discriminator learning to tell real faces
    from 3x3-blurred ones about fivefold: their hard edges drown the fine detail it must learn to see. So cutout
    is off by default, and shifts replicate the border.
    """
    b, dev = x.shape[0], x.device

    def rand(*shape):
        return torch.rand(*shape, generator=generator).to(dev)

    x = x + (rand(b, 1, 1, 1) - 0.5) * 0.4  # brightness
    mean = x.mean(1, keepdim=True)
    x = (x - mean) * (rand(b, 1, 1, 1) * 1.2 + 0.4) + mean  # saturation
    mean = x.mean((1, 2, 3), keepdim=True)
    x = (x - mean) * (rand(b, 1, 1, 1) + 0.5) + mean  # contrast
    side = x.shape[-1]
    shift = ((rand(b, 2) * 2 - 1) * side / 8).round() * 2 / side  # whole pixels, in grid units
    theta = torch.zeros(b, 2, 3, device=dev)
    theta[:, 0, 0] = theta[:, 1, 1] = 1
    theta[:, :, 2] = shift
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="nearest", padding_mode="border", align_corners=False)
    if not cutout:
        return x
    cut = side // 2
    centre = (rand(b, 2) * (side + 1 - cut % 2)).long()  # (B, 2): cutout centre (y, x)
    ys = torch.arange(side, device=dev)
    inside_y = (ys[None] - centre[:, :1]).abs() < cut // 2  # (B, side)
    inside_x = (ys[None] - centre[:, 1:]).abs() < cut // 2
    keep = ~(inside_y[:, :, None] & inside_x[:, None, :])  # (B, side, side)
    return x * keep[:, None].to(x.dtype)


# ---------------------------------------------------------------- losses


def _band_matrix(side: int, device) -> torch.Tensor:
    """(side * (side // 2 + 1), side // 2) 0/1 matrix: which radial frequency band each rfft2 coefficient is in."""
    fy = torch.fft.fftfreq(side, device=device)[:, None] * side  # (side, 1)
    fx = torch.fft.rfftfreq(side, device=device)[None, :] * side  # (1, side // 2 + 1)
    radius = torch.sqrt(fy**2 + fx**2).round().long().flatten()  # (side * (side // 2 + 1),)
    bands = torch.arange(1, side // 2 + 1, device=device)
    return (radius[:, None] == bands[None, :]).float()


def band_power_loss(fake, real, patch: int = 16, eps: float = 1e-6):
    """L1 between the log power per radial frequency band of decoded and real faces, patch by patch.

    Far less noisy than the per-coefficient amplitudes (each band sums many coefficients), it asks each part of
    a decoded face for as much fine detail as the same part of its real face has. Measured here, the same loss
    over the whole image was cheated within a few hundred steps: the decoder put one bright dot at the same place
    on every face, broadband energy that fills every band at once; so did an L1 between the log amplitude spectra
    of whole images. Per 16x16 patch, a dot only pays for itself, and none appeared.
    """
    m = _band_matrix(patch, fake.device)  # (patch * (patch // 2 + 1), patch // 2)

    def bands(x):  # (B, 3, H, W) -> (B, H / patch, W / patch, patch // 2) log power
        tiles = x.unfold(2, patch, patch).unfold(3, patch, patch)  # (B, 3, H / patch, W / patch, patch, patch)
        tiles = tiles - tiles.mean((-2, -1), keepdim=True)
        power = torch.fft.rfft2(tiles, norm="ortho").abs().pow(2).sum(1)  # (B, H / p, W / p, p, p // 2 + 1)
        return torch.log(power.flatten(3) @ m + eps)

    return (bands(fake) - bands(real)).abs().mean()


def hinge_d_loss(logits_real, logits_fake):
    """Hinge loss of the discriminator (mean over patches and images)."""
    return F.relu(1 - logits_real).mean() + F.relu(1 + logits_fake).mean()


def hinge_g_loss(logits_fake):
    return -logits_fake.mean()


def feature_matching(feats_fake, feats_real):
    """L1 between the discriminator's features of the decoded and the real faces, averaged over layers."""
    return sum(F.l1_loss(f, r.detach()) for f, r in zip(feats_fake, feats_real)) / len(feats_fake)


def adaptive_weight(rec_loss, g_loss, last_layer: torch.Tensor, max_weight: float = 1e4) -> torch.Tensor:
    """VQGAN's balance: ||d rec / d last|| / ||d gan / d last||, so neither term drowns the other (detached)."""
    rec_grad = torch.autograd.grad(rec_loss, last_layer, retain_graph=True)[0]
    g_grad = torch.autograd.grad(g_loss, last_layer, retain_graph=True)[0]
    return (rec_grad.norm() / (g_grad.norm() + 1e-4)).clamp(0, max_weight).detach()


def r1_penalty(disc: PatchDiscriminator, real):
    """R1 (Mescheder et al. 2018): squared gradient norm of each image's mean logit at real images, batch mean.

    Per image, not per patch sum: the gradient of the sum of the 64 patch logits grows with the patch count, and
    its square with the count squared, which held the committed discriminator flat (its real and fake logits
    within 0.003 of each other after 300 steps, measured); the mean logit's penalty does not depend on it.
    """
    real = real.detach().requires_grad_(True)
    logits, _ = disc(real)  # (B, 1, P, P)
    (grad,) = torch.autograd.grad(logits.flatten(1).mean(1).sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


@torch.no_grad()
def discriminator_health(disc: PatchDiscriminator, real, fake) -> dict:
    """Real/fake accuracy of the discriminator (sign of each image's mean logit) and the mean logits."""
    was_training = disc.training
    disc.eval()
    real_logit = disc(real)[0].flatten(1).mean(1)  # (B,)
    fake_logit = disc(fake)[0].flatten(1).mean(1)
    disc.train(was_training)
    accuracy = ((real_logit > 0).float().mean() + (fake_logit < 0).float().mean()) / 2
    return {
        "d_val_accuracy": round(accuracy.item(), 4),
        "d_val_real": round(real_logit.mean().item(), 4),
        "d_val_fake": round(fake_logit.mean().item(), 4),
    }


class EMA:
    """Exponential moving average of a module's parameters and buffers: ema = d * ema + (1 - d) * live.

    The decay d warms up as min(decay, (1 + k) / (10 + k)) over the k updates so far, so that the average does not
    drag the random initial weights along for thousands of steps.
    """

    def __init__(self, module: nn.Module, decay: float = 0.999):
        self.decay, self.updates = decay, 0
        self.module = copy.deepcopy(module).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, live: nn.Module) -> None:
        d = min(self.decay, (1 + self.updates) / (10 + self.updates))
        self.updates += 1
        for ema_t, live_t in zip(self.module.state_dict().values(), live.state_dict().values()):
            if ema_t.is_floating_point():
                ema_t.lerp_(live_t, 1 - d)
            else:
                ema_t.copy_(live_t)


def build_sharp(config: dict, tensors: dict | None = None) -> SharpFaceVAE:
    cfg = SharpConfig(
        config["latent"],
        tuple(config["channels"]),
        config["size"],
        config.get("res_blocks", 0),
        tuple(config["decoder_channels"]),
        tuple(config["decoder_res_blocks"]),
    )
    net = SharpFaceVAE(cfg)
    if tensors is not None:
        net.load_state_dict({k: v for k, v in tensors.items() if not k.startswith("extra.")})
    return net.eval()
