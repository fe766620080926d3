"""Weights-of-evidence tables: the weights of classes and cumulative thresholds, the choice of a cut,
merging weak classes, and generalising a table a user supplies (CSV).

Counts are in unit cells (areas) and deposit points. For a class (or the cells on the favourable side
of a threshold) B: W+ = ln[(N(B&D)/N(D)) / (N(B&~D)/N(~D))], W- likewise with ~B,
s^2(W+) = 1/N(B&D) + 1/N(B&~D), s^2(W-) = 1/N(~B&D) + 1/N(~B&~D), contrast C = W+ - W-,
s(C) = sqrt(s^2(W+) + s^2(W-)), studentised contrast C / s(C).

Degenerate counts get no weight (as EIS Toolkit does; Arc-SDM-style tools flag them):
- a class without deposits (N(B&D) = 0) is flagged ``no_deposits`` and every quantity is 0, so its
  cells keep the prior (merge such classes with the ``categorical`` weights type);
- a class or threshold holding every deposit (N(~B&D) = 0) is flagged ``all_deposits``: its W+ and
  s(W+) are kept, W-, s(W-), contrast, s(C) and studentised contrast are 0; a cumulative threshold
  so flagged, or one without deposits, is never chosen as a cut.
An area without non-deposit units (N(B&~D) or N(~B&~D) below half a unit, possible with small unit
cells) is floored at half a unit so the weights stay finite.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from typing import Sequence

import numpy as np

from ..errors import DataError

ZERO_AREA = 0.5
NO_DEPOSITS = "no_deposits"
ALL_DEPOSITS = "all_deposits"
WEIGHTS_TYPES = ("unique", "categorical", "cumulative")
EMPTY_CLASS_RULES = ("zero", "negative")
CUT_METHODS = ("max_studentized_contrast", "max_contrast", "max_contrast_if_feasible", "max_feasible_contrast",
               "manual")
DEFAULT_CUT_METHOD = "max_studentized_contrast"
DEFAULT_STUDENTIZED_THRESHOLD = 2.0
QUANTITIES = ("wplus", "s_wplus", "wminus", "s_wminus", "contrast", "s_contrast", "studc")
# generalised classes of a cumulative layer, as GA and EIS number them
PRESENT_CLASS, ABSENT_CLASS = 2, 1


def class_weights(area_units, n_points, total_units: float, total_points: int,
                  empty: str = "zero") -> dict[str, np.ndarray]:
    """W+, W-, their standard deviations, contrast, studentised contrast and a flag for classes (arrays).

    ``empty`` says what W+ a class without deposits gets: ``zero`` (the established practice), or
    ``negative``: the W+ of half a deposit when that is negative (a large class without deposits
    counts against), else 0 -- never a gain."""
    if empty not in EMPTY_CLASS_RULES:
        raise DataError(f"the rule for classes without deposits must be one of {EMPTY_CLASS_RULES}, got {empty!r}")
    nb = np.atleast_1d(np.asarray(area_units, dtype=float))
    nbd = np.atleast_1d(np.asarray(n_points, dtype=float))
    nt, nd = float(total_units), float(total_points)
    none = nbd <= 0
    every = (nd - nbd) <= 0
    a = np.where(none, 1.0, nbd)                                  # B & D (1 where it is empty: masked below)
    b = np.maximum(nb - nbd, ZERO_AREA)                           # B & ~D
    c = np.where(every, 1.0, nd - nbd)                            # ~B & D
    d = np.maximum(nt - nb - (nd - nbd), ZERO_AREA)               # ~B & ~D
    wplus = np.log((a / nd) / (b / (nt - nd)))
    wminus = np.log((c / nd) / (d / (nt - nd)))
    s_wplus = np.sqrt(1 / a + 1 / b)
    s_wminus = np.sqrt(1 / c + 1 / d)
    contrast = wplus - wminus
    s_contrast = np.sqrt(s_wplus**2 + s_wminus**2)
    studc = contrast / s_contrast
    for q in (wminus, s_wminus, contrast, s_contrast, studc):
        q[every | none] = 0.0
    wplus[none] = 0.0
    s_wplus[none] = 0.0
    if empty == "negative" and none.any():
        half_wplus = np.log((0.5 / nd) / (b / (nt - nd)))
        lose = none & (half_wplus < 0)
        wplus[lose] = half_wplus[lose]
        s_wplus[lose] = np.sqrt(1 / 0.5 + 1 / b[lose])
    flag = np.where(none, NO_DEPOSITS, np.where(every, ALL_DEPOSITS, ""))
    return {"wplus": wplus, "s_wplus": s_wplus, "wminus": wminus, "s_wminus": s_wminus, "contrast": contrast,
            "s_contrast": s_contrast, "studc": studc, "flag": flag}


def table_rows(key: str, values, area_units, n_points, total_units: float, total_points: int,
               empty: str = "zero") -> list[dict]:
    """One row per class (``key`` "class") or threshold (``key`` "threshold") with every quantity."""
    weights = class_weights(area_units, n_points, total_units, total_points, empty)
    rows = []
    for i, value in enumerate(values):
        row = {key: number(value), "area_units": float(area_units[i]), "n_points": int(n_points[i])}
        row.update({q: float(weights[q][i]) for q in QUANTITIES})
        row["flag"] = str(weights["flag"][i])
        rows.append(row)
    return rows


def choose_cut(rows: Sequence[dict], method: str, threshold: float) -> tuple[int | None, str | None]:
    """Index of the cumulative row to cut at (None: no cut) and a warning when the threshold decides.

    Only thresholds with deposits on both sides (no flag) are candidates."""
    if method not in CUT_METHODS or method == "manual":
        raise DataError(f"an automatic cut method must be one of {CUT_METHODS[:-1]}, got {method!r}")
    feasible = np.array([not r["flag"] for r in rows], dtype=bool)
    if not feasible.any():
        return None, "no threshold has deposits on both sides; the layer gets no weight"
    contrast = np.where(feasible, [r["contrast"] for r in rows], -np.inf)
    studc = np.where(feasible, [r["studc"] for r in rows], -np.inf)
    best_studc = float(studc.max())
    below = (f"no threshold reaches the studentised-contrast threshold {threshold:g} "
             f"(the highest is {best_studc:.3f})")
    if method == "max_studentized_contrast":
        i = int(np.argmax(studc))
        return (i, None) if studc[i] >= threshold else (None, below + "; the layer gets no weight")
    if method == "max_contrast":
        i = int(np.argmax(contrast))
        note = None if studc[i] >= threshold else (
            f"the cut of maximum contrast has a studentised contrast of {studc[i]:.3f}, below the threshold "
            f"{threshold:g}; it is used all the same (method max_contrast)")
        return i, note
    if method == "max_contrast_if_feasible":
        i = int(np.argmax(contrast))
        if studc[i] >= threshold:
            return i, None
        return None, (f"the cut of maximum contrast has a studentised contrast of {studc[i]:.3f}, below the "
                      f"threshold {threshold:g}; the layer gets no weight")
    passing = studc >= threshold
    if not passing.any():
        return None, below + "; the layer gets no weight"
    return int(np.argmax(np.where(passing, contrast, -np.inf))), None


def generalise_cumulative(rows: list[dict], cut: int | None, key: str = "threshold") -> tuple[dict, dict]:
    """Mark each cumulative row with its generalised class and weight; return (present, absent) rows.

    Rows up to and including ``cut`` are on the favourable side (class 2, weight W+ of the cut), the
    rest class 1 with W- of the cut. Without a cut both classes weigh 0."""
    if cut is None:
        chosen = {q: 0.0 for q in QUANTITIES}
        chosen.update(area_units=0.0, n_points=0)
    else:
        chosen = rows[cut]
    for i, row in enumerate(rows):
        present = cut is not None and i <= cut
        row["gen_class"] = PRESENT_CLASS if present else ABSENT_CLASS
        row["weight"] = chosen["wplus"] if present else chosen["wminus"]
        row["s_weight"] = chosen["s_wplus"] if present else chosen["s_wminus"]
    flag = "" if cut is None else chosen.get("flag", "")
    present = {"class": "present", "gen_class": PRESENT_CLASS, "area_units": chosen.get("area_units", 0.0),
               "n_points": chosen["n_points"], **{q: chosen.get(q, 0.0) for q in QUANTITIES}, "flag": flag,
               "weight": chosen["wplus"], "s_weight": chosen["s_wplus"]}
    absent = {"class": "absent", "gen_class": ABSENT_CLASS, "wplus": chosen["wminus"],
              "s_wplus": chosen["s_wminus"], "wminus": chosen["wplus"], "s_wminus": chosen["s_wplus"],
              "contrast": -chosen["contrast"], "s_contrast": chosen.get("s_contrast", 0.0), "studc": -chosen["studc"],
              "flag": flag, "weight": chosen["wminus"], "s_weight": chosen["s_wminus"]}
    if cut is None:
        present["flag"] = absent["flag"] = "no_cut"
    return present, absent


def generalise_categorical(rows: list[dict], threshold: float, total_units: float,
                           total_points: int, empty: str = "zero") -> tuple[dict | None, str | None]:
    """Merge the classes whose |studentised contrast| is below ``threshold`` (every class without
    deposits among them) into one class weighed from their pooled counts. Marks each row with its
    generalised class and weight; returns the merged class's row (None when nothing merges) and a note."""
    merged = [r for r in rows if abs(r["studc"]) < threshold]
    for row in rows:
        row["gen_class"], row["weight"], row["s_weight"] = row["class"], row["wplus"], row["s_wplus"]
    if not merged:
        return None, f"every class reaches the studentised-contrast threshold {threshold:g}; none merged"
    merged_class = number(max(float(r["class"]) for r in rows) + 1)
    area = sum(r["area_units"] for r in merged)
    points = sum(r["n_points"] for r in merged)
    pooled = table_rows("class", [merged_class], [area], [points], total_units, total_points, empty)[0]
    pooled["merged_classes"] = [r["class"] for r in merged]
    pooled["gen_class"], pooled["weight"], pooled["s_weight"] = merged_class, pooled["wplus"], pooled["s_wplus"]
    for row in merged:
        row["gen_class"], row["weight"], row["s_weight"] = merged_class, pooled["wplus"], pooled["s_wplus"]
    return pooled, (f"{len(merged)} of {len(rows)} classes below the studentised-contrast threshold "
                    f"{threshold:g} merged into class {merged_class} ({points} deposits, W+ {pooled['wplus']:.4f})")


