"""Weights of evidence (Bonham-Carter 1994), the way Geoscience Australia's MPM-WofE scores it.

Areas are counted in unit cells (default 1 km^2): N(T) study area, N(D) deposits, N(B) a class's
area, N(B&D) deposits in it; the formulas and what happens to degenerate counts (a class without
deposits gets no weight) are in ``wofe_tables``. A cell's posterior logit is the prior logit plus
the weight of its class in every layer; its variance P^2 (1/N(D) + sum s2(W)).

Each layer has a weights type: ``unique`` (one weight per class; default for binary and categorical
layers), ``categorical`` (classes whose |studentised contrast| is below the threshold are merged into
one class) or ``cumulative`` (default for continuous layers: cut at one threshold from the favourable
end, or both ends, chosen by the cut method; below the studentised-contrast threshold the layer may
get no weight, with a warning).
"""

from __future__ import annotations

import math
import warnings
from typing import Any, Mapping

import numpy as np

from ..errors import DataError, GeotuneWarning
from .layers import EvidenceStack
from .wofe_tables import (CUT_METHODS, DEFAULT_CUT_METHOD, DEFAULT_STUDENTIZED_THRESHOLD, EMPTY_CLASS_RULES,
                          WEIGHTS_TYPES,
                          choose_cut, class_weights, generalise_categorical, generalise_cumulative, table_rows,
                          zero_deposit_note)

MAX_THRESHOLDS = 256
__all__ = ["WeightsOfEvidence", "WofEWarning", "class_weights", "deposit_cells"]


class WofEWarning(GeotuneWarning):
    """A layer's weights were decided by a rule the user should know of (no cut passes the threshold...)."""


