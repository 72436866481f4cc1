"""Digits lab: MNIST classifiers, autoencoder + DEC clustering, and a gradient-descent lesson."""
