"""Planner inputs (maps, exclusion zones, drilled holes) and outputs (plan CSV/GeoJSON/PNG, simulation tables)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from .._atomic import atomic_dir
from ..data.rasters import Raster, check_same_grid, read_raster
from ..errors import DataError


def read_maps(map_path, uncertainty_path=None, cost_path=None) -> tuple[Raster, Raster | None, Raster | None]:
    """The prospectivity map and its optional companions, checked to share one grid."""
    prior = read_raster(map_path)
    unc = read_raster(uncertainty_path) if uncertainty_path else None
    cost = read_raster(cost_path) if cost_path else None
    check_same_grid([r for r in (prior, unc, cost) if r is not None])
    return prior, unc, cost


def read_exclusion(path: str | os.PathLike, like: Raster) -> np.ndarray:
    """Boolean mask on ``like``'s grid, True where drilling is forbidden: GeoJSON polygons
    (in the map's CRS) or a raster on the same grid whose non-zero cells are excluded."""
    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path)
    if path.suffix.lower() in (".geojson", ".json"):
        mask = _rasterize_geojson(path, like)
    else:
        raster = read_raster(path)
        raster.path = str(path)
        check_same_grid([like, raster])
        mask = np.isfinite(raster.array) & (raster.array != 0)
    if not (np.isfinite(like.array) & ~mask).any():
        raise DataError("the exclusion zones cover the whole map; nothing is left to drill", path)
    return mask


def _rasterize_geojson(path: Path, like: Raster) -> np.ndarray:
    from rasterio.features import rasterize

    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"is not valid GeoJSON ({exc})", path) from exc
    if not isinstance(data, dict):
        raise DataError("is not a GeoJSON object", path)
    if data.get("type") == "FeatureCollection":
        geoms = [f.get("geometry") for f in data.get("features") or [] if isinstance(f, dict)]
    elif data.get("type") == "Feature":
        geoms = [data.get("geometry")]
    else:
        geoms = [data]
    geoms = [g for g in geoms if isinstance(g, dict) and g.get("type") in ("Polygon", "MultiPolygon")]
    if not geoms:
        raise DataError("holds no Polygon or MultiPolygon geometry", path)
    try:
        mask = rasterize([(g, 1) for g in geoms], out_shape=like.shape, transform=like.transform, fill=0,
                         dtype="uint8")
    except (ValueError, TypeError, KeyError) as exc:
        raise DataError(f"has a polygon that cannot be drawn on the map grid ({exc})", path) from exc
    return mask.astype(bool)


