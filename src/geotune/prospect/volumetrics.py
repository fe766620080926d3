"""Monte Carlo volumetrics: oil/gas in place and ore, with P90 / P50 / P10 and sensitivities.

    oil, gas:  in place = GRV x net-to-gross x porosity x (1 - Sw) / formation volume factor
    ore:       metal    = tonnage x grade

Inputs are independent distributions (scipy.stats): triangular, normal (truncated: at 0, and at 1
for fractions, unless min/max are given), lognormal (mu/sigma of ln x, or its p90/p10), uniform,
fixed, or samples to resample. Net-to-gross may come from a facies map (class ids, or per-class
probabilities) and the list of net classes. Industry convention: P90 is the low case, exceeded with
90 % probability (the 10th percentile), P10 the high case.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ..errors import ConfigError, DataError

FORMULAS = {
    "oil": ("grv", "ntg", "porosity", "sw", "fvf"),
    "gas": ("grv", "ntg", "porosity", "sw", "fvf"),
    "ore": ("tonnage", "grade"),
}
FRACTIONS = {"ntg", "porosity", "sw"}
Z90 = 1.2815515655446004  # standard normal 90th percentile


def combine(kind: str, values: Mapping[str, np.ndarray]) -> np.ndarray:
    """The volumetric formula applied to arrays (or scalars) of each parameter."""
    if kind == "ore":
        return np.asarray(values["tonnage"]) * np.asarray(values["grade"])
    return (np.asarray(values["grv"]) * values["ntg"] * values["porosity"] * (1.0 - np.asarray(values["sw"]))
            / values["fvf"])


def distribution(name: str, spec: Mapping[str, Any], base: Path | None = None):
    """A sampler for one parameter: an object with ``rvs(size, random_state)`` and ``ppf(q)``."""
    from scipy import stats

    if not isinstance(spec, Mapping):
        if isinstance(spec, (int, float)):
            return _Fixed(float(spec))
        raise ConfigError(f"parameter {name!r} must be a number or a mapping with 'dist'")
    if "facies_map" in spec:
        return facies_ntg(spec, base)
    dist = str(spec.get("dist", "")).lower()
    need = {"triangular": ("min", "mode", "max"), "uniform": ("min", "max"), "normal": ("mean", "sd"),
            "fixed": ("value",), "samples": ()}
    try:
        if dist == "lognormal":
            if "mu" in spec and "sigma" in spec:
                mu, sigma = float(spec["mu"]), float(spec["sigma"])
            elif "p90" in spec and "p10" in spec:
                low, high = float(spec["p90"]), float(spec["p10"])
                if not 0 < low < high:
                    raise ConfigError(f"parameter {name!r}: lognormal needs 0 < p90 < p10 (P90 is the low case)")
                mu, sigma = (np.log(low) + np.log(high)) / 2, (np.log(high) - np.log(low)) / (2 * Z90)
            else:
                raise ConfigError(f"parameter {name!r}: lognormal needs mu and sigma (of ln x) or p90 and p10")
            if sigma <= 0:
                raise ConfigError(f"parameter {name!r}: lognormal sigma must be positive")
            return stats.lognorm(s=sigma, scale=np.exp(mu))
        if dist not in need:
            raise ConfigError(f"parameter {name!r}: dist must be one of triangular, normal, lognormal, uniform, "
                              f"fixed, samples (or give facies_map for ntg), got {spec.get('dist')!r}")
        missing = [k for k in need[dist] if k not in spec]
        if missing:
            raise ConfigError(f"parameter {name!r}: {dist} needs {list(need[dist])}, missing {missing}")
        if dist == "fixed":
            return _Fixed(float(spec["value"]))
        if dist == "triangular":
            low, mode, high = float(spec["min"]), float(spec["mode"]), float(spec["max"])
            if not low <= mode <= high or low == high:
                raise ConfigError(f"parameter {name!r}: triangular needs min <= mode <= max and min < max")
            return stats.triang(c=(mode - low) / (high - low), loc=low, scale=high - low)
        if dist == "uniform":
            low, high = float(spec["min"]), float(spec["max"])
            if not low < high:
                raise ConfigError(f"parameter {name!r}: uniform needs min < max")
            return stats.uniform(loc=low, scale=high - low)
        if dist == "normal":
            mean, sd = float(spec["mean"]), float(spec["sd"])
            if sd <= 0:
                raise ConfigError(f"parameter {name!r}: normal sd must be positive")
            low = float(spec.get("min", 0.0))
            high = float(spec.get("max", 1.0 if name in FRACTIONS else np.inf))
            return stats.truncnorm(a=(low - mean) / sd, b=(high - mean) / sd, loc=mean, scale=sd)
        return _Samples(_read_samples(name, spec, base))
    except (TypeError, ValueError) as exc:
        if isinstance(exc, ConfigError):
            raise
        raise ConfigError(f"parameter {name!r}: {exc}") from exc


class _Fixed:
    def __init__(self, value: float):
        self.value = value

    def rvs(self, size, random_state=None):
        return np.full(size, self.value)

    def ppf(self, q):
        return np.full(np.shape(q), self.value) if np.ndim(q) else self.value


class _Samples:
    """The user's own realisations, resampled with replacement."""

    def __init__(self, values: np.ndarray):
        self.values = values

    def rvs(self, size, random_state=None):
        return np.random.default_rng(random_state).choice(self.values, size, replace=True)

    def ppf(self, q):
        return np.quantile(self.values, q)


