"""`geotune plan`: rank the next drill holes (run) or compare strategies on synthetic worlds (simulate)."""

from __future__ import annotations

from .help_format import DefaultsHelpFormatter

STRATEGIES = ("voi", "ei", "ucb", "greedy", "grid", "random")
# Planning cells the map is coarsened to: a plan can afford a fine grid; a simulation drills it --runs times.
RUN_MAX_CELLS = 20000
SIMULATE_MAX_CELLS = 2500


def register(sub) -> None:
    plan = sub.add_parser("plan", help="plan drilling under a budget: rank holes, or simulate campaigns",
                          formatter_class=DefaultsHelpFormatter)
    psub = plan.add_subparsers(dest="plan_command", metavar="SUBCOMMAND")
    plan.set_defaults(func=lambda args: (plan.print_help(), 2)[1])

    run = psub.add_parser("run", help="rank the next holes on a prospectivity map",
                          formatter_class=DefaultsHelpFormatter)
    _common(run, RUN_MAX_CELLS)
    run.add_argument("--drilled", help="CSV of holes already drilled: x, y, hit (1/0), optional value")
    run.add_argument("--budget", type=int, required=True, help="number of holes (required)")
    run.add_argument("--max-cost", dest="max_cost", type=float, help="total cost budget (needs --cost; "
                     "default: no cost limit)")
    run.add_argument("--strategy", choices=STRATEGIES, default="voi",
                     help="how the next hole is chosen: value of information, expected improvement, upper "
                          "confidence bound, highest probability, a regular grid or at random")
    run.add_argument("--out", required=True, help="folder for plan.csv, plan.geojson, plan.png, summary.json")
    run.set_defaults(func=_run)

    sim = psub.add_parser("simulate", help="drill synthetic worlds drawn from the map; compare strategies",
                          formatter_class=DefaultsHelpFormatter)
    _common(sim, SIMULATE_MAX_CELLS)
    sim.add_argument("--budget", type=int, default=20, help="holes per campaign")
    sim.add_argument("--runs", type=int, default=50, help="synthetic worlds (seeds)")
    sim.add_argument("--strategies", default="voi,greedy,random", help="comma-separated, from "
                     f"{', '.join(STRATEGIES)}; the first is compared with each other one")
    sim.add_argument("--out", required=True, help="folder for runs.csv, curve.csv, table.md, curve.png")
    sim.set_defaults(func=_simulate)


def _common(p, max_cells: int) -> None:
    p.add_argument("--map", required=True, help="prospectivity GeoTIFF (probability a hole hits, 0..1)")
    p.add_argument("--uncertainty", help="GeoTIFF of the map's per-cell standard deviation, same grid")
    p.add_argument("--cost", help="GeoTIFF of the cost of a hole per cell, same grid")
    p.add_argument("--exclude", help="no-drilling zones: GeoJSON polygons (map CRS) or a mask GeoTIFF (non-zero)")
    p.add_argument("--min-spacing", dest="min_spacing", type=float, default=0.0,
                   help="least distance between two holes (map units)")
    p.add_argument("--radius", type=float, help="a hole hits a deposit within this distance (map units; "
                   "default one planning cell)")
    p.add_argument("--length-scale", dest="length_scale", type=float, help="surrogate correlation length "
                   "(map units; default 4 radii)")
    p.add_argument("--deposit-value", dest="deposit_value", type=float, default=1.0,
                   help="value of one deposit in cost units")
    p.add_argument("--max-cells", dest="max_cells", type=int, default=max_cells,
                   help="coarsen the map to at most this many planning cells")
    p.add_argument("--seed", type=int, default=0, help="random seed (surrogate sampling, synthetic worlds)")


def _options(args) -> dict:
    return dict(radius=args.radius, min_spacing=args.min_spacing, length_scale=args.length_scale,
                deposit_value=args.deposit_value, max_cells=args.max_cells, seed=args.seed)


def _run(args) -> int:
    from ..explore import Planner, read_drilled, read_exclusion, read_maps, write_plan

    prior, unc, cost = read_maps(args.map, args.uncertainty, args.cost)
    exclude = read_exclusion(args.exclude, prior) if args.exclude else None
    drilled = read_drilled(args.drilled) if args.drilled else None
    planner = Planner(strategy=args.strategy, budget=args.budget, max_cost=args.max_cost, **_options(args))
    result = planner.plan(prior, unc, cost=cost, exclude=exclude, drilled=drilled)
    settings = dict(vars(args))
    settings = {k: v for k, v in settings.items() if k not in ("func", "command", "plan_command", "verbose")}
    if drilled is not None:
        settings["drilled_so_far"] = dict(holes=len(drilled), hits=int(drilled["hit"].sum()))
        if "value" in drilled.columns:  # value already found, reported beside the plan
            settings["drilled_so_far"]["value_found"] = float(drilled.loc[drilled["hit"] > 0, "value"].sum())
    write_plan(result, args.out, prior, exclude, drilled, settings)
    print(f"{len(result.table)} holes planned ({args.strategy}); expected value "
          f"{result.table['expected_value'].sum():.3g}; written to {args.out}")
    for note in result.notes:
        print(f"note: {note}")
    print(f"see: geotune report {args.out}")
    return 0


def _simulate(args) -> int:
    from ..errors import ConfigError
    from ..explore import read_exclusion, read_maps, simulate, write_simulation

    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    unknown = [s for s in strategies if s not in STRATEGIES]
    if unknown or not strategies:
        raise ConfigError(f"unknown strategy {', '.join(unknown) or '(none)'}; choose from {', '.join(STRATEGIES)}")
    if args.budget is None or args.budget < 1:
        raise ConfigError(f"budget of {args.budget} holes is smaller than one hole")
    prior, unc, cost = read_maps(args.map, args.uncertainty, args.cost)
    exclude = read_exclusion(args.exclude, prior) if args.exclude else None
    result = simulate(prior, unc, cost=cost, exclude=exclude, budget=args.budget, runs=args.runs,
                      strategies=strategies, **_options(args))
    settings = {k: v for k, v in vars(args).items() if k not in ("func", "command", "plan_command", "verbose")}
    write_simulation(result, args.out, settings)
    with open(f"{args.out}/table.md", encoding="utf-8") as handle:
        print(handle.read(), end="")
    print(f"see: geotune report {args.out}")
    return 0
