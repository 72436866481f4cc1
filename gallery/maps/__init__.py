"""Embedding maps: PCA, t-SNE and UMAP of skills, digits, résumés and VAE latents, with faithfulness metrics."""