class _NormalFraction:
    """Net-to-gross from a facies map: mean and spread, as a normal truncated to [0, 1]."""

    def __init__(self, mean: float, sd: float, source: str):
        from scipy import stats

        self.mean, self.sd, self.source = mean, sd, source
        self._dist = stats.truncnorm(a=-mean / sd, b=(1 - mean) / sd, loc=mean, scale=sd) if sd > 0 else None

    def rvs(self, size, random_state=None):
        return np.full(size, self.mean) if self._dist is None else self._dist.rvs(size, random_state=random_state)

    def ppf(self, q):
        return _Fixed(self.mean).ppf(q) if self._dist is None else self._dist.ppf(q)


def _read_samples(name: str, spec: Mapping[str, Any], base: Path | None) -> np.ndarray:
    if "values" in spec:
        values = np.asarray(spec["values"], dtype=float)
    elif "file" in spec:
        path = _resolve(spec["file"], base)
        if path.suffix.lower() == ".npy":
            values = _load_npy(path).ravel().astype(float)
        else:
            import pandas as pd

            try:
                frame = pd.read_csv(path)
            except Exception as exc:  # pandas raises several kinds for a broken CSV
                raise DataError(f"cannot be read as CSV ({exc})", path) from exc
            column = spec.get("column", frame.columns[0])
            if column not in frame:
                raise DataError(f"has no column {column!r} for parameter {name!r}", path)
            values = pd.to_numeric(frame[column], errors="coerce").to_numpy(float)
    else:
        raise ConfigError(f"parameter {name!r}: samples need 'values' or 'file'")
    values = values[np.isfinite(values)]
    if len(values) < 2:
        raise ConfigError(f"parameter {name!r}: needs at least two numeric samples")
    return values


