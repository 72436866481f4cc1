"""Variational autoencoders: a convolutional VAE on 64x64 faces and a conditional VAE on MNIST digits."""