def zero_deposit_note(rows: Sequence[dict], empty_rule: str = "zero") -> str | None:
    empty = [r["class"] for r in rows if r["flag"] == NO_DEPOSITS]
    if not empty:
        return None
    shown = ", ".join(str(c) for c in empty[:10]) + (", ..." if len(empty) > 10 else "")
    what = ("their weights are 0, so those cells keep the prior" if empty_rule == "zero" else
            "each weighs what half a deposit would give if that is negative, else 0 (never a gain)")
    return (f"{len(empty)} class(es) hold no deposit ({shown}): {what}; the categorical weights type merges "
            "them with the other weak classes")


# -- tables the user supplies ---------------------------------------------------------------------
# geotune's own column names, then those of Geoscience Australia's MPM-WofE and EIS Toolkit tables
COLUMN_ALIASES = {
    "class": ("class", "threshold", "CLASS", "Class"),
    "area_units": ("area_units", "AREA_UNITS", "Pixel count"),
    "n_points": ("n_points", "NO_POINTS", "Deposit count"),
    "wplus": ("wplus", "WPLUS", "W+"), "s_wplus": ("s_wplus", "S_WPLUS", "S_W+"),
    "wminus": ("wminus", "WMINUS", "W-"), "s_wminus": ("s_wminus", "S_WMINUS", "S_W-"),
    "contrast": ("contrast", "CONTRAST", "Contrast"), "s_contrast": ("s_contrast", "S_CONTRAST", "S_Contrast"),
    "studc": ("studc", "STUDC", "Studentized contrast"),
}
NEEDED = {"categorical": ("class", "area_units", "n_points", "studc"),
          "cumulative": ("class", "n_points", "wplus", "s_wplus", "wminus", "s_wminus", "contrast", "studc")}
