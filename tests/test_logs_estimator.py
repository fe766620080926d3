"""The logs model as a scikit-learn-style estimator on a table."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from geotune.errors import ConfigError
from geotune.logs.estimator import LogsClassifier
from geotune.logs.las import LogsWarning
from geotune.logs.synthetic import make_wells

FAST = dict(gbm_params={"max_iter": 15}, forest_params={"n_estimators": 15})


def test_fit_predict_on_a_table_and_compose_with_scikit_learn():
    from sklearn.base import clone
    from sklearn.model_selection import GroupKFold, cross_val_score

    table = make_wells(4, 80, seed=21, missing_pe_wells=2)
    wells = table["Well Name"].to_numpy()
    train, test = wells != "WELL-4", wells == "WELL-4"
    x, y = table.drop(columns="Facies"), table["Facies"].to_numpy()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        model = LogsClassifier(well="Well Name", depth="Depth", **FAST).fit(x[train], y[train])
        shuffled = x[test].sample(frac=1.0, random_state=0)  # input order is kept, whatever it is
        proba = model.predict_proba(shuffled)
        assert model.classes_ == ["limestone", "sandstone", "shale", "siltstone"]
        assert proba.shape == (80, 4) and np.allclose(proba.sum(1), 1)
        predicted = model.predict(shuffled)
        assert np.mean(predicted == y[test][shuffled.index - np.flatnonzero(test)[0]]) > 0.6
        assert "PE" in model.imputers_  # WELL-3 (training) and WELL-4 lack PE: estimated
        # a cost matrix that makes every class but limestone free to predict: nothing else is ever chosen
        cost = np.ones((4, 4))
        cost[:, 0] = 0.0
        assert set(clone(model).set_params(cost_matrix=cost).fit(x[train], y[train]).predict(x[test])) == {"limestone"}
        scores = cross_val_score(LogsClassifier(well="Well Name", depth="Depth", **FAST), x, y, groups=wells,
                                 cv=GroupKFold(2))
    assert len(scores) == 2 and scores.min() > 0.5


def test_an_unknown_model_type_is_refused():
    table = make_wells(2, 20)
    with pytest.raises(ConfigError, match="model_type must be one of"):
        LogsClassifier(well="Well Name", depth="Depth", model_type="svm").fit(table, table["Facies"])
