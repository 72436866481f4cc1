"""Decode time of the VAEs: one image (what a slider change costs) and a batch of 64 (a traversal grid).

    python -m benchmarks.vae_decode [--threads 1] [--repeats 20]

Floor (issues 7 and 16): one face decoded in under 30 ms with one torch thread on this machine, by the faithful
and by the sharp decoder. The batch of 64 is the baseline measured in the same run: its per-image cost shows what
batching saves.
"""

from __future__ import annotations

import argparse
import time

import torch

from gallery.registry import ArtifactError
from gallery.vae import model as vae

FLOOR_FACE_MS = 30.0


def best_ms(fn, repeats: int) -> float:
    fn()  # warm up
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best * 1000


def measure(m: vae.VAEModel, repeats: int = 20) -> dict:
    one = m.sample_codes(1, seed=0)
    batch = m.sample_codes(64, seed=1)
    single = best_ms(lambda: m.decode(one, 3), repeats)
    batched = best_ms(lambda: m.decode(batch, 3), max(3, repeats // 4))
    return {"one_ms": single, "batch64_ms": batched, "per_image_in_batch_ms": batched / 64}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--repeats", type=int, default=20)
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    results = {}
    print(f"torch threads: {args.threads}")
    print(f"{'model':<12}{'one image ms':>14}{'batch of 64 ms':>16}{'per image in batch':>20}{'ratio':>8}")
    for kind in ("faces", "faces-sharp", "digits"):
        try:
            m = vae.load(f"vae-{kind}")
        except ArtifactError as err:
            print(f"{kind:<12}unavailable: {err}")
            continue
        r = results[kind] = measure(m, args.repeats)
        ratio = r["one_ms"] / r["per_image_in_batch_ms"]
        print(
            f"{kind:<12}{r['one_ms']:>14.2f}{r['batch64_ms']:>16.1f}{r['per_image_in_batch_ms']:>20.2f}{ratio:>7.1f}x"
        )
    for kind in ("faces", "faces-sharp"):
        if kind in results:
            ok = results[kind]["one_ms"] < FLOOR_FACE_MS
            verdict = "PASS" if ok else "FAIL"
            print(f"{kind}: one face in {results[kind]['one_ms']:.2f} ms   floor {FLOOR_FACE_MS:.0f} ms: {verdict}")
    return results


if __name__ == "__main__":
    main()
