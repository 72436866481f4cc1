"""The benchmark scripts run and their ratios point the right way (small sizes; the floors are in the scripts)."""

from benchmarks import essays_generation, names_sampling
from gallery.essays import model as essays
from gallery.names import model as names


def test_names_benchmark_batched_is_faster(use_smoke_artifacts):
    r = names_sampling.measure(names.load(), n=100, repeats=1)
    assert r["speedup"] > 2


def test_essays_benchmark_carried_state_is_faster(use_smoke_artifacts):
    r = essays_generation.measure(essays.load(), chars=200, recompute_chars=200)
    assert r["speedup"] > 1
