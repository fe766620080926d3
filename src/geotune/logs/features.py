"""Features geoscientists use on logs, computed well by well (never across wells).

For each log curve, the blocks named in ``FeatureSpec.blocks``: ``value`` (the raw reading, whose
absolute level carries lithology from one area to the next), ``grad`` (its depth gradient), ``dev``
(its deviation from the well's median), ``mean`` / ``std`` (windowed mean and standard deviation at
``windows`` scales), ``shift`` (the values ``shifts`` samples above and below); and, with ``normalise``,
its robust z-score within the well ((value - median) / interquartile range, which removes tool gain and
offset differences) and its percentile rank within the well, added beside the raw value, never instead
of it. Plus the relative position in the well, indicator curves (marine/non-marine, 1/2 flags) as they
are, and string columns with few values (formation names) as categories. Windows are counted in samples
at the training data's depth step and rescaled for wells logged at another step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from ..errors import ConfigError, DataError
from .las import warn

MAX_CATEGORIES = 50
# Curves measured in fewer than this share of the training wells can be left out (``min_well_share``; never
# when named in ``features``): a tree may split on where such a curve is missing, which marks the wells that
# ran the tool rather than the rock. Off by default because it lost where it was meant to help: on FORCE 2020
# leave-one-quadrant-out, keeping only the 13 curves half the wells measure scored 0.673 / -0.930 against
# 0.676 / -0.910 with every curve, worse in all three areas (benchmarks/results/logs_force2020_quick.md)
MIN_WELL_SHARE = 0.0
# Scales of the windowed means and standard deviations, from a thin bed (3 samples, about 0.5 m at the usual
# 0.15 m step) to a bedset (31)
WINDOWS = (3, 7, 15, 31)
SHIFTS = (1, 2, 4)
BLOCKS = ("value", "grad", "dev", "mean", "std", "shift")  # every per-curve block, in feature order
# The default blocks: raw values, gradients, windowed means and standard deviations (with the per-well
# z-score and rank, ``normalise``): 265 columns against the former table's 419 on the 22 FORCE 2020 wells.
# With the forest and HMM decoding it scored 0.684 / -0.890 leave-one-quadrant-out (value/grad/mean over
# 7 and 31 samples, boosting alone: 0.668 / -0.933) and 0.585 on SEG 2016 leave-one-well-out (0.571).
# Deviations from the median and shifted copies stay available (--curve-features)
DEFAULT_BLOCKS = ("value", "grad", "mean", "std")
# What specs saved before blocks existed computed (they carry no ``blocks`` field)
LEGACY_BLOCKS = BLOCKS


@dataclass
class FeatureSpec:
    curves: list[str]  # continuous logs
    indicators: list[str] = field(default_factory=list)  # few-valued numeric flags (NM_M): value + window mean
    categorical: dict[str, list[str]] = field(default_factory=dict)  # column -> known categories
    windows: list[int] = field(default_factory=lambda: list(WINDOWS))
    shifts: list[int] = field(default_factory=lambda: list(SHIFTS))
    ref_step: float | None = None  # the training data's median depth step
    # per-well robust z-score and rank of each curve; False for specs saved before it existed
    normalise: bool = False
    # per-curve feature blocks (BLOCKS); specs saved before this field computed them all
    blocks: list[str] = field(default_factory=lambda: list(LEGACY_BLOCKS))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "FeatureSpec":
        return cls(**values)

    def curve_names(self, c: str) -> list[str]:
        """The feature names of one curve's block, in order."""
        has = set(self.blocks)
        out = [c] if "value" in has else []
        out += [f"{c}_grad"] if "grad" in has else []
        out += [f"{c}_dev"] if "dev" in has else []
        out += [f"{c}_z", f"{c}_rank"] if self.normalise else []
        out += [f"{c}_mean{w}" for w in self.windows] if "mean" in has else []
        out += [f"{c}_std{w}" for w in self.windows] if "std" in has else []
        if "shift" in has:
            out += [f"{c}_up{s}" for s in self.shifts] + [f"{c}_down{s}" for s in self.shifts]
        return out

    def names(self) -> list[str]:
        out = []
        for c in self.curves:
            out += self.curve_names(c)
        for c in self.indicators:
            out += [c] + [f"{c}_mean{w}" for w in self.windows]
        out += ["relpos_well"]
        out += list(self.categorical)
        return out

    def curve_width(self) -> int:
        """Feature columns per curve (its block in ``names()``)."""
        return len(self.curve_names("_"))

    def curve_columns(self, curve: str) -> slice:
        """Where ``curve``'s block of features sits in ``names()``."""
        start = self.curves.index(curve) * self.curve_width()
        return slice(start, start + self.curve_width())

    def categorical_mask(self) -> np.ndarray:
        names = self.names()
        return np.array([name in self.categorical for name in names])