def read_drilled(path: str | os.PathLike):
    """Holes already drilled: CSV with x, y, hit (1/0, true/false, yes/no) and optional value."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise DataError("no such file", path)
    try:
        df = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot be read as CSV ({exc})", path) from exc
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ("x", "y", "hit") if c not in df.columns]
    if missing:
        raise DataError(f"lacks column(s) {', '.join(missing)} (needs x, y, hit)", path)
    words = {"true": 1, "false": 0, "yes": 1, "no": 0, "1": 1, "0": 0, "1.0": 1, "0.0": 0}
    hit = df["hit"].map(lambda v: words.get(str(v).strip().lower()))
    if hit.isna().any():
        k = int(np.flatnonzero(hit.isna())[0])
        raise DataError(f"row {k + 1}: hit must be 1/0 (or true/false), got {df['hit'].iloc[k]!r}", path)
    for col in ("x", "y") + (("value",) if "value" in df.columns else ()):
        values = pd.to_numeric(df[col], errors="coerce")
        if values.isna().any():
            k = int(np.flatnonzero(values.isna())[0])
            raise DataError(f"row {k + 1}: {col} is not a number ({df[col].iloc[k]!r})", path)
        df[col] = values
    df["hit"] = hit.astype(int)
    df.attrs["path"] = str(path)
    return df


def write_plan(result, out: str | os.PathLike, prior: Raster, exclude=None, drilled=None, settings=None) -> Path:
    """plan.csv, plan.geojson, plan.png and summary.json in ``out``, all or nothing."""
    from .plots import plot_plan

    table = result.table
    with atomic_dir(out) as tmp:
        table.to_csv(tmp / "plan.csv", index=False)
        features = [dict(type="Feature", geometry=dict(type="Point", coordinates=[float(r.x), float(r.y)]),
                         properties=dict(rank=int(r.rank), expected_value=float(r.expected_value),
                                         p_hit=float(r.p_hit), uncertainty=float(r.uncertainty), cost=float(r.cost),
                                         reason=r.reason))
                    for r in table.itertuples()]
        collection = dict(type="FeatureCollection", features=features)
        epsg = prior.crs.to_epsg() if prior.crs is not None else None
        if epsg:  # coordinates stay in the map's CRS; named the GeoJSON-2008 way so GIS tools place them
            collection["crs"] = dict(type="name", properties=dict(name=f"urn:ogc:def:crs:EPSG::{epsg}"))
        (tmp / "plan.geojson").write_text(json.dumps(collection, indent=1))
        plot_plan(tmp / "plan.png", prior, result, exclude, drilled)
        summary = dict(settings or {}, holes_planned=len(table), radius=result.radius,
                       planning_grid=list(result.grid.block_shape), coarsening_factor=result.grid.factor,
                       expected_deposits=float(table["p_hit"].sum()) if len(table) else 0.0,
                       total_cost=float(table["cost"].sum()) if len(table) else 0.0, notes=result.notes)
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2))
    return Path(out)


def write_simulation(result, out: str | os.PathLike, settings=None) -> Path:
    """runs.csv (every hole of every run), curve.csv, comparisons, table.md and curve.png."""
    from .plots import plot_curve

    with atomic_dir(out) as tmp:
        result.runs.to_csv(tmp / "runs.csv", index=False)
        result.curve.to_csv(tmp / "curve.csv", index=False)
        (tmp / "summary.json").write_text(json.dumps(dict(settings or {}, comparisons=result.comparisons,
                                                          notes=result.notes), indent=2))
        (tmp / "table.md").write_text(markdown_table(result))
        plot_curve(tmp / "curve.png", result.curve)
    return Path(out)


def markdown_table(result) -> str:
    curve = result.curve
    last = curve[curve["hole"] == curve["hole"].max()]
    lines = ["| strategy | holes | deposits found (95 % CI) | per hole | tonnage found (95 % CI) |",
             "|---|---|---|---|---|"]
    for r in last.itertuples():
        lines.append(f"| {r.strategy} | {r.hole} | {r.deposits_mean:.2f} ({r.deposits_ci_low:.2f}–"
                     f"{r.deposits_ci_high:.2f}) | {r.deposits_per_hole:.3f} | {r.tonnage_mean:.2f} "
                     f"({r.tonnage_ci_low:.2f}–{r.tonnage_ci_high:.2f}) |")
    budget = int(curve["hole"].max())
    marks = sorted({h for h in (1, 2, 5, 10, 15, 20, 30, 50) if h < budget} | {budget})
    lines += ["", "Deposits found after each number of holes (mean over runs):", "",
              "| strategy | " + " | ".join(str(h) for h in marks) + " |", "|---|" + "---|" * len(marks)]
    for name, g in curve.groupby("strategy", sort=False):
        means = g.set_index("hole")["deposits_mean"]
        lines.append(f"| {name} | " + " | ".join(f"{means[h]:.2f}" for h in marks) + " |")
    if result.comparisons:
        lines += ["", "| paired difference | mean (95 % CI) | wins/ties/losses | Wilcoxon p |", "|---|---|---|---|"]
        for c in result.comparisons:
            lines.append(f"| {c['strategy']} − {c['versus']} | {c['mean_difference']:+.2f} ({c['ci_low']:+.2f}, "
                         f"{c['ci_high']:+.2f}) | {c['wins']}/{c['ties']}/{c['losses']} | {c['wilcoxon_p']:.2g} |")
    return "\n".join(lines + [""] + [f"- {n}" for n in result.notes]) + "\n"
