"""Essay generation speed: carrying the LSTM state against recomputing the whole prefix each step.

The app steps with bfloat16 recurrent weights where the CPU has native bfloat16, else float32;
both are printed.

    python -m benchmarks.essays_generation [--chars 2000] [--recompute-chars 300]

Floor (issue 3): at least 2,000 characters per second with the carried state.
"""

from __future__ import annotations

import argparse
import time

import torch

from gallery import charmodel
from gallery.essays import model as essays

PROMPT = "How to start a startup? "


def carried_state(model, n: int) -> float:
    start = time.perf_counter()
    text = essays.generate(model, PROMPT, length=n, temperature=0.8, seed=0)
    assert len(text) == n
    return n / (time.perf_counter() - start)


@torch.no_grad()
def recompute_prefix(model, n: int) -> float:
    """The naive way: run the network over the whole text so far for every new character."""
    gen = torch.Generator().manual_seed(0)
    ids = model.vocab.encode(PROMPT)
    start = time.perf_counter()
    for _ in range(n):
        logits, _ = model.net(torch.tensor([ids]))  # (1, T, V): all of it, every step
        ids.append(int(charmodel.pick_next(logits[:, -1], 0.8, 0, gen)))
    return n / (time.perf_counter() - start)


def measure(model, chars: int, recompute_chars: int) -> dict:
    essays.generate(model, PROMPT, length=20)  # warm up
    fast = carried_state(model, chars)
    default_dtype, model.stepper = model.stepper.dtype, charmodel.LSTMStepper(model.net, torch.float32)
    fast_fp32 = carried_state(model, chars)
    model.stepper = charmodel.LSTMStepper(model.net, default_dtype)
    slow = recompute_prefix(model, recompute_chars)
    return {
        "weights": str(default_dtype).removeprefix("torch."),
        "carried_chars_per_s": fast,
        "carried_fp32_chars_per_s": fast_fp32,
        "recompute_chars_per_s": slow,
        "speedup": fast / slow,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--chars", type=int, default=2000)
    p.add_argument("--recompute-chars", type=int, default=300)
    args = p.parse_args(argv)
    r = measure(essays.load(), args.chars, args.recompute_chars)
    print(f"{'method':<28}{'chars/s':>10}")
    print(f"{'carried state (' + r['weights'] + ')':<28}{r['carried_chars_per_s']:>10.0f}")
    print(f"{'carried state (float32)':<28}{r['carried_fp32_chars_per_s']:>10.0f}")
    print(f"{'recompute prefix (' + str(args.recompute_chars) + ')':<28}{r['recompute_chars_per_s']:>10.0f}")
    print(f"speedup (ratio): {r['speedup']:.1f}x")
    print(f"floor 2,000 chars/s: {'PASS' if r['carried_chars_per_s'] >= 2000 else 'FAIL'}")
    return r


if __name__ == "__main__":
    main()
