"""`geotune prospect fit|map|generalize` (prospectivity from evidence layers) and `geotune volumetrics`."""

from __future__ import annotations

import argparse
import sys

# kept here (not imported from prospect/) so that `geotune --help` imports nothing heavy
WEIGHTS_TYPES = ("unique", "categorical", "cumulative")
CUT_METHODS = ("max_studentized_contrast", "max_contrast", "max_contrast_if_feasible", "max_feasible_contrast",
               "manual")


from .help_format import DefaultsHelpFormatter


def register(sub) -> None:
    prospect = sub.add_parser("prospect", help="prospectivity maps from evidence layers and known deposits",
                              formatter_class=DefaultsHelpFormatter)
    inner = prospect.add_subparsers(dest="prospect_command", metavar="SUBCOMMAND")
    prospect.set_defaults(func=lambda args: _usage(prospect))

    fit = inner.add_parser("fit", help="fit weights of evidence or an ML model; score it; write RUN/model",
                           formatter_class=DefaultsHelpFormatter)
    fit.add_argument("--layers", nargs="+", required=True, help="evidence GeoTIFFs (the first sets the grid)")
    fit.add_argument("--deposits", required=True,
                     help="known deposits: CSV with x,y columns, GeoJSON, shapefile, GPKG, or a GeoTIFF whose "
                          "non-zero cells are deposits")
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
    fit.add_argument("--nodata", action="append", metavar="NAME=VALUE",
                     help="nodata value of a layer, replacing the one its file declares (repeatable)")
    fit.add_argument("--weights-type", action="append", metavar="NAME=TYPE",
                     help="WofE weights of a layer: unique (one weight per class; default for binary and categorical "
                          "layers), categorical (classes below the studentised-contrast threshold, those without "
                          "deposits among them, merged into one) or cumulative (one cut; default for continuous "
                          "layers) (repeatable)")
    fit.add_argument("--cut-method", choices=CUT_METHODS, default=CUT_METHODS[0],
                     help="how a cumulative layer's cut is chosen among thresholds with deposits on both sides "
                          "(default max_studentized_contrast); max_contrast ignores the threshold, "
                          "max_contrast_if_feasible drops the layer when the maximum-contrast cut is below it, "
                          "max_feasible_contrast takes the maximum contrast among cuts reaching it, manual cuts at "
                          "--cut")
    fit.add_argument("--studentized-threshold", type=float, default=2.0,
                     help="studentised contrast a cumulative cut must reach and below which categorical weights "
                          "merge a class; a layer whose cut falls short gets no weight, with a warning")
    fit.add_argument("--empty-classes", choices=["zero", "negative"], default="zero",
                     help="W+ of a class without deposits: zero (as EIS Toolkit and GA) or negative (what "
                          "half a deposit would give when that is negative, else 0: a large empty class counts "
                          "against, a small one never gains)")
    fit.add_argument("--cut", action="append", metavar="NAME=VALUE",
                     help="cut value of a cumulative layer for --cut-method manual (needs --favourable NAME=low|high; "
                          "repeatable)")
    fit.add_argument("--members", type=int, default=5, help="ensemble members for ML methods")
    fit.add_argument("--seed", type=int, default=0, help="random seed (negatives, bootstraps, CV blocks)")
    fit.add_argument("--out", required=True, help="RUN folder to write")
    fit.set_defaults(func=_fit)

    mapper = inner.add_parser("map", help="write prospectivity.tif, uncertainty.tif, map.png, curves.png",
                              formatter_class=DefaultsHelpFormatter)
    mapper.add_argument("run", help="RUN or RUN/model")
    mapper.add_argument("--out", default="prospectivity.tif", help="prospectivity GeoTIFF (others go beside it)")
    mapper.add_argument("--layer-rasters", action=argparse.BooleanOptionalAction, default=True,
                        help="WofE: also write weights_<layer>_<quantity>.tif (class, W+, s(W+), generalised class, "
                             "W+ and s(W+)) beside the map (default on)")
    mapper.set_defaults(func=_map)

    gen = inner.add_parser("generalize", help="generalise a weights table (CSV) you supply: merge weak classes or "
                                              "choose a cumulative cut", formatter_class=DefaultsHelpFormatter)
    gen.add_argument("table", help="weights CSV: geotune's weights_<layer>.csv, or GA / EIS Toolkit column names")
    gen.add_argument("--type", choices=["categorical", "cumulative"], required=True,
                     help="categorical: merge classes below the threshold (needs class, area_units, n_points, studc); "
                          "cumulative: rows in cumulative order, cut at one (needs class, n_points, W+, s(W+), W-, "
                          "s(W-), contrast, studc)")
    gen.add_argument("--cut-method", choices=CUT_METHODS, default=CUT_METHODS[0],
                     help="cumulative tables: how the cut is chosen")
    gen.add_argument("--studentized-threshold", type=float, default=2.0,
                     help="studentised contrast a cut must reach, and below which classes merge")
    gen.add_argument("--cut", type=float, default=None, help="class to cut at with --cut-method manual")
    gen.add_argument("--out", required=True, help="CSV to write: the rows with gen_class, weight, s_weight")
    gen.set_defaults(func=_generalize)

    vol = sub.add_parser("volumetrics", help="Monte Carlo oil/gas in place or ore: P90/P50/P10, histogram, tornado",
                         formatter_class=DefaultsHelpFormatter)
    vol.add_argument("--config", required=True, help="volumetrics YAML (kind, parameters, samples, seed)")
    vol.add_argument("--out", required=True, help="output folder")
    vol.set_defaults(func=_volumetrics)


