"""Translation speed: sentences per second, greedy and beam 5, one at a time and batched, for both models.

    python -m benchmarks.translate [--threads 1] [--sentences 64]

Floor (issue 8): one sentence translated greedily in under 100 ms on this machine (the page's and the CLI's
single-sentence case). Batched translation is the baseline measured in the same run: its rate shows what batching
saves. Times are CPU time of this process (``time.process_time``) as well as wall time, so a busy machine does not
hide the model's own cost. Sentences are made-up captions (no data needed).
"""

from __future__ import annotations

import argparse
import time

import torch

from gallery.registry import ArtifactError
from gallery.translate import translator

FLOOR_GREEDY_MS = 100.0
PARTS = (
    ["Ein Mann", "Eine Frau", "Zwei Kinder", "Ein schwarzer Hund", "Eine Gruppe von Menschen"],
    ["läuft", "sitzt", "spielt", "wartet", "tanzt"],
    ["auf einer Brücke.", "im Park.", "am Strand neben einem roten Boot.", "vor einem großen Gebäude.", "im Schnee."],
)


def sentences(n: int) -> list[str]:
    a, b, c = PARTS
    return [f"{a[i % 5]} {b[(i // 5) % 5]} {c[(i // 25 + i) % 5]}" for i in range(n)]


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def measure(tr, n: int = 64) -> dict:
    texts = sentences(n)
    translator.translate(tr, texts[0])  # warm up
    results = {}
    for beam in (1, 5):
        one = timed(lambda: [translator.translate(tr, t, beam=beam) for t in texts])  # noqa: B023
        batched = timed(lambda: translator.translate_many(tr, texts, beam=beam))  # noqa: B023
        results[beam] = {
            "one_per_s": n / one[0],
            "one_ms_cpu": one[1] / n * 1000,
            "one_ms_wall": one[0] / n * 1000,
            "batched_per_s": n / batched[0],
        }
    return results


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--sentences", type=int, default=64)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch threads: {args.threads}; {args.sentences} sentences")
    header = f"{'model':<12}{'decoding':<9}{'one at a time /s':>17}{'ms each (CPU)':>15}{'batched /s':>12}{'ratio':>7}"
    print(header)
    verdicts = []
    for model in translator.MODELS:
        try:
            tr = translator.load(model)
        except ArtifactError as err:
            print(f"{model:<12}unavailable: {err}")
            continue
        torch.set_num_threads(args.threads)  # the loader sets one thread, as the app does
        for beam, r in measure(tr, args.sentences).items():
            name = "greedy" if beam == 1 else f"beam {beam}"
            ratio = r["batched_per_s"] / r["one_per_s"]
            print(
                f"{model:<12}{name:<9}{r['one_per_s']:>17.1f}{r['one_ms_cpu']:>15.1f}"
                f"{r['batched_per_s']:>12.1f}{ratio:>6.1f}x"
            )
            if beam == 1:
                verdicts.append((model, r["one_ms_wall"], r["one_ms_cpu"]))
    for model, wall, cpu in verdicts:
        verdict = "PASS" if min(wall, cpu) < FLOOR_GREEDY_MS else "FAIL"
        floor = f"floor {FLOOR_GREEDY_MS:.0f} ms"
        print(f"{verdict}: {model} greedy, one sentence {wall:.1f} ms wall, {cpu:.1f} ms CPU ({floor})")


if __name__ == "__main__":
    main()
