"""Scale part (c): `geotune predict` of a segmentation model on a large GeoTIFF, peak RSS and cells/s.

    python benchmarks/scale_geotiff.py --sides 2000 6000      (one part of benchmarks/scale.py)

The raster is written strip by strip (a smooth synthetic amplitude field, so it compresses), a small
segmentation model is trained on sections cut from it, and `geotune predict RUN big.tif --out classes.tif`
runs in a fresh process whose peak RSS is read from the kernel (wait4). The model is deliberately light
(MobileNetV3-small encoder, random start, 128 px windows without overlap): this measures the streaming, not a
backbone's speed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import measured_run  # noqa: E402

BACKBONE = "mobilenetv3_small_050"


def write_big_raster(path: Path, side: int, strip: int = 1000) -> Path:
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    profile = dict(driver="GTiff", width=side, height=side, count=1, dtype="float32", nodata=-9999.0,
                   transform=from_origin(400000, 7500000, 10, 10), crs="EPSG:32633", tiled=True,
                   blockxsize=256, blockysize=256, compress="deflate", BIGTIFF="IF_SAFER")
    cols = np.arange(side, dtype=np.float32)
    with rasterio.open(path, "w", **profile) as dst:
        for top in range(0, side, strip):
            rows = np.arange(top, min(side, top + strip), dtype=np.float32)[:, None]
            block = np.sin(rows / 37.0 + np.sin(cols / 211.0) * 3) * np.cos(cols / 53.0)
            dst.write(block.astype(np.float32), 1, window=Window(0, top, side, len(rows)))
    return path


def train_small_model(folder: Path) -> Path:
    rng = np.random.default_rng(0)
    sections = rng.normal(size=(8, 128, 128)).astype(np.float32)
    masks = (sections > 0.5).astype(np.int64)
    np.save(folder / "sections.npy", sections)
    np.save(folder / "masks.npy", masks)
    command = [sys.executable, "-m", "geotune", "train", "--task", "segment", "--data", str(folder / "sections.npy"),
               "--labels", str(folder / "masks.npy"), "--out", str(folder / "run"), "--backbone", BACKBONE,
               "--no-pretrained", "--epochs", "1", "--image-size", "128", "--batch-size", "4"]
    measured_run(command)
    return folder / "run"


def run(side: int, tmp: Path, model: Path | None = None) -> dict:
    tmp.mkdir(parents=True, exist_ok=True)
    model = model or train_small_model(tmp)
    raster = write_big_raster(tmp / f"big_{side}.tif", side)
    out = tmp / f"classes_{side}.tif"
    seconds, peak_mb = measured_run([sys.executable, "-m", "geotune", "predict", str(model), str(raster),
                                     "--out", str(out), "--overlap", "0"])
    cells = side * side
    result = {"side": side, "cells": cells, "input_mb": round(raster.stat().st_size / 2**20, 1),
              "float32_mb": round(cells * 4 / 2**20, 1), "seconds": round(seconds, 1),
              "cells_per_s": round(cells / seconds), "peak_rss_mb": round(peak_mb, 1)}
    raster.unlink()
    out.unlink()
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sides", type=int, nargs="+", default=[2000, 6000])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="geotune-scale-tif-") as tmp:
        model = train_small_model(Path(tmp))
        for side in args.sides:
            print(run(side, Path(tmp), model), flush=True)


if __name__ == "__main__":
    main()
