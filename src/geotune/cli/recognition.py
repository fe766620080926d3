"""Recognition commands: train, evaluate, predict, export, suggest, models, demo."""

from __future__ import annotations

import argparse
import json
import sys


def register(sub) -> None:
    _register_train(sub)
    _register_evaluate(sub)
    _register_predict(sub)
    _register_export(sub)
    _register_suggest(sub)
    models = sub.add_parser("models", help="list backbones and which have weights offline here")
    models.add_argument("--json", action="store_true", help="print JSON instead of a table")
    models.set_defaults(func=_models)
    demo = sub.add_parser("demo", help="fine-tune on built-in synthetic seismic and compare with random init")
    demo.add_argument("--task", default="classify", choices=["classify", "segment"])
    demo.add_argument("--out", default="demo_run", help="folder for the demo's runs (default: demo_run)")
    demo.add_argument("--quick", action="store_true", help="a smaller, faster demo (for tests)")
    demo.set_defaults(func=_demo)


def _register_train(sub) -> None:
    p = sub.add_parser(
        "train",
        help="fine-tune a pretrained backbone (or a log model) and write RUN/model",
        argument_default=argparse.SUPPRESS,
        description="Options not given come from --config (when given), else the defaults.",
    )
    p.add_argument("--data", help="image folder, train_data.npy, CSV manifest, SEG-Y/npy volume, or logs CSV/LAS dir")
    p.add_argument("--labels", help="labels .npy (beside --data .npy) or label volume/masks for --task segment")
    p.add_argument("--out", help="run folder; the model goes to OUT/model")
    p.add_argument("--task", choices=["classify", "segment", "logs", "fusion"])
    p.add_argument("--backbone", help="timm model name (see `geotune models`)")
    p.add_argument("--weights", help="a local pretrained weights file (.safetensors or .pth state dict)")
    p.add_argument("--no-pretrained", dest="pretrained", action="store_false", help="start from random weights")
    p.add_argument("--strategy", choices=["linear-probe", "gradual", "full"])
    p.add_argument("--head", choices=["linear", "seed"])
    p.add_argument("--recipe", choices=["seed"], help="the Keras recipe: frozen base, Dense(1024) head, Adam 1e-3")
    p.add_argument("--epochs", type=int)
    p.add_argument("--batch-size", dest="batch_size", type=int)
    p.add_argument("--lr", type=float)
    p.add_argument("--val-split", dest="val_split", type=float)
    p.add_argument("--group-by", dest="group_by", help="column whose groups never straddle train and validation")
    p.add_argument("--cv", choices=["logo"], help="leave-one-group-out evaluation over --group-by")
    p.add_argument("--seed", type=int)
    p.add_argument("--image-size", dest="image_size", type=int, help="input size in pixels (default: backbone's)")
    p.add_argument("--augment-views", dest="augment_views", type=int, help="linear-probe: cached augmented views")
    p.add_argument("--no-augment", dest="augment", action="store_false")
    p.add_argument("--calibrate", action="store_true", help="fit temperature scaling on the validation split")
    p.add_argument("--precision", help="32-true (default), bf16-mixed, 16-mixed")
    p.add_argument("--accelerator", help="auto, cpu, gpu")
    p.add_argument("--devices", type=int)
    p.add_argument("--num-nodes", dest="num_nodes", type=int)
    p.add_argument("--workers", type=int, help="data-loading worker processes")
    p.add_argument("--patience", type=int, help="early stopping patience in epochs")
    p.add_argument("--class-weights", dest="class_weights", action="store_true")
    p.add_argument("--loss", help="segment: ce, dice, focal or dice+ce")
    p.add_argument("--label-column", dest="label_column", help="logs: the facies/label column")
    p.add_argument("--depth-column", dest="depth_column", help="logs: the depth column")
    p.add_argument("--model-type", dest="model_type", help="logs: trees (default: gradient boosting and a random "
                   "forest, probabilities averaged), gbm, cnn, or ensemble (gbm and cnn)")
    p.add_argument("--smooth", type=int, help="logs: with --decode smooth, average class probabilities over this many "
                   "depth samples (default 5, 0 for none); given alone, it selects --decode smooth")
    p.add_argument("--decode", choices=["hmm", "smooth", "none"],
                   help="logs: depth-sequence decoding of class probabilities: hmm (default; facies transitions "
                        "counted in the training wells, forward-backward posteriors), smooth (moving average) or none")
    p.add_argument("--patches", help="fusion: .npy aligned with --data rows, patches (n,H,W) or embeddings (n,d)")
    p.add_argument("--fusion-mode", dest="fusion_mode", choices=["late", "early"], help="fusion: late (default) or early")
    p.add_argument("--unlabelled", help="unlabelled data of the same kind for semi-supervised learning")
    p.add_argument("--noisy-labels", dest="noisy_labels", choices=["detect", "downweight"])
    p.add_argument("--fewshot", choices=["auto", "on"],
                   help="few labels: pick the head by internal validation (auto: when a class has <= 20 samples)")
    p.add_argument("--config", help="YAML file with any of these options (a run's saved config replays it)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run from its last checkpoint")
    p.set_defaults(func=_train)


def _train(args) -> int:
    from ..api import train
    from ..config import TrainConfig
    from ..errors import ConfigError

    given = {k: v for k, v in vars(args).items() if k not in ("func", "command", "verbose", "config")}
    config_file = getattr(args, "config", None)
    cfg = TrainConfig.from_yaml(config_file) if config_file else TrainConfig()
    values = cfg.to_dict()
    if "backbone" in given:
        values.setdefault("extra", {})["backbone_explicit"] = True
    values.update(given)
    cfg = TrainConfig.from_dict(values)
    if cfg.recipe:
        cfg.apply_recipe()
    if not cfg.data:
        raise ConfigError("--data is required (or give it in --config)")
    if not cfg.out:
        raise ConfigError("--out is required (or give it in --config)")
    summary = train(cfg.validate())
    _print_summary(summary)
    return 0


