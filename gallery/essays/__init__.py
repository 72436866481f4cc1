"""Paul Graham essay generator: a character-level LSTM and its n-gram baselines."""
