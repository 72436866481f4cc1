"""Which recipe trains the essay LSTM best per minute? Paired arms, measured alike (issue 34).

    python -m benchmarks.essays_recipe d01=checkpoints/arms/d01.pt d03=checkpoints/arms/d03.pt ...
    python -m benchmarks.essays_recipe --smoke --data-dir DIR   # two tiny arms trained here, then the table

Each ARM=CHECKPOINT is a `trainers.essays` checkpoint of a run started the same way as the others (from the
committed artifact with `--resume`, or from scratch), one thread each, side by side for the same --minutes.
Its history holds validation nats at every evaluation with the minutes trained. The table gives, per arm:
validation nats when it started, at the minutes every arm reached (the fair comparison), at its end, its best,
and its slope over the last three evaluations (nats per 10 minutes: negative is still improving).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch


def arm_row(ckpt: dict) -> dict:
    """The evaluations of the arm's own run (its last command), from the validation score it started at."""
    history, commands = ckpt["history"], ckpt["commands"]
    run = len(commands)
    own = [r for r in history if r.get("run") == run]
    start = [r for r in own if r.get("start")]  # measured on the run's own evaluation text before it trained
    own = [r for r in own if not r.get("start")]
    start_val = (
        start[0]["val_nats"]
        if start
        else (ckpt["best_val"] if ckpt["best_step"] == commands[-1]["from_step"] else float("nan"))
    )
    minutes = [r["minutes"] - ckpt["minutes_before"] for r in own]
    vals = [r["val_nats"] for r in own]
    if not np.isnan(start_val):  # from scratch there is no score to start from
        minutes, vals = [0.0, *minutes], [start_val, *vals]
    minutes, vals = np.array(minutes), np.array(vals)
    fit = len(vals) >= 3 and np.ptp(minutes[-3:]) > 0
    slope = np.polyfit(minutes[-3:], vals[-3:], 1)[0] * 10 if fit else float("nan")
    return {
        "command": commands[-1]["command"],
        "steps": own[-1]["step"] - commands[-1]["from_step"] if own else 0,
        "minutes": float(minutes[-1]),
        "start": float(start_val),
        "curve": (minutes, vals),
        "end": float(vals[-1]),
        "best": float(np.nanmin(vals)),
        "slope_per_10min": float(slope),
    }


def at_minutes(row: dict, minutes: float) -> float:
    m, v = row["curve"]
    return float(np.interp(minutes, m, v)) if len(m) else float("nan")


def table(rows: dict[str, dict]) -> str:
    common = min(r["minutes"] for r in rows.values())
    lines = [
        f"{'arm':<10} {'steps':>6} {'min':>6} {'start':>7} {f'@{common:.1f}min':>9} {'end':>7} {'best':>7} "
        f"{'slope/10min':>12}  command"
    ]
    for name, r in sorted(rows.items(), key=lambda kv: at_minutes(kv[1], common)):
        lines.append(
            f"{name:<10} {r['steps']:>6} {r['minutes']:>6.1f} {r['start']:>7.4f} {at_minutes(r, common):>9.4f} "
            f"{r['end']:>7.4f} {r['best']:>7.4f} {r['slope_per_10min']:>+12.4f}  {r['command']}"
        )
    return "\n".join(lines)


def load_rows(arms: dict[str, Path]) -> dict[str, dict]:
    ckpts = {name: torch.load(path, weights_only=True) for name, path in arms.items()}
    rows = {name: arm_row(ckpt) for name, ckpt in ckpts.items()}
    for (
        name,
        row,
    ) in rows.items():  # an arm that beat its start at once did not keep it: arms from the same start share it
        if np.isnan(row["start"]):
            start = ckpts[name]["commands"][-1]["from_step"]
            known = [r["start"] for n, r in rows.items() if ckpts[n]["commands"][-1]["from_step"] == start]
            known = [v for v in known if not np.isnan(v)]
            if known:
                row["start"] = known[0]
                row["curve"] = (np.r_[0.0, row["curve"][0]], np.r_[known[0], row["curve"][1]])
    return rows


def smoke(data_dir: Path) -> dict[str, dict]:
    """Two tiny arms (dropout 0 and 0.3 with weight drop) from scratch, one after the other, for tests."""
    from trainers import essays

    folder = Path(tempfile.mkdtemp(prefix="essays-recipe-"))
    arms = {}
    for name, extra in (("plain", ["--dropout", "0"]), ("regular", ["--dropout", "0.3", "--weight-drop", "0.2"])):
        arms[name] = folder / f"{name}.pt"
        essays.main(["--smoke", "--data-dir", str(data_dir), "--checkpoint", str(arms[name]), "--no-artifact", *extra])
    return load_rows(arms)


def main(argv=None) -> dict[str, dict]:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("arms", nargs="*", metavar="ARM=CHECKPOINT")
    p.add_argument("--smoke", action="store_true", help="train two tiny arms on --data-dir and print their table")
    p.add_argument("--data-dir", type=Path, default=None)
    args = p.parse_args(argv)
    if args.smoke:
        rows = smoke(args.data_dir)
    else:
        arms = {}
        for arm in args.arms:
            name, _, path = arm.partition("=")
            if not name or not Path(path).is_file():
                p.error(f"{arm!r}: expected NAME=CHECKPOINT, an existing trainers.essays checkpoint")
            arms[name] = Path(path)
        if not arms:
            p.error("give at least one ARM=CHECKPOINT (or --smoke)")
        rows = load_rows(arms)
    print(table(rows))
    return rows


if __name__ == "__main__":
    main()
