"""Real data: few-shot on LANDMASS-1 with 10 labelled patches per class (a small, fast version of the benchmark)."""

from __future__ import annotations

import numpy as np


def test_fewshot_beats_chance_by_far_with_ten_labels_per_class(tmp_path, shared_dataset):
    import torch

    from geotune.data.samples import load_samples
    from geotune.fewlabels.fewshot import fit_fewshot
    from geotune.training.features import extract_features
    from geotune.models.classifier import build_classifier

    npz = shared_dataset("landmass1_subset_2000") / "landmass1_subset_99x99.npz"
    archive = np.load(npz)
    y_all = archive["y"]
    rng = np.random.default_rng(0)
    train = np.concatenate([rng.choice(np.where(y_all == c)[0][:375], 10, replace=False) for c in range(4)])
    test = np.concatenate([rng.choice(np.where(y_all == c)[0][-125:], 25, replace=False) for c in range(4)])
    np.save(tmp_path / "subset.npy", archive["X"][np.concatenate([train, test])])  # resize only these 140
    samples = load_samples(tmp_path / "subset.npy", image_size=64, require_labels=False)
    model, _ = build_classifier({"backbone": "tf_efficientnet_lite0", "in_chans": 1, "classes": list("abcd"),
                                 "head": "linear"}, pretrained=True)
    torch.manual_seed(0)
    features = extract_features(model, samples.x).numpy()
    head = fit_fewshot(features[:40], y_all[train], seed=0)
    accuracy = float((head.predict(features[40:]) == y_all[test]).mean())
    assert accuracy >= 0.8, f"few-shot accuracy {accuracy:.3f} with 10 labels per class"
