"""Variational autoencoders: a convolutional VAE on 64x64 faces and a conditional VAE on MNIST digits.

Its modules stand in layers, each importing only from those below it:

- ``images``: uint8 arrays and tensors, sharpness, tiles (the bottom);
- ``networks`` (the sigma-VAE, the CVAE, their losses) and ``sharp`` (the sharp decoder, its discriminator);
- the measures: ``scoring`` (held-out ELBO), ``realism`` (fitted density, spectrum, two-sample test, attribute
  reader, regression directions) and ``latent`` (interpolation, group-mean directions);
- ``model``: the loaded-model API that the page and the command line use; ``cli`` above it.

``data`` (faces, digits, uploads) and ``cards`` (what the cards say, for the page) stand beside them.
"""
