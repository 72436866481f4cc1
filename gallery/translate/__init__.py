"""German-English translation with attention: data, tokenisers, the two models, decoding and scoring."""
