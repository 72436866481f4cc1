"""Add BLEU and chrF per source-length bucket to a committed translator's card, measured on test_2016_flickr.

python -m tools.translate_lengths attention transformer

For artifacts trained before the trainer measured them itself (it now does, for every new artifact). The test set
is translated again with the stored weights and the card's beam and length penalty; the overall BLEU must match
the card's within 0.3 (the same model, the same decoding), or nothing is written.
"""

from __future__ import annotations

import argparse
import json

from gallery import registry
from gallery.translate import metrics, translator
from gallery.translate.data import load_split

TEST = "test_2016_flickr"


def measure(model: str) -> dict:
    tr = translator.load(model)
    test = load_split(None, TEST)
    sources, references = [de for de, _ in test], [en for _, en in test]
    scores = {}
    for key, beam in (("greedy", 1), (f"beam{tr.config['beam']}", tr.config["beam"])):
        hyps = translator.translate_many(tr, sources, beam=beam)
        overall = metrics.bleu_chrf(hyps, references)["bleu"]
        recorded = tr.card["metrics"][TEST][key]["bleu"]
        if abs(overall - recorded) > 0.3:
            raise SystemExit(f"{tr.name} {key}: BLEU {overall} now, {recorded} on the card; the card is left alone")
        scores[key] = metrics.by_length(sources, hyps, references)
    return scores


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("models", nargs="+", choices=translator.MODELS)
    for model in parser.parse_args(argv).models:
        path = registry.PRETRAINED / f"translate-{model}" / "card.json"
        card = registry.read_json(path)
        for key, buckets in measure(model).items():
            card["metrics"][TEST][key]["by_length"] = buckets
        path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"{path}: {json.dumps(card['metrics'][TEST])}")


if __name__ == "__main__":
    main()
