"""Synthetic wells for tests, docs and the fusion benchmark.

Facies follow a Markov chain of layers of random thickness; logs come from a simple rock-physics
table (facies -> mean GR, resistivity, neutron porosity, bulk density, sonic, PE) with noise and a
per-well calibration offset, so a model has to generalise across wells, not memorise them.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# facies: (GR API, log10 RT ohm.m, NPHI v/v, RHOB g/cc, DT us/ft, PE b/e)
ROCK_PHYSICS = {
    "sandstone": (40.0, 1.3, 0.16, 2.30, 90.0, 1.9),
    "shale": (115.0, 0.5, 0.33, 2.48, 105.0, 3.2),
    "siltstone": (80.0, 0.8, 0.24, 2.42, 96.0, 2.7),
    "limestone": (28.0, 2.0, 0.06, 2.64, 56.0, 5.0),
}
NOISE = (10.0, 0.15, 0.03, 0.04, 5.0, 0.35)
CURVES = ("GR", "RT", "NPHI", "RHOB", "DT", "PE")


def facies_column(rng: np.random.Generator, n: int, names: list[str], thickness=(4, 25)) -> np.ndarray:
    """Layer indices down a well: each layer a different facies from the one above."""
    out = np.empty(n, dtype=int)
    depth, current = 0, int(rng.integers(len(names)))
    while depth < n:
        size = int(rng.integers(*thickness))
        out[depth:depth + size] = current
        current = int((current + rng.integers(1, len(names))) % len(names))
        depth += size
    return out


def log_values(rng: np.random.Generator, facies: np.ndarray, names: list[str], table=None,
               noise_scale: float = 1.0, offset: np.ndarray | None = None) -> np.ndarray:
    """(n, 6) logs for a facies column: table means, smoothed (tools average over ~3 samples), plus noise."""
    from scipy.ndimage import uniform_filter1d

    table = table or ROCK_PHYSICS
    means = np.array([table[names[f]] for f in facies], dtype=float)
    means = uniform_filter1d(means, size=3, axis=0, mode="nearest")
    values = means + rng.normal(0, 1, means.shape) * np.array(NOISE) * noise_scale
    if offset is not None:
        values = values + offset
    values[:, 1] = 10 ** values[:, 1]  # resistivity is recorded in ohm.m, not log10
    return values


def make_wells(n_wells: int = 4, n_samples: int = 200, seed: int = 0, step: float = 0.5,
               missing_pe_wells: int = 1, noise_scale: float = 1.0) -> pd.DataFrame:
    """A table like the SEG 2016 data: Well Name, Depth, GR, RT, NPHI, RHOB, DT, PE, Facies (names).
    The last ``missing_pe_wells`` wells have no PE curve at all."""
    rng = np.random.default_rng(seed)
    names = list(ROCK_PHYSICS)
    frames = []
    for w in range(n_wells):
        facies = facies_column(rng, n_samples, names)
        offset = rng.normal(0, 1, 6) * np.array(NOISE) * 0.3
        values = log_values(rng, facies, names, noise_scale=noise_scale, offset=offset)
        frame = pd.DataFrame(values, columns=CURVES)
        if w >= n_wells - missing_pe_wells:
            frame["PE"] = np.nan
        frame.insert(0, "Depth", 1000.0 + 37.0 * w + step * np.arange(n_samples))
        frame.insert(0, "Well Name", f"WELL-{w + 1}")
        frame["Facies"] = [names[f] for f in facies]
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def write_las(frame: pd.DataFrame, path, well: str | None = None, depth_unit: str = "M",
              mnemonics: dict[str, str] | None = None) -> None:
    """Write one well of a table as a LAS 2.0 file (lasio), optionally renaming curves (e.g. RT -> ILD)."""
    import lasio

    las = lasio.LASFile()
    if well is None:
        well = str(frame["Well Name"].iloc[0]) if "Well Name" in frame else "WELL"
    las.well["WELL"].value = well
    las.append_curve("DEPT", frame["Depth"].to_numpy(dtype=float), unit=depth_unit)
    for column in frame.columns:
        if column in ("Depth", "Well Name") or not pd.api.types.is_numeric_dtype(frame[column]):
            continue
        las.append_curve((mnemonics or {}).get(column, column), frame[column].to_numpy(dtype=float))
    with open(path, "w", encoding="utf-8") as handle:
        las.write(handle, version=2.0)
