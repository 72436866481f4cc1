"""Print the README's table of models from the committed cards: python -m tools.model_table"""

from __future__ import annotations

from gallery import registry


def rows() -> list[str]:
    out = ["| artifact | model | parameters | held-out quality | baseline (same run) |", "|---|---|---|---|---|"]
    for name in registry.list_artifacts():
        card = registry.read_json(registry.PRETRAINED / name / "card.json")
        m = card["metrics"]
        if "summary" in card:  # newer cards say it themselves: {"quality": ..., "baseline": ...}
            quality, baseline = card["summary"]["quality"], card["summary"]["baseline"]
        elif name.startswith("names-"):
            quality = (
                f"test NLL {m['test_nll_per_char']} nats/char; gender accuracy {m['gender_accuracy']}; "
                f"new names {m['novel_fraction']}"
            )
            baseline = (
                f"bigram: NLL {m['bigram_test_nll_per_char']}, gender accuracy {m['bigram_gender_accuracy']}; "
                f"gender classifier (reference): {m['classifier_gender_accuracy']}"
            )
        else:
            b = card["baselines"]
            quality = f"validation {m['validation_nats_per_char']} nats/char ({m['validation_bits_per_char']} bits)"
            baseline = "; ".join(f"{k}: {v['nats_per_char']} nats/char" for k, v in b.items())
        out.append(f"| `{name}` | {card['model']} | {card['parameters']:,} | {quality} | {baseline} |")
    return out


if __name__ == "__main__":
    print("\n".join(rows()))
