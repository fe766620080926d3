"""Well logs (or any table) fused with a seismic or image patch per row."""

from . import Task, register_task

FUSION = register_task(Task(
    name="fusion",
    summary="a class per table row from its columns and an aligned patch or embedding (--patches)",
    trainer="geotune.training.fusion:fit",
    model_class="geotune.predict.fusion:FusionModel",
    inputs="a CSV/Parquet table with --label-column, and --patches .npy aligned row by row",
    predict_outputs=(".csv",),
    predict_options=("patches",),
    options=("label_column", "depth_column", "exclude", "patches", "fusion_mode"),
    report_sections=(),
))
