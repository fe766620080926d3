"""Shared by the web-app tests: an untrained (random-weight) classifier run and a server on a free port."""

from __future__ import annotations

import contextlib
import threading

import numpy as np

CLASSES = ["chaotic", "fault", "horizon", "salt"]


def untrained_classifier_run(folder):
    """A valid classify model directory in a second: random weights, nothing trained (predictions are
    still a real forward pass, which is all the web app needs)."""
    import torch

    from geotune import modeldir
    from geotune.models.classifier import build_classifier

    torch.manual_seed(0)
    config = {"task": "classify", "backbone": "tf_efficientnet_lite0", "in_chans": 1, "classes": CLASSES,
              "head": "linear", "image_size": 32, "scaling": "range", "strategy": "linear-probe"}
    model, _ = build_classifier(config, pretrained=False)
    config["mean"] = model.normalize.mean.flatten().tolist()
    config["std"] = model.normalize.std.flatten().tolist()
    modeldir.save(folder / "model", config, model.state_dict(), {"accuracy": 0.5, "macro_f1": 0.4})
    return folder


def plan_folder(folder):
    from geotune.report.sections.markup import array_png

    folder.mkdir(parents=True)
    (folder / "plan.csv").write_text("rank,x,y,expected_value\n1,10.0,20.0,2.5\n2,30.0,40.0,1.5\n")
    picture = array_png(np.random.default_rng(3).integers(0, 255, (20, 30, 3), dtype=np.uint8))
    (folder / "plan.png").write_bytes(picture)
    return folder, picture


@contextlib.contextmanager
def running_server(runs, **options):
    """The app on 127.0.0.1 at a free port, shut down when the block ends."""
    from geotune.serve.app import make_server

    server = make_server(runs, host="127.0.0.1", port=0, **options)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def untrained_segmenter_run(folder, data: str | None = None, labels: str | None = None):
    """A valid segment model directory with random weights (a U-Net on EfficientNet-Lite0, 32 px windows)."""
    import torch

    from geotune import modeldir
    from geotune.data import seismic
    from geotune.models.segmentation import build_segmentation_model

    torch.manual_seed(0)
    classes = ["background", "fault", "salt"]
    model = build_segmentation_model("tf_efficientnet_lite0", len(classes), 1, "unet")
    config = {"task": "segment", "backbone": "tf_efficientnet_lite0", "arch": "unet", "in_chans": 1,
              "classes": classes, "image_size": 32, "overlap": 0.5, "normalisation": seismic.normalisation_spec(99.0),
              "train": {"data": data, "labels": labels, "out": str(folder)}}
    modeldir.save(folder / "model", config, model.state_dict(), {"mean_iou": 0.3})
    return folder
