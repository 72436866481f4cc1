"""Your own text scored: GLTR's colours per character, nats under the LSTM and the 5-gram, surprising words."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from gallery import textinput
from gallery.essays import yours
from gallery.registry import ArtifactError
from pages.essays import colour, inside
from pages.essays.common import load_ngram

OTHER_VOICE = (
    "Preheat the oven to 180 degrees. Cream the butter and sugar until pale, then beat in the eggs one at a time, "
    "adding a spoonful of flour with each. Fold in the rest of the flour and the milk, pour the batter into a lined "
    "tin and bake for 45 minutes, until a skewer comes out clean. Leave it to cool in the tin for ten minutes."
)


def examples(card: dict) -> dict[str, str]:
    out = {}
    if card.get("example_paragraph"):
        out[f"A paragraph of a held-out essay ({card['example_paragraph']['title']})"] = card["example_paragraph"][
            "text"
        ]
    out["Another voice: a cake recipe"] = OTHER_VOICE
    return out


def text_source(card: dict) -> str | None:
    """The text to look at: an example, a paste or an upload (checked, with a sentence for what is wrong)."""
    shown = examples(card)
    choice = st.radio("Text", [*shown, "Paste your own", "Upload a .txt file"], key="yours_source", horizontal=True)
    if choice in shown:
        return shown[choice]
    try:
        if choice == "Paste your own":
            pasted = st.text_area("Your text", key="yours_text", height=160, max_chars=yours.MAX_CHARS)
            return textinput.check_pasted(pasted, "The text", max_chars=yours.MAX_CHARS) if pasted else None
        upload = st.file_uploader("A plain-text file", type=["txt", "md"], key="yours_upload")
        if upload is None:
            return None
        text = textinput.decode(upload.name, upload.getvalue())
        if len(text) > yours.MAX_CHARS:
            raise ValueError(f"{upload.name} has {len(text):,} characters; at most {yours.MAX_CHARS:,} are scored.")
        return text
    except ValueError as err:
        st.warning(str(err))
        return None


@st.fragment
def section(model) -> None:
    text = text_source(model.card)
    if not text:
        st.caption(f"Paste or upload up to {yours.MAX_CHARS:,} characters.")
        return
    try:
        ngram = load_ngram()
    except ArtifactError as err:
        ngram = None
        st.info(f"The 5-gram is unavailable ({err.problem}); rebuild it with `{err.rebuild}`.")
    try:
        scored = yours.score(model, text, ngram)
    except ValueError as err:
        st.warning(str(err))
        return
    if scored.note:
        st.info(scored.note)
    tab_rank, tab_cell = st.tabs(["How predictable", "One cell over it"], key="yours_tab", on_change="rerun")
    if tab_rank.open:
        with tab_rank:
            predictability(scored)
    if tab_cell.open:
        with tab_cell:
            inside.one_cell(model, scored.text, "yours")
            inside.finder(scored.text, "yours")


def predictability(scored: yours.Scored) -> None:
    c1, c2, c3 = st.columns(3)
    c1.metric("LSTM, nats per character", f"{scored.per_char(scored.nats):.3f}")
    if scored.ngram_nats is not None:
        c2.metric("5-gram, nats per character", f"{scored.per_char(scored.ngram_nats):.3f}")
    shares = scored.bucket_shares()
    c3.metric("characters the LSTM ranked first", f"{shares['top 1']:.0%}")
    mode = st.segmented_control("Colour by", ["rank (GLTR)", "nats"], default="rank (GLTR)", key="yours_colour")
    if mode == "nats":
        st.html(colour.by_nats(scored.text, scored.ranks, scored.nats))
    else:
        st.html(colour.legend() + colour.by_rank(scored.text, scored.ranks, scored.nats, yours.bucket))
    st.caption(
        "GLTR (Gehrmann et al. 2019) colours each token by the rank a model gave it. Text in the voice the model "
        "learned is mostly green and yellow; another voice, or text no model wrote, shows more orange and purple."
    )
    left, right = st.columns(2)
    left.markdown("**Most surprising words** (nats of their characters)")
    left.dataframe(pd.DataFrame(scored.surprising_words()), hide_index=True, width="stretch")
    right.markdown("**Characters per rank bucket**")
    right.dataframe(pd.DataFrame([{"bucket": k, "share": f"{v:.1%}"} for k, v in shares.items()]), hide_index=True)
