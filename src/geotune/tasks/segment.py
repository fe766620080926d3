"""Pixel segmentation of seismic sections and volumes (faults, salt, facies) or any single-band images."""

from . import Task, register_task

SEGMENT = register_task(Task(
    name="segment",
    summary="a class per pixel of seismic sections or SEG-Y volumes (faults, salt, facies)",
    trainer="geotune.training.segment:fit",
    model_class="geotune.predict.segmenter:Segmenter",
    inputs="sections .npy/.npz (N x H x W) or a SEG-Y volume, with --labels masks of the same shape",
    predict_outputs=(".npy", ".sgy", ".segy", ".tif", ".tiff"),
    predict_options=("batch_size", "output", "proba_class", "crossline", "overlap", "progress"),
    options=("backbone", "weights", "pretrained", "image_size", "augment", "weight_decay", "loss", "class_names",
             "arch", "clip_percentile", "split", "max_minutes", "max_steps", "threads"),
    report_sections=("segment",),
    web_inputs=frozenset({".npy", ".sgy", ".segy"}),
    web_handler="geotune.serve.predict:predict_segment",
    demo=True,
))
