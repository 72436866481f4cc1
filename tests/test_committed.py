"""The committed artifacts in pretrained/: they load, their cards meet the floors, and the cards' numbers
are reproduced on the held-out data (skipped, with the reason, when ../shared/data is absent)."""

from __future__ import annotations

import pytest
import torch

from gallery import registry
from gallery.essays import data as essay_data
from gallery.essays import model as essays
from gallery.names import data as name_data
from gallery.names import model as names
from tests.conftest import needs_shared_data
from trainers.names import mean_nll

NAME_ARTIFACTS = [f"names-{kind}" for kind in names.MODELS]


@pytest.mark.parametrize("artifact", [*NAME_ARTIFACTS, "essays-lstm"])
def test_committed_artifact_is_intact(artifact):
    registry.load_artifact(artifact)
    assert not registry.read_json(registry.PRETRAINED / artifact / "card.json")["smoke"]


MB = 1_000_000


def committed_artifacts() -> list[str]:
    """Every artifact folder under pretrained/ (a new one, such as digits-idec, is picked up by being there); a
    trainer's folder in the middle of its atomic rename (``<name>.tmp...``, ``<name>.old``) is not an artifact."""
    return [n for n in registry.list_artifacts() if ".tmp" not in n and not n.endswith(".old")]


@pytest.mark.parametrize("artifact", committed_artifacts())
def test_every_committed_artifact_is_intact_small_and_rebuildable(artifact):
    folder = registry.check_artifact(artifact)  # complete, and its weights match the card's sha256
    card = registry.read_json(folder / "card.json")
    assert card.get("smoke") is False, "a smoke artifact was committed"
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert size < 25 * MB, f"{artifact} is {size / MB:.1f} MB (at most 25 MB an artifact)"
    # the rebuild command a missing or broken artifact shows runs the trainer that wrote it
    trainer = registry.rebuild_command(artifact).split()[2]
    assert card["train_command"].split()[:3] == ["python", "-m", trainer], card["train_command"]


def test_all_committed_artifacts_fit_the_budget():
    size = sum(p.stat().st_size for p in registry.PRETRAINED.rglob("*") if p.is_file())
    assert size < 250 * MB, f"pretrained/ holds {size / MB:.0f} MB (at most 250 MB)"


def test_default_name_model_card_meets_the_floors():
    m = names.load().card["metrics"]
    assert m["test_nll_per_char"] <= 0.85 * m["bigram_test_nll_per_char"]
    assert m["novel_fraction"] >= 0.5


def test_default_name_model_gender_accuracy_floor():
    """Issue 12 restated the floor: within 0.02 of the reference gender classifier measured on the same split
    (0.85 was above what these labels allow)."""
    m = names.load().card["metrics"]
    assert m["gender_accuracy"] >= m["classifier_gender_accuracy"] - 0.02


def test_essay_card_meets_the_floors():
    card = essays.load().card
    nats = card["metrics"]["validation_nats_per_char"]
    assert nats <= 1.55
    assert nats <= 0.95 * card["baselines"]["ngram5"]["nats_per_char"]  # at least 5% below the 5-gram
    assert nats < card["baselines"]["unigram"]["nats_per_char"]


ESSAY_NATS_UNMET = (
    "validation 1.2004 nats/char after 1,850 steps (926 more than the first LSTM's 924, 121 minutes on one shared "
    "CPU thread from the committed artifact, plateau schedule at 1e-3 halved to 2.5e-4, dropout 0.1: the paired "
    "arms chose it over dropout 0.3 and weight drop 0.2); still improving (1.2413 -> 1.2350 on the evaluation "
    "text over the last 200 steps); the run resumes from the committed artifact"
)


def test_essay_card_holds_the_second_round():
    """Issue 34: every command that trained the weights, the ladder, the word floor's figure, the held-out cells."""
    card = essays.load().card
    assert len(card["commands_run"]) >= 2 and card["train_command"] == card["commands_run"][-1]["command"]
    assert set(card["ladder"]) == {"unigram", "ngram5", "first_lstm", "lstm_now"}
    assert card["ladder"]["lstm_now"]["nats_per_char"] < card["ladder"]["first_lstm"]["nats_per_char"]
    assert 0 < card["metrics"]["known_word_share"]["share"] <= 1
    assert {"parentheses", "quotes"} <= card["cells"]["features"].keys()