OUTPUT_COLUMNS = ("class", "area_units", "n_points", *QUANTITIES, "flag", "gen_class", "weight", "s_weight")


def read_weights_table(path: str | os.PathLike, weights_type: str) -> list[dict]:
    """Rows of a weights CSV (geotune, GA or EIS column names); the columns ``weights_type`` needs
    must be present and numeric."""
    path = Path(path)
    if weights_type not in NEEDED:
        raise DataError(f"a weights table is generalised as {tuple(NEEDED)}, got {weights_type!r}", path)
    if not path.is_file():
        raise DataError("no such file", path)
    try:
        reader = csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig")))
        records = list(reader)
        header = reader.fieldnames or []
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DataError(f"cannot be read as CSV ({exc})", path) from exc
    found = {}
    for name, aliases in COLUMN_ALIASES.items():
        hit = next((a for a in aliases if a in header), None)
        if hit is not None:
            found[name] = hit
    missing = [n for n in NEEDED[weights_type] if n not in found]
    if missing:
        raise DataError(f"a {weights_type} weights table needs column(s) {missing} (or their GA / EIS names); "
                        f"found {header}", path)
    if not records:
        raise DataError("holds no rows", path)
    rows = []
    for line, record in enumerate(records, start=2):
        row = {}
        for name, column in found.items():
            try:
                row[name] = float(record[column])
            except (TypeError, ValueError):
                raise DataError(f"line {line}: column {column!r} is not a number ({record[column]!r})", path) from None
        row["class"] = number(row["class"])
        if "n_points" in row:
            row["n_points"] = int(row["n_points"])
        rows.append(row)
    return rows


