"""What the VAE cards say, read for people: sentences, table rows and chart series for the explorer page.

Pure functions of a card (``card.json`` as a dict), no Streamlit: the page draws what they return.
"""

from __future__ import annotations

DECODERS = {"faces-sharp": "sharp decoder", "faces": "faithful decoder"}
ATTR_LABELS = {"female": ("more male", "more female"), "older": ("younger", "older")}  # the slider's two ends
KEPT = {"female": "gender", "older": "age"}  # what a slider's keeping move keeps, by the direction it moves along
WARM_UP = "discriminator warm-up"  # the phase of the rows logged while a new discriminator trains alone


def perception_distortion_note(sharp_card: dict | None) -> str:
    """Both decoders' reconstruction error, and why the sharp one pays more (empty without the sharp card)."""
    if not sharp_card:
        return ""
    m = sharp_card["metrics"]
    faithful = m["decoders"]["faces"]["validation_mse_per_pixel"]
    return (
        f"Held-out reconstruction error: sharp {m['validation_mse_per_pixel']:.4f}, faithful {faithful:.4f} per pixel "
        f"({m['mse_over_faithful']:.2f}x). A decoder that minimises pixel error draws the average of every face a "
        "code could be, a blur; drawing plausible detail costs some pixel accuracy (the perception-distortion "
        "trade-off, Blau and Michaeli 2018)."
    )


def keeping_note(card: dict, a: str) -> str:
    """The slider's keeping move (latent.attribute_offset), where the card chose one."""
    keep = card.get("attribute_pushes", {}).get(a, {}).get("keep")
    if not keep:
        return ""
    return (
        f" Pushed far, the decoder changes the {KEPT.get(keep['along'], keep['along'])} too, so the slider also moves "
        f"{keep['plus']:+.2f} (at +1) or {keep['minus']:+.2f} (at -1) along the {keep['along']} direction, chosen on "
        "training faces to keep it."
    )


def attribute_note(card: dict, kind: str, a: str) -> str:
    """What a full push of an attribute slider does, as measured on held-out faces (or the group-gap notes).

    ``card`` is the card of the model whose directions the slider uses, ``kind`` the decoder on show.
    """
    edits = card.get("metrics", {}).get("attribute_edits", {}).get(kind)
    if edits and a == "female":
        e = edits["female"]
        return (
            f"The normal of a logistic regression of gender on the codes. At the full push, read by a CNN on "
            f"held-out faces: {e['men_read_female_at_plus1']:.0%} of men read as female (+1), "
            f"{e['women_read_male_at_minus1']:.0%} of women as male (-1); the read age moves "
            f"{e['age_drift_years']:.1f} years on average." + keeping_note(card, a)
        )
    if edits and a == "older":
        e = edits["older"]
        return (
            f"A regression of log(age) on the codes, minus its gender part, so ageing keeps the gender. "
            f"The full push adds {e['years_added_at_plus1']:.0f} years as read by a CNN on held-out faces "
            f"(-1 removes {e['years_removed_at_minus1']:.0f}); P(female) moves {e['gender_drift']:.2f}."
            + keeping_note(card, a)
        )
    side = card.get("attributes", {}).get(a, {}).get("side_effects", {})
    note = "; ".join(
        f"{abs(v):.0%} of the way {ATTR_LABELS.get(o, (o, o))[int(v > 0)]}" for o, v in side.items() if abs(v) >= 0.005
    )
    what = {
        "female": "Moves the code along the difference between the average female and male face.",
        "older": "Moves along the difference between faces aged 55+ and 18-30, with the gender part "
        "removed so ageing keeps the gender.",
    }.get(a, "")
    return what + (f" A full push also moves the face {note} (the groups differ in that too)." if note else "")


CONTROL_ROWS = (  # real faces against real faces processed so (the card's two_sample_controls)
    ("real_vs_real", "real faces"),
    ("jpeg_resaved_real_vs_real", "real faces, saved again as JPEG"),
    ("blurred_real_vs_real", "real faces, 3x3 box blur"),
    ("half_resolution_real_vs_real", "real faces at 32x32, enlarged"),
    ("resized_to_60_real_vs_real", "real faces at 60x60, enlarged"),
)
DIAGNOSIS_ROWS = (  # the sharp decoder's stand-ins against real faces (the card's two_sample_diagnosis)
    ("reconstructions_at_64", "reconstructions"),
    ("fitted_samples_at_64", "where faces live"),
    ("reconstructions_at_16", "reconstructions, seen at 16x16"),
    ("fitted_samples_at_16", "where faces live, seen at 16x16"),
)


