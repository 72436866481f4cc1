"""Indian name generator: character-level models conditioned on gender."""
