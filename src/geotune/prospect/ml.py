"""Machine-learning prospectivity on an evidence stack: logistic regression, gradient boosting
(scikit-learn HistGradientBoosting) or a random forest.

Training samples: every deposit point is a positive; negatives are cells drawn at random from the
training area at least ``buffer_km`` from any deposit (``n_negatives`` of them; by default twenty
per deposit for gradient boosting, whose trees keep improving with more of the background, and ten for
the other methods). Gradient boosting is held monotone in a continuous layer whose favourable end is
declared (``low`` or ``high``), so a sparse tail cannot reverse the physical ordering. Each ensemble
member draws its own negatives (and a bootstrap of the deposits), so the spread between members is the
per-cell uncertainty. Because the negatives are a sample, the model's odds are rescaled to the population
(deposits per unit cell of the training area), which keeps the ranking and gives a probability per unit
cell comparable with weights of evidence.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from threadpoolctl import threadpool_limits

from .. import progress
from ..errors import DataError, ModelError
from .layers import EvidenceStack
from .wofe import deposit_cells

METHODS = ("logistic", "gbm", "rf")
# negatives per deposit when n_negatives is not given (at least 1000 in all)
NEGATIVES_PER_DEPOSIT = {"logistic": 10, "gbm": 20, "rf": 10}
MONOTONE = {"high": 1, "low": -1, "both": 0}
CHUNK = 250_000


class _Encoder:
    """Layer values -> model features: continuous standardised, binary 0/1, categorical one-hot
    (or integer codes with ``native_categories``, for gradient boosting)."""

    def __init__(self, specs: list[dict], native_categories: bool):
        self.specs = specs
        self.native = native_categories

    @classmethod
    def fit(cls, stack: EvidenceStack, area: np.ndarray, native_categories: bool) -> "_Encoder":
        specs = []
        for layer in stack.layers:
            values = layer.array[area]
            spec: dict[str, Any] = {"name": layer.name, "kind": layer.kind}
            if layer.kind == "continuous":
                spec.update(mean=float(values.mean()), std=float(values.std()) or 1.0,
                            favourable=getattr(layer, "favourable", "both"))
            else:
                spec["categories"] = [float(v) for v in np.unique(values)]
            specs.append(spec)
        return cls(specs, native_categories)

    @property
    def feature_names(self) -> list[str]:
        names = []
        for spec in self.specs:
            if spec["kind"] == "categorical" and not self.native:
                names += [f"{spec['name']}={c:g}" for c in spec["categories"]]
            else:
                names.append(spec["name"])
        return names

    @property
    def categorical_mask(self) -> list[bool]:
        return [spec["kind"] == "categorical" for spec in self.specs] if self.native else \
            [False] * len(self.feature_names)

    @property
    def monotone(self) -> list[int]:
        """Per feature: +1 / -1 where a continuous layer's favourable end is declared high / low, else 0."""
        out = []
        for spec in self.specs:
            if spec["kind"] == "categorical" and not self.native:
                out += [0] * len(spec["categories"])
            else:
                out.append(MONOTONE[spec.get("favourable", "both")] if spec["kind"] == "continuous" else 0)
        return out

    def transform(self, columns: dict[str, np.ndarray]) -> np.ndarray:
        parts = []
        for spec in self.specs:
            x = columns[spec["name"]]
            if spec["kind"] == "continuous":
                parts.append(((x - spec["mean"]) / spec["std"])[:, None])
            elif spec["kind"] == "binary":
                parts.append((x == spec["categories"][-1]).astype(float)[:, None])
            else:
                cats = np.asarray(spec["categories"])
                pos = np.clip(np.searchsorted(cats, x), 0, len(cats) - 1)
                known = cats[pos] == x
                if self.native:  # codes; a category unseen in training becomes missing
                    parts.append(np.where(known, pos, np.nan)[:, None])
                else:
                    onehot = np.zeros((len(x), len(cats)))
                    onehot[np.flatnonzero(known), pos[known]] = 1.0
                    parts.append(onehot)
        return np.hstack(parts).astype("float64")