def _print_summary(summary: dict) -> None:
    metrics = summary.get("metrics") or {}
    if "cv" in summary:
        cv = summary["cv"]
        print(f"leave-one-group-out ({cv['summary']['n_groups']} groups): "
              f"{cv['summary']['metric']} mean {cv['summary']['mean']:.3f} ± {cv['summary']['std']:.3f}")
        for group, scores in cv["per_group"].items():
            print(f"  {group}: {cv['summary']['metric']} {scores[cv['summary']['metric']]:.3f}")
    if metrics:
        shown = {k: metrics[k] for k in ("accuracy", "macro_f1", "ece") if k in metrics}
        print("validation: " + ", ".join(f"{k} {v:.3f}" for k, v in shown.items()))
    if summary.get("note"):
        print(summary["note"])
    print(f"model written to {summary['model_dir']}  (see: geotune report {summary['model_dir']})")


def _register_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="score a model on labelled data; writes metrics.json and plots")
    p.add_argument("model", help="RUN or RUN/model")
    p.add_argument("--data", required=True)
    p.add_argument("--labels")
    p.add_argument("--patches", help="fusion models: the .npy of patches or embeddings aligned with --data")
    p.add_argument("--out", help="folder for metrics.json, confusion_matrix.png, reliability.png")
    p.set_defaults(func=_evaluate)


def _evaluate(args) -> int:
    from ..api import evaluate

    options = {"patches": args.patches} if args.patches else {}
    metrics = evaluate(args.model, args.data, labels=args.labels, out=args.out, **options)
    shown = {k: metrics[k] for k in ("accuracy", "macro_f1", "micro_f1", "ece", "mean_iou", "map_iou") if k in metrics}
    print(", ".join(f"{k} {v:.4f}" for k, v in shown.items()))
    if args.out:
        print(f"metrics and plots written to {args.out}")
    return 0


def _register_predict(sub) -> None:
    p = sub.add_parser("predict", help="predict; output chosen by extension: .csv, .npy, .sgy, .tif")
    p.add_argument("model", help="RUN or RUN/model")
    p.add_argument("input", help="image folder, image, .npy, CSV manifest, SEG-Y, GeoTIFF, LAS or logs CSV")
    p.add_argument("--out", required=True)
    p.add_argument("--batch-size", dest="batch_size", type=int, default=64)
    p.add_argument("--engine", choices=["auto", "onnx", "torch"], default="auto",
                   help="auto uses ONNX Runtime when installed and an export exists")
    p.add_argument("--output", choices=["class", "proba"], default="class",
                   help="segment: write the class per sample or the probability of --proba-class")
    p.add_argument("--proba-class", dest="proba_class", type=int, help="segment: class index for --output proba")
    p.add_argument("--crossline", action="store_true", help="segment, 3D SEG-Y: also predict along crosslines")
    p.add_argument("--patches", help="fusion models: the .npy of patches or embeddings aligned with the input rows")
    p.set_defaults(func=_predict)


def _predict(args) -> int:
    from ..api import predict

    out = predict(args.model, args.input, args.out, batch_size=args.batch_size, engine=args.engine,
                  output=args.output, proba_class=args.proba_class, crossline=args.crossline,
                  **({"patches": args.patches} if args.patches else {}))
    print(f"predictions written to {out}")
    return 0


def _register_export(sub) -> None:
    p = sub.add_parser("export", help="export a model to ONNX (validated against PyTorch)")
    p.add_argument("model", help="RUN or RUN/model")
    p.add_argument("--format", choices=["onnx"], default="onnx")
    p.set_defaults(func=_export)


def _export(args) -> int:
    from ..predict.onnx_export import export_onnx

    report = export_onnx(args.model)
    print(f"wrote {report['path']} (max abs difference to PyTorch {report['max_abs_diff']:.2e})")
    return 0


def _register_suggest(sub) -> None:
    p = sub.add_parser("suggest", help="rank unlabelled samples to label next (active learning)")
    p.add_argument("model", help="RUN or RUN/model")
    p.add_argument("--pool", required=True, help="unlabelled images, folder or .npy")
    p.add_argument("--n", type=int, default=20)
    p.add_argument("--out", default="suggestions.csv")
    p.add_argument("--method", choices=["margin", "entropy", "diverse"], default="diverse")
    p.set_defaults(func=_suggest)


def _suggest(args) -> int:
    from ..fewlabels.active import suggest_to_file

    out = suggest_to_file(args.model, args.pool, n=args.n, out=args.out, method=args.method)
    print(f"{args.n} suggestions written to {out}")
    return 0


def _models(args) -> int:
    from ..models.backbones import list_backbones

    rows = list_backbones()
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    print(f"{'backbone':28} {'offline weights':16} {'input':6} {'mean':22} {'std':22}")
    for row in rows:
        mean = ",".join(f"{m:.3f}" for m in row["mean"])
        std = ",".join(f"{s:.3f}" for s in row["std"])
        print(f"{row['name']:28} {row['offline']:16} {row['input_size']:<6} {mean:22} {std:22}")
    return 0


def _demo(args) -> int:
    from ..demo import run_demo

    run_demo(task=args.task, out=args.out, quick=args.quick)
    return 0
