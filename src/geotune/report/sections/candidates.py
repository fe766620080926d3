"""How a classifier's score was validated, and (after --strategy auto) every recipe the search tried.

A validation score predicts the score on new data only when the split kept apart what new data keeps
apart: overlapping patches or tiles of one thin section on both sides of a random split flatter it. The
section says how the split was made, how many samples stand behind the score, and warns where it may
flatter.
"""

from __future__ import annotations

from . import validation
from .markup import esc, table

TITLE = "How the model was chosen and validated"


def applies(run) -> bool:
    return run.kind == "classify" and run.model_dir is not None


def render(run) -> list[tuple[str, str]]:
    search = run.metrics.get("search") or {}
    parts = [f"<p>{esc(split_description(run))}</p>"]
    parts += [f"<p class='note'>{esc(w)}</p>" for w in split_warnings(run)]
    if search.get("candidates"):
        parts.append(_candidates(search))
    return [(TITLE, "".join(parts))]


def split_description(run) -> str:
    """How the score in metrics.json was obtained, in words, with the number of samples behind it."""
    search = run.metrics.get("search") or {}
    n = run.metrics.get("n_samples") or run.config.get("n_val")
    if search.get("cross_validated"):
        return (f"Scored by {search['validation']}: each sample predicted by a model that never saw it, "
                f"{n} predictions behind the score. The saved model then trained on all of them.")
    train = run.config.get("train") or {}
    grouped = train.get("group_by") or train.get("groups")
    split = (f"grouped by {grouped} (no group on both sides)" if grouped else
             "drawn at random, stratified by class")
    held = run.metrics.get("held_out_groups")
    held_text = f"; held-out groups: {', '.join(map(str, held[:8]))}" + (" ..." if len(held) > 8 else "") \
        if held else ""
    return (f"Validated on a held-out split of {n} samples ({float(train.get('val_split', 0.2)):.0%} of the "
            f"labelled data, seed {train.get('seed', 42)}), {split}{held_text}. "
            + (f"One sample right or wrong moves accuracy by {1 / n:.3f}." if isinstance(n, int) and n else ""))


def split_warnings(run) -> list[str]:
    """Where the validation score may not predict the score on new data."""
    train = run.config.get("train") or {}
    search = run.metrics.get("search") or {}
    notes = []
    grouped = train.get("group_by") or train.get("groups")
    data = str(train.get("data") or "")
    if not grouped and data.endswith((".npy", ".npz")):
        notes.append("Random split of array patches: patches cut from the same section overlap or lie side by side, "
                     "so near-copies of validation patches were trained on and the score is likely optimistic. "
                     "Give --groups FILE.npy (the section, line or survey of each patch) to validate honestly.")
    if not grouped:
        val = validation.load(run)
        sources = tile_sources(val.samples.ids, val.model.classes) if val is not None else {}
        if sources:
            example = ", ".join(f"{k!r} ({v} tiles)" for k, v in list(sources.items())[:3])
            notes.append(f"Several validation images look like tiles of one source ({example}): their neighbours "
                         "were probably trained on. Validate by source: a CSV manifest with a group column "
                         "and --group-by COLUMN.")
    n = run.metrics.get("n_samples")
    if isinstance(n, int) and n < 30:
        notes.append(f"Only {n} samples behind the score: expect the score on new data to differ by "
                     f"{(0.25 / n) ** 0.5:.2f} or more either way.")
    if search.get("candidates") and not search.get("cross_validated"):
        scored = sum(c.get("status") == "scored" for c in search["candidates"])
        if scored > 1:
            notes.append(f"The recipe is the best of {scored} scored on this same split, which flatters its score "
                         "slightly; an independent test set tells the truth.")
    return notes


def tile_sources(ids, classes=()) -> dict[str, int]:
    """File stems that differ only by a trailing number ('TS12_003', 'TS12_004') grouped by that stem, where
    at least two such groups hold two or more images; stems naming a class ('dolomite_001') do not count.
    {} when the names do not look like tiles."""
    import re
    from collections import Counter

    lowered = [str(c).lower() for c in classes]
    stems = []
    for name in ids:
        stem = str(name).replace("\\", "/").rsplit("/", 1)[-1].rsplit(".", 1)[0]
        source = re.sub(r"[ _\-.]*\d+$", "", stem)
        if source != stem and re.search(r"[A-Za-z]", source) and not any(c in source.lower() for c in lowered):
            stems.append(source)
    counts = Counter(stems)
    shared = {k: v for k, v in counts.most_common() if v >= 2}
    return shared if len(shared) >= 2 else {}


def _candidates(search: dict) -> str:
    rows = []
    for c in search["candidates"]:
        mark = "chosen" if c["recipe"] == search.get("chosen") else ""
        ran = c["status"] == "scored"
        rows.append((c["recipe"], c.get("macro_f1", ""), c.get("accuracy", ""), c.get("n_val", ""),
                     c["seconds"] if ran else "", "" if ran else c["status"], mark))
    options = " ".join(f"--{k.replace('_', '-')}" + ("" if v is True else f" {v}")
                       for k, v in (search.get("chosen_options") or {}).items())
    return (f"<h3>Recipes tried by --strategy auto ({search['seconds']:.0f} s of a "
            f"{search['budget_minutes']:g} min budget)</h3>"
            + table(("recipe", "macro F1", "accuracy", "validation samples", "seconds", "note", ""), rows)
            + f"<p>Chosen: <b>{esc(search.get('chosen', '?'))}</b> (<code>{esc(options)}</code>); scores within "
            "one validation sample of the best go to the cheaper recipe. config.json holds these as plain options: "
            "<code>geotune train --config RUN/model/config.json</code> trains the same recipe without searching.</p>")
