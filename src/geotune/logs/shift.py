"""When not to trust a prediction: how far a new well lies from the wells the model learned from.

Two measures, each per well:
- per curve: the well's median of the curve as a robust z-score among the training wells' medians
  ((median - median of medians) / (1.4826 * MAD of medians)): a tool calibrated differently, another
  lithology mix, another burial depth;
- in the model's feature space: the well's mean feature vector, standardised by the spread of the training
  wells' mean vectors, as a root-mean-square distance from their centre.

What counts as far comes from training itself: each validation group (area or well) is measured against
the other groups, exactly as a new well is against all of them, and the largest distance seen is the limit.
A new well beyond it lies further from the training data than any group the validation scores covered, so
those scores say nothing about it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .las import warn

MAD_TO_SD = 1.4826


def _summaries(frame: pd.DataFrame, curves: list[str], well: str, x: np.ndarray | None):
    wells = frame[well].astype(str)
    present = [c for c in curves if c in frame.columns]
    medians = frame[present].groupby(wells, sort=False).median().reindex(columns=curves)
    means = None
    if x is not None:  # one well at a time: no copy of the whole feature table
        import warnings

        codes, names = pd.factorize(wells)
        rows = np.zeros((len(names), x.shape[1]))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # a feature a well never measures: NaN, as meant
            for k in range(len(names)):
                rows[k] = np.nanmean(x[codes == k], axis=0)
        means = pd.DataFrame(rows, index=names).reindex(medians.index)
    return medians, means


def _curve_scale(medians: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    center = medians.median()
    mad = (medians - center).abs().median() * MAD_TO_SD
    floor = medians.abs().median() * 0.01 + 1e-9  # a curve every well reads alike: no division by zero
    return center, np.maximum(mad.fillna(0.0), floor)


def _feature_scale(means: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a feature no well measures: NaN, left out below
        center = np.nanmean(means.to_numpy(), axis=0)
        spread = np.nanstd(means.to_numpy(), axis=0)
    return center, np.where(np.isfinite(spread) & (spread > 1e-9), spread, np.nan)


def _feature_distance(means: pd.DataFrame, center: np.ndarray, scale: np.ndarray) -> pd.Series:
    z = (means.to_numpy() - center) / scale
    with np.errstate(invalid="ignore"):
        return pd.Series(np.sqrt(np.nanmean(z ** 2, axis=1)), index=means.index)


def reference(frame: pd.DataFrame, curves: list[str], well: str, groups: np.ndarray, x: np.ndarray | None) -> dict:
    """What config.json keeps: the training wells' centre and spread, and the limits seen when each
    validation group was measured against the others."""
    medians, means = _summaries(frame, curves, well, x)
    center, scale = _curve_scale(medians)
    well_group = pd.Series(groups, index=frame.index).groupby(frame[well].astype(str), sort=False).first()
    curve_limit = pd.Series(np.nan, index=curves)
    feature_limit = np.nan
    for group in pd.unique(well_group):
        inside = well_group.index[well_group == group]
        others = well_group.index[well_group != group]
        if len(others) < 2:
            continue
        c, s = _curve_scale(medians.loc[others])
        z = ((medians.loc[inside] - c) / s).abs().max()
        curve_limit = np.fmax(curve_limit, z.reindex(curves))
        if means is not None:
            fc, fs = _feature_scale(means.loc[others])
            feature_limit = np.fmax(feature_limit, np.nanmax(_feature_distance(means.loc[inside], fc, fs)))
    out = {"curves": {c: {"center": _num(center[c]), "scale": _num(scale[c]), "limit": _num(curve_limit[c])}
                      for c in curves},
           "feature_limit": _num(feature_limit)}
    if means is not None:
        fc, fs = _feature_scale(means)
        out["feature_center"] = [_num(v) for v in fc]
        out["feature_scale"] = [_num(v) for v in fs]
    return out


def _num(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def measure(frame: pd.DataFrame, well: str, x: np.ndarray | None, ref: dict, source=None) -> dict:
    """Per well of ``frame``: each curve's z-score, the feature-space distance, and which exceed the limits
    seen in validation (with a warning naming the well and the curves)."""
    curves = list(ref["curves"])
    medians, means = _summaries(frame, curves, well, x if ref.get("feature_center") else None)
    # a curve the model estimated for a well (impute.apply) is no reading of it: only the feature-space
    # distance, which the estimate feeds, speaks for it
    for curve, wells in (frame.attrs.get("estimated") or {}).items():
        if curve in medians.columns:
            medians.loc[medians.index.isin(wells), curve] = np.nan
    out = {}
    feature = None
    if means is not None:
        scale = np.array([np.nan if v is None else v for v in ref["feature_scale"]], dtype=float)
        center = np.array([np.nan if v is None else v for v in ref["feature_center"]], dtype=float)
        feature = _feature_distance(means, center, scale)
    for name in medians.index:
        z = {}
        for c in curves:
            r, value = ref["curves"][c], medians.loc[name, c]
            if r["center"] is not None and r["scale"] and np.isfinite(value):
                z[c] = round(float((value - r["center"]) / r["scale"]), 3)
        beyond = sorted((c for c, v in z.items() if ref["curves"][c]["limit"] is not None
                         and abs(v) > ref["curves"][c]["limit"]), key=lambda c: -abs(z[c]))
        entry = {"curve_z": z, "curves_beyond_validation": beyond}
        if feature is not None:
            entry["feature_distance"] = _num(feature[name]) if np.isfinite(feature[name]) else None
            limit = ref.get("feature_limit")
            entry["feature_limit"] = limit
            entry["beyond_validation"] = bool(limit is not None and entry["feature_distance"] is not None
                                              and entry["feature_distance"] > limit)
        else:
            entry["beyond_validation"] = bool(beyond)
        if entry["beyond_validation"] or beyond:
            detail = ", ".join(f"{c} z={z[c]:+.1f}" for c in beyond[:5])
            warn(f"well {name!r} lies further from the training wells than any validation group did"
                 + (f" (feature distance {entry['feature_distance']:.2f} > {entry['feature_limit']:.2f})"
                    if entry.get("beyond_validation") and feature is not None else "")
                 + (f"; curves: {detail}" if detail else "") + "; its scores from validation do not apply", source)
        out[str(name)] = entry
    return out
