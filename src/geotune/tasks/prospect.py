"""Prospectivity: evidence rasters and known deposits -> a probability map (weights of evidence or ML)."""

from . import Task, register_task

PROSPECT = register_task(Task(
    name="prospect",
    summary="a prospectivity map from evidence rasters and known deposits (weights of evidence, ML)",
    trainer=None,
    trained_by="geotune prospect fit",
    model_class="geotune.prospect.model:ProspectModel",
    inputs="evidence GeoTIFFs on one grid, deposits as CSV, GeoJSON, shapefile, GeoPackage or a GeoTIFF of deposit cells",
    predict_outputs=(".tif", ".tiff"),
    predict_options=(),
    report_sections=("prospect",),
))