def critic_cells(auc: float, loss: float | None) -> tuple[str, str]:
    """The two-sample AUC and, where the card has it, the critic's held-out log loss (0.693 at chance)."""
    return f"{auc:.3f}", "—" if loss is None else f"{loss:.4f}"


def sampling_table(sharp_card: dict):
    """Both face decoders and both samplers: sharpness, two-sample AUC, and reconstruction beside them (pandas)."""
    import pandas as pd

    m, rows = sharp_card["metrics"], []
    for name in ("faces-sharp", "faces"):
        d = m["decoders"][name]
        label = DECODERS[name]
        for sampler, what in (("fitted", "where faces live"), ("prior", "prior N(0, I)")):
            r = d["sampling"][sampler]
            critic = critic_cells(r["two_sample_auc"], r.get("two_sample_log_loss"))
            rows.append((label, what, f"{r['sharpness_ratio']:.2f}", *critic))
        rows.append((label, "reconstructions", f"{d['reconstruction_sharpness_ratio']:.2f}", "—", "—"))
    diagnosis = m.get("two_sample_diagnosis", {})
    for key, what in DIAGNOSIS_ROWS:
        if key in diagnosis:
            r = diagnosis[key]
            rows.append(
                (DECODERS["faces-sharp"], f"{what}, half against half", "—", *critic_cells(r["auc"], r["log_loss"]))
            )
    losses = m.get("two_sample_control_log_loss", {})
    for key, label in CONTROL_ROWS:
        if key in m["two_sample_controls"]:
            auc = m["two_sample_controls"][key]
            rows.append((label, "control", "—", *critic_cells(auc, losses.get(key))))
    columns = ["decoder", "codes", "sharpness (real = 1)", "two-sample AUC (0.5 = can't tell)", "critic's log loss"]
    return pd.DataFrame(rows, columns=columns)


def spectrum_lines(metrics: dict) -> list[tuple[str, list[float], str]]:
    """(name, power per spatial frequency, colour) for real faces and for samples of both decoders."""
    return [("real faces", metrics["real_spectrum"], "black")] + [
        (f"{DECODERS[n]} decoder, {s}", metrics["decoders"][n]["sampling"][s]["spectrum"], c)
        for n, s, c in (
            ("faces-sharp", "fitted", "#d62728"),
            ("faces", "fitted", "#1f77b4"),
            ("faces", "prior", "#9ecae1"),
        )
    ]


def adversarial_game(history: list[dict]) -> dict | None:
    """The discriminator's held-out accuracy and the samples' sharpness over training, from a card's history rows.

    Rows of the discriminator warm-up (``phase`` "discriminator warm-up") all carry the decoder step at which the
    new discriminator started and count its own steps in ``disc_steps``: they come back as one warm-up per start.
    The other rows give the game, by decoder step, from the first step a discriminator was checked. None when no
    row carries ``d_val_accuracy`` (cards written before the trainer logged the discriminator's health).

    Returns ``{"warm_ups": [{"step", "disc_steps", "d_val_accuracy", "d_val_real", "d_val_fake"}, ...],
    "game": {"step", "d_val_accuracy", "d_val_real", "d_val_fake"}, "sharpness": {"step",
    "sample_sharpness_ratio"}}``, each a list per key (None where a row lacks the key).
    """
    checked = [r for r in history if r.get("d_val_accuracy") is not None and "step" in r]
    if not checked:
        return None
    health = ("d_val_accuracy", "d_val_real", "d_val_fake")
    warm_ups: dict[int, dict] = {}
    for r in checked:
        if r.get("phase") == WARM_UP:
            w = warm_ups.setdefault(r["step"], {"step": r["step"], "disc_steps": [], **{k: [] for k in health}})
            w["disc_steps"].append(r.get("disc_steps"))
            for k in health:
                w[k].append(r.get(k))
    game_rows = [r for r in checked if r.get("phase") != WARM_UP]
    start = min(r["step"] for r in checked)
    sharp_rows = [
        r
        for r in history
        if r.get("phase") != WARM_UP and r.get("sample_sharpness_ratio") is not None and r.get("step", -1) >= start
    ]
    return {
        "warm_ups": list(warm_ups.values()),
        "game": {"step": [r["step"] for r in game_rows], **{k: [r.get(k) for r in game_rows] for k in health}},
        "sharpness": {
            "step": [r["step"] for r in sharp_rows],
            "sample_sharpness_ratio": [r["sample_sharpness_ratio"] for r in sharp_rows],
        },
    }
