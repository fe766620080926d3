"""Recognition commands: train, evaluate, predict, export, suggest, models, demo."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub) -> None:
    from ..tasks import all_tasks

    _register_train(sub)
    _register_evaluate(sub)
    _register_predict(sub)
    _register_export(sub)
    _register_suggest(sub)
    models = sub.add_parser("models", help="list backbones, which have weights offline here, and what they cost")
    models.add_argument("--json", action="store_true", help="print JSON instead of a table")
    models.add_argument("--speed", action="store_true",
                        help="also measure forward images/s of each at its input size on this machine (seconds each)")
    models.set_defaults(func=_models)
    demo = sub.add_parser("demo", help="fine-tune on built-in synthetic seismic and compare with random init",
                          formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    demo.add_argument("--task", default="classify", choices=[t.name for t in all_tasks() if t.demo],
                      help="classify: seismic patches; segment: pixel masks of synthetic sections")
    demo.add_argument("--out", default="demo_run", help="folder for the demo's runs")
    demo.add_argument("--quick", action="store_true", help="a smaller, faster demo (for tests)")
    demo.set_defaults(func=_demo)


def _register_train(sub) -> None:
    from ..tasks import all_tasks

    tasks = [t for t in all_tasks() if t.trainer is not None]
    listing = "\n".join(f"  {t.name:9} {t.summary}\n            data: {t.inputs}" for t in tasks)
    p = sub.add_parser(
        "train",
        help="fine-tune a pretrained backbone (or a log model) and write RUN/model",
        argument_default=argparse.SUPPRESS,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Options not given come from --config (when given), else the defaults shown.\n\n"
                    f"Tasks (--task):\n{listing}",
    )
    add_config_options(p, tasks)
    p.add_argument("--config", help="YAML file with any of these options (a run's saved run.yaml replays it)")
    p.set_defaults(func=_train)


def add_config_options(parser, tasks) -> None:
    """One command-line option per TrainConfig field, grouped by the tasks it applies to; help, default and
    choices all come from the typed config, so the two cannot disagree."""
    import types
    import typing

    from ..config import TrainConfig, flag, task_specific_options

    owned = task_specific_options()
    groups = {"common": parser.add_argument_group("options of every task")}
    for task in tasks:
        groups[task.name] = parser.add_argument_group(f"--task {task.name}")
    for name, field in TrainConfig.model_fields.items():
        if not (field.json_schema_extra or {}).get("cli", True):
            continue
        home = "common" if name not in owned else next(t.name for t in tasks if name in t.options)
        group = groups[home]
        default = field.get_default(call_default_factory=True)
        shared_with = [t.name for t in tasks if name in t.options and t.name != home]
        help_text = field.description + (f" [also --task {', '.join(shared_with)}]" if shared_with else "")
        kind = field.annotation
        if kind is bool:
            if default:
                group.add_argument(flag(f"no_{name}"), dest=name, action="store_false",
                                   help=f"{help_text} (default: on)")
            else:
                group.add_argument(flag(name), dest=name, action="store_true", help=help_text)
            continue
        args = [kind] if typing.get_origin(kind) not in (typing.Union, types.UnionType) else [
            a for a in typing.get_args(kind) if a is not type(None)]
        stated = default not in (None, [], {}) and "(default" not in help_text  # None means "worked out", said in words
        options: dict = {"dest": name, "help": help_text + (f" (default: {default})" if stated else "")}
        if name == "task":
            options["choices"] = [t.name for t in tasks]
        elif typing.get_origin(args[0]) is typing.Literal:
            options["choices"] = list(typing.get_args(args[0]))
        elif typing.get_origin(args[0]) is list:
            options["nargs"] = "+"
            options["type"] = typing.get_args(args[0])[0]
        elif args[0] in (int, float):
            options["type"] = args[0]
        if "choices" in options:
            options["metavar"] = "{" + ",".join(options["choices"]) + "}"
        group.add_argument(flag(name), **options)


def _train(args) -> int:
    from ..api import train
    from ..config import TrainConfig
    from ..errors import ConfigError

    given = {k: v for k, v in vars(args).items() if k not in ("func", "command", "verbose", "config")}
    config_file = getattr(args, "config", None)
    values = TrainConfig.from_yaml(config_file).model_dump(exclude_unset=True) if config_file else {}
    values.update(given)
    cfg = TrainConfig.from_dict(values, config_file).apply_recipe()
    if not cfg.data:
        raise ConfigError("--data is required (or give it in --config)")
    if not cfg.out:
        raise ConfigError("--out is required (or give it in --config)")
    summary = train(cfg)
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
        print(validation_line(metrics))
        if isinstance(metrics.get("iou"), dict):  # segmentation: which classes the mean hides
            print("  IoU per class: " + ", ".join(f"{name} {value:.3f}" for name, value in metrics["iou"].items()))
        for caveat in validation_caveats(summary, metrics):
            print(f"  note: {caveat}")
    if summary.get("note"):
        print(summary["note"])
    if summary.get("model_dir"):
        print(f"model written to {summary['model_dir']}  (see: geotune report {summary['model_dir']})")
    else:  # e.g. logs with refit false: held-out scores only
        print("no model saved")


def validation_line(metrics: dict) -> str:
    """The headline scores and how many samples (pixels, sections, rows) stand behind them."""
    shown = {k: metrics[k] for k in ("accuracy", "macro_f1", "mean_iou", "map_iou", "ece")
             if isinstance(metrics.get(k), (int, float))}
    line = "validation: " + ", ".join(f"{k} {v:.3f}" for k, v in shown.items())
    if "n_val_sections" in metrics:
        return line + f" on {metrics['n_val_sections']} validation sections ({metrics.get('n_pixels', '?')} pixels)"
    if isinstance(metrics.get("n_samples"), int):
        return line + f" on {metrics['n_samples']} validation samples"
    return line


def validation_caveats(summary: dict, metrics: dict) -> list[str]:
    """What a reader of the score should know: tiny validation sets, unused pseudo-labels, how the split was made."""
    notes = []
    n = metrics.get("n_samples")
    if isinstance(n, int) and n < 30:
        notes.append(f"only {n} validation samples: one more right or wrong moves accuracy by {1 / max(n, 1):.2f}")
    evaluated = str(metrics.get("evaluated_on", ""))
    if evaluated == "validation split":
        notes.append("random split: overlapping patches or neighbouring samples on both sides flatter the score; "
                     "give groups (--group-by COLUMN for manifests and tables, --groups FILE.npy for arrays)")
    held_out = metrics.get("held_out_groups")
    if held_out:
        shown = ", ".join(map(str, held_out[:8])) + (f" and {len(held_out) - 8} more" if len(held_out) > 8 else "")
        notes.append(f"held out for validation: {shown}")
    unlabelled = summary.get("unlabelled") or {}
    if isinstance(unlabelled, dict) and unlabelled.get("n_used") == 0:
        notes.append("no pseudo-labels were used: internal validation scored the head better without them")
    noisy = summary.get("noisy_labels") or {}
    if isinstance(noisy, dict) and noisy.get("file"):
        notes.append(f"suspect labels written to {noisy['file']}")
    return notes


def _register_evaluate(sub) -> None:
    p = sub.add_parser("evaluate", help="score a model on labelled data; writes metrics.json and plots")
    p.add_argument("model", help="RUN or RUN/model")
    p.add_argument("--data", required=True, help="labelled data of the kind the model was trained on "
                   "(prospect models: deposits)")
    p.add_argument("--labels", help="labels .npy / masks, where the data does not hold them")
    p.add_argument("--patches", help="fusion models: the .npy of patches or embeddings aligned with --data")
    p.add_argument("--out", help="folder for metrics.json (every task) and plots: confusion_matrix.png and "
                   "reliability.png (classify); confusion_matrix.png (pixel shares per true class), iou.png (IoU "
                   "per class) and example.png (the most labelled section, true and predicted classes) (segment)")
    p.set_defaults(func=_evaluate)


def _evaluate(args) -> int:
    from ..api import evaluate

    options = {"patches": args.patches} if args.patches else {}
    metrics = evaluate(args.model, args.data, labels=args.labels, out=args.out, **options)
    shown = {k: metrics[k] for k in ("accuracy", "macro_f1", "micro_f1", "ece", "mean_iou", "map_iou", "auc")
             if k in metrics}
    print(", ".join(f"{k} {v:.4f}" for k, v in shown.items()))
    if args.out:
        print(f"metrics and plots written to {args.out}")
    return 0


def _register_predict(sub) -> None:
    from ..tasks import all_tasks

    outputs = "; ".join(f"{t.name}: {' '.join(t.predict_outputs)}" for t in all_tasks())
    p = sub.add_parser(
        "predict", help="predict; output chosen by extension: .csv, .npy, .sgy, .tif",
        argument_default=argparse.SUPPRESS,
        description="The output format follows --out's extension. .csv: one row per input, in input order, "
                    "'predicted' and one probability column per class, identifying columns kept. .npy: classes "
                    "(or probabilities), class names in a .json beside it. .sgy: the input's geometry and headers. "
                    f".tif: the input's georeference. By task: {outputs}.")
    p.add_argument("model", help="RUN or RUN/model")
    p.add_argument("input", help="image folder, image, .npy, CSV manifest, SEG-Y, GeoTIFF, LAS or logs CSV; "
                   "prospect models: the run itself or a folder of evidence rasters")
    p.add_argument("--out", required=True, help="output file; its extension picks the format")
    p.add_argument("--batch-size", dest="batch_size", type=int, help="classify, segment: samples per batch (default 64)")
    p.add_argument("--engine", choices=["auto", "onnx", "torch"],
                   help="classify: auto (default) uses ONNX Runtime when installed and an export exists")
    p.add_argument("--output", choices=["class", "proba"],
                   help="segment: write the class per sample (default) or the probability of --proba-class")
    p.add_argument("--proba-class", dest="proba_class", type=int, help="segment: class index for --output proba")
    p.add_argument("--crossline", action="store_true", help="segment, 3D SEG-Y: also predict along crosslines")
    p.add_argument("--overlap", type=float, help="segment: overlap of the sliding windows, 0 to <1 (default: the "
                   "model's, 0.5); 0 predicts about 4x faster with visible seams")
    p.add_argument("--patches", help="fusion: the .npy of patches or embeddings aligned with the input rows")
    p.add_argument("--allow-missing-curves", dest="allow_missing_curves", action="store_true",
                   help="logs: predict even from an input that holds none of the model's curves (refused otherwise)")
    p.add_argument("--skip-bad", dest="skip_bad", action="store_true",
                   help="logs, a folder of LAS files: predict the readable wells and list the unreadable files "
                        "(a warning and OUT.skipped.json) instead of stopping at the first")
    p.set_defaults(func=_predict)


def _predict(args) -> int:
    from ..api import predict

    options = {k: v for k, v in vars(args).items() if k not in ("func", "command", "verbose", "model", "input", "out")}
    out = predict(args.model, args.input, args.out, **options)
    skipped = Path(out).with_suffix(".skipped.json")  # --skip-bad: the files left out (logs/batch.py)
    listed = options.get("skip_bad") and skipped.is_file()
    print(f"predictions written to {out}" + (f"; unreadable files left out are listed in {skipped}" if listed else ""))
    return 0


def _register_export(sub) -> None:
    from .help_format import DefaultsHelpFormatter

    p = sub.add_parser("export", help="export a model to ONNX (validated against PyTorch)",
                       formatter_class=DefaultsHelpFormatter)
    p.add_argument("model", help="RUN or RUN/model")
    p.add_argument("--format", choices=["onnx"], default="onnx",
                   help="onnx: RUN/model/model.onnx, checked to match PyTorch's output")
    p.set_defaults(func=_export)


def _export(args) -> int:
    from ..predict.onnx_export import export_onnx

    report = export_onnx(args.model)
    print(f"wrote {report['path']} (max abs difference to PyTorch {report['max_abs_diff']:.2e})")
    return 0


def _register_suggest(sub) -> None:
    from .help_format import DefaultsHelpFormatter

    p = sub.add_parser("suggest", help="rank unlabelled samples to label next (active learning)",
                       formatter_class=DefaultsHelpFormatter,
                       description="Ranks the unlabelled samples of --pool by how much labelling each would teach "
                                   "an image classifier (task classify), and writes the top --n to a CSV.")
    p.add_argument("model", help="RUN or RUN/model of an image classifier")
    p.add_argument("--pool", required=True, help="unlabelled images, folder or .npy")
    p.add_argument("--n", type=int, default=20, help="how many samples to suggest")
    p.add_argument("--out", default="suggestions.csv",
                   help="CSV of the suggestions, best first: rank, id, the pool's path or index, score, "
                        "predicted class and its probability")
    p.add_argument("--method", choices=["margin", "entropy", "diverse"], default="diverse",
                   help="margin: smallest gap between the two most probable classes; entropy: most spread "
                        "probabilities; diverse: the most uncertain, spread over the feature space so that "
                        "near-duplicates are not all picked")
    p.set_defaults(func=_suggest)


def _suggest(args) -> int:
    from ..fewlabels.active import suggest_to_file

    out = suggest_to_file(args.model, args.pool, n=args.n, out=args.out, method=args.method)
    print(f"{args.n} suggestions written to {out}")
    return 0


def _models(args) -> int:
    from ..models.backbones import list_backbones

    rows = list_backbones(costs=True, speed=args.speed)
    if args.json:
        json.dump(rows, sys.stdout, indent=2)
        print()
        return 0
    speed = f" {'img/s':>6}" if args.speed else ""
    print(f"{'backbone':24} {'input':5} {'params':>7}{speed}  {'offline weights':40} note")
    for row in rows:
        rate = f" {row['images_per_s']:6.1f}" if args.speed else ""
        print(f"{row['name']:24} {row['input_size']:<5} {row['params_m']:6.1f}M{rate}  {row['offline']:40} {row['note']}")
    return 0


def _demo(args) -> int:
    from ..demo import run_demo

    run_demo(task=args.task, out=args.out, quick=args.quick)
    return 0