class MLProspectivity:
    """Prospectivity from a classifier on the layer stack, with a scikit-learn-like API.

    ``fit(stack, deposits, region=None)``, ``predict_proba(stack)`` -> 2-D map of the ensemble mean
    probability per unit cell, ``predict_uncertainty(stack)`` -> the ensemble's standard deviation.
    """

    def __init__(self, method: str = "gbm", n_members: int = 5, n_negatives: int | None = None,
                 buffer_km: float = 1.0, unit_cell_km2: float = 1.0, seed: int = 0):
        if method not in METHODS:
            raise DataError(f"method must be one of {METHODS}, got {method!r}")
        if n_members < 1:
            raise DataError(f"an ensemble needs at least one member, got {n_members}")
        self.method = method
        self.n_members = int(n_members)
        self.n_negatives = n_negatives
        self.buffer_km = float(buffer_km)
        self.unit_cell_km2 = float(unit_cell_km2)
        self.seed = int(seed)
        self.members_: list[Any] = []

    # -- fitting -------------------------------------------------------------------------
    def fit(self, stack: EvidenceStack, deposits, region: np.ndarray | None = None) -> "MLProspectivity":
        from scipy.ndimage import distance_transform_edt

        area = stack.mask if region is None else (stack.mask & np.asarray(region, bool))
        rows, cols = deposit_cells(stack, deposits, area)
        if len(rows) < 2:
            raise DataError(f"{len(rows)} deposit(s) in the training area; a classifier needs at least 2",
                            getattr(deposits, "path", None))
        self.encoder_ = _Encoder.fit(stack, area, native_categories=self.method == "gbm")
        has_deposit = np.zeros(stack.shape, dtype=bool)
        has_deposit[rows, cols] = True
        cell_m = np.array(stack.grid.cell_size)[::-1]  # (row, col) spacing
        far = distance_transform_edt(~has_deposit, sampling=cell_m) > self.buffer_km * 1000.0
        candidates = np.flatnonzero((area & far).ravel())
        n_neg = self.n_negatives or max(NEGATIVES_PER_DEPOSIT[self.method] * len(rows), 1000)
        n_neg = min(n_neg, len(candidates))
        if n_neg < len(rows):
            raise DataError(f"only {len(candidates)} cells lie {self.buffer_km} km from every deposit; "
                            "lower buffer_km", getattr(deposits, "path", None))
        units_per_cell = stack.cell_area_km2 / self.unit_cell_km2
        negative_units = area.sum() * units_per_cell - len(rows)
        # sample odds = population odds * (n_neg / n_pos) * ((N(T) - N(D)) / N(D)), with n_pos = N(D)
        self.odds_scale_ = float(negative_units / n_neg)
        self.sampling_ = (f"{len(rows)} deposit points as positives (bootstrapped per member); {n_neg} negatives per "
                          f"member drawn uniformly from {len(candidates)} training-area cells at least "
                          f"{self.buffer_km:g} km from any deposit; odds rescaled to deposits per "
                          f"{self.unit_cell_km2:g} km^2 unit cell")
        rng = np.random.default_rng(self.seed)
        self.members_ = []
        for m in range(self.n_members):
            progress.stage(f"{self.method}: fitting ensemble member", m + 1, self.n_members)
            pos = rng.integers(0, len(rows), len(rows)) if self.n_members > 1 else np.arange(len(rows))
            neg = rng.choice(candidates, n_neg, replace=False)
            neg_r, neg_c = np.unravel_index(neg, stack.shape)
            r = np.concatenate([rows[pos], neg_r])
            c = np.concatenate([cols[pos], neg_c])
            x = self.encoder_.transform({layer.name: layer.array[r, c] for layer in stack.layers})
            y = np.concatenate([np.ones(len(pos)), np.zeros(n_neg)])
            with threadpool_limits(1):  # a few thousand rows: threads only add OpenMP start-up and contention
                self.members_.append(self._fit_member(x, y, self.seed + m))
        return self

    def _fit_member(self, x: np.ndarray, y: np.ndarray, seed: int):
        if self.method == "logistic":
            from sklearn.linear_model import LogisticRegression

            model = LogisticRegression(C=1.0, max_iter=2000).fit(x, y)
            return {"coef": model.coef_[0].tolist(), "intercept": float(model.intercept_[0])}
        if self.method == "gbm":
            from sklearn.ensemble import HistGradientBoostingClassifier

            return HistGradientBoostingClassifier(
                max_iter=100, learning_rate=0.05, max_leaf_nodes=7, min_samples_leaf=40, l2_regularization=1.0,
                categorical_features=np.array(self.encoder_.categorical_mask), monotonic_cst=self.encoder_.monotone,
                early_stopping=False,
                random_state=seed).fit(x, y)
        from sklearn.ensemble import RandomForestClassifier

        return RandomForestClassifier(n_estimators=100, min_samples_leaf=5, max_features="sqrt",
                                      random_state=seed, n_jobs=1).fit(x, y)

    # -- prediction ----------------------------------------------------------------------
    def _member_probabilities(self, stack: EvidenceStack, mask: np.ndarray) -> np.ndarray:
        """(members, cells in mask) probabilities per unit cell."""
        if not self.members_:
            raise DataError("the model is not fitted yet")
        missing = [s["name"] for s in self.encoder_.specs if s["name"] not in stack.names]
        if missing:
            raise DataError(f"the evidence stack lacks layer(s) {missing} the model was fitted on")
        index = np.flatnonzero(mask.ravel())
        out = np.empty((len(self.members_), len(index)))
        # threads pay off only on big maps; on small ones OpenMP start-up dominates
        with threadpool_limits(None if len(index) > 200_000 else 1):
            self._predict_into(out, index, stack)
        return out

    def _predict_into(self, out: np.ndarray, index: np.ndarray, stack: EvidenceStack) -> None:
        flat = {s["name"]: stack[s["name"]].array.ravel() for s in self.encoder_.specs}
        n_chunks = -(-len(index) // CHUNK)
        for start in range(0, len(index), CHUNK):
            if n_chunks > 1:  # a small map (a CV fold's blocks) is done before a line would help
                progress.stage(f"{self.method}: predicting {len(index)} cells, chunk", start // CHUNK + 1, n_chunks)
            part = index[start:start + CHUNK]
            x = self.encoder_.transform({name: values[part] for name, values in flat.items()})
            for m, member in enumerate(self.members_):
                if isinstance(member, dict):
                    p = 1.0 / (1.0 + np.exp(-(x @ np.asarray(member["coef"]) + member["intercept"])))
                else:
                    p = member.predict_proba(x)[:, 1]
                odds = np.clip(p, 1e-12, 1 - 1e-12) / np.clip(1 - p, 1e-12, None) / self.odds_scale_
                out[m, start:start + len(part)] = odds / (1 + odds)

    def predict_proba(self, stack: EvidenceStack, region: np.ndarray | None = None) -> np.ndarray:
        """Ensemble-mean probability per unit cell as a map (NaN outside the data or ``region``)."""
        return self.predict_both(stack, region)[0]

    def predict_uncertainty(self, stack: EvidenceStack, region: np.ndarray | None = None) -> np.ndarray:
        """Standard deviation between the ensemble members (0 with one member)."""
        return self.predict_both(stack, region)[1]

    def predict_both(self, stack: EvidenceStack, region: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(probability, uncertainty) maps in one pass over the cells."""
        mask = stack.mask if region is None else (stack.mask & np.asarray(region, bool))
        probs = self._member_probabilities(stack, mask)
        spread = probs.std(axis=0, ddof=1) if len(probs) > 1 else np.zeros(probs.shape[1])
        proba, unc = np.full(stack.shape, np.nan), np.full(stack.shape, np.nan)
        proba[mask], unc[mask] = probs.mean(axis=0), spread
        return proba, unc

    # -- persistence: coefficients as JSON, trees through skops (never pickle) ------------
    def to_dict(self) -> dict:
        return {"method": self.method, "n_members": self.n_members, "n_negatives": self.n_negatives,
                "buffer_km": self.buffer_km, "unit_cell_km2": self.unit_cell_km2, "seed": self.seed,
                "odds_scale": self.odds_scale_, "sampling": self.sampling_,
                "features": self.encoder_.specs, "feature_names": self.encoder_.feature_names,
                "native_categories": self.encoder_.native,
                "members": self.members_ if self.method == "logistic" else None}

    def member_files(self) -> dict[str, bytes]:
        if self.method == "logistic":
            return {}
        import skops.io as sio

        return {f"member_{m}.skops": sio.dumps(model) for m, model in enumerate(self.members_)}

    @classmethod
    def from_dict(cls, data: dict, files: dict[str, bytes] | None = None) -> "MLProspectivity":
        model = cls(data["method"], data["n_members"], data["n_negatives"], data["buffer_km"],
                    data["unit_cell_km2"], data["seed"])
        model.odds_scale_ = data["odds_scale"]
        model.sampling_ = data["sampling"]
        model.encoder_ = _Encoder(data["features"], data["native_categories"])
        if model.method == "logistic":
            model.members_ = data["members"]
        else:
            model.members_ = [_load_skops(files[f"member_{m}.skops"], f"member_{m}.skops")
                              for m in range(model.n_members)]
        return model


def _load_skops(payload: bytes, name: str):
    import skops.io as sio

    untrusted = sio.get_untrusted_types(data=payload)
    # only scikit-learn and numpy internals; anything else means the file is not ours
    # (functools.partial wraps scikit-learn's own check_array inside the boosting predictor)
    foreign = [t for t in untrusted if not t.startswith(("sklearn.", "numpy.", "builtins.")) and t != "functools.partial"]
    if foreign:
        raise ModelError(f"refusing to load: it holds types outside scikit-learn/numpy ({foreign[:3]})", name)
    try:
        return sio.loads(payload, trusted=untrusted)
    except Exception as exc:  # skops raises many kinds on a damaged file
        raise ModelError(f"cannot be read as a skops model ({exc})", name) from exc

