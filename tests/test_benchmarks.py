"""The benchmark scripts run and their ratios point the right way (small sizes; the floors are in the scripts)."""

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