def infer_spec(frame: pd.DataFrame, exclude: set[str], well: str, depth: str | None,
               windows: list[int] | None = None, shifts: list[int] | None = None,
               features: list[str] | None = None, normalise: bool = True,
               blocks: list[str] | None = None, min_well_share: float = MIN_WELL_SHARE) -> FeatureSpec:
    """Decide which columns are logs, indicators and categories. Without ``features``, numeric curves measured
    in fewer than ``min_well_share`` of the wells (default none) are left out, with a warning naming them."""
    blocks = list(DEFAULT_BLOCKS if blocks is None else blocks)
    unknown = sorted(set(blocks) - set(BLOCKS))
    if unknown:
        raise ConfigError(f"unknown curve feature blocks {', '.join(unknown)}; choose from {', '.join(BLOCKS)}")
    if not blocks and not normalise:
        raise ConfigError("no curve features: give at least one block (value, grad, ...) or normalise")
    candidates = features if features is not None else [c for c in frame.columns if c not in exclude]
    missing = [c for c in candidates if c not in frame.columns]
    if missing:
        raise DataError(f"feature columns not in the data: {', '.join(missing)}")
    curves, indicators, categorical = [], [], {}
    for column in candidates:
        values = frame[column]
        if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            if values.notna().sum() == 0:
                warn(f"column {column!r} is empty in every well; left out")
                continue
            (indicators if values.dropna().nunique() <= 3 else curves).append(column)
        else:
            cats = sorted(values.dropna().astype(str).unique().tolist())
            if 1 < len(cats) <= MAX_CATEGORIES:
                categorical[column] = cats
            else:
                warn(f"text column {column!r} has {len(cats)} distinct values; left out of the features")
    if features is None and min_well_share > 0:
        curves = _common_curves(frame, curves, well, min_well_share)
    if not curves and not indicators:
        raise DataError("no numeric log curves to learn from")
    ref_step = None
    if depth is not None and depth in frame.columns:
        steps = frame.groupby(well, sort=False)[depth].apply(lambda d: np.nanmedian(np.abs(np.diff(d.to_numpy()))))
        steps = steps[np.isfinite(steps) & (steps > 0)]
        ref_step = float(np.median(steps)) if len(steps) else None
    return FeatureSpec(curves=curves, indicators=indicators, categorical=categorical,
                       windows=list(windows or WINDOWS), shifts=list(shifts or SHIFTS), ref_step=ref_step,
                       normalise=bool(normalise), blocks=[b for b in BLOCKS if b in blocks])


def _common_curves(frame: pd.DataFrame, curves: list[str], well: str, min_share: float) -> list[str]:
    """``curves`` measured in at least ``min_share`` of the wells (every curve when there is one well)."""
    if well not in frame.columns or not curves:
        return curves
    measured = frame[curves].notna().groupby(frame[well], sort=False).any().mean()
    rare = [c for c in curves if measured[c] < min_share]
    if rare and len(rare) < len(curves):
        warn(f"curves measured in fewer than {min_share:.0%} of the wells left out of the features (name them "
             f"in --features to keep them): " + ", ".join(f"{c} ({measured[c]:.0%})" for c in rare))
        return [c for c in curves if c not in rare]
    return curves


