"""Weights of evidence (Bonham-Carter 1994), the way Geoscience Australia's MPM-WofE scores it.

Areas are counted in unit cells (default 1 km^2): N(T) study area, N(D) deposits, N(B) a class's
area, N(B&D) deposits in it. W+ = ln P(B|D)/P(B|~D), W- = ln P(~B|D)/P(~B|~D), contrast C = W+ - W-
with s(C) = sqrt(s2(W+) + s2(W-)) and studentised contrast C / s(C). A cell's posterior logit is the
prior logit plus the weight of its class in every layer; its variance P^2 (1/N(D) + sum s2(W)).
Binary and categorical layers use one weight per class; a continuous layer is cut at the
cumulative threshold (from its favourable end, or both ends) that maximises the studentised contrast.
A zero count (a class without deposits) is replaced by 0.5 so the weight stays finite.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import DataError
from .layers import EvidenceStack

ZERO_COUNT = 0.5
MAX_THRESHOLDS = 256


def class_weights(area_units, n_points, total_units: float, total_points: int) -> dict[str, np.ndarray]:
    """W+, W-, their standard deviations, contrast and studentised contrast for classes (arrays)."""
    nb = np.asarray(area_units, dtype=float)
    nbd = np.asarray(n_points, dtype=float)
    nt, nd = float(total_units), float(total_points)
    a = np.where(nbd > 0, nbd, ZERO_COUNT)                     # B & D
    b = np.maximum(nb - nbd, ZERO_COUNT)                       # B & ~D
    c = np.where(nd - nbd > 0, nd - nbd, ZERO_COUNT)           # ~B & D
    d = np.maximum(nt - nb - (nd - nbd), ZERO_COUNT)           # ~B & ~D
    wplus = np.log((a / nd) / (b / (nt - nd)))
    wminus = np.log((c / nd) / (d / (nt - nd)))
    s_wplus = np.sqrt(1 / a + 1 / b)
    s_wminus = np.sqrt(1 / c + 1 / d)
    contrast = wplus - wminus
    s_contrast = np.sqrt(s_wplus**2 + s_wminus**2)
    return {"wplus": wplus, "s_wplus": s_wplus, "wminus": wminus, "s_wminus": s_wminus,
            "contrast": contrast, "s_contrast": s_contrast, "studc": contrast / s_contrast}


class WeightsOfEvidence:
    """Weights-of-evidence prospectivity with a scikit-learn-like API.

    ``fit(stack, deposits, region=None)``; ``predict_proba(stack)`` -> posterior probability per
    unit cell as a 2-D map (NaN outside the data); ``predict_uncertainty(stack)`` -> its standard
    deviation from the weights' variances. ``region`` (boolean grid) restricts training to part of
    the map; deposits outside it are ignored.
    """

    method = "wofe"

    def __init__(self, unit_cell_km2: float = 1.0, max_thresholds: int = MAX_THRESHOLDS):
        if unit_cell_km2 <= 0:
            raise DataError(f"the unit cell must be a positive area in km^2, got {unit_cell_km2}")
        self.unit_cell_km2 = float(unit_cell_km2)
        self.max_thresholds = int(max_thresholds)
        self.layers_: list[dict[str, Any]] = []

    # -- fitting -------------------------------------------------------------------------
    def fit(self, stack: EvidenceStack, deposits, region: np.ndarray | None = None) -> "WeightsOfEvidence":
        area = stack.mask if region is None else (stack.mask & np.asarray(region, bool))
        rows, cols = deposit_cells(stack, deposits, area)
        if len(rows) == 0:
            raise DataError("no deposit lies in the training area", getattr(deposits, "path", None))
        units_per_cell = stack.cell_area_km2 / self.unit_cell_km2
        self.units_per_cell_ = units_per_cell
        self.total_units_ = float(area.sum()) * units_per_cell
        self.n_deposits_ = int(len(rows))
        self.prior_ = self.n_deposits_ / self.total_units_
        self.layers_ = []
        for layer in stack.layers:
            values = layer.array[area]
            at_deposits = layer.array[rows, cols]
            if layer.kind == "continuous":
                self.layers_.append(self._fit_cumulative(layer, values, at_deposits, units_per_cell))
            else:
                self.layers_.append(self._fit_classes(layer, values, at_deposits, units_per_cell))
        return self

    def _fit_classes(self, layer, values, at_deposits, upc) -> dict:
        classes, counts = np.unique(values, return_counts=True)
        n_points = np.array([(at_deposits == c).sum() for c in classes])
        weights = class_weights(counts * upc, n_points, self.total_units_, self.n_deposits_)
        table = [{"class": _num(c), "area_units": float(counts[i] * upc), "n_points": int(n_points[i]),
                  **{k: float(v[i]) for k, v in weights.items()}} for i, c in enumerate(classes)]
        return {"name": layer.name, "kind": layer.kind, "classes": table}

    def _fit_cumulative(self, layer, values, at_deposits, upc) -> dict:
        unique = np.unique(values)
        if len(unique) > self.max_thresholds:
            unique = np.unique(np.quantile(values, np.linspace(0, 1, self.max_thresholds + 1)))
        ends = ["low", "high"] if layer.favourable == "both" else [layer.favourable]
        best = None
        tables = {}
        for end in ends:
            # cumulative counts: cells / deposits with value <= t (low end) or >= t (high end)
            if end == "low":
                n_cells = np.searchsorted(np.sort(values), unique, side="right")
                n_points = np.searchsorted(np.sort(at_deposits), unique, side="right")
            else:
                n_cells = len(values) - np.searchsorted(np.sort(values), unique, side="left")
                n_points = len(at_deposits) - np.searchsorted(np.sort(at_deposits), unique, side="left")
            weights = class_weights(n_cells * upc, n_points, self.total_units_, self.n_deposits_)
            usable = (n_points > 0) & (n_points < self.n_deposits_) & (n_cells < len(values))
            studc = np.where(usable, weights["studc"], -np.inf)
            tables[end] = [{"threshold": _num(t), "area_units": float(n_cells[i] * upc), "n_points": int(n_points[i]),
                            **{k: float(v[i]) for k, v in weights.items()}} for i, t in enumerate(unique)]
            i = int(np.argmax(studc))
            if np.isfinite(studc[i]) and (best is None or studc[i] > best[0]):
                best = (float(studc[i]), end, i)
        if best is None:
            raise DataError(f"layer {layer.name!r} separates no deposits from others at any threshold", layer.path)
        _, end, i = best
        row = tables[end][i]
        present = {"class": "present", "area_units": row["area_units"], "n_points": row["n_points"],
                   **{k: row[k] for k in ("wplus", "s_wplus", "wminus", "s_wminus", "contrast", "s_contrast", "studc")}}
        absent = {"class": "absent", "area_units": self.total_units_ - row["area_units"],
                  "n_points": self.n_deposits_ - row["n_points"], "wplus": row["wminus"], "s_wplus": row["s_wminus"],
                  "wminus": row["wplus"], "s_wminus": row["s_wplus"], "contrast": -row["contrast"],
                  "s_contrast": row["s_contrast"], "studc": -row["studc"]}
        return {"name": layer.name, "kind": "continuous", "favourable": end, "threshold": row["threshold"],
                "classes": [present, absent], "cumulative": tables[end]}

    # -- prediction ----------------------------------------------------------------------
    def _layer_terms(self, spec: dict, array: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(weight, weight variance, class index) per cell; a class unseen in training weighs 0."""
        table = spec["classes"]
        if spec["kind"] == "continuous":
            present = array <= spec["threshold"] if spec["favourable"] == "low" else array >= spec["threshold"]
            index = np.where(present, 0, 1)
        else:
            values = np.array([row["class"] for row in table], dtype=float)
            pos = np.clip(np.searchsorted(values, array), 0, len(values) - 1)
            index = np.where(values[pos] == array, pos, len(values))
        weight = np.append([row["wplus"] for row in table], 0.0)[index]
        variance = np.append([row["s_wplus"] ** 2 for row in table], 0.0)[index]
        return weight, variance, index

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
                "n_deposits": self.n_deposits_, "prior": self.prior_, "layers": self.layers_}

    @classmethod
    def from_dict(cls, data: dict) -> "WeightsOfEvidence":
        model = cls(data["unit_cell_km2"], data.get("max_thresholds", MAX_THRESHOLDS))
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


def _num(value) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() else value
