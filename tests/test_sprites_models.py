"""Sprites models: every trainer's --smoke writes a loadable artifact, resuming from a checkpoint or from the artifact
alone carries the steps, the history and the commands on, and the four objectives behave on a tiny batch."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from gallery.registry import load_artifact
from gallery.sprites import model as sprites_model
from gallery.sprites import objectives, render
from trainers import sprites as trainer

MODELS = trainer.MODELS


def smoke(root, name, *extra):
    """Train ``name`` (an artifact name, sprites-<model>[...]) in --smoke mode into ``root``; its card."""
    model = next(m for m in sorted(MODELS, key=len, reverse=True) if name.startswith(f"sprites-{m}"))
    argv = ["--model", model, "--smoke", "--threads", "1", "--out", str(root / name)]
    return trainer.main([*argv, "--checkpoint", str(root / f"{name}.pt"), *extra])


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    root = tmp_path_factory.mktemp("pretrained")
    for m in MODELS:
        smoke(root, f"sprites-{m}")
    return root


@pytest.mark.parametrize("model", MODELS)
def test_smoke_writes_a_loadable_artifact(root, model):
    m = sprites_model.load(f"sprites-{model}", root)
    images = render.render_indices(render.sample_factors(5, 0))  # (5, 64, 64)
    mean, logvar = m.encode(images)
    assert mean.shape == logvar.shape == (5, 10) and np.isfinite(mean).all()
    assert m.decode(mean).shape == (5, 64, 64)
    card = m.card
    assert card["steps"] == 6 and card["published_steps"] == 300_000 and len(card["commands_run"]) == 1
    assert "not the original dSprites file" in card["data"]["data"]
    metrics = card["metrics"]
    assert 0 <= metrics["mig"] <= 1 and np.array(metrics["mi_matrix"]["nats"]).shape == (10, 5)
    assert len(metrics["kl_per_latent"]) == 10 and metrics["reconstruction_nll"] > 0
    assert metrics["factorvae_counts"]["published"] is False and "factorvae_seconds" in metrics
    assert [h["step"] for h in card["history"]] == [3, 6]
    assert ("discriminator" in card) == (model == "factor-vae")


def test_32_pixels_take_64_pixel_sprites(tmp_path):
    card = smoke(tmp_path, "sprites-beta-tcvae", "--size", "32")
    assert card["architecture"]["size"] == 32 and card["architecture"]["encoder_channels"] == [32, 64, 64]
    m = sprites_model.load("sprites-beta-tcvae", tmp_path)
    mean, _ = m.encode(render.render_indices(render.sample_factors(3, 1)))  # 64x64 in, pooled to 32
    assert mean.shape == (3, 10) and m.decode(mean).shape == (3, 32, 32)


def test_resume_from_the_artifact_alone(tmp_path):
    smoke(tmp_path, "sprites-factor-vae")
    before = load_artifact("sprites-factor-vae", tmp_path).tensors
    (tmp_path / "sprites-factor-vae.pt").unlink()
    card = smoke(tmp_path, "sprites-factor-vae", "--resume", "--steps", "6")  # no step: the weights come back as is
    after = load_artifact("sprites-factor-vae", tmp_path).tensors
    assert any(k.startswith("discriminator.") for k in after)
    for k, v in before.items():
        torch.testing.assert_close(after[k], v, msg=k)  # the VAE's and the discriminator's
    assert card["steps"] == 6 and len(card["commands_run"]) == 2
    (tmp_path / "sprites-factor-vae.pt").unlink(missing_ok=True)  # none: no step was taken
    card = smoke(tmp_path, "sprites-factor-vae", "--resume")
    assert card["steps"] == 12 and [c["from_step"] for c in card["commands_run"]] == [0, 6, 6]
    assert [h["step"] for h in card["history"]] == [3, 6, 9, 12] and card["history"][-1]["run"] == 3


def test_resume_from_the_checkpoint(tmp_path):
    smoke(tmp_path, "sprites-beta-vae", "--steps", "4")
    ckpt = torch.load(tmp_path / "sprites-beta-vae.pt", weights_only=True)
    assert ckpt["step"] == 4
    card = smoke(tmp_path, "sprites-beta-vae", "--resume", "--steps", "8")
    assert card["steps"] == 8 and [h["step"] for h in card["history"]] == [3, 4, 6, 8]
    assert [c["to_step"] for c in card["commands_run"]] == [4, 8]
    config = json.loads((tmp_path / "sprites-beta-vae" / "config.json").read_text())
    assert config["size"] == 64 and "discriminator" not in config


def test_smoke_needs_a_scratch_folder():
    with pytest.raises(SystemExit):
        trainer.parse_args(["--model", "vae", "--smoke"])
    with pytest.raises(SystemExit):
        trainer.parse_args(["--model", "gan"])


# ---------------------------------------------------------------------------------------------- objectives


@pytest.fixture
def batch():
    torch.manual_seed(0)
    net = sprites_model.SpritesVAE(sprites_model.SpritesConfig(64))
    x = sprites_model.to_input(render.render_indices(render.sample_factors(8, 0)))  # (8, 1, 64, 64)
    return net, x


def test_the_objectives_are_finite_and_differentiable(batch):
    net, x = batch
    disc = sprites_model.Discriminator(10, 2, 16)
    losses = {
        "vae": lambda f: objectives.vae_loss(f, x),
        "beta-vae": lambda f: objectives.beta_vae_loss(f, x, 4.0),
        "factor-vae": lambda f: objectives.factor_vae_loss(f, x, disc, 40.0),
        "beta-tcvae": lambda f: objectives.beta_tcvae_loss(f, x, 6.0),
    }
    for name, loss in losses.items():
        net.zero_grad()
        terms = loss(net(x))
        assert all(torch.isfinite(v) for v in terms.values()), name
        terms["loss"].backward()
        assert all(torch.isfinite(p.grad).all() for p in net.parameters()), name
        assert terms["nll"] > 0 and terms["kl"] >= 0
    d = objectives.discriminator_loss(disc, net(x).z)
    assert torch.isfinite(d["loss"]) and 0 <= d["accuracy"] <= 1


def test_beta_scales_the_kl_and_vae_is_beta_one(batch):
    net, x = batch
    f = net(x)
    one, four = objectives.vae_loss(f, x), objectives.beta_vae_loss(f, x, 4.0)
    torch.testing.assert_close(four["loss"] - one["loss"], 3 * one["kl"], atol=1e-3, rtol=1e-3)  # float32 of ~2,600


def test_the_permutation_keeps_each_marginal_and_breaks_the_pairing():
    gen = torch.Generator().manual_seed(0)
    t = torch.randn(256, 1, generator=gen)
    z = torch.cat([t, 2 * t, -t], dim=1)  # (256, 3) perfectly correlated columns
    p = objectives.permute_dims(z, gen)
    torch.testing.assert_close(p.sort(dim=0).values, z.sort(dim=0).values)  # every column keeps its values
    assert abs(np.corrcoef(p.T.numpy())[0, 1]) < 0.2 and not torch.equal(p, z)


def test_total_correlation_sees_dependent_codes():
    gen = torch.Generator().manual_seed(0)
    logvar = torch.full((256, 4), -4.0)
    independent = torch.randn(256, 4, generator=gen)
    dependent = torch.randn(256, 1, generator=gen).repeat(1, 4)  # one factor copied into every latent
    tc = lambda mean: objectives.total_correlation(mean, mean, logvar).item()  # noqa: E731 (z at the means)
    assert tc(dependent) > tc(independent) + 1


def test_the_disentangling_benchmark_reports_every_model(root, monkeypatch, capsys):
    from benchmarks import sprites_disentangling
    from gallery import registry

    monkeypatch.setattr(registry, "PRETRAINED", root)
    rows = sprites_disentangling.main(["--points", "300", "--votes", "40"])
    assert set(rows) == {f"sprites-{m}" for m in MODELS}
    out = capsys.readouterr().out
    assert "best disentangler" in out and "plain VAE's MIG" in out