def generalise_table(rows: list[dict], weights_type: str, method: str = DEFAULT_CUT_METHOD,
                     threshold: float = DEFAULT_STUDENTIZED_THRESHOLD, manual_cut=None,
                     path=None) -> tuple[list[dict], list[str]]:
    """Generalise a user's table: ``categorical`` merges weak classes (totals = sums of the class rows);
    ``cumulative`` (rows in cumulative order) cuts at the row the method picks, or at class
    ``manual_cut``. Returns the rows with gen_class / weight / s_weight, and notes."""
    notes = []
    if weights_type == "categorical":
        total_units = sum(r["area_units"] for r in rows)
        total_points = sum(r["n_points"] for r in rows)
        for r in rows:
            r.setdefault("flag", NO_DEPOSITS if r["n_points"] == 0 else "")
        merged, note = generalise_categorical(rows, threshold, total_units, total_points)
        notes.append(note)
        return rows + ([merged] if merged else []), notes
    total_points = max(r["n_points"] for r in rows)
    for r in rows:
        r["flag"] = NO_DEPOSITS if r["n_points"] <= 0 else ALL_DEPOSITS if r["n_points"] >= total_points else ""
    if method == "manual":
        if manual_cut is None:
            raise DataError("the manual cut method needs the class to cut at", path)
        match = [i for i, r in enumerate(rows) if float(r["class"]) == float(manual_cut)]
        if not match:
            raise DataError(f"has no class {manual_cut!r} to cut at", path)
        cut = match[0]
        if rows[cut]["flag"]:
            notes.append(f"class {manual_cut} has {'no' if rows[cut]['n_points'] == 0 else 'every'} deposit on "
                         "its favourable side; the layer gets no weight")
            cut = None
    else:
        cut, note = choose_cut(rows, method, threshold)
        if note:
            notes.append(note)
    generalise_cumulative(rows, cut, key="class")
    return rows, notes


def write_table_csv(path: str | os.PathLike, rows: Sequence[dict]) -> Path:
    from .._atomic import atomic_file

    with atomic_file(Path(path), "w", encoding="utf-8", newline="") as handle:
        handle.write(table_csv(rows))
    return Path(path)


def table_csv(rows: Sequence[dict]) -> str:
    """Rows as CSV text (``threshold`` is written in the class column); extra keys are left out."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=OUTPUT_COLUMNS, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        row = dict(row)
        row.setdefault("class", row.get("threshold"))
        writer.writerow({k: row.get(k, "") for k in OUTPUT_COLUMNS})
    return out.getvalue()


def number(value) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() else value