def _usage(parser) -> int:
    parser.print_help()
    return 2


def _fit(args) -> int:
    from ..errors import DataError
    from ..prospect.layers import FAVOURABLE, KINDS, parse_assignments, parse_numbers
    from ..prospect.run import fit_run

    if args.cut_method == "manual" and not args.cut:
        raise DataError("--cut-method manual needs --cut NAME=VALUE for each cumulative layer")

    metrics = fit_run(
        args.layers, args.deposits, args.method, args.out, unit_cell_km2=args.unit_cell_km2,
        cv_blocks=args.cv_blocks, block_km=args.block_km, resample=args.resample,
        kinds=parse_assignments(args.kind, "--kind", KINDS),
        favourable=parse_assignments(args.favourable, "--favourable", FAVOURABLE),
        seed=args.seed, n_members=args.members, nodata=parse_numbers(args.nodata, "--nodata"),
        weights_types=parse_assignments(args.weights_type, "--weights-type", WEIGHTS_TYPES),
        cut_method=args.cut_method, studentized_threshold=args.studentized_threshold,
        manual_cuts=parse_numbers(args.cut, "--cut"), empty_classes=args.empty_classes,
    )
    line = f"{args.method}: resubstitution AUC {metrics['resubstitution']['auc']:.4f} (training deposits)"
    if "spatial_cv" in metrics:
        cv = metrics["spatial_cv"]
        line += (f"; spatial {cv['n_folds']}-fold block CV AUC {cv['auc_pooled']:.4f} pooled, "
                 f"{cv['auc_mean']:.4f} +/- {cv['auc_std']:.4f} per fold")
    print(line)
    for note in metrics.get("wofe_notes", []):
        print(f"note: {note}", file=sys.stderr)
    print(f"wrote {args.out}/model  (see: geotune report {args.out})")
    return 0


def _map(args) -> int:
    from ..prospect.run import map_run

    paths = map_run(args.run, args.out, layer_rasters=args.layer_rasters)
    print("wrote " + ", ".join(paths.values()))
    return 0


def _generalize(args) -> int:
    from ..prospect.wofe_tables import generalise_table, read_weights_table, write_table_csv

    rows = read_weights_table(args.table, args.type)
    rows, notes = generalise_table(rows, args.type, args.cut_method, args.studentized_threshold, args.cut,
                                   path=args.table)
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    write_table_csv(args.out, rows)
    print(f"wrote {args.out}")
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
