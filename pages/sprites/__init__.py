"""The disentangling page's sections: pages/13_Disentangling.py holds the layout and the model choice, these the parts.

common: loading, encoding, decoding and showing sprites (cached); explore: factors in, code out, the latent sliders,
the traversal grid and the MI matrix; compare: every card against the published figures and the β trade-off;
how_it_works: the three objectives and how the page's model was trained. What needs no Streamlit is
gallery.sprites.cards.
"""
