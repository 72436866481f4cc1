"""The committed résumé classifiers (artifact ``text-classifiers``): load them and classify a résumé."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from gallery import registry
from gallery.text import models

ARTIFACT = "text-classifiers"


@dataclass
class Classifiers:
    classes: list[str]
    models: dict  # kind -> fitted model
    card: dict
    config: dict

    @property
    def best(self) -> str:
        return self.config["best"]

    def predict(self, text: str, kind: str | None = None, top: int = 5) -> list[dict]:
        """Top categories of one (already validated) text with probabilities, best first."""
        kind = kind or self.best
        if kind not in self.models:
            raise ValueError(f"unknown model {kind!r}; choose one of {', '.join(self.models)}")
        return models.top_categories(self.models[kind].predict_proba([text])[0], self.classes, top)

    def predict_all(self, text: str) -> dict[str, np.ndarray]:
        return {kind: m.predict_proba([text])[0] for kind, m in self.models.items()}

    def leaderboard(self) -> list[dict]:
        """The card's table: one row per model, best deduplicated CV accuracy first."""
        return [
            {
                "model": r["model"],
                "accuracy": r["accuracy"],
                "macro_f1": r["macro_f1"],
                "accuracy_naive": r["accuracy_naive"],
            }
            for r in self.card["leaderboard"]
        ]


def build(art: registry.Artifact) -> Classifiers:
    arrays = {k: v.numpy() for k, v in art.tensors.items()}
    cfg = art.config
    tfidf = models.Tfidf.from_state(arrays, cfg["tfidf"])
    fitted = {kind: models.from_state(kind, arrays, cfg["models"][kind], tfidf) for kind in cfg["models"]}
    return Classifiers(cfg["classes"], fitted, art.card, cfg)


def load(name: str = ARTIFACT, root=None) -> Classifiers:
    return registry.build_from(name, build, root)
