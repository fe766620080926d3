"""`geotune pretrain`: adapt a pretrained backbone to unlabelled data of the target survey (self-supervised)
and write a weights file for `geotune train --weights`."""

from __future__ import annotations

from .help_format import DefaultsHelpFormatter

METHOD_HELP = ("simsiam: two-view self-supervised training (crops, left-right flips, amplitude gain, band-limited "
               "noise) of the backbone's top --stages; bn: only recompute the batch-norm statistics on the data "
               "(AdaBN, one pass: the cheap baseline; on F3 faults it made frozen features worse)")
BATCHNORM_HELP = ("simsiam: keep the batch-norm statistics the backbone started with (they stay frozen while its "
                  "weights train), or recompute them on the data at the end (AdaBN; on F3 faults this cost the "
                  "frozen features most of their fault signal)")


def register(sub) -> None:
    p = sub.add_parser("pretrain", help="adapt a pretrained backbone to unlabelled data (self-supervised); write "
                                        "weights for `geotune train --weights`", formatter_class=DefaultsHelpFormatter)
    p.add_argument("--data", required=True, help="unlabelled data: SEG-Y (.sgy/.segy/.su), .npy/.npz patches, an "
                                                 "image folder or an image")
    p.add_argument("--out", required=True, help="weights file to write (.safetensors); checkpoints go to OUT.pretrain/")
    p.add_argument("--backbone", default="tf_efficientnet_lite0", help="timm model name (see `geotune models`); "
                                                                      "train with the same one")
    p.add_argument("--weights", help="start from this weights file instead of the backbone's ImageNet weights "
                                     "(e.g. an earlier pretrain's output)")
    p.add_argument("--method", default="simsiam", choices=["simsiam", "bn"], help=METHOD_HELP)
    p.add_argument("--minutes", type=float, default=20.0, help="wall-clock budget; training stops when it is spent")
    p.add_argument("--epochs", type=int, default=100, help="passes over the data at most (simsiam)")
    p.add_argument("--batch-size", type=int, default=32, help="patches per step (simsiam; at least 2)")
    p.add_argument("--lr", type=float, default=1e-4, help="backbone learning rate (simsiam; the projector gets 10x)")
    p.add_argument("--stages", default="2", help="simsiam: train only the backbone's top N parameter groups "
                                                 "(timm's stages; the head conv counts as one), or 'all'")
    p.add_argument("--batchnorm", default="keep", choices=["keep", "recompute"], help=BATCHNORM_HELP)
    p.add_argument("--image-size", type=int, help="input size in pixels (default: the backbone's); use the "
                                                  "--image-size you will train with")
    p.add_argument("--window", type=int, help="SEG-Y: window size in samples cut from the inlines "
                                              "(default: --image-size)")
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.add_argument("--resume", action="store_true", help="continue from OUT.pretrain/checkpoints/last.ckpt")
    p.add_argument("--workers", type=int, default=0, help="data-loading worker processes")
    p.add_argument("--accelerator", default="auto", choices=["auto", "cpu", "gpu", "cuda", "mps"],
                   help="where to train")
    p.set_defaults(func=_pretrain)


def _pretrain(args) -> int:
    from ..errors import ConfigError

    if not str(args.out).endswith(".safetensors"):
        raise ConfigError(f"--out {args.out}: the weights file must end in .safetensors")
    for name, value, low in (("--minutes", args.minutes, 0), ("--epochs", args.epochs, 0),
                             ("--batch-size", args.batch_size, 1), ("--lr", args.lr, 0)):
        if not value > low:
            raise ConfigError(f"{name} must be more than {low}, got {value}")
    stages = None if args.stages == "all" else (int(args.stages) if args.stages.isdigit() else 0)
    if stages is not None and stages < 1:
        raise ConfigError(f"--stages must be a whole number of at least 1 or 'all', got {args.stages}")
    if args.image_size is not None and args.image_size < 8:
        raise ConfigError(f"--image-size must be at least 8, got {args.image_size}")
    if args.window is not None and args.window < 8:
        raise ConfigError(f"--window must be at least 8, got {args.window}")

    from ..training.pretrain import PretrainOptions, pretrain

    options = PretrainOptions(
        data=args.data, out=args.out, backbone=args.backbone, weights=args.weights, method=args.method,
        minutes=args.minutes, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, stages=stages,
        batchnorm=args.batchnorm,
        image_size=args.image_size, window=args.window, seed=args.seed, resume=args.resume,
        workers=args.workers, accelerator=args.accelerator)
    summary = pretrain(options)
    trained = (f", {summary['steps']} steps in {summary['epochs']} passes (stopped by {summary['stopped_by']})"
               if "steps" in summary else "")
    statistics = f"batch-norm statistics {summary['batchnorm']}" + (
        f" ({summary['bn_samples']} samples)" if summary["bn_samples"] else "")
    print(f"{summary['method']} on {summary['samples']} samples{trained}; {statistics}; {summary['seconds']:.0f} s, "
          f"peak RSS {summary['peak_rss_mb']:.0f} MB")
    print(f"weights written to {summary['out']}  (use: geotune train --backbone {summary['backbone']} "
          f"--image-size {summary['image_size']} --weights {summary['out']} ...)")
    return 0
