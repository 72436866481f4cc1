"""The expanders: the three objectives and the two scores, and how the model on show was trained."""

from __future__ import annotations

import streamlit as st

from gallery import ui


def how_it_works() -> None:
    st.markdown(
        r"""
All four models are one network (disentanglement_lib's: four 4x4 stride-2 convolutions, a fully connected layer of
256, 10 Gaussian latents, a Bernoulli decoder), trained with four objectives. Each maximises a version of the
evidence lower bound, with $q(z\mid x)$ the encoder and $p(x\mid z)$ the decoder:

**VAE and β-VAE** (Higgins et al. 2017). The KL term is weighed by $\beta$; $\beta = 1$ is the plain VAE:

$$
\mathcal L_\beta = \mathbb E_{q(z\mid x)}[\log p(x\mid z)] -
\beta\,\mathrm{KL}\big(q(z\mid x)\,\|\,\mathcal N(0, I)\big).
$$

A larger $\beta$ pushes every code toward the factorised prior, so latents tend to take one factor each, but it
also squeezes how much the code may say about the sprite: reconstructions blur.

**β-TCVAE** (Chen et al. 2018) splits the KL, averaged over the data, into three parts:

$$
\mathbb E_{p(x)}\big[\mathrm{KL}(q(z\mid x)\,\|\,p(z))\big] =
\underbrace{I_q(x; z)}_{\text{index-code MI}} +
\underbrace{\mathrm{KL}\big(q(z)\,\|\,\textstyle\prod_j q(z_j)\big)}_{\text{total correlation}} +
\underbrace{\textstyle\sum_j \mathrm{KL}\big(q(z_j)\,\|\,p(z_j)\big)}_{\text{dimension-wise KL}}.
$$

Only the total correlation (TC) says that latents depend on one another. β-TCVAE weighs it by $\beta$ and keeps
the other two at 1, estimating $q(z)$ on each minibatch (minibatch-weighted sampling):
$q(z_i) \approx \frac{1}{NM}\sum_k q(z_i\mid x_k)$ over the batch's $M$ sprites, $N$ the 737,280 of the grid.

**FactorVAE** (Kim & Mnih 2018) adds $\gamma\,\mathrm{TC}$ to the VAE's loss and estimates the TC with a
discriminator $D$ (the *density-ratio trick*). Samples of $\prod_j q(z_j)$ are made by shuffling each latent's
column across the batch on its own; $D$ learns to tell real codes $z \sim q(z)$ from shuffled ones, and then

$$
\mathrm{TC} = \mathbb E_{q(z)}\Big[\log \frac{q(z)}{\prod_j q(z_j)}\Big] \approx
\mathbb E_{q(z)}\Big[\log \frac{D(z)}{1 - D(z)}\Big],
$$

the log-odds of "real". The encoder is trained to fool $D$; $D$ has its own optimiser.

**The scores**, as disentanglement_lib computes them, on fresh sprites:

- **MIG** (mutual information gap): each latent's encoder mean in 20 equal-width bins; for each factor, the mutual
  information of its best latent minus that of its second best, divided by the factor's entropy $H(v_k)$; the
  mean over the five factors. 1: each factor lives in one latent alone.
- **FactorVAE score**: hold one factor fixed over 64 sprites, find the latent whose variance (divided by its
  spread over all sprites) is the least, and vote; a majority-vote classifier from latent to factor is trained on
  the votes and scored on new ones. Latents with a spread under 0.05 (collapsed) are left out.

The sprites are this project's rendering of dSprites' factor grid (Matthey et al. 2017): 3 shapes, 6 scales,
40 orientations and 32 x 32 positions, 737,280 sprites of 64x64, drawn on the fly. The original file cannot be
downloaded here, and its heart outline and base sizes were never published, so the shapes are an approximation
and the published figures are on slightly different sprites.
"""
    )


def how_it_was_trained(card: dict) -> None:
    m = card.get("metrics", {})
    steps = card.get("steps")
    rows = [
        ("MIG", m.get("mig"), "β-VAE of order 0.1, β-TCVAE 0.4-0.5 (original dSprites)"),
        ("FactorVAE score", m.get("factorvae_score"), "about 0.8 (Kim & Mnih 2018)"),
        ("reconstruction, nats per sprite", m.get("reconstruction_nll"), "–"),
        ("KL, nats per sprite", m.get("kl_total"), "–"),
        ("steps", f"{steps:,}" if isinstance(steps, int) else "–", "300,000 (disentanglement_lib)"),
        ("MIG sprites", f"{m['mig_points']:,}" if isinstance(m.get("mig_points"), int) else "–", "10,000"),
    ]
    ui.training_details(card, rows, ("held_out_nll", "held_out_kl"), "nats per sprite (held out)")