def facies_ntg(spec: Mapping[str, Any], base: Path | None = None) -> _NormalFraction:
    """Net-to-gross from a predicted facies map.

    A 2-D map of class ids gives the net fraction of its cells. A 3-D array of per-class probabilities
    (classes on ``class_axis``, default 0; or a multi-band GeoTIFF, band i = class i) gives the mean
    net probability, with the spread of a sum of independent cells (a lower bound, since real facies
    are correlated); ``extra_sd`` adds the user's own uncertainty.
    """
    path = _resolve(spec["facies_map"], base)
    if "net_classes" not in spec:
        raise ConfigError("ntg from a facies map needs net_classes (the class ids that count as net)", path)
    net = [int(c) for c in spec["net_classes"]]
    array = _read_facies(path)
    if array.ndim == 3:
        probs = np.moveaxis(array, int(spec.get("class_axis", 0)), 0)
        if max(net) >= probs.shape[0] or min(net) < 0:
            raise DataError(f"has {probs.shape[0]} class probabilities; net class {max(net)} is out of range", path)
        valid = np.all(np.isfinite(probs), axis=0)
        p_net = probs[net].sum(axis=0)[valid]
        if np.any(p_net < -1e-6) or np.any(p_net > 1 + 1e-6):
            raise DataError("net-class probabilities do not lie in [0, 1]; is it a probability map?", path)
        mean = float(p_net.mean())
        sd = float(np.sqrt(np.sum(p_net * (1 - p_net))) / p_net.size)
    elif array.ndim == 2:
        classes = array[np.isfinite(array)]
        mean, sd = float(np.isin(classes, net).mean()), 0.0
    else:
        raise DataError(f"a facies map must be 2-D classes or 3-D probabilities, got {array.ndim}-D", path)
    if not np.isfinite(mean):
        raise DataError("holds no valid cells", path)
    sd = float(np.hypot(sd, float(spec.get("extra_sd", 0.0))))
    return _NormalFraction(mean, sd, str(path))


def _read_facies(path: Path) -> np.ndarray:
    if path.suffix.lower() == ".npy":
        return _load_npy(path).astype(float)
    if path.suffix.lower() in (".tif", ".tiff"):
        import rasterio
        from rasterio.errors import RasterioIOError

        if not path.is_file():
            raise DataError("no such file", path)
        try:
            with rasterio.open(path) as src:
                data = np.ma.filled(src.read(masked=True).astype(float), np.nan)
        except RasterioIOError as exc:
            raise DataError(f"cannot be read as a raster ({exc})", path) from exc
        return data[0] if data.shape[0] == 1 else data
    raise DataError("a facies map must be .npy or GeoTIFF", path)


def _load_npy(path: Path) -> np.ndarray:
    if not path.is_file():
        raise DataError("no such file", path)
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError) as exc:
        raise DataError(f"cannot be read as a .npy array ({exc})", path) from exc


def _resolve(value, base: Path | None) -> Path:
    path = Path(value)
    return path if path.is_absolute() or base is None else base / path


