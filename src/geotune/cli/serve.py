"""`geotune serve`: the local web app."""

from __future__ import annotations

import sys


from .help_format import DefaultsHelpFormatter


def register(sub) -> None:
    p = sub.add_parser("serve", help="local web app: upload a file to predict, browse runs, reports, maps and plans",
                       formatter_class=DefaultsHelpFormatter)
    p.add_argument("runs", nargs="*", metavar="RUN", help="run folders or folders of runs (default: runs/ if present, else .)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port to listen on")
    p.add_argument("--max-upload-mb", dest="max_upload_mb", type=float, default=20.0, help="largest upload in MB")
    p.set_defaults(func=_serve)


def _serve(args) -> int:
    from pathlib import Path

    from ..errors import ConfigError
    from ..serve.app import make_server

    runs = args.runs or (["runs"] if Path("runs").is_dir() else ["."])
    if args.max_upload_mb <= 0:
        raise ConfigError("--max-upload-mb must be positive")
    try:
        server = make_server(runs, args.host, args.port, args.max_upload_mb, verbose=args.verbose)
    except OSError as exc:
        raise ConfigError(f"cannot listen on {args.host}:{args.port} ({exc.strerror or exc})") from exc
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        print(f"warning: listening on {args.host}: other machines can reach this app and its models", file=sys.stderr)
    for line in server.catalog.skipped:
        print(f"note: {line}", file=sys.stderr)
    print(f"geotune serve: {len(server.catalog.runs)} run(s) at {server.url}  (Ctrl+C to stop)", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0
