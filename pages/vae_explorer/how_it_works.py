"""The "How it works" expander: the ELBO, the two face decoders, where faces live, the digits, and what went wrong
in the original notebook."""

from __future__ import annotations

import streamlit as st


def how_it_works() -> None:
    st.markdown(
        r"""
An encoder maps a picture $x$ to a Gaussian $q(z\mid x) = \mathcal N(\mu(x), \sigma^2(x))$ over codes, a decoder
maps a code back to a picture, and both are trained to maximise the evidence lower bound

$$\text{ELBO}(x) = \mathbb E_{q(z\mid x)}[\log p(x\mid z)] - \mathrm{KL}\big(q(z\mid x)\,\|\,\mathcal N(0, I)\big).$$

The KL term keeps codes near a standard normal, which is why sampling $z \sim \mathcal N(0, I)$ gives new pictures
and why sliders run over a few standard deviations.

- **Faces**: convolutional encoder and decoder, $p(x\mid z)$ Gaussian with one shared $\sigma$ set to the
  root mean squared error (a *calibrated* decoder, the σ-VAE). A fixed $\sigma$ is a hidden weight on the KL
  term; summing squared errors with weight 1 makes faces blurrier. Scores use the Gaussian binned to 256
  grey levels, a probability, so the negative ELBO is never below zero.
- **Faces, sharp decoder**: the same frozen encoder, so the same codes, and a second decoder
  (nearest-neighbour upsampling and 3x3 convolutions, no transposed convolutions and their checkerboards)
  trained on codes drawn from $q(z\mid x)$ with three terms: L1 reconstruction; *feature matching*, the
  distance between a discriminator's features of the real and the decoded face (a learned similarity, since
  no pretrained perceptual network is available here); and a hinge-loss PatchGAN discriminator with spectral
  norm, whose weight is set at each step from the ratio of the two terms' gradients at the decoder's last layer
  (as in VQGAN). The discriminator sees randomly shifted, recoloured and cut-out faces (only 8,350 training
  faces), pays a small R1 penalty, and the decoder kept is a moving average of its weights.
- **Where faces live**: the prior $\mathcal N(0, I)$ is what the KL term pulls codes toward, but real faces
  fill it unevenly. New codes can instead come from a Gaussian with the mean and full covariance of the
  training faces' codes (as the RAE paper does), which "How well it does" shows makes samples more real.
- **Digits**: a conditional VAE: the class is given to the encoder and the decoder, so the code only has to
  hold the *style* (slant, thickness), and the same code drawn as another digit keeps its style.
  $p(x\mid z, y)$ is Bernoulli on intensities $x/255 \in [0, 1]$.

**What went wrong in the original notebook**

1. *Negative loss.* Pixels were scaled to $[-1, 1]$ and fed to binary cross-entropy, which is a
   log-likelihood only for targets in $[0, 1]$. For a pixel at $x=-1$ the term $-[x\log p + (1-x)\log(1-p)]$
   becomes $\log p - 2\log(1-p)$, which falls without bound as $p \to 0$: the "loss" went negative and
   training chased that instead of the data. Here the targets are $x/255 \in [0, 1]$, and the loss is never
   negative.
2. *Interpolation.* Frames were computed as $z_{\text{from}} + a\,z_{\text{to}}$, which never reaches the end
   face and drifts off the prior. The right path is $(1-a)\,z_{\text{from}} + a\,z_{\text{to}}$ (or the
   spherical version), whose end frames reproduce the two inputs.
"""
    )
