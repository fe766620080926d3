"""The boosting is a bag of models on interleaved rows: each sees every well, the bag saves and loads whole,
and a file holding one model (saved before bags) still predicts."""

import numpy as np

from geotune.logs import gbm


def _data(n=2 * gbm.MIN_BAG_ROWS * 3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    y = (x[:, 0] > 0).astype(int) + (x[:, 1] > 1)
    return x, y


def test_bags_take_interleaved_rows_so_each_sees_the_whole_depth_range():
    n = 4 * gbm.MIN_BAG_ROWS
    subsets = gbm.bag_rows(n, 4)
    assert len(subsets) == 4
    assert np.array_equal(np.sort(np.concatenate(subsets)), np.arange(n))  # every row in exactly one bag
    assert all(s[0] < 4 and s[-1] >= n - 4 for s in subsets)  # each spans the table, not one block of it
    assert len(gbm.bag_rows(n - 1, 4)) == 1  # too few rows for four: one model on all of them
    assert len(gbm.bag_rows(n, 1)) == 1


def test_a_bag_averages_its_models_and_survives_saving():
    x, y = _data()
    bag = gbm.fit(x, y, max_iter=20, bags=3)
    assert isinstance(bag, list) and len(bag) == 3
    assert sorted(m.random_state for m in bag) == [42, 43, 44]
    expected = np.mean([gbm.predict_proba(m, x, 3) for m in bag], axis=0)
    np.testing.assert_allclose(gbm.predict_proba(bag, x, 3), expected)
    # the members differ (other rows, other seeds), so the average is not any one of them
    assert not np.allclose(gbm.predict_proba(bag[0], x, 3), gbm.predict_proba(bag[1], x, 3))
    loaded = gbm.from_bytes(gbm.to_bytes(bag))
    np.testing.assert_array_equal(gbm.predict_proba(loaded, x, 3), gbm.predict_proba(bag, x, 3))
    assert (gbm.predict_proba(loaded, x, 3).argmax(1) == y).mean() > 0.9


def test_one_model_files_from_before_bags_still_load_and_predict():
    x, y = _data()
    single = gbm.fit(x, y, max_iter=20, bags=1)
    assert not isinstance(single, list)
    loaded = gbm.from_bytes(gbm.to_bytes(single))
    np.testing.assert_array_equal(gbm.predict_proba(loaded, x, 3), single.predict_proba(x))


def test_bags_fitted_and_predicted_side_by_side_equal_one_after_another():
    x, y = _data()
    one = gbm.predict_proba(gbm.fit(x, y, max_iter=20, bags=2, n_threads=1), x, 3, n_threads=1)
    bag = gbm.fit(x, y, max_iter=20, bags=2, n_threads=2)
    np.testing.assert_array_equal(one, gbm.predict_proba(bag, x, 3, n_threads=2))
    np.testing.assert_array_equal(one, gbm.predict_proba(bag, x, 3, n_threads=1))


def test_geotune_train_saves_the_bag_and_the_loaded_model_predicts_with_all_of_it(tmp_path):
    import warnings

    from geotune import modeldir
    from geotune.config import TrainConfig
    from geotune.logs.las import LogsWarning
    from geotune.logs.model import LogsModel
    from geotune.logs.pipeline import estimator_for, fit
    from geotune.logs.synthetic import make_wells

    table = make_wells(4, gbm.MIN_BAG_ROWS + 100, seed=3)  # enough rows for four bags on every well
    table.to_csv(tmp_path / "wells.csv", index=False)
    cfg = TrainConfig(data=str(tmp_path / "wells.csv"), task="logs", label_column="Facies", group_by="Well Name",
                      model_type="gbm", decode="none", out=str(tmp_path / "run"),
                      extra={"gbm_params": {"max_iter": 8}, "max_rows_per_well": 0})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LogsWarning)
        fit(cfg)
        path, config = modeldir.load_config(tmp_path / "run")
        model = LogsModel.load(path, config)
        saved = model.predict_proba(tmp_path / "wells.csv")
        estimator = estimator_for(cfg, "Well Name", "Depth").fit(table.drop(columns="Facies"), table["Facies"])
    bag = model.engine.model["gbm"]
    assert isinstance(bag, list) and len(bag) == gbm.BAGS
    assert np.abs(estimator.predict_proba(table.drop(columns="Facies")) - saved).max() < 1e-9
    x = np.random.default_rng(0).normal(size=(50, len(model.estimator.spec_.names())))
    members = [gbm.predict_proba(m, x, len(model.classes)) for m in bag]
    assert not np.allclose(members[0], members[1])  # four different models, not one saved four times
