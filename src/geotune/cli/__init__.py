"""The `geotune` command line.

Each command group lives in its own module with a ``register(subparsers)`` function; the
commands import torch and friends only when they run, so ``geotune --help`` answers at once.
Errors a user can fix print one line and exit with code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import warnings

# Command-group modules, in the order their commands appear in --help.
COMMAND_MODULES = (
    "recognition",
    "pretrain",
    "report",
    "serve",
    "label",
    "prospect",
    "plan",
)

EXIT_USAGE = 2
VERBOSE_HELP = "show full tracebacks, library logs and third-party warnings"


class CommandParser(argparse.ArgumentParser):
    """A subcommand's parser that also accepts -v/--verbose, so it may follow the subcommand.

    The default is SUPPRESS: a subcommand without -v leaves the value the main parser set.
    Nested subcommands (plan run, prospect fit) get this class too, as argparse reuses the parent's class.
    """

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help=VERBOSE_HELP)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="geotune",
        description="Fine-tune pretrained networks on geological data; map prospectivity; plan drilling.",
    )
    parser.add_argument("--version", action="version", version=f"geotune {_version()}")
    parser.add_argument("-v", "--verbose", action="store_true", help=VERBOSE_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    for name in COMMAND_MODULES:
        module = importlib.import_module(f"geotune.cli.{name}")
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    from ..errors import GeotuneError
    from ..progress import command_line
    from .warning_display import configure

    try:
        # in-process callers (tests, notebooks) get their warning filters back, and stay quiet after the command
        with warnings.catch_warnings(), command_line():
            configure(args.verbose)
            result = args.func(args)
    except GeotuneError as exc:
        if args.verbose:
            raise
        print(f"geotune {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"geotune {args.command}: interrupted", file=sys.stderr)
        return 130
    return int(result or 0)


def _version() -> str:
    from importlib import metadata

    try:
        return metadata.version("geotune")
    except metadata.PackageNotFoundError:
        return "unknown"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
