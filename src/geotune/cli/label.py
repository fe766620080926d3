"""`geotune label PROJECT`: the labelling workbench in the browser (label, retrain in the background, review)."""

from __future__ import annotations

import sys

from .help_format import DefaultsHelpFormatter

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def register(sub) -> None:
    p = sub.add_parser("label", help="label images, patches and SEG-Y sections in the browser; the model retrains "
                                     "as you go and suggests what to label next",
                       formatter_class=DefaultsHelpFormatter)
    p.add_argument("project", metavar="PROJECT", help="folder holding your images, .npy patches or SEG-Y volumes; "
                                                      "labels go to PROJECT/labels.csv")
    p.add_argument("--classes", default=None, help="comma-separated class names to start with (more can be added "
                                                   "in the page)")
    p.add_argument("--who", default=None, help="name recorded with every label (default: your login name)")
    p.add_argument("--retrain-every", dest="retrain_every", type=int, default=None,
                   help="retrain the model after this many new labels (default 10; remembered per project)")
    p.add_argument("--image-size", dest="image_size", type=int, default=None,
                   help="side the backbone sees, in pixels (default 64; remembered per project)")
    p.add_argument("--patch-size", dest="patch_size", type=int, default=None,
                   help="side of the patch labelled by a click on a section (default 64)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8766, help="port to listen on")
    p.set_defaults(func=_label)


def _label(args) -> int:
    import getpass

    import uvicorn

    from ..errors import ConfigError
    from ..serve.label.app import create_app
    from ..serve.label.workbench import Workbench

    for name in ("retrain_every", "image_size", "patch_size"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise ConfigError(f"--{name.replace('_', '-')} must be at least 1, got {value}")
    classes = [c.strip() for c in args.classes.split(",") if c.strip()] if args.classes else None
    workbench = Workbench(args.project, who=args.who or getpass.getuser(), classes=classes,
                          retrain_every=args.retrain_every, image_size=args.image_size, patch_size=args.patch_size)
    hosts = set(LOCAL_HOSTS) | {args.host}
    app = create_app(workbench, allowed_hosts=hosts)
    if args.host not in LOCAL_HOSTS:
        print(f"warning: listening on {args.host}: other machines can reach this project", file=sys.stderr)
    print(f"geotune label: {len(workbench.pool)} item(s), {len(workbench.store.labels())} labelled, at "
          f"http://{args.host}:{args.port}/  (Ctrl+C to stop)", flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level="warning" if not args.verbose else "info")
    finally:
        workbench.close()
    return 0
