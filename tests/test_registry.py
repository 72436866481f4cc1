"""Registry: complete artifacts load; missing or corrupted ones fail clearly, naming the rebuild command."""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from gallery import registry
from gallery.registry import ArtifactError


def make(root, name="demo-tiny"):
    return registry.save_artifact(root / name, {"w": torch.arange(6.0).view(2, 3)}, {"size": 3}, {"task": "test"})


def test_save_then_load_round_trip(tmp_path):
    make(tmp_path)
    art = registry.load_artifact("demo-tiny", tmp_path)
    assert art.config == {"size": 3} and art.card["task"] == "test"
    assert torch.equal(art.tensors["w"], torch.arange(6.0).view(2, 3))
    assert registry.list_artifacts(tmp_path) == ["demo-tiny"]


def test_save_replaces_atomically_and_leaves_no_temporaries(tmp_path):
    make(tmp_path)
    registry.save_artifact(tmp_path / "demo-tiny", {"w": torch.zeros(1)}, {"size": 1}, {"task": "again"})
    assert registry.list_artifacts(tmp_path) == ["demo-tiny"]
    assert registry.load_artifact("demo-tiny", tmp_path).config == {"size": 1}


def test_failed_save_keeps_the_old_artifact(tmp_path):
    make(tmp_path)
    with pytest.raises(TypeError):
        registry.save_artifact(tmp_path / "demo-tiny", {"w": torch.zeros(1)}, {"bad": object()}, {})
    assert registry.load_artifact("demo-tiny", tmp_path).config == {"size": 3}
    assert registry.list_artifacts(tmp_path) == ["demo-tiny"]


def test_missing_artifact_names_the_rebuild_command(tmp_path):
    with pytest.raises(ArtifactError, match=r"is missing.*python -m trainers\.names --model gru"):
        registry.load_artifact("names-gru", tmp_path)


def test_corrupted_weights_are_detected(tmp_path):
    folder = make(tmp_path, "essays-lstm")
    weights = folder / registry.WEIGHTS_FILE
    blob = bytearray(weights.read_bytes())
    blob[-1] ^= 0xFF
    weights.write_bytes(bytes(blob))
    with pytest.raises(ArtifactError, match=r"corrupted.*python -m trainers\.essays --model lstm"):
        registry.load_artifact("essays-lstm", tmp_path)


def test_incomplete_and_unreadable_artifacts(tmp_path):
    folder = make(tmp_path)
    (folder / "config.json").unlink()
    with pytest.raises(ArtifactError, match="config.json missing"):
        registry.check_artifact("demo-tiny", tmp_path)
    shutil.rmtree(folder)
    folder = make(tmp_path)
    (folder / "card.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="unreadable JSON"):
        registry.check_artifact("demo-tiny", tmp_path)
    card = {"task": "no hash"}
    (folder / "card.json").write_text(json.dumps(card))
    with pytest.raises(ArtifactError, match="no weights_sha256"):
        registry.check_artifact("demo-tiny", tmp_path)


def test_cli_lists_artifacts_and_their_state(smoke_root, tmp_path):
    from tests.test_names import run_cli

    root = tmp_path / "pretrained"
    shutil.copytree(smoke_root, root)
    (root / "names-rnn" / "card.json").write_text("{}")
    code, rows = run_cli("list", root=root)
    state = {r["artifact"]: r["ok"] for r in rows}
    assert code == 0 and state["names-gru"] and state["essays-lstm"] and not state["names-rnn"]
