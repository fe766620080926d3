"""Lithofacies from well logs (LAS or CSV), one prediction per depth sample."""

from . import Task, register_task

LOGS = register_task(Task(
    name="logs",
    summary="a facies per depth sample from well logs (LAS files, a folder of them, or a CSV table)",
    trainer="geotune.logs.pipeline:fit",
    model_class="geotune.logs.model:LogsModel",
    inputs="a CSV/Parquet table with --label-column, a LAS file, or a folder of LAS files",
    predict_outputs=(".csv",),
    predict_options=("allow_missing_curves", "skip_bad"),
    options=("label_column", "depth_column", "exclude", "model_type", "smooth", "decode", "aliases", "well_column",
             "features", "windows", "curve_features", "shifts", "normalise", "impute", "adjacency", "window", "width", "score_exclude",
             "gbm_params", "forest_params", "max_rows_per_well", "cost_matrix", "cost_classes", "cv_group",
             "cv_min_wells", "cv_blocks", "refit"),
    report_sections=("logs", "logs_shift"),
    web_inputs=frozenset({".csv"}),
    web_handler="geotune.serve.predict:predict_logs",
))
