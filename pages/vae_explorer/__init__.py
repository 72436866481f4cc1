"""The VAE explorer's sections: pages/4_VAE_Explorer.py holds the layout and the model choice, these the parts.

common: loading, decoding and showing pictures; state: the code on show and the callbacks that move it; face: the
picture and its sliders; batch, upload, interpolate, traversal: the tabs; how_it_works, how_well, how_trained: the
expanders. What needs no Streamlit (the cards' sentences, tables and chart series) is gallery.vae.cards.
"""
