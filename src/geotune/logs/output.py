"""Prediction tables: one row per input row, its identifying columns, the decision and every class's probability."""

from __future__ import annotations

import numpy as np
import pandas as pd


def write_table_predictions(raw: pd.DataFrame, keep, classes, proba: np.ndarray, out, decided=None, columns=None):
    """CSV of one row per input row: the identifying columns ``keep`` (None skipped), ``predicted`` and
    one ``proba_<class>`` column per class, then ``columns`` (name -> values), written atomically."""
    from .._atomic import atomic_file

    table = pd.DataFrame(index=range(len(raw)))
    for name in keep:
        if name is not None and name not in table.columns:
            table[name] = raw[name].to_numpy()
    table["predicted"] = np.asarray(classes, dtype=object)[proba.argmax(1) if decided is None else decided]
    for i, name in enumerate(classes):
        table[f"proba_{name}"] = proba[:, i]
    for name, values in (columns or {}).items():
        table[name] = values
    with atomic_file(out, newline="") as handle:
        table.to_csv(handle, index=False, float_format="%.5g")
    return out