def simulate(config: Mapping[str, Any], base: str | os.PathLike | None = None) -> dict:
    """Run the Monte Carlo and return the summary, samples and sensitivities (no files written)."""
    kind = str(config.get("kind", "")).lower()
    if kind not in FORMULAS:
        raise ConfigError(f"kind must be one of {sorted(FORMULAS)}, got {config.get('kind')!r}")
    params = config.get("parameters") or {}
    missing = [p for p in FORMULAS[kind] if p not in params]
    if missing:
        raise ConfigError(f"a {kind} estimate needs parameters {list(FORMULAS[kind])}; missing {missing}")
    extra = sorted(set(params) - set(FORMULAS[kind]))
    if extra:
        raise ConfigError(f"unknown parameter(s) {extra} for a {kind} estimate ({list(FORMULAS[kind])})")
    n = int(config.get("samples", 20000))
    if n < 100:
        raise ConfigError(f"samples must be at least 100, got {n}")
    seed = int(config.get("seed", 0))
    multiplier = float(config.get("multiplier", 1.0))
    base = Path(base) if base is not None else None
    rng = np.random.default_rng(seed)
    dists = {name: distribution(name, params[name], base) for name in FORMULAS[kind]}
    draws = {}
    for name, dist in dists.items():
        values = np.asarray(dist.rvs(size=n, random_state=rng), dtype=float)
        if name in FRACTIONS and (values.min() < 0 or values.max() > 1):
            raise ConfigError(f"parameter {name!r} is a fraction but its distribution reaches outside [0, 1]")
        if name == "fvf" and values.min() <= 0:
            raise ConfigError("parameter 'fvf' (formation volume factor) must be positive")
        if values.min() < 0:
            raise ConfigError(f"parameter {name!r} takes negative values; give it a min")
        draws[name] = values
    result = combine(kind, draws) * multiplier
    summary = {"output": _percentiles(result)}
    summary["inputs"] = {name: _percentiles(values) for name, values in draws.items()}
    medians = {name: float(dist.ppf(0.5)) for name, dist in dists.items()}
    base_case = float(combine(kind, medians) * multiplier)
    tornado = []
    for name, dist in dists.items():
        low_in, high_in = float(dist.ppf(0.10)), float(dist.ppf(0.90))
        at_low = float(combine(kind, {**medians, name: low_in}) * multiplier)
        at_high = float(combine(kind, {**medians, name: high_in}) * multiplier)
        tornado.append({"parameter": name, "input_low": low_in, "input_high": high_in,
                        "output_at_low": at_low, "output_at_high": at_high, "swing": abs(at_high - at_low)})
    tornado.sort(key=lambda r: -r["swing"])
    from scipy.stats import spearmanr

    correlations = {name: (float(spearmanr(values, result).statistic) if np.ptp(values) > 0 else 0.0)
                    for name, values in draws.items()}
    return {"kind": kind, "samples": n, "seed": seed, "unit": str(config.get("unit", "")),
            "multiplier": multiplier, "summary": summary, "base_case_at_p50_inputs": base_case,
            "tornado": tornado, "rank_correlation": correlations, "values": result,
            "convention": "P90 = low case (exceeded with 90 % probability, 10th percentile); P10 = high case",
            "facies_ntg": getattr(dists.get("ntg"), "source", None)}


def _percentiles(values: np.ndarray) -> dict:
    return {"P90": float(np.quantile(values, 0.10)), "P50": float(np.quantile(values, 0.50)),
            "P10": float(np.quantile(values, 0.90)), "mean": float(values.mean()), "std": float(values.std())}


def read_config(path: str | os.PathLike) -> dict:
    import yaml

    path = Path(path)
    if not path.is_file():
        raise ConfigError("no such file", path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"is not valid YAML ({exc})", path) from exc
    if not isinstance(data, dict):
        raise ConfigError("must be a mapping with kind and parameters", path)
    return data


def run_volumetrics(config_path: str | os.PathLike, out: str | os.PathLike) -> dict:
    """Read the YAML, simulate, and write DIR/{volumetrics.csv, volumetrics.json, histogram.png, tornado.png}."""
    import json

    from .._atomic import atomic_dir
    from .plots import histogram_png, tornado_png

    config_path = Path(config_path)
    config = read_config(config_path)
    try:
        result = simulate(config, base=config_path.parent)
    except ConfigError as exc:
        if exc.path is None:
            raise ConfigError(exc.message, config_path) from exc
        raise
    label = {"oil": "oil in place", "gas": "gas in place", "ore": "contained metal"}[result["kind"]]
    label += f" ({result['unit']})" if result["unit"] else ""
    with atomic_dir(out) as tmp:
        rows = [("output", result["summary"]["output"])] + list(result["summary"]["inputs"].items())
        lines = ["quantity,P90,P50,P10,mean,std"]
        lines += [f"{name},{s['P90']:.6g},{s['P50']:.6g},{s['P10']:.6g},{s['mean']:.6g},{s['std']:.6g}"
                  for name, s in rows]
        (tmp / "volumetrics.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        payload = {k: v for k, v in result.items() if k != "values"}
        (tmp / "volumetrics.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
        out_p = result["summary"]["output"]
        histogram_png(tmp / "histogram.png", result["values"],
                      {"P90": out_p["P90"], "P50": out_p["P50"], "P10": out_p["P10"]}, label)
        tornado_png(tmp / "tornado.png", result["tornado"], result["base_case_at_p50_inputs"], label)
    return result
