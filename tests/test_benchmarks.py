"""The benchmark scripts run and their ratios point the right way (small sizes; the floors are in the scripts)."""

import numpy as np
import pytest

from benchmarks import essays_generation, names_sampling
from gallery.essays import model as essays
from gallery.names import model as names


def test_names_benchmark_batched_is_faster(use_smoke_artifacts):
    r = names_sampling.measure(names.load(), n=100, repeats=1)
    assert r["speedup"] > 2


def test_essays_benchmark_carried_state_is_faster(use_smoke_artifacts):
    r = essays_generation.measure(essays.load(), chars=200, recompute_chars=200)
    assert r["speedup"] > 1


@pytest.mark.parametrize("arm", ["no-equals-sign", "arm=missing.pt", "=missing.pt"])
def test_faces_recipe_rejects_a_wrong_arm_with_a_message(arm, capsys):
    from benchmarks import faces_recipe

    with pytest.raises(SystemExit) as exit_info:
        faces_recipe.main([arm])
    assert exit_info.value.code == 2 and "NAME=CHECKPOINT" in capsys.readouterr().err


@pytest.mark.parametrize("components", ["1", "0", "-3", "ten", ""])
def test_faces_density_rejects_a_wrong_component_count_with_a_message(components, capsys):
    from benchmarks import faces_density

    with pytest.raises(SystemExit) as exit_info:
        faces_density.main(["--components", components])
    assert exit_info.value.code == 2 and "--components" in capsys.readouterr().err


def test_mixture_sampler_draws_from_each_component_of_a_known_mixture():
    """Two well-separated clusters: samples land near both, in about their proportions, with their spread."""
    from benchmarks.faces_density import mixture_sampler

    rng = np.random.default_rng(0)
    codes = np.concatenate([rng.normal(-5, 1, (300, 3)), rng.normal(5, 0.5, (100, 3))])
    sample, _ = mixture_sampler(codes, 2)
    drawn = sample(4000, seed=1)
    left, right = drawn[drawn[:, 0] < 0], drawn[drawn[:, 0] >= 0]
    assert abs(len(left) / len(drawn) - 0.75) < 0.03
    assert np.allclose(left.mean(0), -5, atol=0.2) and np.allclose(right.std(0), 0.5, atol=0.1)
    assert np.array_equal(sample(5, seed=2), sample(5, seed=2))
