"""Batched name sampling against one name at a time (the notebook's way), measured in the same run.

    python -m benchmarks.names_sampling [--n 1000] [--artifact names-gru]

Floors (issue 2): batched at least 20x faster, and 1,000 names in under 0.5 s.
"""

from __future__ import annotations

import argparse
import time

from gallery.names import model as names


def best_time(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def measure(model, n: int, repeats: int = 3) -> dict:
    names.sample(model, n=8, seed=0)  # warm up
    batched = best_time(lambda: names.sample(model, n=n, temperature=1.0, seed=0), repeats)
    one_by_one = best_time(lambda: [names.sample(model, n=1, temperature=1.0, seed=i) for i in range(n)], 1)
    return {"n": n, "batched_s": batched, "one_at_a_time_s": one_by_one, "speedup": one_by_one / batched}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--artifact", default=names.DEFAULT_ARTIFACT)
    args = p.parse_args(argv)
    r = measure(names.load(args.artifact), args.n)
    print(f"{'method':<16}{'seconds':>10}{'names/s':>12}")
    print(f"{'batched':<16}{r['batched_s']:>10.3f}{args.n / r['batched_s']:>12.0f}")
    print(f"{'one at a time':<16}{r['one_at_a_time_s']:>10.3f}{args.n / r['one_at_a_time_s']:>12.0f}")
    print(f"speedup (ratio): {r['speedup']:.1f}x   floor 20x: {'PASS' if r['speedup'] >= 20 else 'FAIL'}")
    if args.n == 1000:
        print(f"1,000 names in {r['batched_s']:.3f} s   floor 0.5 s: {'PASS' if r['batched_s'] < 0.5 else 'FAIL'}")
    return r


if __name__ == "__main__":
    main()
