"""Sprites whose true factors are known (dSprites' grid, rendered here) and the disentanglement metrics."""
