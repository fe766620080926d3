"""A small synthetic exploration area (GeoTIFF evidence layers + deposits CSV) for tests and docs.

Deposits are drawn where a known rule makes them likely: near faults, in the favourable host unit
and on the magnetic anomaly; ``noise`` carries no signal.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

CRS = "EPSG:32754"  # WGS 84 / UTM 54S
ORIGIN = (500_000.0, 7_600_000.0)


def make_synthetic_area(folder: str | os.PathLike, shape: tuple[int, int] = (60, 80), cell_m: float = 1000.0,
                        n_deposits: int = 40, seed: int = 0) -> dict[str, Path]:
    """Write fault_dist.tif (m), host.tif (4 units), anomaly.tif (0/1), noise.tif, a 2x coarser
    fault_dist_coarse.tif and deposits.csv (x, y); return their paths."""
    from affine import Affine
    from scipy.ndimage import distance_transform_edt, gaussian_filter

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    rows, cols = shape
    faults = np.zeros(shape, dtype=bool)
    for _ in range(4):  # straight faults across the area
        r0, r1 = rng.integers(0, rows, 2)
        line_c = np.arange(cols)
        line_r = np.round(np.linspace(r0, r1, cols)).astype(int)
        faults[line_r, line_c] = True
    fault_dist = distance_transform_edt(~faults) * cell_m
    host = np.clip((gaussian_filter(rng.normal(size=shape), 6) * 40 + 2).round(), 0, 3)
    anomaly = (gaussian_filter(rng.normal(size=shape), 3) > 0.15).astype(float)
    noise = gaussian_filter(rng.normal(size=shape), 2) * 100
    logit = -4.0 - fault_dist / 2500.0 + 1.5 * (host == 2) + 1.2 * anomaly
    weight = np.exp(logit).ravel()
    chosen = rng.choice(weight.size, n_deposits, replace=False, p=weight / weight.sum())
    transform = Affine(cell_m, 0, ORIGIN[0], 0, -cell_m, ORIGIN[1])
    paths = {}
    for name, array in (("fault_dist", fault_dist), ("host", host), ("anomaly", anomaly), ("noise", noise)):
        paths[name] = _write(folder / f"{name}.tif", array, transform)
    coarse = Affine(cell_m * 2, 0, ORIGIN[0], 0, -cell_m * 2, ORIGIN[1])
    paths["fault_dist_coarse"] = _write(folder / "fault_dist_coarse.tif", fault_dist[::2, ::2], coarse)
    r, c = np.unravel_index(chosen, shape)
    x = ORIGIN[0] + (c + rng.uniform(0.2, 0.8, len(c))) * cell_m
    y = ORIGIN[1] - (r + rng.uniform(0.2, 0.8, len(r))) * cell_m
    paths["deposits"] = folder / "deposits.csv"
    lines = ["name,x,y"] + [f"D{i},{xi:.1f},{yi:.1f}" for i, (xi, yi) in enumerate(zip(x, y))]
    paths["deposits"].write_text("\n".join(lines) + "\n", encoding="utf-8")
    return paths


def _write(path: Path, array: np.ndarray, transform, crs: str = CRS, nodata: float = -9999.0) -> Path:
    import rasterio

    profile = dict(driver="GTiff", height=array.shape[0], width=array.shape[1], count=1, dtype="float32",
                   transform=transform, crs=crs, nodata=nodata)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(np.where(np.isfinite(array), array, nodata).astype("float32"), 1)
    return path
