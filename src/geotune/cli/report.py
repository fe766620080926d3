"""`geotune report RUN`: one self-contained HTML page showing what a run learned."""

from __future__ import annotations


from .help_format import DefaultsHelpFormatter


def register(sub) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML report of a run (curves, mistakes, Grad-CAM, maps)",
                       formatter_class=DefaultsHelpFormatter)
    p.add_argument("run", help="RUN or RUN/model (also a plan or prospect run folder)")
    p.add_argument("--out", help="HTML file to write (default: RUN/report.html)")
    p.add_argument("--examples", type=int, default=4, help="examples and explanations shown per class")
    p.add_argument("--mistakes", type=int, default=8, help="most confident mistakes shown")
    p.set_defaults(func=_report)


def _report(args) -> int:
    from ..errors import ConfigError
    from ..report import write_report

    if args.examples < 0 or args.mistakes < 0:
        raise ConfigError("--examples and --mistakes must be 0 or more")
    out = write_report(args.run, args.out, max_examples=args.examples, max_mistakes=args.mistakes)
    print(f"report written to {out}")
    return 0
