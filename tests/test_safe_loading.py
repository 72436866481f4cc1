"""Nothing the app or the command line loads is unpickled: a planted pickle is refused without running."""

from __future__ import annotations

import json
import os
import pickle

import pytest

from gallery import registry, training
from gallery.maps import data as maps
from gallery.skills import model as skills


class Payload:
    """Unpickling this runs ``touch MARKER``: proof that a loader executed the file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def plant(root, name: str, marker) -> None:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / registry.WEIGHTS_FILE).write_bytes(pickle.dumps(Payload(marker)))
    card = {"weights_sha256": registry.sha256_file(folder / registry.WEIGHTS_FILE), "smoke": False}
    (folder / "card.json").write_text(json.dumps(card))
    (folder / "config.json").write_text(json.dumps({"words": ["a"], "kind": "x"}))


@pytest.mark.parametrize(
    "name,load",
    [
        ("names-gru", lambda root: registry.load_artifact("names-gru", root)),
        ("skills-word2vec", lambda root: skills.load("word2vec", root)),
        ("maps-digits", lambda root: maps.load_map("digits", root)),
    ],
)
def test_a_pickle_in_place_of_weights_is_refused_without_running(tmp_path, name, load):
    marker = tmp_path / "pwned"
    plant(tmp_path / "pretrained", name, marker)
    with pytest.raises(registry.ArtifactError):
        load(tmp_path / "pretrained")
    assert not marker.exists()


def test_a_pickled_checkpoint_is_refused_without_running(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "checkpoint.pt"
    path.write_bytes(pickle.dumps(Payload(marker), protocol=2))
    with pytest.raises(pickle.UnpicklingError):
        training.load_checkpoint(path)
    assert not marker.exists()
