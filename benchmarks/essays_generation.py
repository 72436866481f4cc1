"""Essay generation speed: carrying the LSTM state against recomputing the whole prefix each step.

Generation steps the LSTM with weights in the precision this CPU is fast at (``--precision auto``,
see ``gallery.essays.stepping``): float16 through FBGEMM on any x86 CPU with AVX2, else bfloat16
where the CPU has it natively, else float32. The path taken (CPU capability and precision) is
printed, next to float32 for reference (``--all``: every precision).

    python -m benchmarks.essays_generation [--precision auto|bfloat16|float16|int8|float32] [--all]
        [--chars 2000] [--repeats 3] [--threads 1] [--recompute-chars 300] [--emulate-avx2]

``--emulate-avx2`` reruns the benchmark with ATen, FBGEMM, MKL and oneDNN limited to AVX2
(ATEN_CPU_CAPABILITY=avx2 and friends), i.e. as on a CPU without AVX512 or bfloat16 instructions.
Each figure is the median of ``--repeats`` runs of ``--chars`` characters (temperature 0.8), on
``--threads`` threads (the app uses one), per second of wall time (the floor) and per second of the
process's CPU time (less sensitive to other processes on a shared machine); the load average is printed.

Floor (issues 3 and 12): at least 2,000 characters per second with the carried state, on any CPU.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

import torch

from gallery import charmodel
from gallery.essays import model as essays
from gallery.essays import stepping

PROMPT = "How to start a startup? "
FLOOR = 2000


def carried_state(model, n: int) -> tuple[float, float]:
    """Characters per second of wall time, and per second of this process's CPU time."""
    start, cpu = time.perf_counter(), time.process_time()
    text = essays.generate(model, PROMPT, length=n, temperature=0.8, seed=0)
    assert len(text) == n
    return n / (time.perf_counter() - start), n / max(time.process_time() - cpu, 1e-9)


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


def speed(model, precision: str, chars: int, repeats: int) -> tuple[float, float]:
    """Median chars/s (wall, CPU) of ``repeats`` generations with the stepper in ``precision``."""
    model.stepper = stepping.Stepper(model.net, precision)
    essays.generate(model, PROMPT, length=50)  # warm up
    runs = [carried_state(model, chars) for _ in range(max(1, repeats))]
    return statistics.median(r[0] for r in runs), statistics.median(r[1] for r in runs)


def measure(model, chars: int, recompute_chars: int, precisions=("float32",), repeats: int = 1) -> dict:
    """chars/s for the model's own precision (``model.precision``) and each of ``precisions``."""
    chosen = model.precision
    both = {p: speed(model, p, chars, repeats) for p in dict.fromkeys([chosen, *precisions])}
    rates = {p: wall for p, (wall, _) in both.items()}
    model.stepper = stepping.Stepper(model.net, chosen)
    slow = recompute_prefix(model, recompute_chars)
    return {
        "capability": stepping.cpu_capability(),
        "native_bfloat16": stepping.native_bfloat16(),
        "weights": chosen,
        "chars_per_s": rates,
        "chars_per_cpu_s": {p: cpu for p, (_, cpu) in both.items()},
        "carried_chars_per_s": rates[chosen],
        "carried_fp32_chars_per_s": rates["float32"] if "float32" in rates else None,
        "recompute_chars_per_s": slow,
        "speedup": rates[chosen] / slow,
    }


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--precision", default="auto", help="auto, bfloat16, float16, int8 or float32")
    p.add_argument("--all", action="store_true", help="also time every other precision")
    p.add_argument("--chars", type=int, default=2000)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--recompute-chars", type=int, default=300)
    p.add_argument("--emulate-avx2", action="store_true", help="rerun limited to AVX2 (no AVX512, no bfloat16)")
    raw = sys.argv[1:] if argv is None else list(argv)
    args = p.parse_args(raw)
    if args.emulate_avx2:
        env = {**os.environ, **stepping.AVX2_ENV}
        rest = [a for a in raw if a != "--emulate-avx2"]
        os.execve(sys.executable, [sys.executable, "-m", "benchmarks.essays_generation", *rest], env)
    torch.set_num_threads(args.threads)
    load = os.getloadavg()  # other processes slow the wall-clock figures; the CPU-time column less so
    model = essays.load(precision=args.precision)
    others = [q for q in stepping.PRECISIONS if q != "auto"] if args.all else ["float32"]
    r = measure(model, args.chars, args.recompute_chars, others, args.repeats)
    bf16 = "yes" if r["native_bfloat16"] else "no"
    print(f"CPU capability: {r['capability']} (native bfloat16: {bf16}); threads: {args.threads}")
    print(f"path: {r['weights']} weights (--precision {args.precision})")
    before, after = (" ".join(f"{x:.2f}" for x in avg) for avg in (load, os.getloadavg()))
    print(f"load average before: {before}; after: {after}")
    print(f"{'method':<32}{'chars/s':>10}{'per CPU s':>12}")
    for precision, rate in r["chars_per_s"].items():
        tag = "  <- path" if precision == r["weights"] else ""
        print(f"{'carried state (' + precision + ')':<32}{rate:>10.0f}{r['chars_per_cpu_s'][precision]:>12.0f}{tag}")
    print(f"{'recompute prefix (' + str(args.recompute_chars) + ')':<32}{r['recompute_chars_per_s']:>10.0f}")
    print(f"speedup (ratio): {r['speedup']:.1f}x")
    verdict = "PASS" if r["carried_chars_per_s"] >= FLOOR else "FAIL"
    print(f"floor 2,000 chars/s ({r['weights']}, {r['capability']}): {verdict}")
    return r


if __name__ == "__main__":
    main()