def test_essay_cells_floor():
    """The cell finder's best cells, picked on half the validation essays, tell inside-parentheses and
    inside-quotes on the other half with AUC at least 0.85 (issue 34)."""
    found = essays.load().card["cells"]["features"]
    assert found["parentheses"]["held_out_auc"] >= 0.85 and found["quotes"]["held_out_auc"] >= 0.85


@pytest.mark.xfail(strict=True, reason=ESSAY_NATS_UNMET)
def test_essay_validation_floor_of_the_second_round():
    assert essays.load().card["metrics"]["validation_nats_per_char"] <= 1.17


def test_essay_word_floor():
    assert essays.load().card["metrics"]["known_word_share"]["share"] >= 0.96


@needs_shared_data
@pytest.mark.parametrize("artifact", NAME_ARTIFACTS)
def test_name_card_is_reproduced_on_the_test_split(artifact):
    model = names.load(artifact)
    test = name_data.split_pairs(name_data.load_pairs(), seed=0)["test"]
    m = model.card["metrics"]
    with torch.no_grad():
        assert mean_nll(model.net, test) == pytest.approx(m["test_nll_per_char"], abs=2e-3)
        assert names.gender_accuracy(model.net, test) == pytest.approx(m["gender_accuracy"], abs=2e-3)
    novel = sum(r["novel"] for r in names.sample(model, n=1000, temperature=1.0, seed=0)) / 1000
    # Sampling may branch differently on another CPU's float rounding; 0.03 is three standard errors.
    assert novel == pytest.approx(m["novel_fraction"], abs=0.03)


@needs_shared_data
def test_essay_card_is_reproduced_on_the_validation_essays():
    model = essays.load()
    _, val = essay_data.split_essays(essay_data.load_essays(), seed=0)
    ids = torch.tensor(model.vocab.encode(essay_data.join(val)))
    nats = essays.nats_per_char(model.net, ids, chunk=512, streams=32)
    assert nats == pytest.approx(model.card["metrics"]["validation_nats_per_char"], abs=2e-3)
    assert nats <= 1.55


def test_readme_model_table_matches_the_cards():
    from tools.model_table import rows

    readme = (registry.PRETRAINED.parent / "README.md").read_text(encoding="utf-8")
    for row in rows():
        assert row in readme, f"README's model table is stale; regenerate it with python -m tools.model_table: {row}"


SPRITE_MODELS = ("vae", "beta-vae", "factor-vae", "beta-tcvae")


def sprite_metrics(kind: str) -> dict:
    return registry.read_json(registry.PRETRAINED / f"sprites-{kind}" / "card.json")["metrics"]


@pytest.mark.parametrize("kind", SPRITE_MODELS)
def test_sprite_cards_are_scored_as_disentanglement_lib_scores(kind):
    """Issue 35: held-out sprites, MIG on 10,000 points, the FactorVAE score with the published vote counts."""
    m = sprite_metrics(kind)
    assert m["mig_points"] == 10_000 and m["factorvae_counts"]["published"]
    assert 0 <= m["mig"] <= 1 and 0 <= m["factorvae_score"] <= 1 and len(m["kl_per_latent"]) == 10


SPRITES_FLOORS_UNMET = (
    "after 15 minutes each on one shared CPU thread at 32x32 (5,881-12,344 of disentanglement_lib's 300,000 steps, "
    "Adam 1e-4), the best disentangler's MIG is beta-TCVAE's 0.154 (FactorVAE score 0.52), below the plain VAE's "
    "0.160 (0.764); beta-VAE (beta 4) 0.028 (0.35), FactorVAE (gamma 40) 0.095 (0.69). At 4% of the published "
    "budget the KL pressure has only begun to separate x and y (beta-TCVAE's MIG per factor: x 0.43, y 0.30, scale "
    "0.03); the runs resume from the committed artifacts"
)


@pytest.mark.xfail(strict=True, reason=SPRITES_FLOORS_UNMET)
def test_the_best_disentangler_meets_the_floor():
    best = max(("beta-vae", "factor-vae", "beta-tcvae"), key=lambda k: sprite_metrics(k)["mig"])
    assert sprite_metrics(best)["mig"] >= 0.25 and sprite_metrics(best)["factorvae_score"] >= 0.75


@pytest.mark.xfail(strict=True, reason=SPRITES_FLOORS_UNMET)
def test_the_plain_vae_is_less_disentangled_than_each_of_the_others():
    vae = sprite_metrics("vae")["mig"]
    assert all(vae < sprite_metrics(k)["mig"] for k in ("beta-vae", "factor-vae", "beta-tcvae"))