def build_features(frame: pd.DataFrame, spec: FeatureSpec, well: str, depth: str | None) -> np.ndarray:
    """(n_rows, n_features) float32 in the frame's row order; rows of a well must be consecutive and in
    depth order (see las.order_by_depth). Missing curves come out as NaN."""
    blocks = []
    for _, rows in frame.groupby(well, sort=False):
        blocks.append((rows.index.to_numpy(), _well_features(rows, spec, depth)))
    out = np.empty((len(frame), len(spec.names())), dtype=np.float32)
    position = {index: i for i, index in enumerate(frame.index)}
    for index, block in blocks:
        out[[position[i] for i in index]] = block
    return out


def _well_features(rows: pd.DataFrame, spec: FeatureSpec, depth: str | None) -> np.ndarray:
    n = len(rows)
    scale = 1.0
    if depth is not None and depth in rows and spec.ref_step and n > 1:
        step = float(np.nanmedian(np.abs(np.diff(rows[depth].to_numpy(dtype=float)))))
        if np.isfinite(step) and step > 0:
            scale = spec.ref_step / step  # samples of this well per training sample
    columns = []
    has = set(spec.blocks)
    for curve in spec.curves:
        v = rows[curve].to_numpy(dtype=float) if curve in rows else np.full(n, np.nan)
        s = pd.Series(v)
        if "value" in has:
            columns.append(v)
        if "grad" in has:
            filled = s.interpolate(limit_direction="both").to_numpy() if s.notna().any() else v
            grad = np.gradient(filled) * scale if n > 1 else np.zeros(n)
            grad[np.isnan(v)] = np.nan
            columns.append(grad)
        if "dev" in has:
            columns.append(v - (np.nanmedian(v) if s.notna().any() else np.nan))
        if spec.normalise:
            columns += list(_normalised(v))
        if "mean" in has:
            columns += [_rolling(s, w, scale).mean().to_numpy() for w in spec.windows]
        if "std" in has:
            columns += [_rolling(s, w, scale).std().to_numpy() for w in spec.windows]
        if "shift" in has:
            columns += [s.shift(max(1, round(k * scale))).to_numpy() for k in spec.shifts]
            columns += [s.shift(-max(1, round(k * scale))).to_numpy() for k in spec.shifts]
    for flag in spec.indicators:
        s = pd.Series(rows[flag].to_numpy(dtype=float) if flag in rows else np.full(n, np.nan))
        columns.append(s.to_numpy())
        for w in spec.windows:
            columns.append(_rolling(s, w, scale).mean().to_numpy())
    if depth is not None and depth in rows and n > 1:
        d = rows[depth].to_numpy(dtype=float)
        span = np.nanmax(d) - np.nanmin(d)
        columns.append((d - np.nanmin(d)) / span if span > 0 else np.linspace(0, 1, n))
    else:
        columns.append(np.linspace(0, 1, n) if n > 1 else np.zeros(n))
    for column, cats in spec.categorical.items():
        lookup = {c: float(i) for i, c in enumerate(cats)}
        values = rows[column].astype(str).map(lookup) if column in rows else pd.Series(np.nan, index=rows.index)
        columns.append(values.to_numpy(dtype=float))
    return np.column_stack(columns).astype(np.float32)


def _rolling(s: pd.Series, window: int, scale: float):
    size = max(1, int(round(window * scale)))
    return s.rolling(size, center=True, min_periods=1)


def _normalised(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Robust z-score and percentile rank of one curve within its well (NaN where not measured)."""
    if np.isnan(v).all():
        return v.copy(), v.copy()
    q1, median, q3 = np.nanpercentile(v, [25, 50, 75])
    spread = q3 - q1 if q3 > q1 else (np.nanstd(v) or 1.0)  # a near-constant curve: no blow-up
    return (v - median) / spread, pd.Series(v).rank(pct=True).to_numpy()