class WeightsOfEvidence:
    """Weights-of-evidence prospectivity with a scikit-learn-like API.

    ``fit(stack, deposits, region=None)``; ``predict_proba(stack)`` -> posterior probability per
    unit cell as a 2-D map (NaN outside the data); ``predict_uncertainty(stack)`` -> its standard
    deviation from the weights' variances. ``region`` (boolean grid) restricts training to part of
    the map; deposits outside it are ignored.

    ``weights_types`` maps layer names to ``unique`` / ``categorical`` / ``cumulative`` (others by
    their kind); ``cut_method`` and ``studentized_threshold`` choose a cumulative layer's cut
    (``manual`` takes the value from ``manual_cuts[name]``) and which classes ``categorical`` merges.
    After fitting, ``notes_`` lists what was decided per layer (also issued as ``WofEWarning``
    where a layer loses its weight).
    """

    method = "wofe"

    def __init__(self, unit_cell_km2: float = 1.0, max_thresholds: int = MAX_THRESHOLDS,
                 weights_types: Mapping[str, str] | None = None, cut_method: str = DEFAULT_CUT_METHOD,
                 studentized_threshold: float = DEFAULT_STUDENTIZED_THRESHOLD,
                 manual_cuts: Mapping[str, float] | None = None, empty_classes: str = "zero"):
        if unit_cell_km2 <= 0:
            raise DataError(f"the unit cell must be a positive area in km^2, got {unit_cell_km2}")
        if cut_method not in CUT_METHODS:
            raise DataError(f"the cut method must be one of {CUT_METHODS}, got {cut_method!r}")
        bad = {k: v for k, v in (weights_types or {}).items() if v not in WEIGHTS_TYPES}
        if bad:
            raise DataError(f"weights types must be one of {WEIGHTS_TYPES}, got {bad}")
        if not studentized_threshold >= 0:
            raise DataError(f"the studentised-contrast threshold must be 0 or more, got {studentized_threshold}")
        if empty_classes not in EMPTY_CLASS_RULES:
            raise DataError(f"the rule for classes without deposits must be one of {EMPTY_CLASS_RULES}, "
                            f"got {empty_classes!r}")
        self.empty_classes = empty_classes
        self.unit_cell_km2 = float(unit_cell_km2)
        self.max_thresholds = int(max_thresholds)
        self.weights_types = dict(weights_types or {})
        self.cut_method = cut_method
        self.studentized_threshold = float(studentized_threshold)
        self.manual_cuts = {k: float(v) for k, v in (manual_cuts or {}).items()}
        self.layers_: list[dict[str, Any]] = []
        self.notes_: list[str] = []

    # -- fitting -------------------------------------------------------------------------
    def fit(self, stack: EvidenceStack, deposits, region: np.ndarray | None = None) -> "WeightsOfEvidence":
        area = stack.mask if region is None else (stack.mask & np.asarray(region, bool))
        rows, cols = deposit_cells(stack, deposits, area)
        if len(rows) == 0:
            raise DataError("no deposit lies in the training area", getattr(deposits, "path", None))
        for option, given in (("weights types", self.weights_types), ("manual cuts", self.manual_cuts)):
            unknown = set(given) - set(stack.names)
            if unknown:
                raise DataError(f"{option} given for unknown layer(s) {sorted(unknown)}; layers are {stack.names}")
        units_per_cell = stack.cell_area_km2 / self.unit_cell_km2
        self.units_per_cell_ = units_per_cell
        self.total_units_ = float(area.sum()) * units_per_cell
        self.n_deposits_ = int(len(rows))
        self.prior_ = self.n_deposits_ / self.total_units_
        self.layers_, self.notes_ = [], []
        for layer in stack.layers:
            values = layer.array[area]
            at_deposits = layer.array[rows, cols]
            wtype = self.weights_types.get(layer.name) or ("cumulative" if layer.kind == "continuous" else "unique")
            if wtype == "cumulative":
                spec = self._fit_cumulative(layer, values, at_deposits, units_per_cell)
            else:
                spec = self._fit_classes(layer, values, at_deposits, units_per_cell, wtype)
            spec["weights_type"] = wtype
            self.layers_.append(spec)
            for note in spec["notes"]:
                self.notes_.append(f"{layer.name}: {note}")
        return self

    def _note(self, spec: dict, note: str | None, warn: bool = False) -> None:
        if note:
            spec["notes"].append(note)
            if warn:
                warnings.warn(f"{spec['name']}: {note}", WofEWarning, stacklevel=3)

    def _fit_classes(self, layer, values, at_deposits, upc, wtype: str) -> dict:
        classes, counts = np.unique(values, return_counts=True)
        n_points = np.array([(at_deposits == c).sum() for c in classes])
        table = table_rows("class", classes, counts * upc, n_points, self.total_units_, self.n_deposits_,
                           self.empty_classes)
        spec = {"name": layer.name, "kind": layer.kind, "classes": table, "notes": []}
        if wtype == "categorical":
            merged, note = generalise_categorical(table, self.studentized_threshold, self.total_units_,
                                                  self.n_deposits_, self.empty_classes)
            spec["merged"] = merged
            self._note(spec, note)
        else:
            for row in table:
                row["gen_class"], row["weight"], row["s_weight"] = row["class"], row["wplus"], row["s_wplus"]
            self._note(spec, zero_deposit_note(table, self.empty_classes))
        return spec

    def _cumulative_rows(self, values, at_deposits, thresholds, end: str, upc: float) -> list[dict]:
        # cumulative counts: cells / deposits with value <= t (low end) or >= t (high end)
        sorted_values, sorted_deposits = np.sort(values), np.sort(at_deposits)
        if end == "low":
            n_cells = np.searchsorted(sorted_values, thresholds, side="right")
            n_points = np.searchsorted(sorted_deposits, thresholds, side="right")
        else:
            n_cells = len(values) - np.searchsorted(sorted_values, thresholds, side="left")
            n_points = len(at_deposits) - np.searchsorted(sorted_deposits, thresholds, side="left")
        return table_rows("threshold", thresholds, n_cells * upc, n_points, self.total_units_, self.n_deposits_)

    def _fit_cumulative(self, layer, values, at_deposits, upc) -> dict:
        ascending = np.unique(values)
        if len(ascending) > self.max_thresholds:
            ascending = np.unique(np.quantile(values, np.linspace(0, 1, self.max_thresholds + 1)))
        ends = ["low", "high"] if layer.favourable == "both" else [layer.favourable]
        spec = {"name": layer.name, "kind": layer.kind, "notes": []}
        method = self.cut_method
        if method == "manual":
            end, table, cut = self._manual_cut(layer, values, at_deposits, ascending, upc, spec)
        else:
            key = "studc" if method == "max_studentized_contrast" else "contrast"
            candidates, failures = [], []
            for end in ends:
                # rows in cumulative order: from the favourable end inwards
                rows = self._cumulative_rows(values, at_deposits, ascending if end == "low" else ascending[::-1],
                                             end, upc)
                i, note = choose_cut(rows, method, self.studentized_threshold)
                (failures if i is None else candidates).append((end, rows, i, note))
            if candidates:
                end, table, cut, note = max(candidates, key=lambda c: c[1][c[2]][key])
                self._note(spec, note, warn=True)
            else:
                end, table, cut, note = failures[0]
                where = "either end" if len(ends) == 2 else f"the {end} end"
                self._note(spec, f"cut from {where}: {note}", warn=True)
        present, absent = generalise_cumulative(table, cut)
        spec.update(favourable=end, threshold=None if cut is None else table[cut]["threshold"],
                    cut_method=method, classes=[present, absent], cumulative=table)
        return spec

    def _manual_cut(self, layer, values, at_deposits, ascending, upc, spec) -> tuple[str, list[dict], int | None]:
        if layer.name not in self.manual_cuts:
            raise DataError(f"the manual cut method needs a cut value for layer {layer.name!r}", layer.path)
        if layer.favourable == "both":
            raise DataError(f"a manual cut of layer {layer.name!r} needs its favourable end (low or high)", layer.path)
        end, value = layer.favourable, self.manual_cuts[layer.name]
        thresholds = np.unique(np.append(ascending, value))
        thresholds = thresholds if end == "low" else thresholds[::-1]
        table = self._cumulative_rows(values, at_deposits, thresholds, end, upc)
        cut = int(np.flatnonzero(thresholds == value)[0])
        row = table[cut]
        if row["flag"]:
            side = "no" if row["n_points"] == 0 else "every"
            self._note(spec, f"the manual cut at {row['threshold']} leaves {side} deposit on the favourable side; "
                             "the layer gets no weight", warn=True)
            return end, table, None
        if row["studc"] < self.studentized_threshold:
            self._note(spec, f"the manual cut at {row['threshold']} has a studentised contrast of {row['studc']:.3f}, "
                             f"below the threshold {self.studentized_threshold:g}; it is used as asked", warn=True)
        return end, table, cut

    # -- prediction ----------------------------------------------------------------------
    @staticmethod
    def _is_cumulative(spec: dict) -> bool:
        return spec.get("weights_type", "cumulative" if spec["kind"] == "continuous" else "unique") == "cumulative"

    def _layer_terms(self, spec: dict, array: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(weight, weight variance, class index) per cell; a class unseen in training weighs 0.

        The weight is the generalised one (``weight``; models saved before it existed use W+)."""
        table = spec["classes"]
        if self._is_cumulative(spec):
            if spec["threshold"] is None:
                index = np.ones(array.shape, dtype=int)
            else:
                present = array <= spec["threshold"] if spec["favourable"] == "low" else array >= spec["threshold"]
                index = np.where(present, 0, 1)
        else:
            index = _class_index([row["class"] for row in table], array)
        weight = np.append([row.get("weight", row["wplus"]) for row in table], 0.0)[index]
        variance = np.append([row.get("s_weight", row["s_wplus"]) ** 2 for row in table], 0.0)[index]
        return weight, variance, index

    def quantity_maps(self, stack: EvidenceStack) -> dict[str, dict[str, np.ndarray]]:
        """Per layer, maps of its class, W+, s(W+), generalised class, generalised W+ and its s (NaN
        outside the data). For a cumulative layer the class is the threshold of the cell's cumulative
        row, W+ that row's, and the generalised class 2 (favourable side of the cut) or 1."""
        self._check_fitted(stack)
        mask = stack.mask
        maps = {}
        for spec in self.layers_:
            array = np.where(mask, stack[spec["name"]].array, np.nan)
            rows = spec["cumulative"] if self._is_cumulative(spec) else spec["classes"]
            key = "threshold" if self._is_cumulative(spec) else "class"
            if self._is_cumulative(spec):
                thresholds = np.array([r[key] for r in rows], dtype=float)
                ascending = spec["favourable"] == "low"
                order = thresholds if ascending else thresholds[::-1]
                if ascending:  # the first threshold at or above the value
                    pos = np.clip(np.searchsorted(order, array, side="left"), 0, len(order) - 1)
                else:  # the last threshold at or below the value, counted from the high end
                    pos = len(order) - 1 - np.clip(np.searchsorted(order, array, side="right") - 1, 0, len(order) - 1)
                index = np.where(np.isfinite(array), pos, len(rows))
            else:
                index = _class_index([r[key] for r in rows], array)
            layer = {}
            for name, column in (("class", key), ("wplus", "wplus"), ("s_wplus", "s_wplus"),
                                 ("generalized_class", "gen_class"), ("generalized_wplus", "weight"),
                                 ("generalized_s_wplus", "s_weight")):
                values = [float(r.get(column, r["wplus"] if column == "weight" else
                                      r["s_wplus"] if column == "s_weight" else r[key])) for r in rows]
                layer[name] = np.append(values, np.nan)[index]
                layer[name][~mask] = np.nan
            maps[spec["name"]] = layer
        return maps

    def _logit_and_variance(self, stack: EvidenceStack, region: np.ndarray | None = None):
        self._check_fitted(stack)
        mask = stack.mask if region is None else (stack.mask & np.asarray(region, bool))
        logit = np.full(stack.shape, math.log(self.prior_ / (1 - self.prior_)))
        variance = np.full(stack.shape, 1.0 / self.n_deposits_)
        for spec in self.layers_:
            array = np.where(mask, stack[spec["name"]].array, 0.0)
            weight, var, _ = self._layer_terms(spec, array)
            logit += weight
            variance += var
        logit[~mask] = np.nan
        return logit, variance

    def predict_proba(self, stack: EvidenceStack, region: np.ndarray | None = None) -> np.ndarray:
        """Posterior probability of a deposit per unit cell, as a map (NaN where a layer has no data)."""
        return self.predict_both(stack, region)[0]

    def predict_uncertainty(self, stack: EvidenceStack, region: np.ndarray | None = None) -> np.ndarray:
        """Standard deviation of the posterior probability (from the weights' variances)."""
        return self.predict_both(stack, region)[1]

    def predict_both(self, stack: EvidenceStack, region: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        logit, variance = self._logit_and_variance(stack, region)
        proba = 1.0 / (1.0 + np.exp(-logit))
        return proba, proba * np.sqrt(variance)

    def weights_table(self, name: str) -> list[dict]:
        for spec in self.layers_:
            if spec["name"] == name:
                return spec["classes"]
        raise KeyError(name)

    # -- conditional independence ----------------------------------------------------------
    def conditional_independence(self, stack: EvidenceStack, deposits, region: np.ndarray | None = None) -> dict:
        """Omnibus test (Bonham-Carter: N(D) / predicted deposits, below ~0.85 is a warning), the
        Agterberg-Cheng test (z and one-sided p; small p = predicted count too high = dependence) and
        pairwise chi-square tests of layer classes over deposit points."""
        from scipy.stats import chi2_contingency, norm

        area = stack.mask if region is None else (stack.mask & np.asarray(region, bool))
        logit, variance = self._logit_and_variance(stack)
        proba = 1.0 / (1.0 + np.exp(-logit[area]))
        # unique conditions: one code per combination of classes
        code = np.zeros(int(area.sum()), dtype=np.int64)
        indices = {}
        for spec in self.layers_:
            _, _, index = self._layer_terms(spec, np.where(area, stack[spec["name"]].array, 0.0)[area])
            code = code * (len(spec["classes"]) + 1) + index
            indices[spec["name"]] = index
        _, first, inverse, counts = np.unique(code, return_index=True, return_inverse=True, return_counts=True)
        area_k = counts * self.units_per_cell_
        p_k = proba[first]
        var_p_k = p_k**2 * variance[area][first]
        predicted = float(np.sum(area_k * p_k))
        s_predicted = float(np.sqrt(np.sum(area_k**2 * var_p_k)))
        rows, cols = deposit_cells(stack, deposits, area)
        z = (predicted - self.n_deposits_) / s_predicted if s_predicted > 0 else float("nan")
        pairwise = []
        cell_index = np.full(stack.shape, -1, dtype=np.int64)
        names = [spec["name"] for spec in self.layers_]
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                cell_index[area] = indices[a]
                ia = cell_index[rows, cols]
                cell_index[area] = indices[b]
                ib = cell_index[rows, cols]
                table = np.zeros((ia.max() + 1, ib.max() + 1))
                np.add.at(table, (ia, ib), 1)
                table = table[table.sum(1) > 0][:, table.sum(0) > 0]
                if min(table.shape) < 2:
                    continue
                chi2, p, dof, _ = chi2_contingency(table)
                pairwise.append({"layers": [a, b], "chi2": float(chi2), "dof": int(dof), "p_value": float(p)})
        return {
            "observed_deposits": self.n_deposits_,
            "predicted_deposits": predicted,
            "omnibus_ratio": self.n_deposits_ / predicted,
            "agterberg_cheng_z": float(z),
            "agterberg_cheng_p": float(norm.sf(z)),
            "pairwise_chi2": pairwise,
            "note": "ratio below ~0.85 or p below 0.05 suggests the layers are not conditionally independent "
                    "given the deposits, and the posterior probabilities are inflated",
        }

    # -- persistence ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"method": "wofe", "unit_cell_km2": self.unit_cell_km2, "max_thresholds": self.max_thresholds,
                "units_per_cell": self.units_per_cell_, "total_units": self.total_units_,
                "n_deposits": self.n_deposits_, "prior": self.prior_, "weights_types": self.weights_types,
                "cut_method": self.cut_method, "studentized_threshold": self.studentized_threshold,
                "manual_cuts": self.manual_cuts, "empty_classes": self.empty_classes, "notes": self.notes_,
                "layers": self.layers_}

    @classmethod
    def from_dict(cls, data: dict) -> "WeightsOfEvidence":
        model = cls(data["unit_cell_km2"], data.get("max_thresholds", MAX_THRESHOLDS), data.get("weights_types"),
                    data.get("cut_method", DEFAULT_CUT_METHOD),
                    data.get("studentized_threshold", DEFAULT_STUDENTIZED_THRESHOLD), data.get("manual_cuts"),
                    data.get("empty_classes", "zero"))
        model.notes_ = list(data.get("notes", []))
        model.units_per_cell_ = data["units_per_cell"]
        model.total_units_ = data["total_units"]
        model.n_deposits_ = data["n_deposits"]
        model.prior_ = data["prior"]
        model.layers_ = data["layers"]
        return model

    def _check_fitted(self, stack: EvidenceStack) -> None:
        if not self.layers_:
            raise DataError("the weights-of-evidence model is not fitted yet")
        missing = [spec["name"] for spec in self.layers_ if spec["name"] not in stack.names]
        if missing:
            raise DataError(f"the evidence stack lacks layer(s) {missing} the model was fitted on")


def deposit_cells(stack: EvidenceStack, deposits, area: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid cells of the deposits that fall inside ``area`` (each point counts, even sharing a cell)."""
    if isinstance(deposits, tuple):
        rows, cols = (np.asarray(a, dtype=int) for a in deposits)
    else:
        rows, cols = deposits.cells(stack.grid)
    keep = area[rows, cols]
    return rows[keep], cols[keep]


def _class_index(classes, array: np.ndarray) -> np.ndarray:
    """Row of each cell's class in the sorted ``classes``; len(classes) for a class not among them."""
    values = np.array(classes, dtype=float)
    pos = np.clip(np.searchsorted(values, array), 0, len(values) - 1)
    return np.where(values[pos] == array, pos, len(values))
