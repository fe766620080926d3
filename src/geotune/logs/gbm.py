"""The tabular model: scikit-learn's HistGradientBoosting, stored with skops (never a plain pickle).

HistGradientBoosting handles missing values natively, so a curve absent from a whole well (PE in
two SEG 2016 wells) is learned as "missing" instead of forcing the well out.
"""

from __future__ import annotations

import numpy as np

from ..errors import ModelError
from .threads import threads

# The only types a geotune GBM file may contain beyond skops' own trusted defaults; anything else in a
# .skops file is refused before it is loaded.
TRUSTED_TYPES = {
    "functools.partial",
    "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor",
    "sklearn.utils.validation.check_array",
    "sklearn.ensemble._hist_gradient_boosting.gradient_boosting.HistGradientBoostingClassifier",
    "sklearn.ensemble._hist_gradient_boosting.binning._BinMapper",
    "sklearn._loss.loss.HalfMultinomialLoss",
    "sklearn._loss.loss.HalfBinomialLoss",
    "sklearn._loss.link.MultinomialLogit",
    "sklearn._loss.link.LogitLink",
    "sklearn._loss.link.Interval",
    "numpy.dtype",
    "numpy.ndarray",
}


def make_model(seed: int = 42, categorical_mask: np.ndarray | None = None, **params):
    from sklearn.ensemble import HistGradientBoostingClassifier

    # Regularised a priori for transfer to a new well: slower learning, larger leaves and a random half of
    # the features per split, so no single tool response dominates (values not tuned on any score)
    defaults = dict(learning_rate=0.05, max_iter=250, max_leaf_nodes=15, min_samples_leaf=40,
                    l2_regularization=1.0, max_features=0.5, early_stopping=False, random_state=seed)
    defaults.update(params)
    if categorical_mask is not None and np.any(categorical_mask):
        defaults["categorical_features"] = np.asarray(categorical_mask, dtype=bool)
    return HistGradientBoostingClassifier(**defaults)


def measured_columns(x: np.ndarray) -> np.ndarray:
    """Columns holding at least one value. scikit-learn's binning fails on a column that is missing in every
    training row (a curve only the held-out wells measure), and such a column teaches nothing anyway."""
    return np.isfinite(x).any(axis=0)


def fit_measured(model, x: np.ndarray, y: np.ndarray, **fit_params):
    """``model.fit`` on the measured columns only; the column mask travels with the model (an array attribute,
    saved by skops) and ``columns_of`` applies it at prediction."""
    mask = measured_columns(x)
    if mask.all():
        return model.fit(x, y, **fit_params)
    categorical = model.get_params().get("categorical_features")
    if isinstance(categorical, np.ndarray) and categorical.dtype == bool:
        model.set_params(categorical_features=categorical[mask] if categorical[mask].any() else None)
    model.fit(x[:, mask], y, **fit_params)
    model.geotune_columns_ = mask
    return model


def columns_of(model, x: np.ndarray) -> np.ndarray:
    mask = getattr(model, "geotune_columns_", None)
    return x if mask is None else x[:, mask]


def fit(x: np.ndarray, y: np.ndarray, seed: int = 42, sample_weight: np.ndarray | None = None,
        categorical_mask: np.ndarray | None = None, n_threads: int | None = None, **params):
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=threads(n_threads), user_api=None):
        return fit_measured(make_model(seed, categorical_mask, **params), x, y, sample_weight=sample_weight)


def predict_proba(model, x: np.ndarray, n_classes: int, n_threads: int | None = None) -> np.ndarray:
    """Probabilities over all ``n_classes`` (a class absent from a training fold gets 0)."""
    from threadpoolctl import threadpool_limits

    proba = np.zeros((len(x), n_classes), dtype=float)
    with threadpool_limits(limits=threads(n_threads), user_api=None):
        proba[:, model.classes_.astype(int)] = model.predict_proba(columns_of(model, x))
    return proba


def to_bytes(model) -> bytes:
    import skops.io as sio

    return sio.dumps(model)


def from_bytes(payload: bytes, where=None, trusted_types: set[str] = TRUSTED_TYPES):
    """Load a .skops model after checking that it holds only the types such a model is made of."""
    import skops.io as sio

    try:
        untrusted = set(sio.get_untrusted_types(data=payload))
    except Exception as exc:  # noqa: BLE001 - a damaged file can fail in many ways
        raise ModelError(f"cannot be read as a skops file ({exc})", where) from exc
    unexpected = sorted(untrusted - trusted_types)
    if unexpected:
        raise ModelError(f"refusing to load: the skops file contains unexpected types {unexpected}", where)
    try:
        return sio.loads(payload, trusted=sorted(untrusted))
    except Exception as exc:  # noqa: BLE001
        raise ModelError(f"cannot be loaded ({exc})", where) from exc
