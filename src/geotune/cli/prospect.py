"""`geotune prospect fit|map` (prospectivity from evidence layers) and `geotune volumetrics`."""

from __future__ import annotations


from .help_format import DefaultsHelpFormatter


def register(sub) -> None:
    prospect = sub.add_parser("prospect", help="prospectivity maps from evidence layers and known deposits",
                              formatter_class=DefaultsHelpFormatter)
    inner = prospect.add_subparsers(dest="prospect_command", metavar="SUBCOMMAND")
    prospect.set_defaults(func=lambda args: _usage(prospect))

    fit = inner.add_parser("fit", help="fit weights of evidence or an ML model; score it; write RUN/model",
                           formatter_class=DefaultsHelpFormatter)
    fit.add_argument("--layers", nargs="+", required=True, help="evidence GeoTIFFs (the first sets the grid)")
    fit.add_argument("--deposits", required=True, help="known deposits: CSV with x,y columns, GeoJSON, shapefile, GPKG")
    fit.add_argument("--method", choices=["wofe", "logistic", "gbm", "rf"], default="wofe",
                     help="weights of evidence, logistic regression, gradient boosting or random forest")
    fit.add_argument("--unit-cell-km2", type=float, default=1.0, help="unit cell area in km^2 (probabilities are "
                     "per unit cell)")
    fit.add_argument("--cv-blocks", type=int, default=5,
                     help="folds of spatial block cross-validation (0 = none)")
    fit.add_argument("--block-km", type=float, default=None, help="side of a CV block in km (default: automatic)")
    fit.add_argument("--resample", action="store_true", help="resample layers on another grid onto the first's")
    fit.add_argument("--kind", action="append", metavar="NAME=KIND",
                     help="override a layer's kind: binary, categorical or continuous (repeatable)")
    fit.add_argument("--favourable", action="append", metavar="NAME=END",
                     help="favourable end of a continuous layer: low, high or both (default both; repeatable); "
                          "WofE tests only that end and gbm is held monotone in it")
    fit.add_argument("--members", type=int, default=5, help="ensemble members for ML methods")
    fit.add_argument("--seed", type=int, default=0, help="random seed (negatives, bootstraps, CV blocks)")
    fit.add_argument("--out", required=True, help="RUN folder to write")
    fit.set_defaults(func=_fit)

    mapper = inner.add_parser("map", help="write prospectivity.tif, uncertainty.tif, map.png, curves.png",
                              formatter_class=DefaultsHelpFormatter)
    mapper.add_argument("run", help="RUN or RUN/model")
    mapper.add_argument("--out", default="prospectivity.tif", help="prospectivity GeoTIFF (others go beside it)")
    mapper.set_defaults(func=_map)

    vol = sub.add_parser("volumetrics", help="Monte Carlo oil/gas in place or ore: P90/P50/P10, histogram, tornado",
                         formatter_class=DefaultsHelpFormatter)
    vol.add_argument("--config", required=True, help="volumetrics YAML (kind, parameters, samples, seed)")
    vol.add_argument("--out", required=True, help="output folder")
    vol.set_defaults(func=_volumetrics)


def _usage(parser) -> int:
    parser.print_help()
    return 2


def _fit(args) -> int:
    from ..prospect.layers import FAVOURABLE, KINDS, parse_assignments
    from ..prospect.run import fit_run

    metrics = fit_run(
        args.layers, args.deposits, args.method, args.out, unit_cell_km2=args.unit_cell_km2,
        cv_blocks=args.cv_blocks, block_km=args.block_km, resample=args.resample,
        kinds=parse_assignments(args.kind, "--kind", KINDS),
        favourable=parse_assignments(args.favourable, "--favourable", FAVOURABLE),
        seed=args.seed, n_members=args.members,
    )
    line = f"{args.method}: resubstitution AUC {metrics['resubstitution']['auc']:.4f} (training deposits)"
    if "spatial_cv" in metrics:
        cv = metrics["spatial_cv"]
        line += (f"; spatial {cv['n_folds']}-fold block CV AUC {cv['auc_pooled']:.4f} pooled, "
                 f"{cv['auc_mean']:.4f} +/- {cv['auc_std']:.4f} per fold")
    print(line)
    print(f"wrote {args.out}/model  (see: geotune report {args.out})")
    return 0


def _map(args) -> int:
    from ..prospect.run import map_run

    paths = map_run(args.run, args.out)
    print("wrote " + ", ".join(paths.values()))
    return 0


def _volumetrics(args) -> int:
    from ..prospect.volumetrics import run_volumetrics

    result = run_volumetrics(args.config, args.out)
    out = result["summary"]["output"]
    unit = f" {result['unit']}" if result["unit"] else ""
    print(f"{result['kind']}: P90 {out['P90']:.4g}  P50 {out['P50']:.4g}  P10 {out['P10']:.4g}{unit} "
          f"({result['samples']} realisations)")
    print(f"wrote {args.out}")
    return 0
