"""Image and patch classification: lithology in photographs and thin sections, seismic patches."""

from . import Task, register_task

CLASSIFY = register_task(Task(
    name="classify",
    summary="one class per image or patch (rock photographs, thin sections, seismic patches)",
    trainer="geotune.training.classify:fit",
    model_class="geotune.predict.classifier:ImageClassifier",
    inputs="image folder (one sub-folder per class), CSV manifest (path,label[,group]), .npy/.npz arrays",
    predict_outputs=(".csv", ".npy"),
    predict_options=("batch_size", "engine"),
    options=("groups", "backbone", "weights", "pretrained", "image_size", "augment", "weight_decay", "strategy", "head",
             "recipe", "optimizer", "augment_views", "calibrate", "unfreeze_every", "lr_decay", "activation_cache",
             "cache_memory_gb", "unlabelled", "pseudo_threshold", "noisy_labels", "fewshot", "time_budget", "tta"),
    report_sections=("classify_data", "candidates", "mistakes", "explanations"),
    web_inputs=frozenset({".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp", ".npy"}),
    web_handler="geotune.serve.predict:predict_classify",
    demo=True,
))
