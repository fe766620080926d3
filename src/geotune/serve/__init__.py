"""The local web app (`geotune serve`): upload a file to see a model's prediction and where it looked,
browse runs and their reports, view prospectivity maps and plans. Nothing here is imported by the core."""
