"""Find, verify and load the trained artifacts under ``pretrained/``.

An artifact is a folder ``pretrained/<demo>-<model>/`` holding

- ``model.safetensors``: the weights (safetensors never executes code on load),
- ``config.json``: everything needed to rebuild the model,
- ``card.json``: data, training command, metrics, and the weights' sha256,
- optionally ``thumbnail.png``: the landing page's small picture (``python -m tools.thumbnails``).
  Verification hashes the weights only, so the picture can be rendered after training; rewriting
  an artifact with :func:`save_artifact` replaces the whole folder, picture included.

Trainers write artifacts with :func:`save_artifact` (atomically: a crash never
leaves a half-written folder); pages and the command line read them with
:func:`load_artifact`, which raises :class:`ArtifactError` naming what is wrong
and the command that rebuilds it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

PRETRAINED = Path(os.environ.get("GALLERY_PRETRAINED", Path(__file__).resolve().parent.parent / "pretrained"))
WEIGHTS_FILE = "model.safetensors"
REQUIRED_FILES = (WEIGHTS_FILE, "config.json", "card.json")
THUMBNAIL_FILE = "thumbnail.png"  # optional, see the module's docstring


class ArtifactError(RuntimeError):
    """An artifact is missing or broken; the message says what and how to rebuild it."""

    def __init__(self, name: str, problem: str):
        self.name, self.problem, self.rebuild = name, problem, rebuild_command(name)
        super().__init__(f"Artifact '{name}' {problem}. Rebuild it with: {self.rebuild}")


@dataclass
class Artifact:
    name: str
    path: Path
    config: dict
    card: dict
    tensors: dict  # str -> torch.Tensor


def rebuild_command(name: str) -> str:
    """``names-gru`` -> ``python -m trainers.names --model gru``."""
    demo, _, model = name.partition("-")
    return f"python -m trainers.{demo} --model {model}" if model else f"python -m trainers.{demo}"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def list_artifacts(root: Path | None = None) -> list[str]:
    root = Path(root or PRETRAINED)
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def read_json(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def check_artifact(name: str, root: Path | None = None) -> Path:
    """Return the artifact folder if complete and intact, else raise ArtifactError."""
    folder = Path(root or PRETRAINED) / name
    if not folder.is_dir():
        raise ArtifactError(name, f"is missing (no folder {folder})")
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise ArtifactError(name, f"is incomplete: {', '.join(missing)} missing in {folder}")
    try:
        card = read_json(folder / "card.json")
        read_json(folder / "config.json")
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise ArtifactError(name, f"has an unreadable JSON file ({err})") from err
    recorded = card.get("weights_sha256")
    if not recorded:
        raise ArtifactError(name, "has no weights_sha256 in card.json")
    if sha256_file(folder / WEIGHTS_FILE) != recorded:
        raise ArtifactError(name, f"is corrupted: {WEIGHTS_FILE} does not match the sha256 in card.json")
    return folder


def load_artifact(name: str, root: Path | None = None) -> Artifact:
    """Verify then load an artifact; tensors come back as float32 where they were stored as float16."""
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    folder = check_artifact(name, root)
    try:
        tensors = load_file(folder / WEIGHTS_FILE)
    except (SafetensorError, OSError) as err:
        raise ArtifactError(name, f"has unreadable weights ({err})") from err
    tensors = {k: (v.float() if v.is_floating_point() else v) for k, v in tensors.items()}
    return Artifact(name, folder, read_json(folder / "config.json"), read_json(folder / "card.json"), tensors)


def build_from(name: str, build, root: Path | None = None):
    """Load an artifact and build the object it describes with ``build(artifact)``.

    Weights or a config that no longer fit the code become an ArtifactError too.
    """
    art = load_artifact(name, root)
    try:
        return build(art)
    except (RuntimeError, KeyError, TypeError, ValueError) as err:
        raise ArtifactError(name, f"does not fit the current code ({str(err).splitlines()[0]})") from err


def save_artifact(out_dir: Path, tensors: dict, config: dict, card: dict, readme: str = "") -> Path:
    """Write an artifact folder atomically: build it beside ``out_dir``, then rename it into place.

    Floating-point tensors are stored as float16 (halves the size; the card's metrics
    must be measured on the rounded weights, which the trainers do).
    """
    from safetensors.torch import save_file

    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f"{out_dir.name}.tmp", dir=out_dir.parent))
    try:
        stored = {k: (v.half() if v.is_floating_point() else v).contiguous().cpu() for k, v in tensors.items()}
        save_file(stored, tmp / WEIGHTS_FILE)
        card = {**card, "weights_sha256": sha256_file(tmp / WEIGHTS_FILE)}
        for file_name, obj in (("config.json", config), ("card.json", card)):
            (tmp / file_name).write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if readme:
            (tmp / "README.md").write_text(readme, encoding="utf-8")
        if out_dir.exists():
            old = out_dir.with_name(out_dir.name + ".old")
            shutil.rmtree(old, ignore_errors=True)
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir
