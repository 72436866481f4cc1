"""HTML for text coloured character by character (the pages' only markup; no Streamlit here)."""

from __future__ import annotations

import html

BOX = '<div style="font-family: monospace; white-space: pre-wrap; line-height: 1.7; font-size: 0.9rem">{}</div>'
RANK_COLOURS = {"top 1": "#8fd694", "top 5": "#f7e07a", "top 20": "#f4a259", "beyond": "#c27bd1"}  # GLTR's order


def span(char: str, colour: str, title: str) -> str:
    return f'<span title="{html.escape(title)}" style="background: {colour}">{html.escape(char)}</span>'


def activation_colour(value: float) -> str:
    """-1 blue, 0 white, +1 red (Karpathy et al.'s cell pictures)."""
    v = max(-1.0, min(1.0, value))
    strength = abs(v)
    return f"rgba(214,39,40,{strength:.2f})" if v > 0 else f"rgba(31,119,180,{strength:.2f})"


def by_activation(text: str, values: list[float]) -> str:
    return BOX.format("".join(span(c, activation_colour(v), f"{v:+.3f}") for c, v in zip(text, values)))


def by_rank(text: str, ranks: list[int], nats: list[float], bucket) -> str:
    """The first character (never predicted) plain; each other by its GLTR bucket, with rank and nats on hover."""
    spans = [html.escape(text[0])]
    for c, r, n in zip(text[1:], ranks, nats):
        spans.append(span(c, RANK_COLOURS[bucket(r)], f"rank {r}, {n:.2f} nats"))
    return BOX.format("".join(spans))


def by_nats(text: str, ranks: list[int], nats: list[float], top: float = 6.0) -> str:
    spans = [html.escape(text[0])]
    for c, r, n in zip(text[1:], ranks, nats):
        spans.append(span(c, f"rgba(228,87,46,{min(1.0, n / top):.2f})", f"rank {r}, {n:.2f} nats"))
    return BOX.format("".join(spans))


def legend() -> str:
    items = "".join(
        f'<span style="background: {c}; padding: 0 0.5em; margin-right: 0.6em">{k}</span>'
        for k, c in RANK_COLOURS.items()
    )
    return f"<div>{items}</div>"
