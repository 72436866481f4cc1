"""The embedding maps page's parts: pages/10_Embedding_Maps.py chooses the source, these draw it.

built_in: the committed maps (precomputed, or computed on demand) and their cluster browser; own_vectors: an upload
of your own vectors and metadata. Both end in one call, view.show(MapView(...)): colours, clusters, search, the
figure (figure), the true neighbours, faithfulness and the box/lasso selection. settings: the on-demand settings
with their cost, said before they run. The science (projections, faithfulness, reading files) is gallery.maps.
"""
