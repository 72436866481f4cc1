"""Helpers the trainers share: device choice, seeding, resumable checkpoints, provenance."""

from __future__ import annotations

import os
import platform
import random
import shlex
import sys
from pathlib import Path

import torch

from gallery.registry import sha256_file


def resolve_device(name: str = "auto") -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    return torch.device(name)


def seed_everything(seed: int) -> None:
    random.seed(seed)
    torch.manual_seed(seed)


def hardware(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"CPU ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


def command_line(demo: str, argv: list[str] | None) -> str:
    """The exact command that ran this trainer, for the card."""
    args = sys.argv[1:] if argv is None else argv
    return " ".join(["python", "-m", f"trainers.{demo}", *map(shlex.quote, args)])


def data_files(paths: list[Path]) -> list[dict]:
    return [{"file": Path(p).name, "sha256": sha256_file(p)} for p in paths]


def save_checkpoint(path: Path, **state) -> None:
    """Atomic torch.save of plain tensors/dicts/numbers (loadable with weights_only=True)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    torch.save(state, tmp)
    os.replace(tmp, path)


def load_checkpoint(path: Path) -> dict | None:
    return torch.load(path, weights_only=True) if path.is_file() else None


def add_common_args(parser, demo: str, default_model: str) -> None:
    """Flags every trainer shares (grouped like makemore's)."""
    g = parser.add_argument_group("io")
    g.add_argument("--data-dir", type=Path, default=None, help="folder with the raw data (default: ../shared/data/...)")
    g.add_argument("--out", type=Path, default=None, help=f"artifact folder (default: pretrained/{demo}-<model>)")
    g.add_argument(
        "--checkpoint", type=Path, default=None, help="resumable checkpoint (default: checkpoints/<artifact>.pt)"
    )
    g.add_argument("--resume", action="store_true", help="continue from the checkpoint if it exists")
    g = parser.add_argument_group("system")
    g.add_argument("--model", default=default_model)
    g.add_argument("--device", default="auto", help="auto | cpu | cuda")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--smoke", action="store_true", help="tiny data and model, seconds; for tests")


def artifact_paths(args, demo: str) -> tuple[Path, Path]:
    """Resolve --out and --checkpoint defaults from the artifact name ``<demo>-<model>``."""
    from gallery.registry import PRETRAINED

    out = args.out or PRETRAINED / f"{demo}-{args.model}"
    ckpt = args.checkpoint or Path("checkpoints") / f"{out.name}{'-smoke' if args.smoke else ''}.pt"
    return out, ckpt


def missing_data(path: Path) -> SystemExit:
    return SystemExit(
        f"error: {path} not found. Pass --data-dir pointing at your copy of the data (see ../shared/data/README.md)."
    )


def card_readme(card: dict, extra_lines: list[str] = ()) -> str:
    """The short README.md written beside an artifact, from its card (model, command, result, baseline, data)."""
    lines = [f"# {card['artifact']}", "", card["task"] + ".", ""]
    if "model" in card and "parameters" in card:
        lines.append(f"- model: {card['model']} ({card['parameters']:,} parameters)")
    lines.append(f"- trained with `{card['train_command']}` in {card['train_seconds']} s on {card['hardware']}")
    if "summary" in card:
        lines += [f"- result: {card['summary']['quality']}", f"- baseline: {card['summary']['baseline']}"]
    data = card["data"]
    cite = f"; cite: {data['citation']}" if "citation" in data else ""
    lines.append(f"- data: {data['data']}; licence: {data['licence']}{cite}")
    return "\n".join([*lines, *extra_lines, ""])
